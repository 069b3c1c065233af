"""A one-shot: an arrival of a one-request task, sent with no coroutine at all.

A task that makes exactly one request can return it (a `Request`) instead of
making it. Such an arrival needs none of the coroutine machinery: the engine
submits the request on a free pooled connection (`Client.submit`), and this
object, as the connection's waiter, records what comes back: the response
(timed from the arrival's intended time, like a session's first request) or
the error. It is the cheapest way loadgen sends a request: cheaper than the
same request as a coroutine task run as a flight (bench/RESULTS.md).

With no free pooled connection the request waits its turn in the pool (or
a connection is opened for it), still with no coroutine: catching up after a
stall, when the pool runs dry, is when the cheap path matters most. It goes
the general way instead, as a coroutine through a `Session`, only when the
client can't take submissions (httpx). A failure the transport calls
`retryable` (a stale pooled connection, nothing answered) is submitted once
more, and the retry counted, as the session does.

Timeouts come from the engine's deadline wheel (`deadlines.Deadlines`), as for
sessions; a timed-out one-shot drops its connection (the stream is unknown).
One that expires while its connection is still being opened is a
`connect_timeout` (the SYN unanswered), not a `timeout`; one that expires
with the response's head in and its body still coming says so in its detail.

A request may carry a `check` (see `Request`): it judges the response once
it is recorded, so its time is never in the latency, and by then the
connection is back in the pool (or carries the next request waiting for
it). A check that fails tells the recorder; the engine never knows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from loadgen.transports.base import Client, Sent
from loadgen.transports.models import (
    CONNECT_TIMEOUT,
    FLOW_CONTROL,
    STALLED,
    TIMEOUT,
    Check,
    ClientError,
    Request,
    Response,
    apply_check,
    still_arriving,
)

if TYPE_CHECKING:
    from loadgen.core.deadlines import Deadlines
    from loadgen.measure.recorder import Recorder


class OneShot:
    """One arrival of a one-request task, in flight with no coroutine: it is the
    connection's waiter, the deadline wheel's entry and the engine's runner at once.
    """

    __slots__ = (
        "_client",
        "_deadline",
        "_exchange",
        "_on_done",
        "_recorder",
        "_retried",
        "_waiting",
        "measured",
        "name",
        "request",
        "start",
    )

    def __init__(
        self,
        name: str,
        request: Request,
        start: float,
        measured: bool,
        recorder: Recorder,
        on_done: Callable[[OneShot], None],
    ) -> None:
        self.name = name
        self.request = request
        self.start = start  # the arrival's intended time: response time runs from it
        self.measured = measured
        self._recorder = recorder
        self._on_done = on_done  # it is over (recorded)
        self._waiting: Sent | None = None  # the connection carrying it
        self._exchange = 0
        self._deadline = 0.0
        self._client: Client | None = None
        self._retried = False

    def send(self, client: Client, deadlines: Deadlines, timeout: float) -> bool:
        """Submit it; False (nothing done) when the client takes no submissions."""
        deadline = self.start + timeout
        if deadline <= time.perf_counter():
            # Dispatched already later than its whole timeout: as a session would.
            self._fail(TIMEOUT)
            return True
        sent = client.submit(self.request, self)
        if sent is None:
            return False
        self._client = client
        self._waiting = sent
        self._exchange = sent.exchange
        self._deadline = deadline
        deadlines.add(self)
        return True

    # -- as the connection's waiter ---------------------------------------
    def done(self) -> bool:
        """False while its request is in flight (what a connection asks of its waiter)."""
        return self._waiting is None

    def set_result(self, response: Response) -> None:
        """Its response came: record it, run its check, and tell the engine it is over."""
        self._waiting = None
        if self.measured:
            self._recorder.response(self.name, self.start, response)
            check = self.request.check
            if check is not None:
                self._check(check, response)
        self._on_done(self)

    def _check(self, check: Check, response: Response) -> None:
        response.sink = self
        try:
            apply_check(check, response)
        except Exception as e:  # the check's own code failed: an error of the task
            self._recorder.exception(self.name, e)
        except SystemExit as e:  # from a connection's callback it would end the run
            error = RuntimeError(f"the check called sys.exit({e.code!r})")
            self._recorder.exception(self.name, error)

    def check_failed(self, reason: str) -> None:
        """Its response failed its check (see `Response.fail`)."""
        self._recorder.check_failed(self.name, reason)

    def set_exception(self, error: BaseException) -> None:
        """Its request failed: record the error, or submit it once more if the
        transport calls the failure retryable.
        """
        self._waiting = None
        assert isinstance(error, ClientError) and self._client is not None
        if not error.retryable or self._retried:
            self._fail(error.kind, str(error))
            return
        # Once more (its deadline, still in the wheel, holds for this one too).
        self._retried = True
        if self.measured:
            self._recorder.retry(self.name)
        sent = self._client.submit(self.request, self)
        assert sent is not None  # it took the first submission
        self._waiting = sent
        self._exchange = sent.exchange

    # -- as the deadline wheel's entry --------------------------------------
    def _expire(self, sent: Sent) -> None:
        self._waiting = None
        # Read before abandoning it: what was under way when time ran out.
        kind = CONNECT_TIMEOUT if sent.connecting else FLOW_CONTROL if sent.stalled else TIMEOUT
        arriving = sent.arriving()
        sent.abandon(self._exchange)
        detail = STALLED if kind == FLOW_CONTROL else ""
        self._fail(kind, still_arriving(arriving) if arriving >= 0 else detail)

    # -- as the engine's runner (a second Ctrl-C) ---------------------------
    def cancel(self, msg: object = None) -> bool:
        """Abandon the request (a second Ctrl-C): it is over, and no error of the target's."""
        sent, self._waiting = self._waiting, None
        if sent is None:
            return False
        sent.abandon(self._exchange)
        self._on_done(self)  # not an error of the target's: not recorded
        return True

    def uncancel(self) -> int:
        """As Task's; a one-shot counts no cancellation requests: always 0."""
        return 0

    def _fail(self, kind: str, detail: str = "") -> None:
        if self.measured:
            self._recorder.error(self.name, kind, detail)
        self._on_done(self)
