"""A WSGI service under gunicorn's sync workers: each request waits on I/O.

A sync worker serves one request at a time, so WORKERS workers waiting
IO_WAIT_S each serve WORKERS / IO_WAIT_S requests a second, their CPU idle.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

WORKERS = 2
IO_WAIT_S = 0.05


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    time.sleep(IO_WAIT_S)  # a blocking read of a slow dependency
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
