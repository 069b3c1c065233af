"""Start the bundled server under gunicorn, the way `make serve` and the tests do.

For programs that need a real server on this machine (the test suite,
loadgen's embedded target); docs/server.md has a whole example, run by the tests:

    port = free_port()
    proc = start_gunicorn(f"127.0.0.1:{port}", workers=2, log_dir=log_dir,
                          settings={"LEGACY_BUGS": "1"})
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", proc)
        ...
    finally:
        stop_gunicorn(proc)

Needs a source checkout: the gunicorn config lives in infra/, outside the package.
"""

import ctypes
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Final

from server.logsetup import LOGGING_CONF

APP: Final = "server.main:app"
# The directory holding the `server` package: the checkout's root.
SOURCE_ROOT: Final = Path(__file__).resolve().parent.parent
GUNICORN_CONF: Final = SOURCE_ROOT / "infra" / "gunicorn_conf.py"

StrPath = str | os.PathLike[str]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port (a server started there
    would fail to bind, while the old one answered in its place).

    Bound as the servers bind, with SO_REUSEADDR: a port whose connections a
    stopped server left in TIME_WAIT (for a minute) is free to them, and so
    here; one that something listens on is busy all the same.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def gunicorn_command(
    bind: str,
    workers: int = 2,
    *,
    log_config: StrPath | None = LOGGING_CONF,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """argv running the app under gunicorn with infra/gunicorn_conf.py.

    `bind` is HOST:PORT. With `log_config` (the bundled server/logging.conf by
    default; None for gunicorn's own stdout/stderr logging) log files go to
    $LOG_DIR, which `gunicorn_env(log_dir=...)` sets. Flags here override
    gunicorn_conf.py and GUNICORN_CMD_ARGS.
    """
    argv = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF)]
    argv += ["--bind", bind, "--workers", str(workers)]
    if log_config is not None:
        argv += ["--log-config", str(log_config)]
    return [*argv, *extra_args, APP]


def gunicorn_env(
    log_dir: StrPath | None = None,
    settings: Mapping[str, str] | None = None,
    *,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment for `gunicorn_command`: `base` (default os.environ) plus
    PYTHONPATH so that `server` imports from any working directory, LOG_DIR,
    and `settings` (e.g. {"LEGACY_BUGS": "1", "SENTRY_DSN": ...}).

    Secrets belong here rather than in argv, which any local user can read.
    """
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SOURCE_ROOT), env.get("PYTHONPATH", "")) if p
    )
    env.update(settings or {})
    if log_dir is not None:
        env["LOG_DIR"] = str(log_dir)
    return env


def start_gunicorn(
    bind: str,
    workers: int = 2,
    log_dir: StrPath | None = None,
    settings: Mapping[str, str] | None = None,
    *,
    cwd: StrPath | None = None,
    extra_args: Sequence[str] = (),
    stdout: int | IO[bytes] | None = subprocess.DEVNULL,
    stderr: int | IO[bytes] | None = subprocess.DEVNULL,
    die_with_parent: bool = False,
) -> "subprocess.Popen[bytes]":
    """Start gunicorn (not waiting for it to serve) in its own process group.

    `cwd` is where the app looks for `.env`; pass an empty directory to keep a
    developer's .env out of a test. `die_with_parent`: gunicorn is told to
    stop (SIGTERM) when the process that started it dies, however it dies
    (Linux), so a killed caller leaves no server behind.
    """
    argv = gunicorn_command(bind, workers, extra_args=extra_args)
    env = gunicorn_env(log_dir, settings)
    return _spawn(argv, env, cwd, stdout, stderr, die_with_parent)


def uvicorn_command(
    host: str, port: int, *, log_config: StrPath | None = LOGGING_CONF
) -> list[str]:
    """argv running the app in one uvicorn process: the exercise's task 1 set-up.

    As infra/Dockerfile-fastapi runs it, minus --reload (a load test measures
    the code as it is). Its access and error lines go to the console through
    the root logger of `log_config`.
    """
    argv = [sys.executable, "-m", "uvicorn", APP, "--host", host, "--port", str(port)]
    if log_config is not None:
        argv += ["--log-config", str(log_config)]
    return argv


def start_uvicorn(
    host: str,
    port: int,
    log_dir: StrPath | None = None,
    settings: Mapping[str, str] | None = None,
    *,
    stdout: int | IO[bytes] | None = subprocess.DEVNULL,
    stderr: int | IO[bytes] | None = subprocess.DEVNULL,
    die_with_parent: bool = False,
) -> "subprocess.Popen[bytes]":
    """Start a single uvicorn process in its own process group (stop it with stop_gunicorn).

    `die_with_parent` as for `start_gunicorn`.
    """
    env = gunicorn_env(log_dir, settings)
    return _spawn(uvicorn_command(host, port), env, None, stdout, stderr, die_with_parent)


def _spawn(
    argv: list[str],
    env: dict[str, str],
    cwd: StrPath | None,
    stdout: int | IO[bytes] | None,
    stderr: int | IO[bytes] | None,
    die_with_parent: bool = False,
) -> "subprocess.Popen[bytes]":
    # A process group of its own: a Ctrl-C meant for the caller must not reach
    # the server, and stop_gunicorn can kill the whole group.
    return subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
        preexec_fn=stop_when_parent_dies if die_with_parent else None,
    )


_PR_SET_PDEATHSIG: Final = 1


def stop_when_parent_dies() -> None:
    """In the child, before exec (a `preexec_fn`): the kernel sends it SIGTERM
    when its parent dies, however it dies, so no child outlives a killed parent."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def wait_until_serving(
    base_url: str,
    proc: "subprocess.Popen[bytes]",
    timeout: float = 30.0,
    tls: ssl.SSLContext | None = None,
) -> None:
    """Poll GET / until it answers 200; raise if gunicorn exits or time runs out.

    `tls`: the context to trust an https:// server with (a test CA's).
    """
    # No proxies: a proxy from the environment cannot reach our loopback server.
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if tls is not None:
        handlers.append(urllib.request.HTTPSHandler(context=tls))
    opener = urllib.request.build_opener(*handlers)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode} before serving")
        try:
            with opener.open(base_url + "/", timeout=1.0) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{base_url} did not answer within {timeout} s")
        time.sleep(0.1)


def stop_gunicorn(proc: "subprocess.Popen[bytes]", timeout: float = 15.0) -> int:
    """Graceful stop (SIGTERM to the master), then SIGKILL to its process group.

    For a process from `start_gunicorn`, which gives gunicorn a group of its own.
    """
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode
