"""The fast client: a pool of HTTP/1.1 keep-alive connections to one origin,
over TLS for https:// (uvloop's, on the same protocol; see tls.py).

Why our own: the generator must be much faster than the server it measures,
or it measures itself, and general-purpose clients spend far more per request
than raw asyncio protocols on uvloop (bench/RESULTS.md has the comparison).

This module is the pool (`FastClient`): it encodes each request (wire.py),
sends it on a free connection (connection.py), opens connections up to
`max_connections` and queues the requests that find none free, in FIFO order
(their latency still runs from their intended time). One request at a time
per connection (no pipelining). A connection tells the pool when it is free
again or unusable, through `ConnectionOwner`; the pool asks it nothing but
its public state. Nothing is sent twice here: an idempotent request on a
reused keep-alive connection that dies before any response byte arrived (the
server closed it while idle) fails as a `retryable` reset, and the session or
one-shot sending it decides, and counts, the one retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable

from loadgen.transports.base import ClientOptions, Waiter
from loadgen.transports.connection import Connection
from loadgen.transports.models import (
    CLOSED,
    CONNECT,
    CONNECT_TIMEOUT,
    IDEMPOTENT,
    TLS,
    ClientError,
    Request,
    Response,
)
from loadgen.transports.tls import describe, tls_context
from loadgen.transports.wire import RequestEncoder, default_headers, origin


class _Queued:
    """A submitted request that found no free connection: it waits its turn in the pool.

    What `submit` returns then (a `Sent`): it is sent on the connection the
    pool hands it, or on one opened for it. A waiter that gives up before
    that (a timeout) leaves it dead in the queue, skipped when its turn comes.
    """

    __slots__ = ("conn", "connecting", "data", "exchange", "idempotent", "waiter")

    stalled = False  # HTTP/1.1 has no flow-control window

    def __init__(self, data: bytes, idempotent: bool, waiter: Waiter) -> None:
        self.data = data
        self.idempotent = idempotent
        self.waiter: Waiter | None = waiter
        self.conn: Connection | None = None
        self.exchange = 0  # set once sent: the connection's exchange number
        self.connecting = False  # a connection is being opened for it

    def live(self) -> bool:
        waiter = self.waiter
        return waiter is not None and not waiter.done()

    def take(self, conn: Connection, reused: bool) -> None:
        """Send on `conn`, which the pool handed over (`reused`) or was opened for it."""
        assert self.waiter is not None
        self.conn = conn
        conn.send(self.data, retry=reused and self.idempotent)
        conn.waiter = self.waiter
        self.exchange = conn.exchange

    def fail(self, error: ClientError) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def abandon(self, exchange: int) -> None:
        # `exchange` was read before this was sent (0): the real one is ours.
        if self.conn is None:
            self.waiter = None
        else:
            self.conn.abandon(self.exchange)

    def arriving(self) -> int:
        conn = self.conn
        return conn.arriving() if conn is not None and conn.exchange == self.exchange else -1


# What waits in the pool's FIFO: a coroutine's future (handed a connection, or
# None: a free slot to open one in), or a submitted request.
_PoolWaiter = asyncio.Future[Connection | None] | _Queued


class FastClient:
    """HTTP/1.1 client for one `http://` or `https://host:port` origin.

    `options.headers` go on every request, replacing a default of the same
    name (Host, User-Agent), as a request's own header replaces either; a
    response body past `options.max_body` fails the request; https uses
    `tls_context(options)`. `on_connect` is told how long each new
    connection took to open (TCP and TLS handshakes);
    `on_wait`, of each request that waits for a connection because the pool
    is at `max_connections`. It is the `ConnectionOwner` of its connections.
    """

    eager = True  # awaits only its own connections and asyncio futures: flight-safe
    http_version = "1.1"

    def __init__(
        self,
        base_url: str,
        max_connections: int,
        options: ClientOptions = ClientOptions(),  # noqa: B008 (frozen: shared safely)
        on_connect: Callable[[float], None] | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        parts, self.host, self.port = origin(base_url, max_connections, "fast client")
        self._ssl = tls_context(options) if parts.scheme == "https" else None
        self.on_connect = on_connect
        self.on_wait = on_wait
        self.max_body = options.max_body
        # A request as bytes (wire.py): the encoder's bound method, no call between.
        self._data: Callable[[str, str, dict[str, str] | None, bytes | None], bytes] = (
            RequestEncoder(parts.path.rstrip("/"), default_headers(parts, options.headers)).encode
        )
        self.max_connections = max_connections
        self.connections_opened = 0
        self._slots = 0  # connections open or being opened
        self._idle: list[Connection] = []
        self._waiters: deque[_PoolWaiter] = deque()
        self._opening: set[asyncio.Task[None]] = set()  # connections opened for submissions
        self._connections: set[Connection] = set()  # open ones, idle or busy
        self._closing = False

    def request(
        self, method: str, path: str, headers: dict[str, str] | None, body: bytes | None
    ) -> Awaitable[Response]:
        """`Client.request`: on an idle connection with no coroutine at all, else on a new
        one, or queued (FIFO) at `max_connections`."""
        data = self._data(method, path, headers, body)
        idempotent = method in IDEMPOTENT
        conn = self._pop_idle()
        if conn is not None:
            return conn.send(data, retry=idempotent)  # the common case: no coroutine at all
        return self._exchange(data, retry=idempotent)

    def submit(self, request: Request, waiter: Waiter) -> Connection | _Queued:
        """Send on a free pooled connection, else once one is; `waiter` gets the outcome.

        The callback form of `request` (no awaiting at all): the connection
        calls `waiter.set_result(response)` or `waiter.set_exception(error)`,
        after putting itself back in the pool. With no free connection the
        request queues in the pool's FIFO (opening a connection for it when
        under `max_connections`) as a `_Queued`, so a burst that exhausts the
        pool (catching up after a stall) stays on this cheap path. A failed
        request is not retried here: the error says whether it may be.
        """
        data = self._data(request.method, request.path, request.headers, request.body)
        idempotent = request.method in IDEMPOTENT
        conn = self._pop_idle()
        if conn is not None:
            conn.send(data, retry=idempotent)
            conn.waiter = waiter
            return conn
        queued = _Queued(data, idempotent, waiter)
        if self._slots < self.max_connections:
            self._slots += 1
            self._open_for(queued)
        else:
            self._waiters.append(queued)
            if self.on_wait is not None:
                self.on_wait()
        return queued

    async def _exchange(self, data: bytes, retry: bool) -> Response:
        """Send on a connection from `_acquire` (waiting for a free one, or opening one)."""
        conn, reused = await self._acquire()
        return await conn.send(data, retry and reused)

    async def aclose(self) -> None:
        """Close every connection; requests waiting for one or for a response are told so."""
        self._closing = True
        closed = ClientError(CLOSED, "the client was closed before the request completed")
        # The queue first: a connection closing below must not hand its slot on.
        for w in self._waiters:
            if isinstance(w, _Queued):
                w.fail(closed)
            elif not w.done():
                w.cancel()
        self._waiters.clear()
        for task in list(self._opening):
            task.cancel()  # its request is told in _opened
        self._idle.clear()
        for conn in list(self._connections):
            conn.fail(closed)  # an exchange in flight: its waiter is told
            conn.close()

    # -- ConnectionOwner: what a connection tells the pool -------------------
    def release(self, conn: Connection) -> None:
        """Take back a healthy connection: straight to the first waiter, else idle."""
        if self._closing:
            self.discard(conn)
            return
        if self._waiters:  # checked here: this runs on every response
            waiter = self._next_waiter()
            if isinstance(waiter, _Queued):
                waiter.take(conn, reused=True)
                return
            if waiter is not None:
                waiter.set_result(conn)
                return
        conn.idle = True
        self._idle.append(conn)

    def discard(self, conn: Connection) -> None:
        """Close a connection that may carry no other request; its slot is free."""
        conn.close()
        self._free_slot()

    def lost(self, conn: Connection) -> None:
        """A connection closed: it is open no more, and an idle one frees its slot."""
        self._connections.discard(conn)
        # The server closed a pooled connection (keep-alive timeout).
        if conn.idle and conn in self._idle:
            self._idle.remove(conn)
            conn.idle = False
            self._free_slot()

    # -- pool ----------------------------------------------------------------
    def _pop_idle(self) -> Connection | None:
        idle = self._idle
        while idle:
            conn = idle.pop()
            conn.idle = False
            if not conn.closed:
                return conn
            self._free_slot()
        return None

    async def _acquire(self) -> tuple[Connection, bool]:
        conn = self._pop_idle()
        if conn is not None:
            return conn, True
        if self._slots < self.max_connections:
            self._slots += 1
            return await self._open_in_slot(), False
        waiter: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        if self.on_wait is not None:
            self.on_wait()
        try:
            handed = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # Handed a connection or slot in the same tick we were cancelled.
                got = waiter.result()
                if got is None:
                    self._free_slot()
                else:
                    self.release(got)
            else:
                self._remove_waiter(waiter)
            raise
        if handed is None:
            return await self._open_in_slot(), False
        return handed, True

    async def _open_in_slot(self) -> Connection:
        """Open a connection in a slot already counted in `_slots`."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            _, conn = await loop.create_connection(
                lambda: Connection(self, self.max_body),
                self.host,
                self.port,
                ssl=self._ssl,
                server_hostname=self.host if self._ssl is not None else None,
            )
        except ssl.SSLError as e:  # the handshake failed (before OSError: it is one)
            self._free_slot()
            raise ClientError(TLS, describe(e)) from None
        except OSError as e:
            self._free_slot()
            # ETIMEDOUT: the kernel gave up on unanswered SYNs (minutes, mostly
            # after the request's own timeout, which `connect_timeout` then is).
            kind = CONNECT_TIMEOUT if e.errno == errno.ETIMEDOUT else CONNECT
            raise ClientError(kind, e.strerror or str(e)) from None
        except asyncio.CancelledError:
            self._free_slot()
            # Cancelled while connecting (a request's timeout, as a rule): the
            # message tells the session so (see `CONNECT_TIMEOUT`).
            raise asyncio.CancelledError(CONNECT_TIMEOUT) from None
        except BaseException:
            self._free_slot()
            raise
        if self.on_connect is not None:
            self.on_connect(time.perf_counter() - started)
        self.connections_opened += 1
        self._connections.add(conn)
        return conn

    def _open_for(self, queued: _Queued) -> None:
        """Open a connection, in a slot already counted, and send `queued` on it."""
        queued.connecting = True
        task = asyncio.get_running_loop().create_task(self._open_and_send(queued))
        self._opening.add(task)
        task.add_done_callback(functools.partial(self._opened, queued))

    def _opened(self, queued: _Queued, task: asyncio.Task[None]) -> None:
        self._opening.discard(task)
        if task.cancelled():  # by aclose(), perhaps before it even started
            queued.fail(ClientError(CLOSED, "the client was closed before the request was sent"))

    async def _open_and_send(self, queued: _Queued) -> None:
        try:
            conn = await self._open_in_slot()
        except ClientError as e:
            queued.fail(e)
            return
        finally:
            queued.connecting = False
        if queued.live():
            queued.take(conn, reused=False)
        else:
            self.release(conn)  # it gave up meanwhile: the next in line may use it

    def _free_slot(self) -> None:
        """A slot is free: let the first waiter open a connection in it."""
        waiter = self._next_waiter()
        if isinstance(waiter, _Queued):
            self._open_for(waiter)
        elif waiter is not None:
            waiter.set_result(None)
        else:
            self._slots -= 1

    def _next_waiter(self) -> _PoolWaiter | None:
        """The first waiter still waiting, taken off the queue (those that gave up are dropped)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if waiter.live() if isinstance(waiter, _Queued) else not waiter.done():
                return waiter
        return None

    def _remove_waiter(self, waiter: asyncio.Future[Connection | None]) -> None:
        with contextlib.suppress(ValueError):  # already handed something and popped
            self._waiters.remove(waiter)
