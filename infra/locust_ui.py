"""`make locust`: the bundled server under gunicorn and Locust's web UI aimed at it.

    python infra/locust_ui.py                  # server 127.0.0.1:8000, UI http://127.0.0.1:8089
    python infra/locust_ui.py --port 8001 --server-env LEGACY_BUGS=1 -- --users 50

Ctrl-C stops both. The server is started the way `make serve` and the tests
start it (server.launch), with the working directory's .env; its log files go
to server/logs/ (or $LOG_DIR). Arguments after `--` go to Locust.

Locust runs as a child process: importing it here would gevent-patch this one.
"""

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from server.launch import (
    SOURCE_ROOT,
    port_in_use,
    start_gunicorn,
    stop_gunicorn,
    wait_until_serving,
)

LOCUSTFILE = SOURCE_ROOT / "locust.py"
# The `locust` script beside this interpreter. Not `python -m locust`: that puts
# the working directory first on sys.path, where the repository root's
# locust.py would shadow the locust package.
LOCUST = Path(sys.executable).with_name("locust")


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def locust_command(base_url: str, web_host: str, web_port: int, extra: Sequence[str]) -> list[str]:
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="server address (default %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="server port (default %(default)s)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument(
        "--server-env",
        type=_key_value,
        action="append",
        default=[],
        metavar="K=V",
        help="server setting, repeatable, e.g. LEGACY_BUGS=1",
    )
    parser.add_argument("--web-host", default="127.0.0.1", help="Locust UI address")
    parser.add_argument("--web-port", type=int, default=8089, help="Locust UI port")
    parser.add_argument("locust_args", nargs="*", help="after --: passed to Locust")
    args = parser.parse_args(argv)

    base_url = f"http://{args.host}:{args.port}"
    for host, port, option in ((args.host, args.port, "--port"),
                               (args.web_host, args.web_port, "--web-port")):  # fmt: skip
        if port_in_use(host, port):
            print(f"locust_ui: error: {host}:{port} is in use (another server?): "
                  f"choose another with {option}", file=sys.stderr)  # fmt: skip
            return 2
    # stdout is the console log, which would bury Locust's output; the same lines
    # are in the log files. stderr stays, for start-up failures.
    server = start_gunicorn(
        f"{args.host}:{args.port}",
        args.workers,
        settings=dict(args.server_env),
        stdout=subprocess.DEVNULL,
        stderr=None,
    )
    locust: subprocess.Popen[bytes] | None = None
    try:
        wait_until_serving(base_url, server)
        print(f"server: {base_url}  Locust: http://{args.web_host}:{args.web_port}", flush=True)
        # Locust shares our process group, so the terminal's Ctrl-C reaches it
        # directly; gunicorn has a session of its own and is stopped below.
        locust = subprocess.Popen(
            locust_command(base_url, args.web_host, args.web_port, args.locust_args)
        )
        try:
            return locust.wait()
        except KeyboardInterrupt:
            return locust.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        if locust is not None and locust.poll() is None:
            locust.terminate()
            try:
                locust.wait(10)
            except subprocess.TimeoutExpired:
                locust.kill()
                locust.wait()
        stop_gunicorn(server)


if __name__ == "__main__":
    sys.exit(main())
