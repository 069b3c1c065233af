"""The recorder: every measured request, in HDR histograms and counters.

Nothing is sampled. Each response is recorded twice per task (response time
and service time) into the current one-second interval histograms; when an
interval closes they are folded into the run totals and kept only in encoded
form (a few hundred bytes each), so memory grows with the run's duration,
never with its request count. Errors are counted by kind: `http_<code>` for
non-2xx responses (which are also timed: the server did answer) and the
client's transport kinds (connect, reset, timeout, protocol), which are not
timed because no response arrived. A response the scenario's check found
wrong (`check_failed`) was timed like any other and is an error of kind
`check`, its reason tallied per task, in a bounded table.

Besides, for the diagnosis: the run's phases of a response (first byte:
written → first byte; body: first byte → complete) in two run-level
histograms, when the client times them; per interval, `busy`, the sum of the
service times of the responses recorded in it, so that busy / length is the
mean number of requests the server held at once over that second (Little's
law, L = λ·W, with λW summed response by response); and the `Retry-After`
of 429 and 503 answers, tallied in a bounded table.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

from loadgen.measure.histogram import SparseHistogram, merged, new_histogram, record
from loadgen.transports.models import Failed, Response

EXCEPTION = "exception"  # the task's own code raised
CHECK = "check"  # a response the scenario's check found wrong (it was answered, and timed)
# A reason may hold a varying number ("expected 5, got 7"): past this many
# distinct reasons per task the rest are counted together, and each reason is
# cut to a length, so a run's memory never grows with its failures.
MAX_CHECK_REASONS = 20
MAX_REASON_CHARS = 200
OTHER_REASONS = "(other reasons)"
# Statuses whose Retry-After is tallied: the server asking to come back later.
RETRY_AFTER_STATUSES = (429, 503)
MAX_RETRY_AFTER_VALUES = 10  # distinct values kept; the rest are counted as "other"
OTHER_RETRY_AFTER = "other"


@dataclass
class TaskStats:
    """Run totals of one task."""

    # Sparse: a run may have many tasks (a --targets file of distinct paths).
    response: SparseHistogram = field(default_factory=SparseHistogram)
    service: SparseHistogram = field(default_factory=SparseHistogram)
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    bytes_received: int = 0
    retries: int = 0  # requests sent a second time (see `Recorder.retry`)
    checks: Counter[str] = field(default_factory=Counter)  # failed checks by reason

    def add(self, other: TaskStats) -> None:
        """Add another recorder's totals of the same task (histograms bucket by bucket)."""
        self.response.add(other.response)
        self.service.add(other.service)
        self.requests += other.requests
        self.errors.update(other.errors)
        self.bytes_received += other.bytes_received
        self.retries += other.retries
        for reason, count in other.checks.most_common():
            tally(self.checks, reason, count)


def tally(
    reasons: Counter[str],
    reason: str,
    count: int = 1,
    limit: int = MAX_CHECK_REASONS,
    other: str = OTHER_REASONS,
) -> None:
    """Count `reason`, or `other` once `limit` others are counted."""
    reason = reason[:MAX_REASON_CHARS]
    if reason in reasons or len(reasons) - (other in reasons) < limit:
        reasons[reason] += count
    else:
        reasons[other] += count


def tally_retry_after(values: Counter[str], value: str, count: int = 1) -> None:
    """Count a Retry-After value (seconds, or a date) in its bounded table."""
    tally(values, value, count, MAX_RETRY_AFTER_VALUES, OTHER_RETRY_AFTER)


@dataclass
class Interval:
    """One closed interval: its counters and its histograms, encoded, by tag."""

    start: float  # seconds since the start of measurement
    end: float
    arrivals: int
    responses: int
    errors: dict[str, int]
    histograms: dict[str, bytes]  # "response:<task>" / "service:<task>" → HDR payload
    maxima: dict[str, int]  # same tags → the interval's max value (µs)
    # Σ service time (s) of its responses: busy / length is the mean number the
    # server held at once (Little's law); 0 in a state written before it was kept.
    busy: float = 0.0
    # The worst send lag (s) of its arrivals: the live dashboard's lag per second.
    max_lag: float = 0.0


