"""The sampler in a process of its own, beside every run (sampler.py says what it samples).

A fresh interpreter (`python -m loadgen.measure.sampler`), as shard workers
are: its parsing and system calls never hold the GIL the engine's event loop
needs, so sampling cannot delay a request. A reader thread here collects the
samples as they come (a line a second), so the pipe never fills however long
the run; `sample_now` asks for one at once (the end of a capacity level).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from loadgen.measure.aside import end_child, move_off_our_cores
from loadgen.measure.sampler import INTERVAL_S

# How long to wait for the sampling process to answer before carrying on without it.
ANSWER_TIMEOUT_S = 5.0


class SamplerProcess:
    """The sampling process, started on entering the block and stopped on leaving
    it; `samples` collects what it sent meanwhile.
    """

    def __init__(
        self,
        *,
        pid: int | None = None,
        metrics_url: str | None = None,
        error_log: Path | None = None,
        interval: float = INTERVAL_S,
    ) -> None:
        """ValueError if `pid` names no process."""
        if pid is not None and not psutil.pid_exists(pid):
            raise ValueError(f"no process {pid}")
        self.pid = pid
        self.metrics_url = metrics_url
        self.error_log = error_log
        self.interval = interval
        self.cores = psutil.cpu_count() or 1
        self.samples: list[dict[str, Any]] = []
        self.missing: dict[str, str] = {}  # source → why its first sample went missing
        self._answered = 0
        self._asked = 0
        self._cond = threading.Condition()
        self._proc: subprocess.Popen[bytes] | None = None
        # Called with each sample as it comes, on the reader thread (the live dashboard).
        self.on_sample: Callable[[dict[str, Any]], None] | None = None

    @property
    def sources(self) -> list[str]:
        """What is sampled, in words the reports show."""
        out = []
        if self.pid is not None:
            out.append(f"process tree of pid {self.pid}")
        if self.metrics_url is not None:
            out.append(self.metrics_url)
        if self.error_log is not None:
            out.append(str(self.error_log))
        return out

    def __enter__(self) -> SamplerProcess:
        options = {
            "pid": self.pid,
            "metrics_url": self.metrics_url,
            "error_log": str(self.error_log) if self.error_log is not None else None,
            "interval": self.interval,
            "generator_pid": os.getpid(),
        }
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "loadgen.measure.sampler"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C is for loadgen, which stops it in turn
        )
        move_off_our_cores(self._proc.pid)
        self._send(json.dumps(options))
        threading.Thread(target=self._read, name="loadgen-sampler", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is None:
            return
        self._ask("stop")  # its last sample: the seconds since the one before
        end_child(proc, ANSWER_TIMEOUT_S)
        if proc.returncode and not self.samples:
            stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            last = stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
            self.missing.setdefault("sampler", f"the sampling process failed: {last[0]}")
        self._proc = None

    def sample_now(self) -> None:
        """Have one sample taken now, and wait for it (a few seconds at most)."""
        if self._proc is not None:
            self._ask("sample")

    def _ask(self, command: str) -> None:
        with self._cond:
            self._asked += 1
            wanted = self._asked
        self._send(command)
        with self._cond:
            self._cond.wait_for(lambda: self._answered >= wanted, ANSWER_TIMEOUT_S)

    def _send(self, line: str) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(line.encode() + b"\n")
            self._proc.stdin.flush()
        except OSError:
            pass  # it died: its missing samples say so

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "sampled" in message:
                with self._cond:
                    self._answered = message["sampled"]
                    self._cond.notify_all()
                continue
            for source, reason in message.get("missing", {}).items():
                self.missing.setdefault(source, reason)
            self.samples.append(message)
            if self.on_sample is not None:
                self.on_sample(message)
        with self._cond:  # it ended: nobody waits for an answer any more
            self._answered = self._asked = 1 << 30
            self._cond.notify_all()
