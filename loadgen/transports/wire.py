"""HTTP/1.1 requests as bytes on the wire: the head, the default headers and the body.

No I/O: the fast client (http1.py) encodes each request here and its
connection (connection.py) writes the bytes as they are. Apart so that what
goes on the wire is read and tested in one place, away from sockets. The
headers every request carries are built once per client, and a request
without headers or body (most of a run's) is encoded once per (method, path).
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Iterable, Sequence
from urllib.parse import SplitResult, unquote, urlsplit

from loadgen.transports.models import check_request

# Distinct (method, path) request heads kept encoded; beyond it, encode each time.
_HEAD_CACHE_SIZE = 4096


def origin(base_url: str, max_connections: int, client: str) -> tuple[SplitResult, str, int]:
    """The origin a client (named `client` in errors) sends to: the URL's parts,
    its host and port. ValueError for a URL it cannot send to, or no connection."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"the {client} speaks http and https, not {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError(f"no host in URL {base_url!r}")
    if max_connections < 1:
        raise ValueError("max_connections must be at least 1")
    return parts, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def default_headers(url: SplitResult, extra: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers on every request to `url`: Host, User-Agent, Basic auth of
    the URL's credentials, then `extra`, whose names replace a default's.

    Raises ValueError when one cannot go on the wire as written.
    """
    defaults = [("Host", url.netloc.rsplit("@", 1)[-1]), ("User-Agent", "loadgen")]
    if url.username is not None:  # http://user:password@host: Basic auth
        user_pass = f"{unquote(url.username)}:{unquote(url.password or '')}"
        defaults.append(("Authorization", f"Basic {b64encode(user_pass.encode()).decode()}"))
    given = {name.lower() for name, _ in extra}
    defaults = [(k, v) for k, v in defaults if k.lower() not in given]
    defaults += extra
    check_request("GET", "/", dict(defaults))
    return defaults


class RequestEncoder:
    """Encodes the requests to one origin: `prefix` (the base URL's path) goes
    before each path, `defaults` on every request, a request's own header of
    a default's name (in any case) replacing it."""

    __slots__ = ("_default_names", "_defaults", "_head_tail", "_heads", "prefix")

    def __init__(self, prefix: str, defaults: list[tuple[str, str]]) -> None:
        self.prefix = prefix
        self._defaults = defaults
        self._default_names = {name.lower() for name, _ in defaults}
        self._head_tail = _lines(defaults)
        # Encoded requests without headers or body, by (method, path): most
        # scenarios repeat a handful, and encoding is a few µs per request.
        self._heads: dict[tuple[str, str], bytes] = {}

    def encode(
        self, method: str, path: str, headers: dict[str, str] | None, body: bytes | None
    ) -> bytes:
        """The request as it goes on the wire; ValueError if it cannot go as written."""
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


def _lines(fields: Iterable[tuple[str, str]]) -> bytes:
    """Header fields as they go on the wire."""
    return "".join(f"{name}: {value}\r\n" for name, value in fields).encode("latin-1")
