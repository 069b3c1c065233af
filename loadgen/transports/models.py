"""What a request and its answer are: `Request`, `Response`, `Headers`, and the
ways one fails (`ClientError` and its `ERROR_KINDS`, `Failed` for a wrong answer).

Every transport makes and takes these; the seam they travel through is
`base.Client`. Failures that are not HTTP responses raise `ClientError` with
one of the `ERROR_KINDS`; a response with any status is returned (the
recorder turns non-2xx into `http_<code>` errors). A response the scenario
finds wrong (`Response.fail`, a `Request`'s `check`, `Failed`) is the
recorder's `check`.
"""

from __future__ import annotations

import functools
import json as jsonlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

CONNECT: Final = "connect"  # could not open a connection (refused, unreachable, DNS)
# The request's timeout expired while its connection was still being opened:
# the SYN went unanswered, as when the server's accept queue is full (Linux
# then drops SYNs) — the server's backlog, not its processing.
CONNECT_TIMEOUT: Final = "connect_timeout"
RESET: Final = "reset"  # the connection was reset (RST) before the response was complete
# The server closed the connection (EOF) after the request was written, before
# a complete response: a worker that died or a connection cap, not a RST.
SERVER_CLOSED: Final = "server_closed"
TIMEOUT: Final = "timeout"  # no complete response within the per-request timeout
PROTOCOL: Final = "protocol"  # bytes that are not valid HTTP
TLS: Final = "tls"  # the TLS handshake failed (a certificate not trusted, a host name not its)
CLOSED: Final = "closed"  # the client was closed before the request could be sent
# The response's body passed `ClientOptions.max_body` (`--max-body`): the
# connection was closed rather than hold more of it (see `too_large`).
BODY_TOO_LARGE: Final = "body_too_large"
# HTTP/2 (http2.py): the server reset the request's stream (RST_STREAM; its error
# code in the detail), or told the connection to go away (GOAWAY) before the
# stream was processed; the request's body waited on the server's flow-control
# window until the timeout (a stall), or an end overran a window (FLOW_CONTROL_ERROR).
RST_STREAM: Final = "rst_stream"
GOAWAY: Final = "goaway"
FLOW_CONTROL: Final = "flow_control"
ERROR_KINDS: Final = (
    CONNECT,
    CONNECT_TIMEOUT,
    TLS,
    RESET,
    SERVER_CLOSED,
    TIMEOUT,
    PROTOCOL,
    BODY_TOO_LARGE,
    RST_STREAM,
    GOAWAY,
    FLOW_CONTROL,
    CLOSED,
)

# The kinds that mean no connection to the target could be opened at all: only
# then may a run that got no answer ask whether the target is up.
UNREACHED: Final = frozenset({CONNECT, CONNECT_TIMEOUT})

# The most of a response's body a client holds (`--max-body`): a target that
# streams an endless body would otherwise fill the generator's memory. Large
# enough for any answer worth timing, small beside the memory of a machine.
DEFAULT_MAX_BODY: Final = 16 * 1024 * 1024

# What a transport cancelled by a request's timeout puts in the
# CancelledError it raises, so the session can say what was under way:
# (CONNECT_TIMEOUT,) while its connection was being opened; (BODY_ARRIVING, n)
# once the response's head had come, with n bytes of its body (see `timed_out`).
BODY_ARRIVING: Final = "body_arriving"

JSON_HEADERS: Final = {"Content-Type": "application/json"}


# Methods that may be sent twice with the effect of once (RFC 9110 §9.2.2).
IDEMPOTENT: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


class Failed(Exception):
    """A response was not what it should be: raised by a check, or by a task.

    Raised in a `Request`'s check it fails that response, as `Response.fail`
    does; raised in a task's own code it ends the arrival and counts one
    `check` error of the task. Its message is the reason the reports tally.
    """


# What a one-shot's request may carry to judge its response: it fails the
# response by returning False, raising `Failed` or calling `response.fail`.
Check = Callable[["Response"], object]


