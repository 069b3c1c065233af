"""The live dashboard (`--dashboard`): a page and Prometheus metrics while a run goes on.

They are served by a process of its own (`python -m loadgen.report.dashboard_server`),
as the sampler is: its HTTP handling never holds the GIL the engine's event
loop needs. This is the parent's side: it binds the address here, so that a
busy port or a bad address is a usage error before any load, and hands the
listening socket to the child; the engine's loop then only writes each second's
tick as one JSON line, which a thread of its own writes to the child's stdin:
a child slow to read (at the lowest priority on a busy core) fills the pipe,
and a write to a full pipe must block that thread, never the engine. The child
ends when that pipe closes: with the run, or with loadgen however it ends, so
it never outlives it.

The way back is the child's stdout, a line per request of the page's that
loadgen must act on (`{"rate": R}`: the target rate changed live), read by a
thread of its own that hands it to the run's `RateControl`; what could not be
done goes back to the page as a `{"notice": …}` line.
"""

from __future__ import annotations

import ipaddress
import json
import os
import queue
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loadgen.core.rate_control import RateControl
from loadgen.core.rates import RateProfile
from loadgen.core.stepped_rate import SteppedRate
from loadgen.measure.aside import end_child, move_off_our_cores
from loadgen.measure.sampler_process import SamplerProcess
from loadgen.measure.tick import Tick

# How long the dashboard process gets to end once its pipe is closed.
STOP_TIMEOUT_S = 5.0


