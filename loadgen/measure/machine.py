"""The machine a run shares: its CPU, who else used it, and the memory a process may grow into.

"Was it me?" needs the whole machine, not only loadgen and its target: a send
that is late while loadgen idles is another process's doing (or the
hypervisor's, as steal time), and a worker whose memory grows is headed for
the machine's RAM or, inside a container, for its cgroup's limit, whichever
is smaller. The sampler (sampler.py) reads these once a second at the lowest
priority, so walking every process then costs the engine nothing.

All CPU figures are in percent of ONE core, as top and process_tree.py give
them: 0 … 100 × cores machine-wide.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import psutil

_MB = 1024 * 1024
CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class _Stat:
    ppid: int
    cpu_s: float  # user + system CPU time so far
    started: float  # distinguishes a process from a later one given the same pid
    name: str


class ProcessTable:
    """Every process's CPU since the last look, and its parent, in one pass over them.

    A process's CPU in an interval is the CPU time it used over the wall time:

        cpu = 100 × (utime + stime − the same at the last look) / Δt     % of one core

    so a process first seen now has none yet (it is left out of `cpu`), nor
    has one whose pid now names another process (its start time changed).
    One that ends between listing and reading is skipped. On Linux each
    process is one read of /proc/PID/stat (a fraction of psutil's cost per
    process: this pass is most of a sample's work, in a process at nice 19
    that must keep up on a machine busy with other work); elsewhere, psutil.
    """

    def __init__(self) -> None:
        self._last: dict[int, _Stat] = {}
        self._last_at = time.monotonic()
        self.sample()  # a baseline: the first interval starts now

    def sample(self) -> tuple[dict[int, float], dict[int, int]]:
        """({pid: CPU % of a core since the last call}, {pid: parent pid})."""
        now = _read_all()
        at = time.monotonic()
        elapsed = max(at - self._last_at, 1e-6)
        cpu = {}
        for pid, stat in now.items():
            last = self._last.get(pid)
            if last is not None and last.started == stat.started:
                cpu[pid] = round(max(stat.cpu_s - last.cpu_s, 0.0) * 100 / elapsed, 1)
        self._last, self._last_at = now, at
        return cpu, {pid: stat.ppid for pid, stat in now.items()}

    def name(self, pid: int) -> str | None:
        """The process's name at the last look (None if it was not seen)."""
        stat = self._last.get(pid)
        return stat.name if stat is not None else None


_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _read_all() -> dict[int, _Stat]:
    if not (_PROC / "self" / "stat").exists():
        return _read_all_psutil()
    out = {}
    for entry in os.scandir(_PROC):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"{entry.path}/stat", "rb") as f:
                raw = f.read()
        except OSError:
            continue  # gone since the listing
        # "pid (comm) state ppid … utime stime … starttime …": comm may hold
        # spaces and parentheses, so the fields are counted from its last ")".
        close = raw.rfind(b")")
        fields = raw[close + 2 :].split()
        try:
            ppid, utime, stime, started = (int(fields[i]) for i in (1, 11, 12, 19))
        except (IndexError, ValueError):
            continue
        name = raw[raw.find(b"(") + 1 : close].decode(errors="replace")
        out[int(entry.name)] = _Stat(ppid, (utime + stime) / _TICKS, started, name)
    return out


def _read_all_psutil() -> dict[int, _Stat]:
    out = {}
    for proc in psutil.process_iter(["ppid", "cpu_times", "create_time", "name"]):
        info = proc.info
        if info["cpu_times"] is None or info["ppid"] is None:
            continue  # not ours to read
        cpu_s = info["cpu_times"].user + info["cpu_times"].system
        out[proc.pid] = _Stat(info["ppid"], cpu_s, info["create_time"] or 0.0, info["name"] or "")
    return out


