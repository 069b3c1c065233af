"""`make locust`: the bundled server under gunicorn and Locust's web UI aimed at it.

    python infra/locust_ui.py                  # server 127.0.0.1:8000, UI http://127.0.0.1:8089
    python infra/locust_ui.py --port 8001 --server-env LEGACY_BUGS=1 -- --users 50

Ctrl-C, `kill` (SIGTERM) or closing the terminal (SIGHUP) stops both, and
this script with them; should it be killed outright (SIGKILL), the kernel
stops them. The server is started the way `make serve` and the tests start
it (server.launch), with the working directory's .env; its log files go to
server/logs/ (or $LOG_DIR). Arguments after `--` go to Locust.

Locust runs as a child process: importing it here would gevent-patch this one.
"""

import argparse
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from server.launch import (
    SOURCE_ROOT,
    port_in_use,
    start_gunicorn,
    stop_gunicorn,
    stop_when_parent_dies,
    wait_until_serving,
)

LOCUSTFILE = SOURCE_ROOT / "locust.py"
# The `locust` script beside this interpreter. Not `python -m locust`: that puts
# the working directory first on sys.path, where the repository root's
# locust.py would shadow the locust package.
LOCUST = Path(sys.executable).with_name("locust")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# How long Locust gets to end by itself (its summary, its --csv files) after a
# stop, and again after a SIGTERM, before it is killed.
LOCUST_GRACE_S = 10.0


class Stopped(Exception):
    """A stop signal arrived; the children are stopped on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stopped(signum: int, _frame: FrameType | None) -> None:
    # Once: a second signal must not cut short the stopping of the children.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(signum)


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def locust_command(base_url: str, web_host: str, web_port: int, extra: Sequence[str]) -> list[str]:
    """argv of Locust's web UI on web_host:web_port, loading base_url with locust.py."""
    return [
        str(LOCUST),
        "-f",
        str(LOCUSTFILE),
        "-H",
        base_url,
        "--web-host",
        web_host,
        "--web-port",
        str(web_port),
        *extra,
    ]


def parser() -> argparse.ArgumentParser:
    """The script's arguments (tests/test_docs.py parses the docs' examples with it)."""
    p = argparse.ArgumentParser(prog="locust_ui", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1", help="server address (default %(default)s)")
    p.add_argument("--port", type=int, default=8000, help="server port (default %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument(
        "--server-env",
        type=_key_value,
        action="append",
        default=[],
        metavar="K=V",
        help="server setting, repeatable, e.g. LEGACY_BUGS=1",
    )
    p.add_argument("--web-host", default="127.0.0.1", help="Locust UI address")
    p.add_argument("--web-port", type=int, default=8089, help="Locust UI port")
    p.add_argument("locust_args", nargs="*", help="after --: passed to Locust")
    return p


def stop_locust(locust: "subprocess.Popen[bytes]", signum: int | None) -> bool:
    """Stop Locust; whether it ended by itself.

    After a Ctrl-C it gets a grace to end by itself (it shares our process
    group, so the terminal's SIGINT reached it too); otherwise, or past the
    grace, SIGTERM (Locust's own graceful stop), and SIGKILL past another.
    """
    if signum == signal.SIGINT:
        try:
            locust.wait(LOCUST_GRACE_S)
            return True
        except subprocess.TimeoutExpired:
            pass  # a SIGINT sent to this script alone: Locust never saw it
    if locust.poll() is not None:
        return True
    locust.terminate()
    try:
        locust.wait(LOCUST_GRACE_S)
    except subprocess.TimeoutExpired:
        locust.kill()
        locust.wait()
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Serve and run Locust's UI until Locust ends or a stop signal comes.

    The exit status is Locust's when it ended by itself (also after a Ctrl-C,
    the UI's usual end), 128 + the signal's number after any other stop, 2 for
    a port already in use.
    """
    args = parser().parse_args(argv)
    base_url = f"http://{args.host}:{args.port}"
    for host, port, option in ((args.host, args.port, "--port"),
                               (args.web_host, args.web_port, "--web-port")):  # fmt: skip
        if port_in_use(host, port):
            print(f"locust_ui: error: {host}:{port} is in use (another server?): "
                  f"choose another with {option}", file=sys.stderr)  # fmt: skip
            return 2
    for sig in STOP_SIGNALS:
        signal.signal(sig, _stopped)
    server: subprocess.Popen[bytes] | None = None
    locust: subprocess.Popen[bytes] | None = None
    signum = None
    try:
        # stdout is the console log, which would bury Locust's output; the same
        # lines are in the log files. stderr stays, for start-up failures.
        server = start_gunicorn(
            f"{args.host}:{args.port}",
            args.workers,
            settings=dict(args.server_env),
            stdout=subprocess.DEVNULL,
            stderr=None,
            die_with_parent=True,
        )
        wait_until_serving(base_url, server)
        print(f"server: {base_url}  Locust: http://{args.web_host}:{args.web_port}", flush=True)
        # Locust shares our process group, so the terminal's Ctrl-C reaches it
        # directly; gunicorn has a session of its own and is stopped below.
        locust = subprocess.Popen(
            locust_command(base_url, args.web_host, args.web_port, args.locust_args),
            preexec_fn=stop_when_parent_dies,
        )
        locust.wait()
    except Stopped as stop:
        signum = stop.signum
    finally:
        for sig in STOP_SIGNALS:  # a signal now would cut the stopping short
            signal.signal(sig, signal.SIG_IGN)
        ended_by_itself = locust is not None and stop_locust(locust, signum)
        if server is not None:
            stop_gunicorn(server)
    if signum is not None and not (signum == signal.SIGINT and ended_by_itself):
        return 128 + signum
    assert locust is not None  # it ran: a stop before it started returned above
    return locust.returncode if locust.returncode >= 0 else 128 - locust.returncode


if __name__ == "__main__":
    sys.exit(main())
