"""The fast client over HTTP/2 (`--http2`): streams multiplexed on a few connections.

HTTP/2 over TLS when ALPN agrees on `h2`; over cleartext (`h2c`) with prior
knowledge for http:// targets (the connection preface at once, no Upgrade).
A server whose ALPN picks HTTP/1.1 fails every request as a `protocol`
error, unless the user allowed the fallback (`--http2=fallback`): then the
HTTP/1.1 client (http1.py) carries the run and `http_version` says "1.1".

This module is the pool (`Http2Client`): it builds each request's header
block (h2_wire.py), sends it as a stream (h2_stream.py) on the open
connection with the most free stream slots (h2_connection.py), opens
connections up to `max_connections` and queues, in FIFO order, the requests
that find every connection at the server's SETTINGS_MAX_CONCURRENT_STREAMS.
That wait is the connection count's doing, not the server's: each request
that waits so is told to `on_stream_wait`. A queued request's latency still
runs from its intended time. A connection tells the pool when it may carry
more streams, when it goes away and when it closed (`StreamOwner`); the pool
reads only its public state. Nothing is sent twice here: a request the
server did not process (GOAWAY above its last stream, REFUSED_STREAM) fails
`retryable` when idempotent, and the session or one-shot retries it once,
on another connection, and counts it.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable

from loadgen.transports.base import HTTP2_FALLBACK, ClientOptions, Waiter
from loadgen.transports.h2_connection import H2Connection
from loadgen.transports.h2_stream import Stream
from loadgen.transports.h2_wire import H2RequestEncoder
from loadgen.transports.http1 import FastClient
from loadgen.transports.models import (
    CLOSED,
    CONNECT,
    CONNECT_TIMEOUT,
    PROTOCOL,
    TLS,
    ClientError,
    Request,
    Response,
)
from loadgen.transports.tls import describe, tls_context
from loadgen.transports.wire import default_headers, origin


class Http2Client:
    """HTTP/2 client for one `http://` (h2c) or `https://` (h2) origin.

    `options` as the HTTP/1.1 client takes them; `options.http2` says whether
    HTTP/1.1 may replace HTTP/2 when the server's ALPN refuses it.
    `on_connect` is told how long each new connection took to open (TCP and
    TLS); `on_stream_wait`, of each request that waits because every
    connection is at the server's stream limit and the pool at
    `max_connections`. It is the `StreamOwner` of its connections.
    """

    eager = True  # awaits only its own streams and asyncio futures: flight-safe

    def __init__(
        self,
        base_url: str,
        max_connections: int,
        options: ClientOptions = ClientOptions(),  # noqa: B008 (frozen: shared safely)
        on_connect: Callable[[float], None] | None = None,
        on_wait: Callable[[], None] | None = None,
        on_stream_wait: Callable[[], None] | None = None,
    ) -> None:
        parts, self.host, self.port = origin(base_url, max_connections, "HTTP/2 client")
        self.base_url = base_url
        self.options = options
        self.fallback = options.http2 == HTTP2_FALLBACK
        alpn = ("h2", "http/1.1") if self.fallback else ("h2",)
        self._ssl = tls_context(options, alpn) if parts.scheme == "https" else None
        self.on_connect = on_connect
        self.on_wait = on_wait  # for the HTTP/1.1 client of a fallback
        self.on_stream_wait = on_stream_wait
        self.max_body = options.max_body
        self._headers = H2RequestEncoder(
            parts.scheme, parts.path.rstrip("/"), default_headers(parts, options.headers)
        ).encode
        self.max_connections = max_connections
        self.connections_opened = 0
        self.http_version = "2"  # "1.1" once ALPN made it fall back
        self._slots = 0  # connections open (taking streams) or being opened
        self._conns: list[H2Connection] = []  # open and taking new streams
        self._turn = 0  # where the next look for a free stream slot starts
        self._going: set[H2Connection] = set()  # GOAWAY received: finishing their streams
        self._queue: deque[Stream] = deque()
        self._opening: set[asyncio.Task[None]] = set()
        self._refused: ClientError | None = None  # ALPN said no to h2: every request fails
        self._h1: FastClient | None = None  # ALPN fell back to HTTP/1.1
        self._closing = False

    # -- the Client seam ----------------------------------------------------
    def request(
        self, method: str, path: str, headers: dict[str, str] | None, body: bytes | None
    ) -> Awaitable[Response]:
        """`Client.request` as a stream (over HTTP/1.1 when the server would not speak h2
        and `--http2 fallback` allowed it)."""
        if self._h1 is not None:
            return self._h1.request(method, path, headers, body)
        stream = Stream(
            Request(method, path, headers, body), self._headers(method, path, headers, body)
        )
        self._place(stream)
        return stream

    def submit(self, request: Request, waiter: Waiter) -> Stream:
        """Send on a connection with a free stream slot, else once there is one;
        `waiter` gets the outcome (never before this returns)."""
        if self._h1 is not None:
            stream = Stream(request, b"")
            stream.via = self._h1.submit(request, waiter)
            return stream
        r = request
        stream = Stream(r, self._headers(r.method, r.path, r.headers, r.body))
        stream.waiter = waiter
        self._place(stream)
        return stream

    async def aclose(self) -> None:
        """Close every connection; requests waiting or in flight are told so."""
        self._closing = True
        closed = ClientError(CLOSED, "the client was closed before the request completed")
        queue, self._queue = self._queue, deque()
        for stream in queue:
            stream.fail(closed)
        for task in list(self._opening):
            task.cancel()
        for conn in [*self._conns, *self._going]:
            conn.fail_all(closed)
            conn.close()
        self._conns.clear()
        self._going.clear()
        if self._h1 is not None:
            await self._h1.aclose()
            self.connections_opened += self._h1.connections_opened

    # -- StreamOwner: what a connection tells the pool -------------------------
    def freed(self, conn: H2Connection) -> None:
        """`StreamOwner.freed`: the streams queued for a slot go out."""
        if self._queue:
            self._drain()

    def going(self, conn: H2Connection) -> None:
        """`StreamOwner.going`: `conn` leaves the pool's choices, and another may open."""
        if conn in self._conns:
            self._conns.remove(conn)
            self._going.add(conn)
            self._slots -= 1
            self._refill()

    def lost(self, conn: H2Connection) -> None:
        """`StreamOwner.lost`: `conn` leaves the pool, and another may open."""
        self._going.discard(conn)
        if conn in self._conns:
            self._conns.remove(conn)
            self._slots -= 1
            self._refill()

    # -- pool -------------------------------------------------------------------
    def _place(self, stream: Stream) -> None:
        """Send `stream` now if a connection has a slot for it, else queue it."""
        if self._refused is not None or self._closing:
            error = self._refused or ClientError(CLOSED, "the client was closed")
            asyncio.get_running_loop().call_soon(stream.fail, error)
            return
        if not self._queue:  # FIFO: nothing overtakes a queued request
            conn = self._roomiest()
            if conn is not None:
                if conn.streams and self._slots < self.max_connections and not self._opening:
                    self._open()  # under the cap: the load spreads over another one
                conn.send(stream)
                return
        self._queue.append(stream)
        if self._slots < self.max_connections:
            self._open()
        if self._opening:
            stream.connecting = True
        elif self.on_stream_wait is not None:
            self.on_stream_wait()  # every connection at the server's stream limit

    def _roomiest(self) -> H2Connection | None:
        """The open connection with the most free stream slots, None if none has one.

        Ties go round the connections in turn: the load spreads over them all
        (a server may close a connection after so many requests, as
        hypercorn does after 1000), not on the first.
        """
        conns = self._conns
        count = len(conns)
        self._turn = turn = (self._turn + 1) % count if count else 0
        best, room = None, 0
        for k in range(count):
            conn = conns[(turn + k) % count]
            free = conn.limit - len(conn.streams)  # capacity(), inlined: it is hot
            if free > room and not (conn.going_away or conn.closed):
                best, room = conn, free
        return best

    def _drain(self) -> None:
        """Send queued streams while a connection has a slot for them."""
        queue = self._queue
        while queue:
            if not queue[0].live():
                queue.popleft()
                continue
            conn = self._roomiest()
            if conn is None:
                return
            stream = queue.popleft()
            stream.connecting = False
            conn.send(stream)

    def _refill(self) -> None:
        """A connection went: open another if requests wait for one."""
        if self._queue and not self._closing and self._slots < self.max_connections:
            self._open()

    def _open(self) -> None:
        self._slots += 1
        task = asyncio.get_running_loop().create_task(self._connect())
        self._opening.add(task)
        task.add_done_callback(self._opened)

    def _opened(self, task: asyncio.Task[None]) -> None:
        self._opening.discard(task)

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            _, conn = await loop.create_connection(
                functools.partial(H2Connection, self, self.max_body),
                self.host,
                self.port,
                ssl=self._ssl,
                server_hostname=self.host if self._ssl is not None else None,
            )
        except ssl.SSLError as e:  # before OSError: it is one
            self._open_failed(ClientError(TLS, describe(e)))
            return
        except OSError as e:
            kind = CONNECT_TIMEOUT if e.errno == errno.ETIMEDOUT else CONNECT
            self._open_failed(ClientError(kind, e.strerror or str(e)))
            return
        except asyncio.CancelledError:  # aclose(): its streams are told there
            self._slots -= 1
            return
        if self.on_connect is not None:
            self.on_connect(time.perf_counter() - started)
        self.connections_opened += 1
        if self._ssl is not None and conn.alpn != "h2":
            self._slots -= 1
            conn.close()
            self._not_h2(conn.alpn)
            return
        if self._closing:
            conn.close()
            return
        self._conns.append(conn)
        self._drain()

    def _open_failed(self, error: ClientError) -> None:
        """A connection could not be opened: with none other to wait for, the queue fails."""
        self._slots -= 1
        if self._conns or len(self._opening) > 1:
            return  # the others will carry the queue
        queue, self._queue = self._queue, deque()
        for stream in queue:
            stream.fail(error)

    def _not_h2(self, chosen: str | None) -> None:
        """The server's ALPN chose another protocol than h2: fall back, or refuse."""
        queue, self._queue = self._queue, deque()
        if self.fallback:
            self.http_version = "1.1"
            self._h1 = h1 = FastClient(
                self.base_url, self.max_connections, self.options, self.on_connect, self.on_wait
            )
            for stream in queue:
                if stream.live() and stream.waiter is not None:
                    waiter, stream.waiter = stream.waiter, None
                    stream.via = h1.submit(stream.request, waiter)
            return
        self._refused = ClientError(
            PROTOCOL,
            f"the server chose {chosen or 'no protocol'} by ALPN, not h2 "
            "(--http2=fallback lets loadgen speak HTTP/1.1 to it)",
        )
        for stream in queue:
            stream.fail(self._refused)
