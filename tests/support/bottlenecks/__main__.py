"""Run one bottleneck service on 127.0.0.1: `python -m tests.support.bottlenecks NAME --port P`.

The ASGI services run in this process under one uvicorn; `sync_workers`
replaces this process with gunicorn (so this process's id is gunicorn's
master, the one to pass as --server-pid); `small_backlog` runs its own
asyncio server here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from tests.support.bottlenecks import SERVICES, asgi, backlog, wsgi


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.bottlenecks")
    parser.add_argument("name", choices=SERVICES)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.name == "sync_workers":
        _exec_gunicorn(args.port)
    elif args.name == "small_backlog":
        asyncio.run(backlog.serve(args.port))
    else:
        import uvicorn

        app = asgi.serve(asgi.HANDLERS[args.name]())
        uvicorn.run(
            app, host="127.0.0.1", port=args.port, log_level="warning",
            access_log=False, lifespan="off",
        )  # fmt: skip


def _exec_gunicorn(port: int) -> None:
    argv = [sys.executable, "-m", "gunicorn", "--workers", str(wsgi.WORKERS),
            "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
            "tests.support.bottlenecks.wsgi:app"]  # fmt: skip
    os.execv(sys.executable, argv)


if __name__ == "__main__":
    main()
