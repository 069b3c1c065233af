"""HTTP/2 requests as header blocks: the pseudo-headers, the defaults and a request's own.

No I/O, as wire.py for HTTP/1.1: the HTTP/2 client (http2.py) builds each
request's header list here, HPACK-encoded without a table (h2_hpack.py), so
that its connection writes the block as it is. Names go lower-case, as
HTTP/2 requires; the connection-specific headers HTTP/1.1 has (Connection,
Keep-Alive, Transfer-Encoding, Upgrade) are not HTTP/2's and are dropped. A
request without headers or body is encoded once per (method, path).
"""

from __future__ import annotations

from typing import Final

from loadgen.transports.h2_hpack import encode
from loadgen.transports.models import check_request

# Headers HTTP/2 forbids (RFC 9113 §8.2.2): a request carrying one would be malformed.
_CONNECTION_SPECIFIC: Final = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"}
)
_CACHE_SIZE: Final = 4096

Fields = list[tuple[bytes, bytes]]


class H2RequestEncoder:
    """The header blocks of requests to one origin: `scheme`, `prefix` (the base
    URL's path) before each path, `defaults` (Host as :authority) on every
    request, a request's own header of a default's name replacing it."""

    __slots__ = ("_cache", "_defaults", "authority", "prefix", "scheme")

    def __init__(self, scheme: str, prefix: str, defaults: list[tuple[str, str]]) -> None:
        self.scheme = scheme.encode()
        self.prefix = prefix
        self.authority = next((v for k, v in defaults if k.lower() == "host"), "").encode()
        self._defaults = [(k.lower(), v) for k, v in defaults]
        self._cache: dict[tuple[str, str], bytes] = {}

    def encode(
        self, method: str, path: str, headers: dict[str, str] | None, body: bytes | None
    ) -> bytes:
        """The request's header block; ValueError if it cannot go as written."""
        if headers is not None or body is not None:
            return encode(self.fields(method, path, headers, body))
        block = self._cache.get((method, path))
        if block is None:
            block = encode(self.fields(method, path, None, None))
            if len(self._cache) < _CACHE_SIZE:
                self._cache[method, path] = block
        return block

    def fields(
        self, method: str, path: str, headers: dict[str, str] | None, body: bytes | None
    ) -> Fields:
        """The request's header list, as its block encodes it."""
        check_request(method, path, headers)
        authority = self.authority
        mine = {k.lower(): v for k, v in headers.items()} if headers else {}
        if "host" in mine:  # the request's own Host is its authority
            authority = mine["host"].encode("latin-1")
        fields: Fields = [
            (b":method", method.encode()),
            (b":scheme", self.scheme),
            (b":authority", authority),
            (b":path", f"{self.prefix}{path}".encode("latin-1")),
        ]
        own = {**dict(self._defaults), **mine}
        fields += [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in own.items()
            if k not in _CONNECTION_SPECIFIC and k != "content-length"
        ]
        if body is not None:
            fields.append((b"content-length", b"%d" % len(body)))
        return fields