class _Open:
    """The interval being filled: per-task histograms and counters."""

    def __init__(self, start: float) -> None:
        self.start = start
        # task → (response time, service time) histograms of this interval
        self.histograms: dict[str, tuple[SparseHistogram, SparseHistogram]] = {}
        self.arrivals = 0
        self.responses = 0
        self.errors: Counter[str] = Counter()
        self.busy = 0.0  # Σ service time of its responses (s)
        self.max_lag = 0.0  # the worst send lag of its arrivals (s)


class Recorder:
    """What a run measured, as it is measured: each arrival (its send lag),
    each response (its response and service times, per task, into the open
    second's histograms), each error by kind, each new connection's time, and
    the first byte and body phases.

    `close_interval` ends a second (when the engine closes one); `settle` folds its
    histograms into the tasks' run totals, one at a time, between arrivals.
    A finished run's recorder is read by the reports; `recorder_state.py`
    writes it as a shard's state and merges shards' recorders.
    """

    def __init__(self, origin: float) -> None:
        self.origin = origin  # perf_counter() at the start of measurement
        self.tasks: dict[str, TaskStats] = {}
        self.send_lag = new_histogram()
        self.connect = new_histogram()  # how long each new connection took to open
        # The phases of each response, when the client times them (`Response.first_at`).
        self.first_byte = new_histogram()  # written → first byte
        self.body = new_histogram()  # first byte → complete
        # 429 and 503 answers carrying a Retry-After, and its values (bounded).
        self.retry_after_responses = 0
        self.retry_after: Counter[str] = Counter()
        # Measured-window requests that found the pool at its cap, all busy (see
        # `waited_for_connection`): --connections, not the target, held them.
        self.connection_waits = 0
        # Measured-window requests that found every HTTP/2 connection at the
        # server's stream limit, the pool at its cap (see `waited_for_stream`).
        self.stream_waits = 0
        self.http_version = ""  # what the client spoke ("1.1", "2"), told at the end
        self.arrivals = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.intervals: list[Interval] = []
        self.first_exception: str | None = None  # what a task's own code raised first
        self.error_details: dict[str, str] = {}  # error kind → what the first one said
        # Closed histograms not yet in the totals and their interval (see close_interval).
        self.pending: deque[tuple[Interval, str, SparseHistogram]] = deque()
        self._open = _Open(0.0)

    # -- hot path ----------------------------------------------------------
    def arrival(self, lag: float, measured: bool) -> None:
        """An arrival was dispatched `lag` seconds after its intended time."""
        self.in_flight += 1
        if self.in_flight > self.max_in_flight:
            self.max_in_flight = self.in_flight
        if measured:
            self.arrivals += 1
            iv = self._open
            iv.arrivals += 1
            if lag > iv.max_lag:
                iv.max_lag = lag
            record(self.send_lag, lag)

    def departure(self) -> None:
        """An arrival's task finished, however it ended."""
        self.in_flight -= 1

    def response(self, task: str, start: float, response: Response) -> None:
        """A response of `task`'s, whose arrival was due at `start`: its response
        and service times into the open second, its bytes, its first-byte and
        body times, and its status as an error if it is not 2xx.
        """
        stats = self.tasks.get(task) or self.task(task)
        stats.requests += 1
        stats.bytes_received += response.nbytes
        iv = self._open
        iv.responses += 1
        pair = iv.histograms.get(task)
        if pair is None:
            pair = iv.histograms[task] = (SparseHistogram(), SparseHistogram())
        done_at = response.done_at
        sent_at = response.sent_at
        service = done_at - sent_at
        record(pair[0], done_at - start)
        record(pair[1], service)
        iv.busy += service
        first_at = response.first_at
        if first_at:
            record(self.first_byte, first_at - sent_at)
            record(self.body, done_at - first_at)
        status = response.status
        if not 200 <= status < 300:
            kind = f"http_{status}"
            stats.errors[kind] += 1
            iv.errors[kind] += 1
            if status in RETRY_AFTER_STATUSES:
                self._retry_after(response)

    def _retry_after(self, response: Response) -> None:
        """Tally the Retry-After of a refusal (its headers parsed only here, off the 2xx path)."""
        value = response.headers.get("retry-after")
        if value is not None:
            self.retry_after_responses += 1
            tally_retry_after(self.retry_after, value)

    def retry(self, task: str) -> None:
        """A request is sent once more: the transport found it unanswered on a
        connection the server had closed. Counted, never hidden: the target
        received it twice, or half of it."""
        self.task(task).retries += 1

    def check_failed(self, task: str, reason: str) -> None:
        """A response of `task`, recorded already, was wrong: an error of kind
        `check` (not another request), its reason tallied."""
        stats = self.task(task)
        stats.errors[CHECK] += 1
        self._open.errors[CHECK] += 1
        tally(stats.checks, reason)

    def exception(self, task: str, exc: BaseException) -> None:
        """The task's own code raised: an error of the task (not a request: its
        requests were counted as they were made), and the first one kept to show.
        `Failed` is the task saying a response was wrong: a `check` error."""
        if isinstance(exc, Failed):
            self.check_failed(task, str(exc) or "Failed")
            return
        if self.first_exception is None:
            self.first_exception = f"{task}: {type(exc).__name__}: {exc}"
        self.task(task).errors[EXCEPTION] += 1
        self._open.errors[EXCEPTION] += 1

    def error(self, task: str, kind: str, detail: str = "") -> None:
        """A request that got no response; `detail` of the first of its kind is kept to show."""
        stats = self.task(task)
        stats.requests += 1
        stats.errors[kind] += 1
        self._open.errors[kind] += 1
        if detail and kind not in self.error_details:
            self.error_details[kind] = detail

    def connected(self, seconds: float) -> None:
        """A new connection opened (TCP and TLS handshakes) in `seconds`."""
        record(self.connect, seconds)

    def waited_for_connection(self) -> None:
        """A request waits for a connection: every one busy, the pool at its cap."""
        if time.perf_counter() >= self.origin:  # not during the warm-up
            self.connection_waits += 1

    def waited_for_stream(self) -> None:
        """A request waits for an HTTP/2 stream slot: every connection at the
        server's SETTINGS_MAX_CONCURRENT_STREAMS, the pool at its cap."""
        if time.perf_counter() >= self.origin:
            self.stream_waits += 1

    # -- per interval ------------------------------------------------------
    def close_interval(self, now: float) -> Interval:
        """Close the open interval at perf_counter() time `now`; start the next.

        Only the counters and maxima are final at once. Folding each histogram
        into the run totals and encoding it costs a tenth of a millisecond or
        so, several of them a second: they wait in `pending` for `settle`, one
        at a time, so the arrivals due at the second are not held up by them.
        """
        iv = self._open
        end = now - self.origin
        self._open = _Open(end)
        closed = Interval(
            iv.start, end, iv.arrivals, iv.responses, dict(iv.errors), {}, {}, iv.busy, iv.max_lag
        )
        for task, (resp_h, serv_h) in iv.histograms.items():
            for kind, h in (("response", resp_h), ("service", serv_h)):
                tag = f"{kind}:{task}"
                closed.maxima[tag] = h.get_max_value()
                closed.histograms[tag] = b""  # in file order; filled by settle()
                self.pending.append((closed, tag, h))
        self.intervals.append(closed)
        return closed

    def settle(self) -> bool:
        """Fold one closed histogram into its task's total and encode it into its
        interval. Whether more are pending."""
        if self.pending:
            interval, tag, h = self.pending.popleft()
            kind, _, task = tag.partition(":")
            getattr(self.task(task), kind).add(h)
            interval.histograms[tag] = h.encode()
        return bool(self.pending)

    def settle_all(self) -> None:
        """Everything closed, folded and encoded: what a finished run's readers need."""
        while self.settle():
            pass

    # -- totals ------------------------------------------------------------
    def total(self, kind: str) -> HdrHistogram:
        """All tasks' `response` or `service` histogram merged."""
        return merged(getattr(s, kind) for s in self.tasks.values())

    def histograms(self) -> dict[str, dict[str, SparseHistogram]]:
        """Task → "response" / "service" → run total."""
        return {n: {"response": t.response, "service": t.service} for n, t in self.tasks.items()}

    def errors(self) -> Counter[str]:
        """Errors by kind, all tasks together."""
        total: Counter[str] = Counter()
        for s in self.tasks.values():
            total.update(s.errors)
        return total

    def task(self, name: str) -> TaskStats:
        """`name`'s run totals, made empty the first time it is asked for."""
        stats = self.tasks.get(name)
        if stats is None:
            stats = self.tasks[name] = TaskStats()
        return stats
