"""A local server's process tree, sampled: CPU and memory per worker, and restarts.

The target's own side of a run, when it runs on this machine (the embedded
server, or `--server-pid`). Its workers are the root's children (gunicorn's
master and its workers), or the root itself when it has none (one uvicorn
process). CPU is in percent of one core, as top shows it: a worker busy on a
whole core is 100 whatever the machine's core count, and the sum over workers
can exceed 100.

A restart is a worker that appears after the first sample: gunicorn forks a
new one for each that died (crashed, or killed for missing its timeout).
"""

from __future__ import annotations

from dataclasses import dataclass

import psutil

_MB = 1024 * 1024


@dataclass
class WorkerSample:
    cpu: float | None  # % of one core since the last sample; None on a worker's first
    rss_mb: float


class ProcessTree:
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
            out[proc.pid] = WorkerSample(cpu, round(rss, 1))
        self._workers = seen
        self._sampled = True
        return out

    def pids(self) -> set[int]:
        """The root and every process under it (so a sampler can tell them from its own)."""
        try:
            return {self.pid, *(p.pid for p in self.root.children(recursive=True))}
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            return {self.pid}
