"""A loopback HTTP server that freezes its whole process for S seconds every P.

Run as its own process: `python freezing_server.py PORT_FILE S P`. The first
freeze starts P/2 after the first request, then one every P, so a run of
k·P seconds starting with that request sees exactly k whole freezes. While
frozen (time.sleep on the event loop thread) nothing in the process runs; the
kernel still accepts connections and queues bytes, as on a stalled server.
On uvloop so that the backlog of a freeze is served within a few ms after it:
the analytic percentiles the tests check assume the catch-up takes no time.
"""

import asyncio
import sys
import time

import uvloop

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def main(port_file: str, stall: float, period: float) -> None:
    loop = asyncio.get_running_loop()
    first: list[float] = []

    def freeze() -> None:
        time.sleep(stall)
        loop.call_at(first[0] + period * (len(first) + 0.5), freeze)
        first.append(first[0])  # counts the freezes done

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                if not first:
                    first.append(loop.time())
                    loop.call_at(first[0] + period / 2, freeze)
                writer.write(OK)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    with open(port_file, "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3])))
