"""The ceiling: the barest open-model sender Python can run, for comparison.

`python bench/bare_sender.py URL RPS SECONDS` sends `GET /` at a constant
rate over pre-opened keep-alive connections (uvloop protocols, httptools),
the way loadgen's fast path does, minus everything that makes loadgen a tool:
no scenario, sessions, timeouts, pool waiting, error classes or histograms
(only the send lag is kept, to judge it as loadgen is judged). Prints one
JSON line: {"achieved_rps", "lag_p99_ms"}.

Whatever rate this sustains on a core is an upper bound for any pure-asyncio
generator there: the gap between it and loadgen is loadgen's own overhead,
the gap between it and wrk is Python's.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from array import array
from typing import Any
from urllib.parse import urlsplit

import httptools
import uvloop

CONNECTIONS = 256
SPIN = 0.0015  # as loadgen's issuer: poll the last stretch instead of a timer


class _Conn(asyncio.Protocol):
    def __init__(self, idle: list[_Conn]) -> None:
        self.idle = idle
        self.parser = httptools.HttpResponseParser(self)
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.idle.append(self)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        self.idle.append(self)


async def run(url: str, rps: float, seconds: float) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    parts = urlsplit(url)
    request = f"GET / HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
    idle: list[_Conn] = []
    for _ in range(CONNECTIONS):
        await loop.create_connection(lambda: _Conn(idle), parts.hostname, parts.port)
    lags = array("d")
    period, total = 1.0 / rps, int(rps * seconds)
    t0 = time.perf_counter() + 0.05
    done: asyncio.Future[None] = loop.create_future()
    sent = 0

    def tick() -> None:
        nonlocal sent
        now = time.perf_counter()
        while sent < total and t0 + sent * period <= now and idle:
            idle.pop().transport.write(request)
            now = time.perf_counter()
            lags.append(now - (t0 + sent * period))
            sent += 1
        if sent >= total:
            done.set_result(None)
            return
        delay = t0 + sent * period - time.perf_counter()
        if delay > SPIN:
            loop.call_later(delay - SPIN, tick)
        else:
            loop.call_soon(tick)

    loop.call_soon(tick)
    await done
    elapsed = time.perf_counter() - t0
    ordered = sorted(lags)
    return {
        "achieved_rps": total / elapsed,
        "lag_p99_ms": ordered[int(0.99 * (len(ordered) - 1))] * 1000,
    }


def main() -> None:
    url, rps, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    print(json.dumps(uvloop.run(run(url, rps, seconds))))


if __name__ == "__main__":
    main()