def tree(root: int, parents: dict[int, int]) -> set[int]:
    """`root` and every process under it, by the parent pids of one pass."""
    children: dict[int, list[int]] = defaultdict(list)
    for pid, ppid in parents.items():
        if pid != ppid:
            children[ppid].append(pid)
    out, stack = {root}, [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in out:
                out.add(child)
                stack.append(child)
    return out


def busiest(
    cpu: dict[int, float], excluded: set[int], table: ProcessTable, n: int = 3, floor: float = 5.0
) -> list[dict[str, object]]:
    """The `n` processes outside `excluded` that used the most CPU (at least `floor`
    % of a core: below that a process is background, not a rival): [{pid, name, cpu}]."""
    ranked = sorted(
        ((c, pid) for pid, c in cpu.items() if c >= floor and pid not in excluded), reverse=True
    )
    out: list[dict[str, object]] = []
    for c, pid in ranked:
        name = table.name(pid)
        if name is not None:
            out.append({"pid": pid, "name": name, "cpu": round(c, 1)})
        if len(out) == n:
            break
    return out


class MachineCpu:
    """CPU used and stolen machine-wide between two calls, from the kernel's CPU times.

    The times are summed over all cores, so over an interval their total is
    about cores × its length, and a share of it is a share of the machine:

        busy  = total − idle − iowait                  (steal counts as busy)
        cpu   = 100 × cores × busy / total            % of one core, 0 … 100 × cores
        steal = 100 × cores × steal / total

    `total` leaves out guest and guest_nice, which Linux already counts in
    user and nice (as psutil.cpu_percent does). Waiting on I/O is idle: the
    core was free to run anything.
    """

    def __init__(self) -> None:
        self.cores = psutil.cpu_count() or 1
        self._last = psutil.cpu_times()

    def sample(self) -> tuple[float, float]:
        """(cpu, steal) since the last call, in % of one core."""
        now = psutil.cpu_times()
        delta = {f: getattr(now, f) - getattr(self._last, f) for f in now._fields}
        self._last = now
        total = sum(delta.values()) - delta.get("guest", 0.0) - delta.get("guest_nice", 0.0)
        if total <= 0:
            return 0.0, 0.0
        busy = min(max(total - delta["idle"] - delta.get("iowait", 0.0), 0.0), total)
        scale = 100 * self.cores / total
        return round(busy * scale, 1), round(max(delta.get("steal", 0.0), 0.0) * scale, 1)


def memory_limit_mb(pid: int | None = None, cgroup_root: Path = CGROUP_ROOT) -> float:
    """What process `pid` (by default this one) may grow into, in MB: the machine's RAM,
    or its cgroup's memory limit when that is smaller (a container's)."""
    total = psutil.virtual_memory().total
    try:
        membership = Path(f"/proc/{pid or os.getpid()}/cgroup").read_text()
    except OSError:
        membership = ""
    limit = cgroup_memory_limit(membership, cgroup_root)
    return round(min(total, limit if limit is not None else total) / _MB, 1)


def cgroup_memory_limit(membership: str, cgroup_root: Path = CGROUP_ROOT) -> int | None:
    """The tightest memory limit in bytes over a process's cgroup and its ancestors
    (a parent's limit binds its children too); None when none is set.

    `membership` is /proc/PID/cgroup: `0::/path` for cgroup v2 (limit in
    memory.max, "max" when unset), `N:memory,…:/path` for v1 (limit in
    memory.limit_in_bytes, a huge number when unset). Inside a container the
    path may not exist in its own view of the hierarchy; the mount's root,
    which is then the container's cgroup, is read in any case.
    """
    limits: list[int] = []
    for line in membership.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and not controllers:  # v2
            mount = cgroup_root
            if not (mount / "cgroup.controllers").exists():  # v2 beside v1 (hybrid)
                mount = cgroup_root / "unified"
            limits += _limits_up(mount, path, "memory.max")
        elif "memory" in controllers.split(","):  # v1
            limits += _limits_up(cgroup_root / "memory", path, "memory.limit_in_bytes")
    return min(limits, default=None)


def _limits_up(mount: Path, path: str, filename: str) -> list[int]:
    """The limits in `filename` from the cgroup at `path` up to the mount's root."""
    out = []
    here = mount / path.strip("/")
    while True:
        try:
            text = (here / filename).read_text().strip()
        except OSError:
            text = ""  # no such cgroup in this view, or no limit file at this level
        if text.isdigit():
            out.append(int(text))
        if here == mount or mount not in here.parents:
            return out
        here = here.parent
