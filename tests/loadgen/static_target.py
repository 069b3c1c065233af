"""A loopback HTTP target in its own process, for runs whose shards are other processes.

`static_target()` starts `python static_target.py PORT_FILE` (an asyncio server
answering every request with 200 "ok", bodies read by Content-Length) and
yields its URL; it counts nothing, so tests judge by loadgen's own report.
"""

import asyncio
import sys
from pathlib import Path

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def serve(port_file: str) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        await reader.readexactly(int(line.split(b":", 1)[1]))
                writer.write(OK)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    Path(port_file + ".tmp").write_text(str(server.sockets[0].getsockname()[1]))
    Path(port_file + ".tmp").rename(port_file)  # appears whole
    async with server:
        await server.serve_forever()


def static_target():
    """This file's server in its own process: a context manager yielding its URL."""
    # Imported here: run as a script, this file cannot see the tests package.
    from tests.loadgen.rawserver import script_server

    return script_server(__file__)


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
