"""The bundled server's three endpoints, answered right and fast: a target for check_cost.py.

`python bench/wagon_target.py PORT`: a uvloop protocol answering `GET /`,
`POST /addNumbers` and `POST /computeFib` with the bodies FastAPI sends
(compact JSON), so that every check of the default mix passes, at a rate far
beyond the real server's. Requests are parsed only as far as loadgen writes
them (`Content-Length` as the last header line).
"""

import asyncio
import json
import sys

import uvloop

FIBONACCI = [0, 1]
while len(FIBONACCI) < 10_001:
    FIBONACCI.append(FIBONACCI[-1] + FIBONACCI[-2])
HELLO = b'{"message":"Hello World!"}'
NOT_FOUND = b'{"detail":"Not Found"}'
LENGTH = b"Content-Length: "


def answer(path: bytes, body: bytes) -> bytes:
    if path == b"/addNumbers":
        numbers = json.loads(body)
        payload, status = b'{"result":%d}' % (numbers["a"] + numbers["b"]), b"200 OK"
    elif path == b"/computeFib":
        payload, status = b'{"result":%d}' % FIBONACCI[json.loads(body)["iteration"]], b"200 OK"
    elif path == b"/":
        payload, status = HELLO, b"200 OK"
    else:
        payload, status = NOT_FOUND, b"404 Not Found"
    return b"HTTP/1.1 %s\r\ncontent-length: %d\r\ncontent-type: application/json\r\n\r\n%s" % (
        status,
        len(payload),
        payload,
    )


class Wagon(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        out = []
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            at = head.find(LENGTH)
            length = 0 if at < 0 else int(head[at + len(LENGTH) :].partition(b"\r")[0])
            if len(buffer) < end + 4 + length:
                break
            path = head.split(b" ", 2)[1]
            out.append(answer(path, buffer[end + 4 : end + 4 + length]))
            buffer = buffer[end + 4 + length :]
        self.buffer = buffer
        if out:
            self.transport.write(b"".join(out))  # type: ignore[attr-defined]


async def main(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Wagon, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
