"""`--targets FILE`: requests read from a file in Vegeta's http targets format, as a scenario.

    GET http://127.0.0.1:8000/

    # weight: 3
    POST http://127.0.0.1:8000/addNumbers
    Content-Type: application/json
    @bodies/add.json

The format is Vegeta's (`vegeta attack -format=http`), so a Vegeta user's
file works as is: a target is a line `METHOD URL` (the method in capitals),
then its header lines `Name: value`, then at most one `@FILE` line naming a
file whose bytes are its body. A blank line, or the next `METHOD URL` line,
ends a target; a line starting with `#` is a comment. A body file's path is
relative to the targets file's directory, or, when it is not there, to the
current directory (where Vegeta looks).

loadgen adds two things: a `# weight: N` comment on a line before a target
weighs it (default 1: each target as likely as the next), and a target may
be a path alone (`GET /computeFib`), relative to `--host` or the bundled
server. One run loads one origin: a target's origin must be `--host`'s.

Each target is a one-shot task. Targets of the same method and path (query
strings aside) are one task, named `METHOD /path` in the reports as Locust
names requests; its arrivals are shared among them by their weights.
"""

from __future__ import annotations

import base64
import bisect
import itertools
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

from loadgen.scenario.base import Scenario, task
from loadgen.transports.models import Request, check_request

# A target's line: a method (Vegeta's rule: capitals, then a space) and its URL.
_TARGET = re.compile(r"[A-Z]+\s")
_WEIGHT = re.compile(r"#\s*weight\s*:\s*(.*?)\s*$", re.IGNORECASE)
# Computed from the body by the client, as Go's net/http (Vegeta's) does.
_DROPPED = frozenset({"content-length", "transfer-encoding"})
# Every printable ASCII character stays as written; the rest is percent-encoded.
_PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NAME_ESCAPES = str.maketrans({",": "%2C", "[": "%5B", "]": "%5D"})


@dataclass(slots=True)
class Target:
    """One request of the file, ready to send (its path is relative to --host)."""

    method: str
    path: str
    headers: dict[str, str] | None = None
    body: bytes | None = None
    weight: int = 1
    line: int = 0  # where its `METHOD URL` line is in the file

    @property
    def name(self) -> str:
        """Its task's name: `GET /items`. (A comma would end its tag in the interval
        log, a bracket open markup in the terminal: they are percent-encoded.)"""
        path = self.path.partition("?")[0]
        return f"{self.method} {path.translate(_NAME_ESCAPES)}"

    def to_plain(self) -> dict[str, Any]:
        """As JSON-able data (the body in base64), for a shard's job."""
        return {
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "body": None if self.body is None else base64.b64encode(self.body).decode("ascii"),
            "weight": self.weight,
            "line": self.line,
        }

    @classmethod
    def from_plain(cls, d: dict[str, Any]) -> Target:
        """A target back from `to_plain`'s data."""
        body = d.get("body")
        return cls(
            method=d["method"],
            path=d["path"],
            headers=d.get("headers"),
            body=None if body is None else base64.b64decode(body),
            weight=int(d.get("weight", 1)),
            line=int(d.get("line", 0)),
        )


class TargetsScenario(Scenario):
    """What `targets_scenario` makes: a scenario whose tasks are a targets file's requests."""

    targets: ClassVar[tuple[Target, ...]] = ()
    source: ClassVar[str] = ""  # the file's name as given (`-`: standard input)

    @classmethod
    def to_plain(cls) -> dict[str, Any]:
        """The targets as plain data: a shard elsewhere makes the same scenario of it."""
        return {"source": cls.source, "targets": [t.to_plain() for t in cls.targets]}


def targets_scenario(targets: Sequence[Target], source: str) -> type[TargetsScenario]:
    """A scenario class of `targets`: one one-shot task per name, weighted by its targets."""
    if not targets:
        raise ValueError(f"{source} has no targets")
    groups: dict[str, list[Target]] = {}
    for target in targets:
        groups.setdefault(target.name, []).append(target)
    namespace: dict[str, Any] = {"targets": tuple(targets), "source": source}
    for name, group in groups.items():
        namespace[name] = task(sum(t.weight for t in group))(_sender(group))
    return type("Targets", (TargetsScenario,), namespace)