class ClientError(Exception):
    """A request that ended without an HTTP response.

    `retryable`: the transport knows the request had no effect and may be sent
    again once, as Go's net/http does: an idempotent request on a reused
    keep-alive connection that the server had closed, reset before any byte of
    a response arrived. Whoever sends it again counts the retry.
    """

    def __init__(self, kind: str, detail: str = "", retryable: bool = False) -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.retryable = retryable


def size_text(nbytes: int) -> str:
    """A byte count as `--max-body` takes it: `16MiB`, `512KiB`, `1000B`."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= scale and nbytes % scale == 0:
            return f"{nbytes // scale}{unit}"
    return f"{nbytes}B"


def too_large(max_body: int) -> ClientError:
    """The error of a response whose body passed `max_body` bytes."""
    return ClientError(
        BODY_TOO_LARGE,
        f"the response body passed {size_text(max_body)} (--max-body): the connection "
        "was closed instead of holding more",
    )


def still_arriving(body_bytes: int) -> str:
    """What a timeout says when the response's head had come and its body had not ended."""
    return f"the body was still arriving ({body_bytes} bytes so far)"


# What a `FLOW_CONTROL` stall says: the timeout came while the request's body
# waited for the server to open its window (HTTP/2's WINDOW_UPDATE).
STALLED: Final = (
    "the request's body waited on the server's HTTP/2 flow-control window until the timeout"
)


def timed_out(cause: tuple[object, ...]) -> tuple[str, str]:
    """A timeout's kind and detail, from the args of the CancelledError a
    transport raised when the timeout cancelled it (see `BODY_ARRIVING`, and
    `FLOW_CONTROL` for a body that waited on a window: `STALLED`);
    detail "" when nothing of the response had come."""
    if cause == (CONNECT_TIMEOUT,):
        return CONNECT_TIMEOUT, ""
    if cause == (FLOW_CONTROL,):
        return FLOW_CONTROL, STALLED
    if len(cause) == 2 and cause[0] == BODY_ARRIVING and isinstance(cause[1], int):
        return TIMEOUT, still_arriving(cause[1])
    return TIMEOUT, ""


@dataclass(slots=True)
class Request:
    """One request, described rather than sent: what a one-request task returns.

    `check`, if given, judges its 2xx response after it was timed (see `apply_check`).
    """

    method: str
    path: str
    headers: dict[str, str] | None = None
    body: bytes | None = None
    check: Check | None = None

    @classmethod
    def json(cls, method: str, path: str, payload: Any, check: Check | None = None) -> Request:
        """A request with `payload` as its compact JSON body."""
        return cls(method, path, JSON_HEADERS, json_body(payload), check)


# RFC 9110's token: what a method and a header name are made of.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@functools.lru_cache(maxsize=4096)
def _is_token(text: str) -> bool:
    return _TOKEN.fullmatch(text) is not None


def check_request(method: str, path: str, headers: dict[str, str] | None) -> None:
    """Raise ValueError unless the request can go on the wire as it is written.

    A CR or LF in a path or a header would end the line early: whatever
    follows becomes a header or a request of its own (header injection). So
    the method and header names must be tokens, the path printable ASCII
    starting with `/` and no space, header values free of CR, LF and NUL.
    """
    if not _is_token(method):
        raise ValueError(f"invalid request method {method!r}: not an HTTP token")
    if not (path.startswith("/") and path.isascii() and path.isprintable() and " " not in path):
        raise ValueError(
            f"invalid request path {path!r}: it starts with / and holds printable ASCII "
            "without spaces (percent-encode the rest)"
        )
    if headers:
        for name, value in headers.items():
            if not _is_token(name):
                raise ValueError(f"invalid header name {name!r}: not an HTTP token")
            if "\r" in value or "\n" in value or "\0" in value:
                raise ValueError(f"invalid value of header {name}: it holds CR, LF or NUL")


def json_body(payload: Any) -> bytes:
    """Compact JSON, as a request body."""
    return jsonlib.dumps(payload, separators=(",", ":")).encode()


class CheckSink(Protocol):
    """Who counts a response's failed check (its session or one-shot, for its task)."""

    def check_failed(self, reason: str) -> None:
        """A response failed the scenario's check, for `reason`."""
        ...


