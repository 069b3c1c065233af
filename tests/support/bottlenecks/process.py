"""A bottleneck service in a process of its own, for the length of a `with` block."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[3]
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0


@contextlib.contextmanager
def serving(name: str) -> Iterator[tuple[str, int]]:
    """Start service `name` on a free loopback port; yield (base URL, its pid); stop it.

    The service runs in a session of its own (a signal for the test run does
    not reach it, and stopping it stops gunicorn's workers too) and is told to
    stop if the test process dies first.
    """
    port = _free_port()
    # Its stderr to a file, not a pipe: a chatty service never blocks on it.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.bottlenecks", name, "--port", str(port)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
            preexec_fn=_stop_when_parent_dies,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_answering(url, proc, log)
            yield url, proc.pid
        finally:
            _stop(proc)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_answering(url: str, proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    """Until GET / gets any HTTP answer (errors_5xx may answer 500 to it)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            err = log.read().decode(errors="replace")
            raise RuntimeError(f"the service exited with {proc.returncode}: {err[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {START_TIMEOUT_S:g} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to its whole session, then SIGKILL to whatever is left of it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(STOP_TIMEOUT_S)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(STOP_TIMEOUT_S)


_PR_SET_PDEATHSIG = 1


def _stop_when_parent_dies() -> None:
    """In the child, before exec: the kernel sends it SIGTERM when its parent dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