def is_loopback(host: str) -> bool:
    """Whether `host` is only reachable from this machine (then no token is asked)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Listening:
    """The page's address, bound at once (port 0: a free one), and its token: anyone
    who can reach a non-loopback address could stop the run, so they need it."""

    def __init__(self, host: str, port: int) -> None:
        """OSError if the address cannot be bound (busy, not this machine's)."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        # The last run's page connections linger in TIME_WAIT on a fixed port: they
        # must not make the next run's --dashboard HOST:PORT "busy" (a listener still is).
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host, port))
            self.socket.listen(64)
        except OSError:
            self.socket.close()
            raise
        self.host = host
        self.port = self.socket.getsockname()[1]
        self.token = None if is_loopback(host) else secrets.token_urlsafe(16)

    @property
    def url(self) -> str:
        """The page's address, with its token when one is needed."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"?token={self.token}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"


class Dashboard:
    """The dashboard process, started on entering the block and stopped on leaving it.

    Made before the run: it binds `host:port` at once (port 0: a free one),
    raising OSError when it cannot. `profile` and `warmup` give each second's
    target rate, which the ticks do not carry. With `control`, the page may
    change the target rate (`why_fixed` says otherwise why it cannot).
    """

    def __init__(
        self,
        host: str,
        port: int,
        run_id: str,
        profile: RateProfile,
        warmup: float = 0.0,
        control: RateControl | None = None,
        why_fixed: str = "this run's rate cannot change live",
    ) -> None:
        """OSError if the address cannot be bound (busy, not this machine's)."""
        self._listening = Listening(host, port)
        self._socket = self._listening.socket
        self.url = self._listening.url
        self.token = self._listening.token
        self.run_id = run_id
        self.profile = profile
        self.warmup = warmup
        self._proc: subprocess.Popen[bytes] | None = None
        # Lines for the child, written by `_writer` (None: no more).
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self.control = control
        self.why_fixed = why_fixed
        self.share = 1.0  # of the profile this process sends (one shard of several: 1/N)
        self._steps_sent = 0

    def __enter__(self) -> Dashboard:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "loadgen.report.dashboard_server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            pass_fds=(self._socket.fileno(),),
            start_new_session=True,  # a Ctrl-C is for loadgen, which stops it in turn
        )
        move_off_our_cores(self._proc.pid)  # the page is never as urgent as a request
        options = {
            "fd": self._socket.fileno(),
            "run": self.run_id,
            "token": self.token,
            "loadgen_pid": os.getpid(),
            "fixed": None if self.control is not None else self.why_fixed,
        }
        self._writer = threading.Thread(target=self._write, name="loadgen-dashboard", daemon=True)
        self._writer.start()
        threading.Thread(target=self._read, name="loadgen-dashboard-in", daemon=True).start()
        self._send(options)
        self._socket.close()  # the child's now: the port closes when it ends
        return self

    def __exit__(self, *exc: object) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        self._lines.put(None)
        if self._writer is not None:
            self._writer.join(STOP_TIMEOUT_S)
        end_child(proc, STOP_TIMEOUT_S)

    def on_tick(self, t: Tick, offset: float = 0.0) -> None:
        """Second `t` of the run, with its target rate, to the page (on the engine's
        loop: one JSON line, every percentile is read in the other process);
        `offset` moves it on the page's time axis (a capacity level's start)."""
        start = self.warmup + t["end"] - t["length"]
        planned = self.profile.arrivals(self.warmup + t["end"]) - self.profile.arrivals(start)
        target = self.share * planned / max(t["length"], 1e-9)
        self._send({"tick": {**t, "end": t["end"] + offset, "target": target}})
        if isinstance(self.profile, SteppedRate) and len(self.profile.steps) > self._steps_sent:
            steps = self.profile.steps
            self._steps_sent = len(steps)
            at = [{"at_s": round(t - self.warmup, 3), "rps": r} for t, r in steps]
            self._send({"steps": at})

    def follow(self, sampler: SamplerProcess, meta: Mapping[str, Any]) -> None:
        """The sampler's samples to the page as they come (on its reader thread, never
        the engine's loop), and the run's parameters: with them the dashboard's
        process draws the server's side and runs the findings so far."""
        signals = {"sources": sampler.sources, "interval": sampler.interval, "cores": sampler.cores}
        self._send({"signals": signals, "meta": dict(meta)})
        sampler.on_sample = lambda sample: self._send({"sample": sample})

    def ended(self, requests: int, errors_by_kind: Mapping[str, int], stopped: bool) -> None:
        """The run is over: its totals (the drain's responses too, as summary.json's).
        Waits until the child has them: the engine is done, and the page and a scrape
        must see the end while the files are written, not only as loadgen exits."""
        self._send(
            {"end": {"requests": requests, "errors": dict(errors_by_kind), "stopped": stopped}}
        )
        self._lines.join()

    def report(self, page: Path, diagnosis: list[Any] | None = None) -> None:
        """Where the run's page was written, and its diagnosis: the live page's last words."""
        self._send({"report": str(page.resolve()), "diagnosis": diagnosis})

    def send(self, message: dict[str, Any]) -> None:
        """A line for the child, as it is (a capacity search's levels)."""
        self._send(message)

    def _send(self, message: dict[str, Any]) -> None:
        """Queue a line for the child: never waits for it."""
        if self._proc is not None:
            self._lines.put(json.dumps(message).encode() + b"\n")

    def _read(self) -> None:
        """The reader thread: the child's requests (a new rate), until its stdout closes."""
        proc = self._proc
        if proc is None or proc.stdout is None:
            return
        for line in proc.stdout:
            try:
                rps = float(json.loads(line)["rate"])
            except (ValueError, KeyError, TypeError):
                continue
            why = self.control.change(rps) if self.control is not None else self.why_fixed
            if why is not None:
                self._send({"notice": why})

    def _write(self) -> None:
        """The writer thread: each queued line to the child, until None or its end."""
        proc = self._proc
        stdin = proc.stdin if proc is not None else None
        while (line := self._lines.get()) is not None:
            if stdin is not None:
                try:
                    stdin.write(line)
                    stdin.flush()
                except OSError:
                    stdin = None  # it died: the run goes on without its page
            self._lines.task_done()
        self._lines.task_done()
