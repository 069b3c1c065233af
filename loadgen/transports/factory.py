"""Choosing a transport by name: what `--client` and a shard's job say."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from loadgen.transports.base import Client, ClientOptions

CLIENTS: Final = ("fast", "httpx")


def make_client(
    kind: str,
    base_url: str,
    max_connections: int,
    options: ClientOptions = ClientOptions(),  # noqa: B008 (frozen: shared safely)
    on_connect: Callable[[float], None] | None = None,
    on_wait: Callable[[], None] | None = None,
    on_stream_wait: Callable[[], None] | None = None,
) -> Client:
    """The client named on the command line (`fast` or `httpx`).

    `on_connect` is told each new connection's opening time, by the clients
    that can measure it (the fast one); `on_wait`, of each request that
    found every connection busy and the pool at `max_connections`;
    `on_stream_wait`, of each that found every HTTP/2 connection at the
    server's stream limit (the fast client with `options.http2`).
    """
    if kind == "fast" and options.http2:
        from loadgen.transports.http2 import Http2Client

        return Http2Client(base_url, max_connections, options, on_connect, on_wait, on_stream_wait)
    if kind == "fast":
        from loadgen.transports.http1 import FastClient

        return FastClient(base_url, max_connections, options, on_connect, on_wait)
    if kind == "httpx":
        # httpx is imported only by runs that use it.
        from loadgen.transports.httpx_client import HttpxClient

        return HttpxClient(base_url, max_connections, options, on_wait)
    raise ValueError(f"unknown client {kind!r} (expected {' or '.join(CLIENTS)})")