def from_plain(plain: dict[str, Any]) -> type[TargetsScenario]:
    """`TargetsScenario.to_plain()`'s data back as its scenario class."""
    targets = [Target.from_plain(t) for t in plain["targets"]]
    return targets_scenario(targets, str(plain.get("source", "targets")))


def _sender(group: list[Target]) -> Callable[..., Request]:
    """The task of one name: its one target's request, or one of its targets' drawn by weight.

    Each call makes a new Request (with its own headers dict): what a task
    returns is the engine's to keep or change.
    """
    if len(group) == 1:
        t = group[0]
        return _OneTarget(t.method, t.path, t.headers, t.body)
    requests = [(t.method, t.path, t.headers, t.body) for t in group]
    cumulative = list(itertools.accumulate(t.weight for t in group))
    total = cumulative[-1]
    last = len(requests) - 1

    def send_drawn(self: Scenario) -> Request:
        i = bisect.bisect_right(cumulative, self.rng.random() * total)
        method, path, headers, body = requests[min(i, last)]
        return Request(method, path, dict(headers) if headers else None, body)

    return send_drawn


class _OneTarget:
    """The task of a name with one target (a one-shot). An object of a few slots
    rather than a closure: a file of distinct paths has one per target. Not a
    function, so a scenario instance returns it unbound, called with no
    argument, as a one-shot is."""

    __slots__ = ("_loadgen_weight", "body", "headers", "method", "path")

    def __init__(
        self, method: str, path: str, headers: dict[str, str] | None, body: bytes | None
    ) -> None:
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def __call__(self) -> Request:
        headers = self.headers
        return Request(self.method, self.path, dict(headers) if headers else None, self.body)


# -- reading the file --------------------------------------------------------------


class TargetsError(ValueError):
    """A targets file that cannot be used: the message names the file and the line."""


@dataclass(slots=True)
class _Draft:
    """A target as read so far."""

    method: str
    url: str
    line: int
    weight: int
    headers: list[tuple[str, str]]
    body: bytes | None = None
    closed: bool = False  # its @body line ended it: nothing more of it may follow


def parse_targets(
    text: str, source: str, base_dir: Path | None = None, host: str | None = None
) -> list[Target]:
    """The targets of a file's `text` (`source` names it in errors; body files are
    looked for in `base_dir`, then the current directory). With `host` (an origin
    with perhaps a path), paths are made relative to it and other origins refused;
    without, only paths are taken (the bundled server is the target).
    Raises TargetsError naming the file and line."""
    reader = _Reader(source, base_dir or Path.cwd())
    for number, raw in enumerate(text.splitlines(), 1):
        reader.line(number, raw.strip())
    drafts = reader.end()
    if not drafts:
        raise TargetsError(f"{source} has no targets")
    return [_resolved(d, source, host) for d in drafts]


