"""One HTTP/2 request and its response: a stream, from the moment it is submitted.

A `Stream` is what the HTTP/2 client (http2.py) hands back for a request
(a `Sent`), and what a session awaits (a `Parkable`): it waits in the pool
for a connection and a stream slot, is sent on a connection
(h2_connection.py) that feeds it its response's headers and data, and tells
its waiter the outcome once. Its latency still runs from its intended time:
the wait for a slot, a window or a connection is waiting, not "not sent".

After an ALPN fallback to HTTP/1.1 (`--http2=fallback`) a stream is a thin
front for the request the HTTP/1.1 client sent in its place (`via`).
"""

from __future__ import annotations

import asyncio
import time
from asyncio import current_task
from collections.abc import Generator
from typing import Any, Protocol

from loadgen.transports.base import Parkable, Sent, Waiter
from loadgen.transports.models import (
    BODY_ARRIVING,
    CLOSED,
    CONNECT_TIMEOUT,
    FLOW_CONTROL,
    IDEMPOTENT,
    ClientError,
    Request,
    Response,
)


class Carrier(Protocol):
    """The connection a stream is on (h2_connection.H2Connection), as the stream sees it."""

    def cancel(self, stream: Stream) -> None:
        """Its waiter gave up on `stream`: reset it."""
        ...


class Stream(Parkable):
    """A request on its way: queued, then on a connection's stream, then answered or failed."""

    __slots__ = (
        "block",
        "body",
        "conn",
        "connecting",
        "credit",
        "exchange",
        "failure",
        "first_at",
        "head",
        "held",
        "idempotent",
        "outcome_told",
        "pending",
        "received",
        "request",
        "sent_at",
        "status",
        "via",
        "waiter",
        "window",
    )

    def __init__(self, request: Request, block: bytes) -> None:
        self.request = request
        self.block = block  # its headers, HPACK-encoded (h2_wire.py)
        self.idempotent = request.method in IDEMPOTENT
        self.waiter: Waiter | None = None
        self.conn: Carrier | None = None
        self.exchange = 0  # its stream id once sent (a `Sent`'s exchange)
        self.connecting = False  # a connection is being opened for it
        self.via: Sent | None = None  # sent by the HTTP/1.1 client instead (ALPN fallback)
        self.pending = b""  # request body not yet sent: the flow-control window held it
        self.window = 0  # what the server's window for it lets us send (set when sent)
        self.credit = 0  # what our window for it lets the server send (set when sent)
        self.sent_at = 0.0
        self.first_at = 0.0
        self.status = 0
        self.head = b""
        self.body: list[bytes] = []
        self.held = 0  # body bytes received
        self.received = 0  # response bytes received (head as decoded, body)
        self.failure: ClientError | None = None
        self.outcome_told = False

    # -- the outcome, told once ----------------------------------------------
    def answered(self, done_at: float) -> None:
        """Its response is complete: the waiter gets it."""
        response = Response(
            self.status,
            b"".join(self.body),
            self.sent_at,
            done_at,
            self.received,
            self.head,
            self.first_at,
        )
        self.conn = None
        waiter = self._told()
        if waiter is not None:
            waiter.set_result(response)

    def fail(self, error: ClientError) -> None:
        """It ended without a response: the waiter gets `error`."""
        self.conn = None
        self.failure = error
        waiter = self._told()
        if waiter is not None:
            waiter.set_exception(error)

    def _told(self) -> Waiter | None:
        if self.outcome_told:
            return None
        self.outcome_told = True
        waiter, self.waiter = self.waiter, None
        return waiter if waiter is not None and not waiter.done() else None

    def live(self) -> bool:
        """Still wanted: nobody gave up on it and it has no outcome yet."""
        return not self.outcome_told

    # -- as a `Sent` -------------------------------------------------------------
    def abandon(self, exchange: int) -> None:
        """Its waiter gave up (a timeout): cancel the stream, the connection stays."""
        if self.via is not None:
            self.via.abandon(self.via.exchange)
        if self.outcome_told:
            return
        self.outcome_told = True
        self.waiter = None
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.cancel(self)

    @property
    def stalled(self) -> bool:
        """Its body waits on the server's flow-control window."""
        return bool(self.pending) and not self.outcome_told

    def arriving(self) -> int:
        """Body bytes of its response so far; -1 while its headers have not come."""
        if self.via is not None:
            return self.via.arriving()
        return self.held if self.status and not self.outcome_told else -1

    # -- as a `Parkable` -------------------------------------------------------
    def __await__(self) -> Generator[Any, Any, Response]:
        try:
            if self.outcome_told:  # failed before it could be awaited
                raise self.failure or ClientError(CLOSED, "the stream was closed")
            if current_task() is None:
                response: Response = yield self  # the runner becomes our waiter
                return response
            future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
            self.waiter = future
            return (yield from future)
        except ClientError:
            raise
        except asyncio.CancelledError:
            # Whoever timed it out is told what was under way (models.timed_out).
            arriving, stalled, connecting = self.arriving(), self.stalled, self.connecting
            self.abandon(self.exchange)
            if arriving >= 0:
                raise asyncio.CancelledError(BODY_ARRIVING, arriving) from None
            if stalled:
                raise asyncio.CancelledError(FLOW_CONTROL) from None
            if connecting:
                raise asyncio.CancelledError(CONNECT_TIMEOUT) from None
            raise
        except BaseException:
            self.abandon(self.exchange)
            raise

    def got_headers(self, status: int, head: bytes) -> None:
        """Its response's headers came (the first byte of its answer)."""
        self.first_at = time.perf_counter()
        self.status = status
        self.head = head
        self.received += len(head)

    def got_data(self, data: bytes) -> None:
        """A DATA frame's payload: held for the body, and counted in the bytes received."""
        self.body.append(data)
        self.held += len(data)
        self.received += len(data)
