"""A session: what a task uses to make its requests, and where timing happens.

Response time = completion − start, where start is the arrival's *intended*
send time for the task's first request (so time spent waiting for the
generator or a free connection counts, as the user would feel it) and the
call's own start for later requests. Service time = completion − the moment
the request was written to the socket (what closed-loop tools report).

The per-request timeout runs from the same start: a request times out when
its response time would exceed `timeout`. Under the engine, timeouts are
enforced by `Deadlines` (deadlines.py: checked every `CHECK_EVERY_S`, so a request is
cancelled within about 10 ms after its deadline) rather than by one loop
timer per request; a session made without it (tests, embedding) uses a timer.

A session is one arrival's user: the cookies its responses set go back on
its later requests (`cookies.py`), and `s.headers` go on each of them (a
token read from a login's answer); both end with the arrival. A response it
returns can be failed by the task (`Response.fail`): the session tells the
recorder.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from loadgen.core.cookies import Cookies, set_cookie_values
from loadgen.core.flight import Runner, current_runner
from loadgen.transports.base import Client
from loadgen.transports.models import (
    JSON_HEADERS,
    Check,
    ClientError,
    Request,
    Response,
    apply_check,
    json_body,
    timed_out,
)

if TYPE_CHECKING:
    from loadgen.core.deadlines import Deadlines
    from loadgen.measure.recorder import Recorder


class Session:
    """What a task's requests go through: one arrival's timing, timeout, headers and
    cookies (see the module's doc). The engine makes one per arrival.
    """

    __slots__ = (
        "_client",
        "_deadline",
        "_deadlines",
        "_expired",
        "_headers",
        "_jar",
        "_recorder",
        "_start",
        "_timeout",
        "_waiting",
        "measured",
        "name",
    )

    def __init__(
        self,
        client: Client,
        recorder: Recorder,
        task: str,
        intended: float,
        timeout: float,
        measured: bool,
        deadlines: Deadlines | None = None,
    ) -> None:
        self._client = client
        self._deadlines = deadlines
        self._deadline = 0.0  # of the request in flight
        self._waiting: Runner | None = None  # the flight or Task awaiting a response
        self._recorder = recorder
        self.name = task  # the scenario task this session runs
        self._start: float | None = intended
        self._timeout = timeout
        self._expired = False
        self.measured = measured  # False during warm-up: sent, not recorded
        # Made on first use: most arrivals never need them.
        self._headers: dict[str, str] | None = None
        self._jar: Cookies | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Headers sent on each later request of this arrival: `s.headers["Authorization"] = ...`.

        A request's own header of the same name (in any case) replaces it.
        """
        if self._headers is None:
            self._headers = {}
        return self._headers

    @property
    def cookies(self) -> Cookies:
        """The cookies this arrival's responses set (see cookies.py), sent back on its requests."""
        if self._jar is None:
            self._jar = Cookies()
        return self._jar

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send one request; raise ClientError (already recorded) if no response came."""
        if json is not None:
            body = json_body(json)
            headers = {**JSON_HEADERS, **headers} if headers else JSON_HEADERS
        if self._headers or self._jar is not None:
            headers = self._with_session_headers(path, headers)
        start = self._start if self._start is not None else time.perf_counter()
        self._start = None
        remaining = start + self._timeout - time.perf_counter()
        if remaining <= 0:
            raise self._timed_out()
        runner = current_runner()
        assert runner is not None, "Session.request needs a flight or an asyncio Task"
        deadlines = self._deadlines
        self._waiting = runner
        if deadlines is not None:
            self._deadline = start + self._timeout
            deadlines.add(self)
            timer = None
        else:
            # A bare timer that cancels the runner: asyncio.timeout() does the
            # same with several times the bookkeeping, on every request.
            loop = asyncio.get_running_loop()
            timer = loop.call_later(remaining, self._expire, runner)
        try:
            try:
                response = await self._client.request(method, path, headers, body)
            except ClientError as e:
                if not e.retryable:
                    raise
                # Once more, within the same deadline; counted (see ClientError).
                if self.measured:
                    self._recorder.retry(self.name)
                response = await self._client.request(method, path, headers, body)
        except asyncio.CancelledError as e:
            if not self._expired:
                raise
            self._expired = False
            runner.uncancel()
            # The client says when the cancel caught it opening a connection,
            # or reading a body (see `timed_out`).
            raise self._timed_out(e.args) from None
        except ClientError as e:
            self._error(e.kind, str(e))
            raise
        finally:
            self._waiting = None
            if timer is not None:
                timer.cancel()
        if self.measured:
            self._recorder.response(self.name, start, response)
        response.sink = self
        set_cookies = set_cookie_values(response.head)
        if set_cookies:
            jar = self.cookies
            for value in set_cookies:
                jar.receive(value, path)
        return response

    def send(self, request: Request) -> Coroutine[Any, Any, Response]:
        """Send a described request (see `Request`), its `check` run on the response."""
        sending = self.request(
            request.method, request.path, headers=request.headers, body=request.body
        )
        if request.check is None:
            return sending
        return self._checked(sending, request.check)

    async def _checked(self, sending: Coroutine[Any, Any, Response], check: Check) -> Response:
        response = await sending
        if self.measured:
            apply_check(check, response)  # what else it raises is the task's
        return response

    def check_failed(self, reason: str) -> None:
        """A response of this session failed its check (see `Response.fail`)."""
        if self.measured:
            self._recorder.check_failed(self.name, reason)

    def _with_session_headers(
        self, path: str, headers: dict[str, str] | None
    ) -> dict[str, str] | None:
        """The request's headers over the session's; the jar's cookies after any Cookie given."""
        merged = dict(self._headers) if self._headers else {}
        if headers:
            if merged:
                own = {name.lower() for name in headers}
                merged = {k: v for k, v in merged.items() if k.lower() not in own}
            merged.update(headers)
        cookie = self._jar.header(path) if self._jar is not None else None
        if cookie:
            given = next((name for name in merged if name.lower() == "cookie"), None)
            if given is None:
                merged["Cookie"] = cookie
            else:
                merged[given] = f"{merged[given]}; {cookie}"
        return merged or None

    def get(
        self, path: str, *, headers: dict[str, str] | None = None
    ) -> Coroutine[Any, Any, Response]:
        """A GET of `path` (see `request`)."""
        # Hands back request()'s coroutine rather than awaiting it in one of
        # its own: one fewer coroutine frame per request.
        return self.request("GET", path, headers=headers)

    def post(
        self,
        path: str,
        *,
        json: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Coroutine[Any, Any, Response]:
        """A POST of `path` with a JSON value or a raw body (see `request`)."""
        return self.request("POST", path, json=json, body=body, headers=headers)

    def _expire(self, runner: Runner) -> None:
        # Once per request: the wheel may hold this session twice (see
        # Deadlines), and a second cancel would hit the task's next await.
        if self._expired or self._waiting is not runner:
            return
        self._expired = True
        self._waiting = None
        runner.cancel()

    def _timed_out(self, cause: tuple[object, ...] = ()) -> ClientError:
        """The request's timeout expired; `cause`, what the transport said was
        under way (see `timed_out`)."""
        kind, detail = timed_out(cause)
        self._error(kind, detail)
        return ClientError(kind, detail or f"no response within {self._timeout:g}s")

    def _error(self, kind: str, detail: str = "") -> None:
        if self.measured:
            self._recorder.error(self.name, kind, detail)
