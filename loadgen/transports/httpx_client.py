"""The httpx client: HTTPS and HTTP/2 targets, behind the same `Client` seam.

httpx's connection pool degrades badly with many requests in flight, so
instead of one shared pool this keeps up to
`max_connections` single-connection `AsyncClient`s and hands each request a
free one, in FIFO order. It is still far slower than the fast client: use it
when the target needs TLS or HTTP/2.

Phases come from httpcore's trace events (`_Trace`): the first byte is timed
when the response head is complete (httpcore tells nothing earlier), and a
request cancelled while its connection's TCP or TLS handshake runs is a
`connect_timeout`, as with the fast client.

The body is streamed, and held up to `options.max_body` bytes: beyond, the
response is closed (its connection with it) and the request is a
`body_too_large` error, as with the fast client.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx

from loadgen.transports.base import HTTP2_ONLY, ClientOptions, Sent, Waiter
from loadgen.transports.models import (
    BODY_ARRIVING,
    CONNECT,
    CONNECT_TIMEOUT,
    PROTOCOL,
    RESET,
    SERVER_CLOSED,
    TIMEOUT,
    TLS,
    ClientError,
    Request,
    Response,
    too_large,
)
from loadgen.transports.tls import describe, tls_context


def _classify(exc: httpx.HTTPError) -> str:
    if _ssl_error(exc) is not None:
        return TLS
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.UnsupportedProtocol):
        return CONNECT
    if isinstance(exc, httpx.TimeoutException):
        return TIMEOUT
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc).lower()
        if "disconnected" in text or "peer closed" in text or "incomplete" in text:
            return SERVER_CLOSED  # an end of the stream (EOF), not a RST
        return PROTOCOL
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.CloseError):
        return RESET
    return PROTOCOL


def _ssl_error(exc: BaseException) -> ssl.SSLError | None:
    """The TLS failure httpx wrapped, if it was one (it keeps the cause in the chain)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _detail(exc: httpx.HTTPError) -> str:
    cause = _ssl_error(exc)
    return describe(cause) if cause is not None else str(exc)


# httpcore's events of a connection's handshakes: ".started", then ".complete"
# or ".failed" (a cancelled handshake fails: it was still connecting).
_HANDSHAKES = ("connection.connect_tcp.", "connection.start_tls.")
_HEAD_RECEIVED = (
    "http11.receive_response_headers.complete",
    "http2.receive_response_headers.complete",
)


class _Trace:
    """One request's progress: whether a handshake is under way (from httpcore's
    trace), when its head came, how much of its body is in (-1: none yet)."""

    __slots__ = ("body_bytes", "connecting", "first_at")

    def __init__(self) -> None:
        self.connecting = False
        self.first_at = 0.0
        self.body_bytes = -1

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        if event.startswith(_HANDSHAKES):
            if event.endswith(".started"):
                self.connecting = True
            elif event.endswith(".complete"):
                self.connecting = False
        elif event in _HEAD_RECEIVED:
            self.first_at = time.perf_counter()


_USER_AGENT = {"User-Agent": "loadgen"}


class HttpxClient:
    """The `Client` over httpx, for comparison: a pool of httpx clients, one request
    at a time each, so that `--connections` means what it means for the fast client."""

    eager = False  # httpx runs on anyio, whose cancel scopes need an asyncio Task

    def __init__(
        self,
        base_url: str,
        max_connections: int,
        options: ClientOptions = ClientOptions(),  # noqa: B008 (frozen: shared safely)
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.base_url = base_url
        self.max_connections = max_connections
        given = dict(options.headers)
        # A header given replaces the default of its name, in any case (Host too:
        # httpx sends the URL's only when none is given).
        default = {} if "user-agent" in {name.lower() for name in given} else _USER_AGENT
        self._headers = {**default, **given}
        self.max_body = options.max_body
        self.http1 = options.http2 != HTTP2_ONLY
        self._tls = tls_context(options) if base_url.startswith("https:") else None
        self.connections_opened = 0
        self.http_version = ""  # as its last response came: ALPN decides ("2" or "1.1")
        self.on_wait = on_wait  # told of each request that waits for a free connection
        self._free: list[httpx.AsyncClient] = []
        self._all: list[httpx.AsyncClient] = []
        self._waiters: deque[asyncio.Future[httpx.AsyncClient]] = deque()

    def submit(self, request: Request, waiter: Waiter) -> Sent | None:
        """No submissions: httpx's requests are awaited (see `request`)."""
        return None  # httpx only awaits: every request goes through request()

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None, body: bytes | None
    ) -> Response:
        """`Client.request` on a free httpx client; its errors become `ClientError` kinds."""
        client = await self._acquire()
        trace = _Trace()
        try:
            sent_at = time.perf_counter()
            request = client.build_request(
                method, path, headers=headers, content=body, extensions={"trace": trace}
            )
            r = await client.send(request, stream=True)
            try:
                content = await self._read_body(r, trace)
            finally:
                await r.aclose()  # before it was read whole, this closes its connection
            done_at = time.perf_counter()
        except httpx.HTTPError as e:
            raise ClientError(_classify(e), _detail(e)) from None
        except asyncio.CancelledError:
            # The session's timeout: said how far the request had come.
            if trace.connecting:
                raise asyncio.CancelledError(CONNECT_TIMEOUT) from None
            if trace.body_bytes >= 0:
                raise asyncio.CancelledError(BODY_ARRIVING, trace.body_bytes) from None
            raise
        finally:
            self._release(client)
        self.http_version = r.http_version.removeprefix("HTTP/")
        lines = [f"{r.http_version} {r.status_code} {r.reason_phrase}".encode("latin-1")]
        lines += [name + b": " + value for name, value in r.headers.raw]
        head = b"\r\n".join(lines) + b"\r\n\r\n"
        nbytes = len(head) + len(content)
        return Response(r.status_code, content, sent_at, done_at, nbytes, head, trace.first_at)

    async def _read_body(self, r: httpx.Response, trace: _Trace) -> bytes:
        """The body (decoded, as held), failing once it passes `max_body` bytes."""
        chunks = []
        trace.body_bytes = 0
        async for chunk in r.aiter_bytes():
            trace.body_bytes += len(chunk)
            if trace.body_bytes > self.max_body:
                raise too_large(self.max_body)
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        """Close each httpx client."""
        for client in self._all:
            await client.aclose()
        self._all.clear()
        self._free.clear()

    async def _acquire(self) -> httpx.AsyncClient:
        if self._free:
            return self._free.pop()
        if len(self._all) < self.max_connections:
            client = httpx.AsyncClient(
                base_url=self.base_url,
                http2=True,
                # --http2 (not its fallback): HTTP/2 only, h2c by prior knowledge on http://.
                http1=self.http1,
                timeout=None,  # the session's own deadline applies
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                headers=self._headers,
                verify=self._tls if self._tls is not None else True,
            )
            self._all.append(client)
            self.connections_opened += 1
            return client
        waiter: asyncio.Future[httpx.AsyncClient] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        if self.on_wait is not None:
            self.on_wait()
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())
            else:
                self._waiters.remove(waiter)
            raise

    def _release(self, client: httpx.AsyncClient) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(client)
                return
        self._free.append(client)
