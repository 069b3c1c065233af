"""The client seam: how the engine sends one HTTP request.

The engine and sessions only know this interface. Transports implement it:
`http1.FastClient` (our HTTP/1.1 on asyncio protocols, the default),
`httpx_client.HttpxClient` (HTTPS and HTTP/2 through httpx) and, for tests
that time nothing, `mock.MockClient` (answers in-process, no sockets). What
travels through it (requests, responses, errors) is in `models.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from loadgen.transports.models import DEFAULT_MAX_BODY, Request, Response

# `ClientOptions.http2` (`--http2`): HTTP/2 only, or HTTP/2 and HTTP/1.1 when
# the server's ALPN refuses h2.
HTTP2_ONLY: Final = "on"
HTTP2_FALLBACK: Final = "fallback"
HTTP2_MODES: Final = (HTTP2_ONLY, HTTP2_FALLBACK)


@dataclass(frozen=True)
class ClientOptions:
    """How a client talks to its origin, beyond the URL: headers, TLS, the body cap."""

    # Added to every request; one of a default's name (Host, User-Agent) replaces it.
    headers: tuple[tuple[str, str], ...] = ()
    ca_cert: str | None = None  # a CA to trust besides the system's (a private one)
    insecure: bool = False  # no certificate verification at all
    client_cert: str | None = None  # for mutual TLS, with client_key
    client_key: str | None = None
    max_body: int = DEFAULT_MAX_BODY  # bytes of a response body held at most (`BODY_TOO_LARGE`)
    # `--http2`: "" for HTTP/1.1, else one of `HTTP2_MODES` (h2 by ALPN, h2c in cleartext).
    http2: str = ""


class Waiter(Protocol):
    """Who is told the outcome of a submitted request (an asyncio future fits too)."""

    def done(self) -> bool:
        """True once told: a waiter is told once."""
        ...

    def set_result(self, result: Any, /) -> None:
        """The response (a `Response`) came."""
        ...

    def set_exception(self, exception: BaseException, /) -> None:
        """The request failed (a `ClientError`)."""
        ...


class Parkable:
    """An awaitable that an eager runner (a flight, see flight.py) parks on.

    Awaited outside any asyncio Task, such an awaitable yields itself; the
    runner stepping the coroutine makes itself the `waiter` and suspends until
    the awaitable calls `waiter.set_result(...)` or `waiter.set_exception(...)`,
    which resumes it then and there: no future, no loop round trip. Inside a
    Task it waits on an asyncio future instead.
    """

    waiter: Waiter | None


class Sent(Protocol):
    """A submitted request on its connection."""

    exchange: int  # tells this exchange from later ones on the same connection (0 if queued)
    # Its connection is being opened for it right now: a timeout then is a
    # `CONNECT_TIMEOUT`, not a `TIMEOUT` (read only when it expires).
    connecting: bool

    @property
    def stalled(self) -> bool:
        """Its request's body waits on the server's HTTP/2 flow-control window: a
        timeout then is a `FLOW_CONTROL` stall (read only when it expires)."""
        ...

    def abandon(self, exchange: int) -> None:
        """The waiter gave up on `exchange` (a timeout): drop the connection if still on it."""
        ...

    def arriving(self) -> int:
        """Bytes of its response's body received so far; -1 while its head is
        not complete (read when a timeout expires, before `abandon`)."""
        ...


class Client(Protocol):
    """Sends requests to one origin (scheme://host:port)."""

    connections_opened: int
    # The HTTP version its requests went out in ("1.1", "2"); "" when it cannot say.
    http_version: str
    # True when its requests work outside an asyncio Task (see flight.py), so
    # the engine may run arrivals as flights.
    eager: bool

    def request(
        self, method: str, path: str, headers: dict[str, str] | None, body: bytes | None
    ) -> Awaitable[Response]:
        """Send one request and await its response (or a `ClientError`)."""
        ...

    def submit(self, request: Request, waiter: Waiter) -> Sent | None:
        """Send without awaiting (now, or when a connection frees up); `waiter` is told the outcome.

        None (nothing sent) when this client takes no submissions: then
        await `request` instead.
        """
        ...

    async def aclose(self) -> None:
        """Close every connection; the client sends nothing after."""
        ...
