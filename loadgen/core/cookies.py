"""A session's cookies: what one arrival's responses set, sent on its later requests.

Each arrival is a new user: its jar starts empty and ends with it (nothing
is shared between arrivals). The rules are RFC 6265's basics (§5.2–5.4):

- `Set-Cookie: name=value; Path=/p; Max-Age=60; Expires=<date>` stores a
  cookie under its name and path, replacing the one stored there (which
  keeps its place in line); a header with no `=` or no name is ignored.
- Without a `Path` (or one not starting with `/`) the path is the request
  path's directory (`/a/b` → `/a`, `/a` → `/`).
- `Max-Age` wins over `Expires`; either in the past deletes the cookie.
- A request carries, in one `Cookie` header, every live cookie whose path
  matches its own (the same path, or a prefix ending at a `/`), the longer
  paths first, then the older cookies.

A run loads one origin, so `Domain` is not needed to tell sites apart and is
ignored, as are `Secure`, `HttpOnly` and `SameSite` (a test target on plain
http still gets back a cookie marked `Secure`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from loadgen.transports.models import ByName

# Lower-cased, the header name as it starts a line of a response head.
_SET_COOKIE = b"\r\nset-cookie:"


def set_cookie_values(head: bytes) -> list[str]:
    """The values of a response head's `Set-Cookie` fields, in order (most heads have none)."""
    end = head.find(b"\r\n\r\n")
    head = head if end < 0 else head[: end + 2]
    lowered = head.lower()
    if _SET_COOKIE not in lowered:  # the common case, a cheap test
        return []
    values = []
    at = lowered.find(_SET_COOKIE)
    while at >= 0:
        start = at + len(_SET_COOKIE)
        stop = head.find(b"\r\n", start)
        stop = len(head) if stop < 0 else stop
        values.append(head[start:stop].decode("latin-1").strip())
        at = lowered.find(_SET_COOKIE, stop)
    return values


class _Cookie:
    __slots__ = ("expires", "name", "path", "value")

    def __init__(self, name: str, value: str, path: str, expires: float | None) -> None:
        self.name = name
        self.value = value
        self.path = path
        self.expires = expires  # time.time() it ends at; None: with the session


class Cookies(ByName):
    """One session's cookie jar: `s.cookies["session"]`, `s.cookies.get(name)`, `set`."""

    __slots__ = ("_jar",)

    def __init__(self) -> None:
        # (name, path) → cookie, in the order they were first stored.
        self._jar: dict[tuple[str, str], _Cookie] = {}

    # -- what a task reads and sets ---------------------------------------------
    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of the live cookie called `name` (the longest path's), or `default`."""
        now = time.time()
        found = [c for c in self._jar.values() if c.name == name and not _ended(c, now)]
        return max(found, key=lambda c: len(c.path)).value if found else default

    def __iter__(self) -> Iterator[str]:
        """The names of the live cookies."""
        now = time.time()
        return iter(dict.fromkeys(c.name for c in self._jar.values() if not _ended(c, now)))

    def __len__(self) -> int:
        now = time.time()
        return sum(1 for c in self._jar.values() if not _ended(c, now))

    def set(self, name: str, value: str, path: str = "/") -> None:
        """Store a cookie as if a response had set it (for the rest of the session)."""
        self._jar[name, path] = _Cookie(name, value, path, None)

    # -- what the session does ---------------------------------------------------
    def receive(self, set_cookie: str, request_path: str) -> None:
        """Store (or delete) what one `Set-Cookie` value says, for a request to `request_path`."""
        pair, *attributes = set_cookie.split(";")
        name, eq, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not name:
            return
        path, max_age, expires = None, None, None
        for attribute in attributes:
            attr, _, arg = attribute.partition("=")
            attr, arg = attr.strip().lower(), arg.strip()
            if attr == "path":
                path = arg if arg.startswith("/") else None
            elif attr == "max-age":
                max_age = _max_age(arg)
            elif attr == "expires":
                expires = _http_date(arg)
        now = time.time()
        if max_age is not None:  # it wins over Expires, whichever comes first
            expires = now + max_age if max_age > 0 else float("-inf")
        key = (name, path or _default_path(request_path))
        if expires is not None and expires <= now:
            self._jar.pop(key, None)
            return
        old = self._jar.get(key)
        if old is not None:  # replaced in place: it keeps its place in line (§5.3 11.3)
            old.value, old.expires = value, expires
        else:
            self._jar[key] = _Cookie(name, value, key[1], expires)

    def header(self, request_path: str) -> str | None:
        """The `Cookie` header for a request to `request_path` (None: no cookie goes)."""
        if not self._jar:
            return None
        path = request_path.partition("?")[0].partition("#")[0]
        now = time.time()
        sending = [
            c for c in self._jar.values() if _path_matches(path, c.path) and not _ended(c, now)
        ]
        if not sending:
            return None
        sending.sort(key=lambda c: -len(c.path))  # stable: older first among equals
        return "; ".join(f"{c.name}={c.value}" for c in sending)


def _ended(cookie: _Cookie, now: float) -> bool:
    return cookie.expires is not None and cookie.expires <= now


def _default_path(request_path: str) -> str:
    """RFC 6265 §5.1.4: the directory of the request's path."""
    path = request_path.partition("?")[0].partition("#")[0]
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rfind("/")]


def _path_matches(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 §5.1.4: the same path, or a prefix of it that ends at a `/`."""
    if request_path == cookie_path:
        return True
    return request_path.startswith(cookie_path) and (
        cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    )


def _max_age(arg: str) -> int | None:
    """Seconds, possibly negative; None when it is no integer (the attribute is ignored)."""
    digits = arg[1:] if arg.startswith("-") else arg
    return int(arg) if digits.isascii() and digits.isdigit() else None


def _http_date(arg: str) -> float | None:
    """An `Expires` date as time.time(); None when it does not parse (ignored)."""
    from email.utils import mktime_tz, parsedate_tz  # seldom needed: not at import

    parsed = parsedate_tz(arg)  # RFC 1123's form, and the older `21-Oct-15`
    if parsed is None:
        return None
    return float(mktime_tz((*parsed[:9], parsed[9] or 0)))  # no zone said: GMT, as HTTP dates are
