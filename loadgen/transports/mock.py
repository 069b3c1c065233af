"""A transport that answers in-process: no sockets, for tests that time nothing.

Tests of the engine's bookkeeping (arrivals counted, warm-up not recorded,
task errors, timeouts, draining) need a client, not a server. `MockClient`
answers each request with what `answer(request)` returns, after that reply's
`delay` on the event loop (0: on the next loop turn, as a socket would).
What it was sent is kept in `sent`. It takes submissions like the fast
client, and its awaitables work in flights and Tasks alike (asyncio futures).

Timing tests keep real sockets: a mock measures nothing worth asserting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from loadgen.transports.base import Waiter
from loadgen.transports.models import ClientError, Request, Response


@dataclass(frozen=True)
class Reply:
    """What the mock answers: a response, or a transport error of kind `error`."""

    status: int = 200
    body: bytes = b"ok"
    delay: float = 0.0  # seconds before it arrives
    error: str | None = None  # a ClientError kind instead of a response


Answer = Callable[[Request], Reply]


class _Exchange:
    """One submitted request (a `Sent`): abandoning it cancels its answer."""

    __slots__ = ("client", "exchange", "handle")

    connecting = False  # it has no connections to open
    stalled = False  # nor a window to wait on

    def __init__(self, client: MockClient, exchange: int) -> None:
        self.client = client
        self.exchange = exchange
        self.handle: asyncio.TimerHandle | None = None  # until answered

    def abandon(self, exchange: int) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None
            self.client.in_flight -= 1

    def arriving(self) -> int:
        return -1  # answered whole or not at all


class MockClient:
    """A `Client` that answers in-process (no socket), for tests that time nothing:
    it keeps each request sent and counts those in flight."""

    eager = True  # futures and callbacks only: flight-safe

    def __init__(self, answer: Answer | Reply | None = None) -> None:
        reply = answer if isinstance(answer, Reply) else Reply()
        self.answer: Answer = answer if callable(answer) else (lambda _: reply)
        self.sent: list[Request] = []
        self.http_version = ""  # no wire at all
        self.connections_opened = 0  # as a pool would: the most requests at once
        self.in_flight = 0
        self._exchanges = 0

    def request(
        self, method: str, path: str, headers: dict[str, str] | None, body: bytes | None
    ) -> Awaitable[Response]:
        """`Client.request`: a future told by `submit`."""
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self.submit(Request(method, path, headers, body), future)
        return future

    def submit(self, request: Request, waiter: Waiter) -> _Exchange:
        """`Client.submit`: the answer comes after its reply's delay (at 0, on the loop's
        next turn)."""
        self.sent.append(request)
        reply = self.answer(request)
        self._exchanges += 1
        self.in_flight += 1
        self.connections_opened = max(self.connections_opened, self.in_flight)
        exchange = _Exchange(self, self._exchanges)
        loop = asyncio.get_running_loop()
        sent_at = time.perf_counter()
        exchange.handle = loop.call_later(
            reply.delay, self._answer, exchange, reply, sent_at, waiter
        )
        return exchange

    def _answer(self, exchange: _Exchange, reply: Reply, sent_at: float, waiter: Waiter) -> None:
        exchange.handle = None
        self.in_flight -= 1
        if waiter.done():
            return
        if reply.error is not None:
            waiter.set_exception(ClientError(reply.error, "mock"))
            return
        size = len(reply.body) + 40  # about a minimal response head
        waiter.set_result(Response(reply.status, reply.body, sent_at, time.perf_counter(), size))

    async def aclose(self) -> None:
        """Nothing to close."""
        pass
