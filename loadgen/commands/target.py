"""The target: the service under test, `--host` or the bundled server.

`target(args)` gives it for the duration of a run, and `sampling(args,
target)` samples its signals (and the machine's) beside the run. The embedded target is the
bundled server on a free loopback port, used when no `--host` is given, so
`loadgen --rps 100` works out of the box.
`gunicorn` (default) runs uvicorn workers under gunicorn, the exercise's
task 2; `uvicorn` is one uvicorn process, task 1.
The server runs in its own process group (a Ctrl-C meant for loadgen must not
kill the server before the in-flight requests drain), never outlives loadgen
(stopped on the way out, and by the kernel if loadgen is killed), and its
console output goes to `console.log` beside its access and error logs.

Its metrics are scraped from `metrics_url`: METRICS_PORT, a second free
loopback port that the server answers from a thread (gunicorn's master, or
the one uvicorn process), off its event loop, so that a scrape is answered
while a blocking handler holds the loop: the seconds that explain a run.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from loadgen.commands.options.argtypes import UsageError
from loadgen.commands.options.exitcode import CommandFailed
from loadgen.commands.options.load_options import server_log_dir
from loadgen.measure.sampler_process import SamplerProcess
from loadgen.report.server_signals import ServerSignals
from server.launch import (
    free_port,
    port_in_use,
    start_gunicorn,
    start_uvicorn,
    stop_gunicorn,
    wait_until_serving,
)

SERVERS = ("gunicorn", "uvicorn")


class TargetError(CommandFailed):
    """The embedded server could not be started."""


class EmbeddedServer:
    """The bundled server on free loopback ports for the duration of a block (see
    the module's doc); `url` and `metrics_url` are set on entering it.
    """

    def __init__(
        self,
        workers: int = 2,
        env: dict[str, str] | None = None,
        log_dir: Path | None = None,
        kind: str = "gunicorn",
    ) -> None:
        if kind not in SERVERS:
            raise ValueError(f"unknown server {kind!r} (expected one of {', '.join(SERVERS)})")
        self.kind = kind
        self.workers = workers
        self.env = env or {}
        self._keep_logs = log_dir is not None
        self.log_dir = log_dir
        self.url = ""
        self.metrics_url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._console: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's root process (gunicorn's master, or the one uvicorn) while it runs."""
        return self._proc.pid if self._proc is not None else None

    def __enter__(self) -> EmbeddedServer:
        if self.log_dir is None:
            self.log_dir = Path(tempfile.mkdtemp(prefix="loadgen-server-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        port = self._port()
        self.url = f"http://127.0.0.1:{port}"
        # A --server-env METRICS_PORT or METRICS_HOST of the user's wins.
        metrics = {"METRICS_HOST": "127.0.0.1", "METRICS_PORT": str(self._port(taken=port))}
        env = metrics | self.env
        self.metrics_url = self._metrics_url(env["METRICS_HOST"], env["METRICS_PORT"])
        self._console = (self.log_dir / "console.log").open("ab")
        if self.kind == "uvicorn":
            self._proc = start_uvicorn(
                "127.0.0.1",
                port,
                self.log_dir,
                env,
                stdout=self._console,
                stderr=subprocess.STDOUT,
                die_with_parent=True,
            )
        else:
            self._proc = start_gunicorn(
                f"127.0.0.1:{port}",
                self.workers,
                self.log_dir,
                env,
                stdout=self._console,
                stderr=subprocess.STDOUT,
                die_with_parent=True,
            )
        try:
            wait_until_serving(self.url, self._proc)
        except (RuntimeError, TimeoutError) as e:
            self._stop()
            tail = self._console_tail()
            self._remove_logs()
            raise TargetError(f"the bundled server did not start: {e}{tail}") from None
        except BaseException:  # Ctrl-C while it starts: nothing may outlive us
            self._stop()
            self._remove_logs()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()
        self._remove_logs()

    def _metrics_url(self, host: str, port: str) -> str:
        """Where the server's metrics are scraped: its METRICS_PORT, or (turned off
        with 0) its own /metrics, on the loop."""
        if port.strip() in ("", "0"):
            return f"{self.url}/metrics"
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"http://{f'[{host}]' if ':' in host else host}:{port.strip()}/metrics"

    def _remove_logs(self) -> None:
        """The temporary log directory goes; one the user named stays."""
        if not self._keep_logs and self.log_dir is not None:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    @staticmethod
    def _port(taken: int | None = None) -> int:
        """A free loopback port (other than `taken`), still free when the server is
        about to bind it: else the server would fail to, while another answered in its place."""
        for _ in range(5):
            port = free_port()
            if port != taken and not port_in_use("127.0.0.1", port):
                return port
        raise TargetError("no free loopback port for the bundled server")

    def _stop(self) -> None:
        if self._proc is not None:
            stop_gunicorn(self._proc)
            self._proc = None
        if self._console is not None:
            self._console.close()
            self._console = None

    def _console_tail(self) -> str:
        assert self.log_dir is not None
        lines = (self.log_dir / "console.log").read_text(errors="replace").strip().splitlines()
        last = [ln for ln in lines if ln.strip()][-1:]
        return f" ({last[0].strip()})" if last else ""


@dataclass
class Target:
    """Where the load goes, and what is known of the server behind it."""

    url: str
    pid: int | None = None  # the embedded server's root process
    log_dir: Path | None = None  # where the embedded server writes its logs
    metrics_url: str | None = None  # the embedded server's off-loop /metrics (METRICS_PORT)


@contextlib.contextmanager
def target(args: argparse.Namespace) -> Iterator[Target]:
    """The target: --host, or the embedded server for the duration of the block."""
    if args.host:
        yield Target(args.host)
        return
    server = EmbeddedServer(
        args.server_workers, dict(args.server_env), server_log_dir(args), args.server
    )
    with server:
        yield Target(server.url, server.pid, server.log_dir, server.metrics_url)


class Sampling:
    """The sampler of one command, and its signals so far."""

    def __init__(self, sampler: SamplerProcess) -> None:
        self.sampler = sampler

    def sample_now(self) -> None:
        """A sample now, so that the seconds just run are described (a capacity level's end)."""
        self.sampler.sample_now()

    def signals(self) -> ServerSignals:
        """The samples so far; `sources` is [] when only the machine was sampled."""
        s = self.sampler
        return ServerSignals(list(s.samples), s.sources, dict(s.missing), s.interval, s.cores)


@contextlib.contextmanager
def sampling(args: argparse.Namespace, target: Target) -> Iterator[Sampling]:
    """Sample the target's signals (if any) and the machine's for the duration of the block."""
    if target.pid is not None:  # the embedded server
        # gunicorn writes its errors to error.log; one uvicorn to its console.
        name = "console.log" if args.server == "uvicorn" else "error.log"
        log = target.log_dir / name if target.log_dir is not None else None
        metrics_url = target.metrics_url or f"{target.url}/metrics"
        sampler = SamplerProcess(pid=target.pid, metrics_url=metrics_url, error_log=log)
    elif args.server_metrics or args.server_pid:
        try:
            sampler = SamplerProcess(pid=args.server_pid, metrics_url=args.server_metrics)
        except ValueError as e:  # the process went away since the options were checked
            raise UsageError(f"--server-pid: {e}") from None
    else:
        sampler = SamplerProcess()  # the machine only
    with sampler:
        yield Sampling(sampler)
