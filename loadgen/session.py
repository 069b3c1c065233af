"""A session: what a task uses to make its requests, and where timing happens.

Response time = completion − start, where start is the arrival's *intended*
send time for the task's first request (so time spent waiting for the
generator or a free connection counts, as the user would feel it) and the
call's own start for later requests. Service time = completion − the moment
the request was written to the socket (what closed-loop tools report).

The per-request timeout runs from the same start: a request times out when
its response time would exceed `timeout`. Under the engine, timeouts are
enforced by `Deadlines` (checked every `TICK`, so a request is cancelled
within about 10 ms after its deadline) rather than by one loop timer per
request; a session made without it (tests, embedding) uses a timer.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from loadgen.client import TIMEOUT, Client, ClientError, Response

if TYPE_CHECKING:
    from loadgen.recorder import Recorder

_JSON_HEADERS = {"Content-Type": "application/json"}

# How often the engine checks deadlines: the precision of a timeout.
TICK = 0.01


class Deadlines:
    """Per-request timeouts as a coarse timing wheel, checked every `TICK` by the engine.

    A timer per request (call_later, then cancel) costs a heap push, a libuv
    timer and a cancellation on every request, almost all of them never firing.
    Here a request costs a list append: at each check, sessions whose request
    already finished are dropped, the few still in flight go into the wheel
    bucket of their deadline, and buckets whose time has come expire what is
    still in flight then.
    """

    def __init__(self, now: float) -> None:
        self._new: list[Session] = []
        self._wheel: dict[int, list[Session]] = {}
        self._checked = int(now / TICK)  # buckets up to this one were expired

    def add(self, session: Session) -> None:
        self._new.append(session)

    def expire(self, now: float) -> None:
        """Cancel every in-flight request whose deadline is at or before `now`."""
        new, self._new = self._new, []
        for session in new:
            if session._waiting is not None:
                self._bucket(session)
        last = int(now / TICK)
        for k in range(self._checked + 1, last + 1):
            for session in self._wheel.pop(k, ()):
                task = session._waiting
                if task is None:
                    continue  # finished in time
                if session._deadline <= now:
                    session._expire(task)
                else:
                    self._bucket(session)  # a later request of the same session
        self._checked = last

    def _bucket(self, session: Session) -> None:
        # The first bucket whose time is at or after the deadline, and after
        # the last one checked (a deadline is always in the future when added).
        k = max(int(session._deadline / TICK) + 1, self._checked + 1)
        bucket = self._wheel.get(k)
        if bucket is None:
            self._wheel[k] = [session]
        else:
            bucket.append(session)


class Session:
    __slots__ = (
        "_client",
        "_deadline",
        "_deadlines",
        "_expired",
        "_recorder",
        "_start",
        "_task",
        "_timeout",
        "_waiting",
        "measured",
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
        self._waiting: asyncio.Task[Any] | None = None  # the task awaiting a response
        self._recorder = recorder
        self._task = task
        self._start: float | None = intended
        self._timeout = timeout
        self._expired = False
        self.measured = measured  # False during warm-up: sent, not recorded

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
            body = jsonlib.dumps(json, separators=(",", ":")).encode()
            headers = {**_JSON_HEADERS, **headers} if headers else _JSON_HEADERS
        start = self._start if self._start is not None else time.perf_counter()
        self._start = None
        remaining = start + self._timeout - time.perf_counter()
        if remaining <= 0:
            raise self._timed_out()
        task = asyncio.current_task()
        assert task is not None
        deadlines = self._deadlines
        if deadlines is not None:
            self._deadline = start + self._timeout
            self._waiting = task
            deadlines.add(self)
            timer = None
        else:
            # A bare timer that cancels this task: asyncio.timeout() does the
            # same with several times the bookkeeping, on every request.
            timer = task.get_loop().call_later(remaining, self._expire, task)
        try:
            response = await self._client.request(method, path, headers, body)
        except asyncio.CancelledError:
            if not self._expired:
                raise
            self._expired = False
            task.uncancel()
            raise self._timed_out() from None
        except ClientError as e:
            self._error(e.kind)
            raise
        finally:
            self._waiting = None
            if timer is not None:
                timer.cancel()
        if self.measured:
            self._recorder.response(self._task, start, response)
        return response

    def get(
        self, path: str, *, headers: dict[str, str] | None = None
    ) -> Coroutine[Any, Any, Response]:
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
        return self.request("POST", path, json=json, body=body, headers=headers)

    def _expire(self, task: asyncio.Task[Any]) -> None:
        self._expired = True
        task.cancel()

    def _timed_out(self) -> ClientError:
        self._error(TIMEOUT)
        return ClientError(TIMEOUT, f"no response within {self._timeout:g}s")

    def _error(self, kind: str) -> None:
        if self.measured:
            self._recorder.error(self._task, kind)
