"""One HTTP/1.1 keep-alive connection: an asyncio protocol, parsed by httptools,
and the state of the one request in flight on it.

Apart from the pool (http1.py) so that the pool only asks and tells a
connection through its public methods and attributes, and a connection
knows its pool only as a `ConnectionOwner`: it says when an exchange is over
and it may carry another (`release`), when it may not (`discard`) and when
it closed (`lost`).

A reused connection that dies before any response byte arrived (the server
closed it while idle) fails as a `retryable` reset when its request is
idempotent; nothing is sent again here. A response holds at most `max_body`
bytes of body: beyond, the connection is closed and the request is a
`body_too_large` error (reading on to discard would tie the connection up for
as long as the server streams); its head at most `MAX_HEAD`, beyond which it
is a `protocol` error.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from asyncio import current_task
from collections.abc import Generator
from typing import Any, Protocol, cast

import httptools

from loadgen.transports.base import Parkable, Waiter
from loadgen.transports.models import (
    BODY_ARRIVING,
    PROTOCOL,
    RESET,
    SERVER_CLOSED,
    TLS,
    ClientError,
    Response,
    size_text,
    too_large,
)
from loadgen.transports.tls import describe

# How a reused connection the server had closed while idle fails: retryable
# when no byte of a response came (see `Connection.send`).
_UNANSWERED = (RESET, SERVER_CLOSED)
# The most a response's head (status line and headers) may take, as an HTTP/2
# header block may (h2_connection): a server streaming header lines for ever
# would otherwise fill the generator's memory, as an endless body would.
MAX_HEAD = 1 << 20


class ConnectionOwner(Protocol):
    """What a connection tells the pool that opened it (`http1.FastClient`)."""

    def release(self, conn: Connection) -> None:
        """An exchange completed on `conn` and it may carry another: hand it on or keep it."""
        ...

    def discard(self, conn: Connection) -> None:
        """`conn` may carry no other request: close it, its place in the pool is free."""
        ...

    def lost(self, conn: Connection) -> None:
        """`conn` closed (either end): it is open no more; an idle one leaves the pool."""
        ...


def _ends_at_eof(first: bytes) -> bool:
    """Whether a response starting with these bytes has a body delimited by EOF.

    Asked only when a connection closes mid-response (rare), so the parser needs
    no per-header callback (five calls per response from a typical server):
    the head is looked up here instead. A head longer than the first read is
    not trusted to be EOF-delimited (the close is then a reset).
    """
    end = first.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = first[:end].lower()
    return b"\ncontent-length:" not in head and b"\ntransfer-encoding:" not in head


class Connection(asyncio.Protocol, Parkable):
    """One keep-alive connection, and the state of the one request in flight on it.

    The exchange state lives on the connection itself (not in a per-request
    object): one fewer allocation and attribute hop on every request. Awaiting
    the connection awaits the response to the request just sent: outside any
    asyncio Task (in a flight) it parks the runner, which the response then
    resumes directly (see `Parkable`); inside a Task it waits on a future.

    Each response carries the times of its phases: written (`sent_at`), first
    byte (`first_at`: one clock read per response, on its first read) and
    complete (`done_at`).
    """

    connecting = False  # as a `Sent`: open already
    stalled = False  # HTTP/1.1 has no flow-control window

    def __init__(self, owner: ConnectionOwner, max_body: int) -> None:
        self.owner = owner
        self.loop = asyncio.get_running_loop()  # protocols are made inside the loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle = False  # sitting in the pool (set by the pool)
        self.keep_alive = True
        # The exchange in flight (or the last one, once `done`).
        self.waiter: Waiter | None = None
        self.response: Response | None = None  # complete, not yet handed to the waiter
        self.data = b""  # the request being sent
        self.retry = False  # a reset before any response byte may be sent again
        self.failure: ClientError | None = None  # how the last exchange failed, if it did
        self.exchange = 0  # how many requests were sent on it: tells exchanges apart
        self.sent_at = 0.0
        self.first_at = 0.0  # when the response's first byte arrived
        self.body: list[bytes] = []
        self.held = 0  # bytes in `body`: past `max_body`, the exchange fails
        self.max_body = max_body
        self.nbytes = 0  # response bytes received so far
        self.first: bytes = b""  # the response's first bytes: its whole head, at least
        self.head_open = False  # the head is longer than the bytes so far
        self.done = True  # no exchange in flight

    # -- asyncio.Protocol -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """The socket is open (and its TLS, if any, done)."""
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        """Bytes of the response: parsed as they come; ones nobody asked for drop the connection."""
        if self.done:
            # Bytes nobody asked for: the stream is out of step, drop it.
            self._abort()
            return
        if not self.nbytes:
            self.first_at = time.perf_counter()
            self.first = data
            self.head_open = b"\r\n\r\n" not in data
        elif self.head_open:  # rare: a head longer than one read
            # Its end looked for in the new bytes only (and the 3 before them).
            self.head_open = b"\r\n\r\n" not in self.first[-3:] + data
            self.first += data
            if self.head_open and len(self.first) > MAX_HEAD:
                self._abort()
                self.fail(
                    ClientError(
                        PROTOCOL,
                        f"the response head passed {size_text(MAX_HEAD)} without ending: "
                        "the connection was closed instead of holding more",
                    )
                )
                return
        self.nbytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as e:
            self._abort()
            if self.response is None:
                self.fail(ClientError(PROTOCOL, str(e) or type(e).__name__))
            else:
                # A whole response, then garbage: the response stands, the
                # (aborted) connection is discarded when it is handed over.
                self._deliver()
            return
        if self.response is not None:
            # Handed over only now, with the parser done with the bytes: a flight
            # resumed from here may send its next request on this very connection.
            self._deliver()
        elif self.held > self.max_body:
            # Held so far: the cap and at most one read beyond it.
            self.body = []
            self._abort()
            self.fail(too_large(self.max_body))

    def connection_lost(self, exc: Exception | None) -> None:
        """The socket closed: the pool forgets it, and an exchange in flight ends in an error
        (or in its response, when the server delimits a body by closing)."""
        self.closed = True
        self.owner.lost(self)
        if not self.done:
            if self.nbytes and self._status() is not None and _ends_at_eof(self.first):
                # A body delimited by the end of the connection (HTTP/1.0 style).
                self.keep_alive = False
                self.on_message_complete()
                self._deliver()
            else:
                # A clean close (EOF: exc is None) is the server hanging up on
                # the request; an error (ECONNRESET) is a RST.
                # A TLS alert instead (TLS 1.3 refuses a missing client
                # certificate after the handshake) is the handshake's failure.
                kind = SERVER_CLOSED if exc is None else RESET
                what = "mid-response" if self.nbytes else "before any response byte"
                if isinstance(exc, ssl.SSLError):
                    self.fail(ClientError(TLS, describe(exc)))
                else:
                    self.fail(ClientError(kind, f"connection closed {what}"))

    # -- httptools callbacks (only ever called with an exchange in flight) --
    def on_body(self, body: bytes) -> None:
        """httptools' callback: a piece of the body, held and counted against `max_body`."""
        self.body.append(body)
        self.held += len(body)

    def on_message_complete(self) -> None:
        """httptools' callback: the response is whole, made a `Response` (a body past
        `max_body` fails in `data_received` instead)."""
        done_at = time.perf_counter()
        if self.done or self.held > self.max_body:
            return  # too large: `data_received` fails it
        self.done = True
        parser = self.parser
        self.keep_alive = self.keep_alive and parser.should_keep_alive()
        # The status line was parsed before any message could complete.
        status = parser.get_status_code()
        body = b"".join(self.body)
        self.response = Response(
            status, body, self.sent_at, done_at, self.nbytes, self.first, self.first_at
        )

    # -- used by the pool -------------------------------------------------
    def send(self, data: bytes, retry: bool) -> Connection:
        """Write one request; awaiting the connection then gives its response.

        `retry`: the request is idempotent and the connection reused, so a
        reset before any response byte (the server closed it while idle) is
        `retryable`. A plain method, not a coroutine: one fewer coroutine
        frame per request.
        """
        assert self.transport is not None
        self.exchange += 1
        self.waiter = None
        self.response = None
        self.data = data
        self.retry = retry
        self.body = []
        self.held = 0
        self.nbytes = 0
        self.done = False
        self.failure = None
        self.sent_at = time.perf_counter()
        if self.closed:
            # Closed by the server between being handed over and now: a reset
            # before any byte, which a reused connection retries. Told on the
            # next loop turn: whoever waits for it is not attached yet.
            error = ClientError(RESET, "connection closed before the request was sent")
            self.loop.call_soon(self.fail, error)
            return self
        self.transport.write(data)
        return self

    def abandon(self, exchange: int) -> None:
        """The waiter of exchange number `exchange` gave up: drop the connection.

        Unless that exchange is over (the connection may already serve another).
        """
        if self.exchange == exchange and not self.done:
            self.owner.discard(self)

    def arriving(self) -> int:
        """Body bytes of the response in flight so far; -1 while its head is incomplete."""
        return self.held if self.nbytes and not self.head_open and not self.done else -1

    def __await__(self) -> Generator[Any, Any, Response]:
        """The response to the request just sent (see `_deliver` and `fail`)."""
        exchange = self.exchange
        try:
            if self.done:  # failed (or closed) already: nothing will come
                raise self.failure or ClientError(RESET, "connection closed")
            if current_task() is None:
                response: Response = yield self  # the runner becomes our waiter
                return response
            future: asyncio.Future[Response] = self.loop.create_future()
            self.waiter = future
            return (yield from future)
        except ClientError:
            raise
        except asyncio.CancelledError:
            # Cancelled (timeout) mid-exchange: the stream state is unknown.
            # Whoever timed it out is told when the body was under way.
            arriving = self.arriving() if self.exchange == exchange else -1
            self.abandon(exchange)
            if arriving >= 0:
                raise asyncio.CancelledError(BODY_ARRIVING, arriving) from None
            raise
        except BaseException:
            self.abandon(exchange)
            raise

    def close(self) -> None:
        """Close, abandoning any exchange: its waiter is not told (it gave up)."""
        self.closed = True
        self.done = True
        self.waiter = None
        if self.transport is not None:
            self.transport.close()

    def fail(self, error: ClientError) -> None:
        """The exchange in flight, if any, fails with `error`: the connection is
        discarded first, then its waiter is told."""
        if not self.done:
            self.done = True
            waiter = self.waiter
            self.waiter = None
            self.owner.discard(self)
            if self.retry and error.kind in _UNANSWERED and self.nbytes == 0:
                error.retryable = True  # nothing of it was answered: see `send`
            self.failure = error
            if waiter is not None and not waiter.done():
                waiter.set_exception(error)

    def _status(self) -> int | None:
        try:
            code: int = self.parser.get_status_code()
        except Exception:
            return None
        return code or None

    def _deliver(self) -> None:
        """The response is complete: the connection goes back first, then the waiter wakes."""
        response = self.response
        assert response is not None
        self.response = None
        waiter = self.waiter
        self.waiter = None
        if self.keep_alive and not self.closed:
            self.owner.release(self)
        else:
            self.owner.discard(self)
        if waiter is not None and not waiter.done():
            waiter.set_result(response)

    def _abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
