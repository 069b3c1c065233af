"""Choosing a transport by name: what `--client` and a shard's job say."""

from __future__ import annotations

from typing import Final

from loadgen.transports.base import Client

CLIENTS: Final = ("fast", "httpx")


def make_client(kind: str, base_url: str, max_connections: int) -> Client:
    """The client named on the command line (`fast` or `httpx`)."""
    if kind == "fast":
        from loadgen.transports.http1 import FastClient

        return FastClient(base_url, max_connections)
    if kind == "httpx":
        # httpx is imported only by runs that use it.
        from loadgen.transports.httpx_client import HttpxClient

        return HttpxClient(base_url, max_connections)
    raise ValueError(f"unknown client {kind!r} (expected {' or '.join(CLIENTS)})")
