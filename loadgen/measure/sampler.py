"""The target's own signals and the machine's, sampled once a second beside a run.

Sources, any of them: a local process tree (`ProcessTree`: CPU and memory per
worker, restarts), a Prometheus endpoint (`metrics_scrape`: requests, server
time and errors per endpoint, event-loop lag) and the server's error log
(lines at ERROR or CRITICAL written since the last sample). Every sample,
with or without sources, also holds loadgen's own CPU (`generator_cpu`, all
its processes together; `generator_cpu_max`, the busiest one) and the
machine's (`machine`, see machine.py): so a diagnosis can tell a server that
ran out of cores from a generator that took them, and both from another
process, or the hypervisor, that did.

    machine  {cpu, steal, cores, memory_limit_mb,
              others: [{pid, name, cpu}]}   the ≤ 3 busiest processes that are
                                            neither loadgen's, the server's nor
                                            the sampler's (≥ 5 % of a core)

`ServerSampler.sample()` takes one sample; `python -m loadgen.measure.sampler`
takes them each interval in a process of its own (see sampler_process.py),
so that none of it competes with the engine's event loop for the GIL. A
source that fails is recorded as missing in that sample, with its reason,
never as an error of the load.

Protocol of the sampling process, one JSON object per line:

    parent → child (stdin):   its options; then "sample" (one now) or "stop"
    child → parent (stdout):  each sample; {"sampled": n} after each asked
                              for; it ends after the last, on "stop" or EOF
"""

from __future__ import annotations

import json
import os
import re
import select
import sys
import time
from pathlib import Path
from typing import Any

from loadgen.measure.aside import yield_the_cpu
from loadgen.measure.machine import MachineCpu, ProcessTable, busiest, memory_limit_mb, tree
from loadgen.measure.metrics_scrape import Scrape, ScrapeError, scrape
from loadgen.measure.process_tree import ProcessTree

INTERVAL_S = 1.0
# A scrape slower than this is missing: the next sample is due soon after.
SCRAPE_TIMEOUT_S = 0.5
_ERROR_LINE = re.compile(rb"\b(ERROR|CRITICAL)\b")