@dataclass(slots=True)
class Response:
    """A response as the scenario sees it: status, body, when it was sent and came,
    and its headers parsed only when read."""

    status: int
    body: bytes
    sent_at: float  # time.perf_counter() when the request was handed to the socket
    done_at: float  # time.perf_counter() when the last byte of the response arrived
    nbytes: int  # bytes received on the wire for this response (headers + body)
    head: bytes = b""  # the status line and header lines as received, read on demand
    # time.perf_counter() when its first byte arrived; 0.0 when the client does
    # not tell (then its phases, first byte and body, are not timed).
    first_at: float = 0.0
    # Told when the response fails a check: set by whoever recorded it, cleared by `fail`.
    sink: CheckSink | None = field(default=None, repr=False, compare=False)

    @property
    def headers(self) -> Headers:
        """The response's headers, looked up by name in any case: `r.headers["set-cookie"]`."""
        return Headers.parse(self.head)

    def json(self) -> Any:
        """The body parsed as JSON (ValueError if it is not)."""
        return jsonlib.loads(self.body)

    def fail(self, reason: str) -> None:
        """Count this response as wrong: an error of kind `check`, `reason` tallied by task.

        Once per response: later calls add nothing. A non-2xx response is an
        `http_<code>` error already and stays just that (one response, one
        error). A response no run recorded (warm-up, tests) counts nowhere.
        """
        sink, self.sink = self.sink, None
        if sink is not None and 200 <= self.status < 300:
            sink.check_failed(str(reason))

    def expect(self, status: int = 200, /, **fields: Any) -> bool:
        """Whether the status is `status` and the JSON body has each of `fields`
        with that value: `r.expect(200, result=5)`. If not, the response fails
        (see `fail`) with what differed first, in words that name no value, so
        that the reasons tallied stay few."""
        if self.status != status:
            self.fail(f"status {self.status}, expected {status}")
            return False
        if not fields:
            return True
        try:
            data = self.json()
        except ValueError:
            self.fail("body is not JSON")
            return False
        if not isinstance(data, dict):
            self.fail("body is not a JSON object")
            return False
        for name, value in fields.items():
            if name not in data:
                self.fail(f"no {name} in the body")
                return False
            if data[name] != value:
                self.fail(f"wrong {name}")
                return False
        return True


def apply_check(check: Check, response: Response) -> None:
    """Judge `response` by its request's `check`: returning False or raising
    `Failed` fails it, like `response.fail`; anything else it raises is the
    caller's (an error of the task's own code).

    Only a 2xx response is checked: any other is an `http_<code>` error already.
    """
    if 200 <= response.status < 300:
        try:
            if check(response) is False:
                response.fail("check returned False")
        except Failed as e:
            response.fail(str(e) or "Failed")


class ByName:
    """`x[name]` (KeyError when absent) and `name in x` for a class whose `get(name)`
    finds a value by name, None when there is none: headers, a session's cookies."""

    __slots__ = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of `name`, else `default`."""
        raise NotImplementedError

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None


class Headers(ByName):
    """Header fields by name, case-insensitive; a name may come more than once."""

    __slots__ = ("_fields",)

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields = fields

    @classmethod
    def parse(cls, head: bytes) -> Headers:
        """From a response head: the status line, then `Name: value` lines."""
        fields = []
        end = head.find(b"\r\n\r\n")
        if end >= 0:  # what follows is the body (the first read may hold some of it)
            head = head[:end]
        for line in head.split(b"\r\n")[1:]:
            name, sep, value = line.partition(b":")
            if sep:
                fields.append((name.decode("latin-1").strip(), value.decode("latin-1").strip()))
        return cls(fields)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of `name`, or `default`."""
        wanted = name.lower()
        return next((v for n, v in self._fields if n.lower() == wanted), default)

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, in order (Set-Cookie comes once per cookie)."""
        wanted = name.lower()
        return [v for n, v in self._fields if n.lower() == wanted]

    def items(self) -> list[tuple[str, str]]:
        """Every field (name, value), in the order they came."""
        return list(self._fields)
