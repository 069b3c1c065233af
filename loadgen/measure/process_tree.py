"""A local server's process tree, sampled: CPU and memory per worker, and restarts.

The target's own side of a run, when it runs on this machine (the embedded
server, or `--server-pid`). Its workers are the root's children (gunicorn's
master and its workers), or the root itself when it has none (one uvicorn
process). CPU is in percent of one core, as top shows it: a worker busy on a
whole core is 100 whatever the machine's core count, and the sum over workers
can exceed 100.

Beside the CPU a worker used, the CPU it waited for (Linux only: the time
its threads were runnable on a run queue, /proc/PID/task/*/schedstat's
second field): a worker that used 36 % of a core and waited 60 % more
wanted the whole core, and did not get it because other processes had it.

A restart is a worker that appears after the first sample: gunicorn forks a
new one for each that died (crashed, or killed for missing its timeout).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import psutil

_MB = 1024 * 1024


@dataclass
class WorkerSample:
    """One worker's share of a sample: its CPU, memory and CPU waited for."""

    cpu: float | None  # % of one core since the last sample; None on a worker's first
    rss_mb: float
    # % of one core spent runnable but waiting for a CPU since the last sample;
    # None on a worker's first sample, or where the kernel does not say
    cpu_wait: float | None = None


def run_queue_ns(pid: int) -> int | None:
    """Nanoseconds all of `pid`'s threads have waited on a run queue (None: unknown)."""
    total, found = 0, False
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return None
    for task in tasks:
        try:
            fields = (task / "schedstat").read_text().split()
        except OSError:
            continue  # a thread that ended while being read
        if len(fields) >= 2:
            total += int(fields[1])
            found = True
    return total if found else None


class ProcessTree:
    """A local server's processes (its root and the workers under it), sampled:
    CPU, memory and CPU waited for per worker, and how often workers restarted.
    """

    def __init__(self, pid: int) -> None:
        """Raises ValueError when no process `pid` exists (or it cannot be read)."""
        try:
            self.root = psutil.Process(pid)
            self.root.cpu_percent(None)
        except (psutil.NoSuchProcess, psutil.AccessDenied) as e:
            raise ValueError(f"cannot sample process {pid}: {e}") from None
        self.pid = pid
        self.restarts = 0
        self._workers: dict[int, psutil.Process] = {}
        self._waited: dict[int, tuple[float, int]] = {}  # pid → (when, run-queue ns)
        self._sampled = False

    def sample(self) -> dict[int, WorkerSample] | None:
        """Each worker's CPU and RSS now (by pid); None once the root is gone."""
        try:
            children = self.root.children()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return None
        current = children or [self.root]
        seen: dict[int, psutil.Process] = {}
        out: dict[int, WorkerSample] = {}
        for proc in current:
            known = self._workers.get(proc.pid)
            try:
                if known is None:  # a new worker: its first CPU reading means nothing yet
                    proc.cpu_percent(None)
                    cpu = None
                    if self._sampled:
                        self.restarts += 1
                    known = proc
                else:
                    cpu = round(known.cpu_percent(None), 1)
                rss = known.memory_info().rss / _MB
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue  # gone between listing and reading: the next sample says
            seen[proc.pid] = known
            out[proc.pid] = WorkerSample(cpu, round(rss, 1), self._cpu_wait(proc.pid))
        self._workers = seen
        self._waited = {pid: w for pid, w in self._waited.items() if pid in seen}
        self._sampled = True
        return out

    def _cpu_wait(self, pid: int) -> float | None:
        """% of one core `pid` waited for since its last sample."""
        now, waited = time.monotonic(), run_queue_ns(pid)
        if waited is None:
            return None
        before = self._waited.get(pid)
        self._waited[pid] = (now, waited)
        if before is None or now <= before[0]:
            return None
        return round((waited - before[1]) / 1e7 / (now - before[0]), 1)

    def pids(self) -> set[int]:
        """The root and every process under it (so a sampler can tell them from its own)."""
        try:
            return {self.pid, *(p.pid for p in self.root.children(recursive=True))}
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return {self.pid}
