"""A session: what a task uses to make its requests, and where timing happens.

Response time = completion − start, where start is the arrival's *intended*
send time for the task's first request (so time spent waiting for the
generator or a free connection counts, as the user would feel it) and the
call's own start for later requests. Service time = completion − the moment
the request was written to the socket (what closed-loop tools report).

The per-request timeout runs from the same start: a request times out when
its response time would exceed `timeout`.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import time
from typing import TYPE_CHECKING, Any

from loadgen.client import TIMEOUT, Client, ClientError, Response

if TYPE_CHECKING:
    from loadgen.recorder import Recorder

_JSON_HEADERS = {"Content-Type": "application/json"}


class Session:
    __slots__ = ("_client", "_expired", "_recorder", "_start", "_task", "_timeout", "measured")

    def __init__(
        self,
        client: Client,
        recorder: Recorder,
        task: str,
        intended: float,
        timeout: float,
        measured: bool,
    ) -> None:
        self._client = client
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
        # A bare timer that cancels this task: asyncio.timeout() does the same
        # with several times the bookkeeping, on every request.
        task = asyncio.current_task()
        assert task is not None
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
            timer.cancel()
        if self.measured:
            self._recorder.response(self._task, start, response)
        return response

    async def get(self, path: str, *, headers: dict[str, str] | None = None) -> Response:
        return await self.request("GET", path, headers=headers)

    async def post(
        self,
        path: str,
        *,
        json: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        return await self.request("POST", path, json=json, body=body, headers=headers)

    def _expire(self, task: asyncio.Task[Any]) -> None:
        self._expired = True
        task.cancel()

    def _timed_out(self) -> ClientError:
        self._error(TIMEOUT)
        return ClientError(TIMEOUT, f"no response within {self._timeout:g}s")

    def _error(self, kind: str) -> None:
        if self.measured:
            self._recorder.error(self._task, kind)
