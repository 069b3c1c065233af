"""hypercorn, a real HTTP/2 server (h2 over TLS by ALPN, h2c by prior knowledge), in
a process of its own on a free loopback port, serving `app` below.

`app` answers every request 200 with `<bytes of the request body> <HTTP
version>` (`12 2`), so a test sees what the server got and spoke.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

from server.launch import free_port
from tests.support.certs import Certs


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = f"{size} {scope['http_version']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


@contextlib.contextmanager
def hypercorn(certs: Certs | None = None) -> Iterator[str]:
    """hypercorn serving `app` (over TLS with `certs`); yields its base URL."""
    port = free_port()
    tls = [] if certs is None else ["--certfile", str(certs.server_pem),
                                    "--keyfile", str(certs.server_key)]  # fmt: skip
    command = [sys.executable, "-m", "hypercorn", "tests.support.hypercorn_server:app",
               "-b", f"127.0.0.1:{port}", *tls]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, "hypercorn died"
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert time.monotonic() < deadline, "hypercorn did not start"
            time.sleep(0.05)
        yield f"{'http' if certs is None else 'https'}://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()
