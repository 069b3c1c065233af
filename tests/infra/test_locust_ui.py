"""infra/locust_ui.py (`make locust`): it serves both, refuses a busy port,
starts again at once on ports it just used, and leaves nothing running however
it is stopped.

Each run is on free loopback ports, as a process group of its own (the
terminal's foreground job).
"""

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil
import pytest

from server.launch import free_port, wait_until_serving
from tests.infra.helpers import INFRA, clean_env, stop_group
from tests.support.cli import as_in_a_terminal

SCRIPT = INFRA / "locust_ui.py"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextmanager
def locust_ui(
    tmp_path: Path, port: int | None = None, web_port: int | None = None
) -> Iterator[tuple["subprocess.Popen[bytes]", str, str]]:
    """`make locust`'s script (on free ports unless given), serving: (process,
    server URL, UI URL); whatever it leaves is killed afterwards."""
    port, web_port = port or free_port(), web_port or free_port()
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--port", str(port), "--web-port", str(web_port)],
        cwd=tmp_path,
        env={**clean_env(), "LOG_DIR": str(tmp_path / "logs")},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # A foreground job of its own, with SIGINT's default action.
        start_new_session=True,
        preexec_fn=as_in_a_terminal,
    )
    server, ui = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{web_port}"
    try:
        wait_until_serving(server, proc)
        wait_until_serving(ui, proc)
        yield proc, server, ui
    finally:
        left = _processes_with(f"127.0.0.1:{port}")
        stop_group(proc)
        # gunicorn has a session of its own; should the script have left it
        # running, stop it here (found by its unique bind address).
        for pid in left:
            with suppress(ProcessLookupError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)


def _processes_with(argument: str) -> list[int]:
    """Our user's processes with `argument` in their command line."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argument.encode() in argv:
            found.append(int(entry.name))
    return found


def _still_running(procs: list[psutil.Process], within: float) -> list[psutil.Process]:
    """Those of `procs` still running after `within` seconds (a zombie has ended)."""

    def running(p: psutil.Process) -> bool:
        try:
            return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    _, alive = psutil.wait_procs(procs, timeout=within)
    return [p for p in alive if running(p)]


@pytest.mark.slow
def test_make_locust_serves_both_and_ctrl_c_stops_both(tmp_path: Path) -> None:
    with locust_ui(tmp_path) as (proc, server, ui):
        # Ctrl-C: the terminal sends SIGINT to the foreground process group.
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(30) == 0  # Locust's status: it ended by itself, no request failed
        assert not _answers(server + "/")
        assert not _answers(ui + "/")
        assert _processes_with(server.removeprefix("http://")) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stop", "status"),
    [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGKILL, -signal.SIGKILL)],
    ids=["SIGTERM", "SIGHUP", "SIGKILL"],
)
def test_a_signal_to_the_script_alone_leaves_no_child_running(
    tmp_path: Path, stop: signal.Signals, status: int
) -> None:
    """`kill PID` (or a hang-up) reaches the script, not its children: it stops
    them (gunicorn in a session of its own, Locust beside it) before it exits;
    killed outright, the kernel tells them to stop."""
    with locust_ui(tmp_path) as (proc, server, ui):
        children = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "gunicorn" in names and "locust" in names, names
        proc.send_signal(stop)
        assert proc.wait(30) == status
        assert _still_running(children, within=5.0) == []
        assert not _answers(server + "/") and not _answers(ui + "/")


@pytest.mark.slow
def test_make_locust_starts_again_at_once_on_the_ports_it_just_used(tmp_path: Path) -> None:
    """A restart finds its ports holding the closed connections in TIME_WAIT:
    free to the servers (they bind with SO_REUSEADDR), so free to the check."""
    with locust_ui(tmp_path) as (proc, server, ui):
        for url in (server, ui):  # HTTP/1.0: the server closes first, so its port waits
            assert _answers(url + "/")
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(30) == 0
    port, web_port = (int(url.rsplit(":", 1)[1]) for url in (server, ui))
    with locust_ui(tmp_path, port, web_port) as (proc, server, ui):
        assert _answers(server + "/") and _answers(ui + "/")


@pytest.mark.slow
@pytest.mark.parametrize("busy", ["--port", "--web-port"])
def test_make_locust_refuses_a_port_already_in_use(tmp_path: Path, busy: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {"--port": str(free_port()), "--web-port": str(free_port()), busy: str(port)}
        proc = subprocess.run(
            [sys.executable, str(SCRIPT), *(x for kv in ports.items() for x in kv)],
            cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stdout == "" and proc.stderr == (
        f"locust_ui: error: 127.0.0.1:{port} is in use (another server?): "
        f"choose another with {busy}\n"
    )
