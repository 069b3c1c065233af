"""Loopback servers for client tests: real sockets, scripted behaviour."""

import asyncio
import contextlib
import socket


@contextlib.asynccontextmanager
async def raw_server(handler):
    """A loopback TCP server whose connections are handled by `handler(reader, writer)`."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1)


async def read_request(reader):
    """Read one request (head + Content-Length body); None at EOF."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return head, body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replying(*responses, close=False):
    """A handler that answers each request with the next of `responses`, forever cycling."""

    async def handler(reader, writer):
        i = 0
        try:
            while True:
                await read_request(reader)
                writer.write(responses[i % len(responses)])
                await writer.drain()
                i += 1
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return handler


async def silent(reader, writer):
    """Reads a request and never answers (until the test is long over)."""
    await read_request(reader)
    await asyncio.sleep(5)


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


@contextlib.contextmanager
def script_server(script, *args):
    """Run `python SCRIPT PORT_FILE ARGS...` (a loopback server in its own process,
    which writes its port to PORT_FILE once listening); yield its URL; kill it."""
    import subprocess
    import sys
    import tempfile
    import time
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        proc = subprocess.Popen([sys.executable, str(script), str(port_file), *map(str, args)])
        try:
            deadline = time.monotonic() + 10
            while not (port_file.exists() and port_file.read_text()):
                assert proc.poll() is None, f"{Path(script).name} died"
                assert time.monotonic() < deadline, f"{Path(script).name} did not start"
                time.sleep(0.02)
            yield f"http://127.0.0.1:{port_file.read_text()}"
        finally:
            proc.kill()
            proc.wait()