class ServerSampler:
    """The sources of one run's signals (see the module's doc); each `sample()`
    covers the interval since the previous one.
    """

    def __init__(
        self,
        *,
        pid: int | None = None,
        metrics_url: str | None = None,
        error_log: Path | None = None,
        generator_pid: int | None = None,
        timeout: float = SCRAPE_TIMEOUT_S,
    ) -> None:
        """`generator_pid`: loadgen's process, whose CPU (and its children's, but the
        server's and this sampler's) each sample records; by default this one."""
        self._machine = MachineCpu()
        self._processes = ProcessTable()  # a baseline: the first interval starts now
        self.pid = pid
        self.tree: ProcessTree | None = None
        self.metrics_url = metrics_url
        self.error_log = error_log
        self.timeout = timeout
        self._last_scrape: Scrape | None = None
        self._log_offset = self._log_size()
        self.generator_pid = generator_pid or os.getpid()

    def sample(self) -> dict[str, Any]:
        """One sample now: the interval since the previous one."""
        entry: dict[str, Any] = {"at": time.time(), **self._cpu_by_owner()}
        missing: dict[str, str] = {}
        if self.pid is not None:
            workers = self._workers()
            if workers is None:
                missing["process"] = f"process {self.pid} cannot be read (gone?)"
            else:
                entry["workers"] = workers
                entry["restarts"] = self.tree.restarts if self.tree is not None else 0
        if self.metrics_url is not None:
            try:
                now = scrape(self.metrics_url, self.timeout)
            except ScrapeError as e:
                missing["metrics"] = str(e)
            else:
                entry.update(now.since(self._last_scrape))
                self._last_scrape = now
        if self.error_log is not None:
            errors = self._new_error_lines()
            if errors is None:
                missing["error_log"] = f"cannot read {self.error_log}"
            else:
                entry["error_log_errors"] = errors
        if missing:
            entry["missing"] = missing
        return entry

    def _workers(self) -> dict[str, dict[str, Any]] | None:
        assert self.pid is not None
        if self.tree is None:
            try:
                self.tree = ProcessTree(self.pid)
            except ValueError:
                return None
        workers = self.tree.sample()
        if workers is None:
            return None
        return {
            str(pid): {"cpu": w.cpu, "rss_mb": w.rss_mb, "cpu_wait": w.cpu_wait}
            for pid, w in workers.items()
        }

    def _cpu_by_owner(self) -> dict[str, Any]:
        """loadgen's CPU and the machine's, from one pass over the processes.

        loadgen is the generator's process and all under it (its --processes
        shards), but the server's tree (the embedded server is loadgen's child)
        and this sampler; `others` are the processes outside all three.
        """
        cpu, parents = self._processes.sample()
        busy, steal = self._machine.sample()
        server = tree(self.pid, parents) if self.pid is not None else set()
        ours = {os.getpid()} - {self.generator_pid}  # unless sampled in loadgen's own process
        generator = tree(self.generator_pid, parents) - server - ours
        generator_cpu = [cpu.get(pid, 0.0) for pid in generator]
        return {
            "generator_cpu": round(sum(generator_cpu, 0.0), 1),
            "generator_cpu_max": round(max(generator_cpu, default=0.0), 1),
            "machine": {
                "cpu": busy,
                "steal": steal,
                "cores": self._machine.cores,
                "memory_limit_mb": memory_limit_mb(self.pid or self.generator_pid),
                "others": busiest(cpu, generator | server | ours, self._processes),
            },
        }

    def _log_size(self) -> int:
        try:
            return self.error_log.stat().st_size if self.error_log is not None else 0
        except OSError:
            return 0

    def _new_error_lines(self) -> int | None:
        """Lines at ERROR or CRITICAL appended to the error log since the last look."""
        assert self.error_log is not None
        try:
            with self.error_log.open("rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size < self._log_offset:  # rotated or truncated: read it afresh
                    self._log_offset = 0
                f.seek(self._log_offset)
                data = f.read(size - self._log_offset)
        except FileNotFoundError:
            return 0  # not written yet: nothing was logged
        except OSError:
            return None
        # Only whole lines: a line being written is counted next time.
        end = data.rfind(b"\n") + 1
        self._log_offset += end
        return sum(1 for line in data[:end].splitlines() if _ERROR_LINE.search(line))


def main() -> None:
    """The sampling process: options on the first line of stdin, then commands."""
    yield_the_cpu()  # a sample is never urgent, a request always is
    stdin = sys.stdin.fileno()
    lines = _Lines(stdin)
    try:
        first = lines.next_line(None)
    except EOFError:
        return
    options = json.loads(first or "{}")
    interval = float(options.pop("interval", INTERVAL_S))
    log = options.pop("error_log", None)
    sampler = ServerSampler(error_log=Path(log) if log else None, **options)

    def send(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    next_at = time.monotonic()
    asked = 0
    while True:
        try:
            command = lines.next_line(max(0.0, next_at - time.monotonic()))
        except EOFError:  # the parent is gone
            return
        send(sampler.sample())
        if command is None:  # the interval is up
            next_at += interval  # on the interval's grid: a slow sample does not shift the rest
            continue
        asked += 1
        send({"sampled": asked})
        if command == "stop":
            return


class _Lines:
    """Lines from a file descriptor, each waited for at most `timeout` seconds."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffered = b""

    def next_line(self, timeout: float | None) -> str | None:
        """The next line; None if none came in time; EOFError at the end."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self.buffered:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            readable, _, _ = select.select([self.fd], [], [], wait)
            if not readable:
                return None
            chunk = os.read(self.fd, 4096)
            if not chunk:
                raise EOFError
            self.buffered += chunk
        line, self.buffered = self.buffered.split(b"\n", 1)
        return line.decode().strip()


if __name__ == "__main__":
    main()
