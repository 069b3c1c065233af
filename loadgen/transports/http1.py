"""The fast client: HTTP/1.1 keep-alive on asyncio protocols, parsed by httptools,
over TLS for https:// (uvloop's, on the same protocol; see tls.py).

Why our own: the generator must be much faster than the server it measures,
or it measures itself, and general-purpose clients spend far more per request
than raw asyncio protocols on uvloop (bench/RESULTS.md has the comparison).

One request at a time per connection (no pipelining). Connections are pooled
up to `max_connections`; a request that finds none free waits in FIFO order
(its latency still runs from its intended time). Nothing is sent twice here:
an idempotent request on a reused keep-alive connection that dies before any
response byte arrived (the server closed it while idle) fails as a
`retryable` reset, and the session or one-shot sending it decides, and
counts, the one retry.

A response holds at most `options.max_body` bytes of body: beyond, the
connection is closed and the request is a `body_too_large` error (reading on
to discard would tie the connection up for as long as the server streams).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import ssl
import time
from asyncio import current_task
from base64 import b64encode
from collections import deque
from collections.abc import Awaitable, Callable, Generator, Iterable
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import httptools

from loadgen.transports.base import ClientOptions, Parkable, Waiter
from loadgen.transports.models import (
    BODY_ARRIVING,
    CLOSED,
    CONNECT,
    CONNECT_TIMEOUT,
    IDEMPOTENT,
    PROTOCOL,
    RESET,
    SERVER_CLOSED,
    TLS,
    ClientError,
    Request,
    Response,
    check_request,
    too_large,
)
from loadgen.transports.tls import describe, tls_context

# Distinct (method, path) request heads kept encoded; beyond it, encode each time.
_HEAD_CACHE_SIZE = 4096
# How a reused connection the server had closed while idle fails: retryable
# when no byte of a response came (see `_Connection.send`).
_UNANSWERED = (RESET, SERVER_CLOSED)


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


class _Connection(asyncio.Protocol, Parkable):
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

    def __init__(self, client: FastClient) -> None:
        self.client = client
        self.loop = asyncio.get_running_loop()  # protocols are made inside the loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle = False  # sitting in the pool
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
        self.max_body = client.max_body
        self.nbytes = 0  # response bytes received so far
        self.first: bytes = b""  # the response's first bytes: its whole head, at least
        self.head_open = False  # the head is longer than the bytes so far
        self.done = True  # no exchange in flight

    # -- asyncio.Protocol -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.done:
            # Bytes nobody asked for: the stream is out of step, drop it.
            self._abort()
            return
        if not self.nbytes:
            self.first_at = time.perf_counter()
            self.first = data
            self.head_open = b"\r\n\r\n" not in data
        elif self.head_open:  # rare: a head longer than one read
            self.first += data
            self.head_open = b"\r\n\r\n" not in self.first
        self.nbytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as e:
            self._abort()
            if self.response is None:
                self._fail(ClientError(PROTOCOL, str(e) or type(e).__name__))
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
            self._fail(too_large(self.max_body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.client._connections.discard(self)
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
                    self._fail(ClientError(TLS, describe(exc)))
                else:
                    self._fail(ClientError(kind, f"connection closed {what}"))
        if self.idle:
            self.client._idle_closed(self)

    # -- httptools callbacks (only ever called with an exchange in flight) --
    def on_body(self, body: bytes) -> None:
        self.body.append(body)
        self.held += len(body)

    def on_message_complete(self) -> None:
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

    # -- used by FastClient -----------------------------------------------
    def send(self, data: bytes, retry: bool) -> _Connection:
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
            self.loop.call_soon(self._fail, error)
            return self
        self.transport.write(data)
        return self

    def abandon(self, exchange: int) -> None:
        """The waiter of exchange number `exchange` gave up: drop the connection.

        Unless that exchange is over (the connection may already serve another).
        """
        if self.exchange == exchange and not self.done:
            self.client._discard(self)

    def arriving(self) -> int:
        """Body bytes of the response in flight so far; -1 while its head is incomplete."""
        return self.held if self.nbytes and not self.head_open and not self.done else -1

    def __await__(self) -> Generator[Any, Any, Response]:
        """The response to the request just sent (see `_deliver` and `_fail`)."""
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
        self.client._finished(self)
        if waiter is not None and not waiter.done():
            waiter.set_result(response)

    def _fail(self, error: ClientError) -> None:
        if not self.done:
            self.done = True
            waiter = self.waiter
            self.waiter = None
            self.client._discard(self)
            if self.retry and error.kind in _UNANSWERED and self.nbytes == 0:
                error.retryable = True  # nothing of it was answered: see `send`
            self.failure = error
            if waiter is not None and not waiter.done():
                waiter.set_exception(error)

    def _abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


class _Queued:
    """A submitted request that found no free connection: it waits its turn in the pool.

    What `submit` returns then (a `Sent`): it is sent on the connection the
    pool hands it, or on one opened for it. A waiter that gives up before
    that (a timeout) leaves it dead in the queue, skipped when its turn comes.
    """

    __slots__ = ("conn", "connecting", "data", "exchange", "idempotent", "waiter")

    def __init__(self, data: bytes, idempotent: bool, waiter: Waiter) -> None:
        self.data = data
        self.idempotent = idempotent
        self.waiter: Waiter | None = waiter
        self.conn: _Connection | None = None
        self.exchange = 0  # set once sent: the connection's exchange number
        self.connecting = False  # a connection is being opened for it

    def live(self) -> bool:
        waiter = self.waiter
        return waiter is not None and not waiter.done()

    def take(self, conn: _Connection, reused: bool) -> None:
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
_PoolWaiter = asyncio.Future[_Connection | None] | _Queued


class FastClient:
    """HTTP/1.1 client for one `http://` or `https://host:port` origin.

    `options.headers` go on every request, replacing a default of the same
    name (Host, User-Agent), as a request's own header replaces either; a
    response body past `options.max_body` fails the request; https uses
    `tls_context(options)`. `on_connect` is told how long each new
    connection took to open (TCP and TLS handshakes);
    `on_wait`, of each request that waits for a connection because the pool
    is at `max_connections`.
    """

    eager = True  # awaits only its own connections and asyncio futures: flight-safe

    def __init__(
        self,
        base_url: str,
        max_connections: int,
        options: ClientOptions = ClientOptions(),  # noqa: B008 (frozen: shared safely)
        on_connect: Callable[[float], None] | None = None,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"the fast client speaks http and https, not {parts.scheme!r}")
        if not parts.hostname:
            raise ValueError(f"no host in URL {base_url!r}")
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        self._ssl = tls_context(options) if parts.scheme == "https" else None
        self.on_connect = on_connect
        self.on_wait = on_wait
        defaults = [("Host", parts.netloc.rsplit("@", 1)[-1]), ("User-Agent", "loadgen")]
        if parts.username is not None:  # http://user:password@host: Basic auth
            user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            defaults.append(("Authorization", f"Basic {b64encode(user_pass.encode()).decode()}"))
        given = {name.lower() for name, _ in options.headers}
        defaults = [(k, v) for k, v in defaults if k.lower() not in given]
        defaults += options.headers
        check_request("GET", "/", dict(defaults))
        self.max_body = options.max_body
        self._defaults = defaults
        self._default_names = {name.lower() for name, _ in defaults}
        self._head_tail = _lines(defaults)
        self.max_connections = max_connections
        self.connections_opened = 0
        self._slots = 0  # connections open or being opened
        self._idle: list[_Connection] = []
        self._waiters: deque[_PoolWaiter] = deque()
        self._opening: set[asyncio.Task[None]] = set()  # connections opened for submissions
        self._connections: set[_Connection] = set()  # open ones, idle or busy
        self._closing = False
        # Encoded requests without headers or body, by (method, path): most
        # scenarios repeat a handful, and encoding is a few µs per request.
        self._heads: dict[tuple[str, str], bytes] = {}

    def request(
        self, method: str, path: str, headers: dict[str, str] | None, body: bytes | None
    ) -> Awaitable[Response]:
        data = self._data(method, path, headers, body)
        idempotent = method in IDEMPOTENT
        conn = self._pop_idle()
        if conn is not None:
            return conn.send(data, retry=idempotent)  # the common case: no coroutine at all
        return self._exchange(data, retry=idempotent)

    def submit(self, request: Request, waiter: Waiter) -> _Connection | _Queued:
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
            conn._fail(closed)  # an exchange in flight: its waiter is told
            conn.close()

    # -- wire format -------------------------------------------------------
    def _data(
        self, method: str, path: str, headers: dict[str, str] | None, body: bytes | None
    ) -> bytes:
        if headers is not None or body is not None:
            return self._encode(method, path, headers, body)
        data = self._heads.get((method, path))
        if data is None:
            data = self._encode(method, path, None, None)
            if len(self._heads) < _HEAD_CACHE_SIZE:
                self._heads[method, path] = data
        return data

    def _encode(
        self, method: str, path: str, headers: dict[str, str] | None, body: bytes | None
    ) -> bytes:
        check_request(method, path, headers)
        head_tail = self._head_tail
        if headers and not self._default_names.isdisjoint(k.lower() for k in headers):
            # The request's own value of a default header replaces it.
            mine = {k.lower() for k in headers}
            head_tail = _lines([(k, v) for k, v in self._defaults if k.lower() not in mine])
        lines = [f"{method} {self.prefix}{path} HTTP/1.1\r\n".encode("latin-1"), head_tail]
        if headers:
            lines.append(_lines(headers.items()))
        if body is not None:
            lines.append(b"Content-Length: %d\r\n\r\n" % len(body))
            lines.append(body)
        else:
            lines.append(b"\r\n")
        return b"".join(lines)

    # -- pool ----------------------------------------------------------------
    def _pop_idle(self) -> _Connection | None:
        idle = self._idle
        while idle:
            conn = idle.pop()
            conn.idle = False
            if not conn.closed:
                return conn
            self._free_slot()
        return None

    async def _acquire(self) -> tuple[_Connection, bool]:
        conn = self._pop_idle()
        if conn is not None:
            return conn, True
        if self._slots < self.max_connections:
            self._slots += 1
            return await self._open_in_slot(), False
        waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
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
                    self._release(got)
            else:
                self._remove_waiter(waiter)
            raise
        if handed is None:
            return await self._open_in_slot(), False
        return handed, True

    async def _open_in_slot(self) -> _Connection:
        """Open a connection in a slot already counted in `_slots`."""
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            _, conn = await loop.create_connection(
                lambda: _Connection(self),
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
            self._release(conn)  # it gave up meanwhile: the next in line may use it

    def _release(self, conn: _Connection) -> None:
        """Return a healthy connection: straight to the first waiter, else idle."""
        if self._closing:
            self._discard(conn)
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

    def _finished(self, conn: _Connection) -> None:
        """An exchange completed on `conn`: keep it if it may carry another."""
        if conn.keep_alive and not conn.closed:
            self._release(conn)
        else:
            self._discard(conn)

    def _discard(self, conn: _Connection) -> None:
        conn.close()
        self._free_slot()

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

    def _idle_closed(self, conn: _Connection) -> None:
        # The server closed a pooled connection (keep-alive timeout).
        if conn in self._idle:
            self._idle.remove(conn)
            conn.idle = False
            self._free_slot()

    def _remove_waiter(self, waiter: asyncio.Future[_Connection | None]) -> None:
        with contextlib.suppress(ValueError):  # already handed something and popped
            self._waiters.remove(waiter)


def _lines(fields: Iterable[tuple[str, str]]) -> bytes:
    """Header fields as they go on the wire."""
    return "".join(f"{name}: {value}\r\n" for name, value in fields).encode("latin-1")
