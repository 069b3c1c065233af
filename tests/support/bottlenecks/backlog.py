"""A server that refuses connections beyond a small cap: the small_backlog service.

It keeps at most MAX_CONNECTIONS connections open (keep-alive, each request
answered after SERVE_S) and resets every connection beyond them at once
(SO_LINGER 0, so the close is a RST, not a FIN), as a server out of
connection slots does. A client pooling connections sees its new ones reset
whenever both held ones are busy.

Why not a full listen backlog: on Linux a full accept queue drops SYNs rather
than refusing them, and the client's connect only succeeds (or times out) a
SYN retransmission later, about a second: slow to show and timing-dependent.
"""

from __future__ import annotations

import asyncio
import socket
import struct

MAX_CONNECTIONS = 2
SERVE_S = 0.01
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


async def serve(port: int) -> None:
    open_connections = 0

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal open_connections
        if open_connections >= MAX_CONNECTIONS:
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        open_connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = _content_length(head)
                if length:
                    await reader.readexactly(length)
                await asyncio.sleep(SERVE_S)
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            open_connections -= 1
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0
