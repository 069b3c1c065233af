"""The live progress line appears on a terminal (a real pseudo-terminal here), not in pipes."""

import os
import pty
import re
import subprocess
import sys

import pytest

from server.launch import free_port
from tests.support.http_server import server_process

LIVE_LINE = re.compile(r"\d+s/\d+s  arrivals \d+")


def run_on_a_terminal(*args: str) -> str:
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadgen", *args],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        env={**os.environ, "COLUMNS": "160", "TERM": "xterm"},
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            data = os.read(controller, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(controller)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_progress_line_on_a_terminal():
    # Nothing listens on the port: every request is a connect error, counted live.
    url = f"http://127.0.0.1:{free_port()}"
    screen = run_on_a_terminal("--rps", "20", "--duration", "2.5s", "--host", url)
    assert LIVE_LINE.search(screen)
    assert "errors 20" in screen  # one second's worth, as it happened
    assert "Response time" in screen  # then the summary


@pytest.mark.slow
def test_no_progress_line_in_a_pipe():
    with server_process() as url:
        proc = subprocess.run(
            [sys.executable, "-m", "loadgen", "--rps", "20", "--duration", "1.5s", "--host", url],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert proc.returncode == 0, proc.stderr
    assert not LIVE_LINE.search(proc.stdout) and "Response time" in proc.stdout