class _Reader:
    def __init__(self, source: str, base_dir: Path) -> None:
        self.source = source
        self.base_dir = base_dir
        self.drafts: list[_Draft] = []
        self.current: _Draft | None = None
        self.weight: tuple[int, int] | None = None  # (weight, its line) for the next target

    def error(self, number: int, message: str) -> TargetsError:
        return TargetsError(f"{self.source} line {number}: {message}")

    def line(self, number: int, line: str) -> None:
        if not line:
            self.current = None
        elif line.startswith("#"):
            self._comment(number, line)
        elif _TARGET.match(line):
            self._target(number, line)
        elif self.current is None or self.current.closed:
            after = "" if self.current is None else " (after a body line, the target is over)"
            raise self.error(
                number, f"expected a target like `GET http://host/path`{after}, got {line!r}"
            )
        elif line.startswith("@"):
            self.current.body = self._body(number, line[1:].strip())
            self.current.closed = True
        else:
            self.current.headers.append(self._header(number, line))

    def end(self) -> list[_Draft]:
        if self.weight is not None:
            raise self.error(self.weight[1], "a `# weight` with no target after it")
        return self.drafts

    def _comment(self, number: int, line: str) -> None:
        m = _WEIGHT.match(line)
        if m is None:
            return
        if self.weight is not None:
            raise self.error(number, f"a second `# weight` for one target (line {self.weight[1]})")
        value = m.group(1)
        if not (value.isascii() and value.isdigit()) or int(value) < 1:
            raise self.error(number, f"a weight is a whole number >= 1, got {value!r}")
        self.weight = (int(value), number)

    def _target(self, number: int, line: str) -> None:
        method, url = line.split(None, 1)
        if any(c.isspace() for c in url):
            raise self.error(
                number, f"expected `METHOD URL` (spaces in a URL are percent-encoded), got {line!r}"
            )
        weight = 1
        if self.weight is not None:
            weight, self.weight = self.weight[0], None
        # One string for every target's method: a file may hold many targets.
        self.current = _Draft(sys.intern(method), url, number, weight, [])
        self.drafts.append(self.current)

    def _header(self, number: int, line: str) -> tuple[str, str]:
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise self.error(
                number, f"expected a header `Name: value` or `@body-file`, got {line!r}"
            )
        try:
            check_request("GET", "/", {name: value})
        except ValueError as e:
            raise self.error(number, str(e)) from None
        return name, value

    def _body(self, number: int, name: str) -> bytes:
        if not name:
            raise self.error(number, "`@` names no body file")
        path = Path(name).expanduser()
        tried = [path] if path.is_absolute() else [self.base_dir / path, Path.cwd() / path]
        found = next((p for p in tried if p.is_file()), None)
        if found is None:
            where = " or ".join(dict.fromkeys(str(p.parent) for p in tried))
            raise self.error(number, f"body file {name} not found (looked in {where})")
        try:
            return found.read_bytes()
        except OSError as e:
            raise self.error(number, f"body file {found}: {e.strerror or e}") from None


def _resolved(draft: _Draft, source: str, host: str | None) -> Target:
    """A draft made a Target: its URL as a path relative to `host`, its headers joined."""

    def error(message: str) -> TargetsError:
        return TargetsError(f"{source} line {draft.line}: {message}")

    url = draft.url
    authorization = None
    if url.startswith("/"):
        path = url.partition("#")[0]
    else:
        path, authorization = _path_of_url(url, host, error)
    path = quote(path, safe=_PRINTABLE)  # as Go writes a URL's path: non-ASCII encoded
    headers: dict[str, str] = {}
    for name, value in draft.headers:
        if name.lower() in _DROPPED:
            continue
        if name in headers:
            # Repeated lines of one header are one header, as RFC 9110 allows.
            separator = "; " if name.lower() == "cookie" else ", "
            headers[name] = f"{headers[name]}{separator}{value}"
        else:
            headers[name] = value
    if authorization is not None and not any(n.lower() == "authorization" for n in headers):
        headers["Authorization"] = authorization
    try:
        check_request(draft.method, path, headers)
    except ValueError as e:
        raise error(str(e)) from None
    return Target(draft.method, path, headers or None, draft.body, draft.weight, draft.line)


def _path_of_url(
    url: str, host: str | None, error: Callable[[str], TargetsError]
) -> tuple[str, str | None]:
    """The request path of an absolute URL under `host`, and the Basic auth of its user:password."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise error(f"expected an http:// or https:// URL, or a path starting with /, got {url!r}")
    try:
        origin = _origin(url)
    except ValueError:
        raise error(f"invalid port in {url!r}") from None
    shown = _shown_origin(url)
    if host is None:
        raise error(
            f"a target at {shown} needs `--host {shown}` (without --host, loadgen loads "
            "the bundled server, and targets are paths like `GET /`)"
        )
    if origin != _origin(host):
        raise error(
            f"{shown} is not the --host origin {_shown_origin(host)}: a run loads one origin"
        )
    prefix = urlsplit(host).path.rstrip("/")
    path = parts.path or "/"
    if prefix:
        if path != prefix and not path.startswith(prefix + "/"):
            raise error(f"{url} is not under --host's path {prefix}")
        path = path[len(prefix) :] or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    authorization = None
    if parts.username is not None:  # Vegeta's http://user:password@host: Basic auth
        user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        authorization = f"Basic {base64.b64encode(user_pass.encode()).decode()}"
    return path, authorization


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)


def _shown_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
