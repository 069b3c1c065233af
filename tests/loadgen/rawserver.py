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


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
