"""`GET /metrics`: prometheus-fastapi-instrumentator's HTTP metrics and the
event loop's lag, which the app measures itself.

Under gunicorn every worker is a process of its own, so prometheus_client runs
in multiprocess mode there: infra/gunicorn_conf.py sets PROMETHEUS_MULTIPROC_DIR
before any worker forks, each worker writes its samples to files in it, and
/metrics reads every worker's files. prometheus_client picks the mode when it
is imported, from that variable; without it (one uvicorn process) the metrics
live in the ordinary in-process registry. docs/server.md lists what is exported.

The lag is measured on the loop (a probe that sleeps and sees how late it
wakes) and watched from a thread (`LagWindow`), so that the gauge grows while
the loop is stuck, not only once it is free. METRICS_PORT serves the same
metrics from a thread, off the loop (server/metrics_port.py): a scrape there
answers while the loop is blocked, when the app's own /metrics cannot.
"""

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, Histogram, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator

from server import metrics_port

METRICS_PATH: Final = "/metrics"

# How often the loop is probed: any stall longer than this delays a wake-up
# (and is measured to within it), while 20 wake-ups a second cost next to nothing.
LAG_PROBE_INTERVAL: Final = 0.05
# event_loop_lag_max_seconds holds the worst lag for this long, so a scraper
# polling once a second sees a stall even when it ended between two scrapes.
LAG_WINDOW: Final = 2.0

# From a healthy loop's timer jitter up to a stall long enough for gunicorn to
# consider killing the worker.
LAG_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# The instrumentator's default for http_request_duration_seconds is 0.1, 0.5
# and 1 s: every healthy request falls in the first bucket.
LATENCY_BUCKETS: Final = LAG_BUCKETS

EVENT_LOOP_LAG = Histogram(
    "event_loop_lag_seconds",
    "How late the event loop woke a 50 ms sleep: time it spent running something else.",
    buckets=LAG_BUCKETS,
)
EVENT_LOOP_LAG_MAX = Gauge(
    "event_loop_lag_max_seconds",
    "The largest event loop lag of the last 2 seconds, a stall in progress included, per worker.",
    # One series per live worker (labelled pid); a dead worker's goes with it.
    multiprocess_mode="liveall",
)


def instrument(app: FastAPI) -> None:
    """Count and time every request but those to /metrics, and serve /metrics."""
    instrumentator = Instrumentator(
        should_instrument_requests_inprogress=True,
        inprogress_labels=True,
        # A scrape is not load: it would inflate the counts it reports.
        excluded_handlers=[f"^{METRICS_PATH}$"],
    )
    instrumentator.instrument(app, latency_lowr_buckets=LATENCY_BUCKETS)

    # Not instrumentator.expose(): under gunicorn it reads every worker's files
    # with a collector that fails on a file a starting worker is still creating.
    @app.get(METRICS_PATH, include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(metrics_port.registry()), media_type=CONTENT_TYPE_LATEST)


class LagWindow:
    """The loop's lag as a scraper should see it: the largest of the last `window`
    seconds, counting the stall in progress.

    The probe tells it each lag as it wakes, and when it is next due. A stall is
    only measured once the loop is free again, so the watchdog thread asks
    between wake-ups too: a loop still busy `d` seconds after the probe was due
    has a lag of at least `d` already, and a scrape during a 2 s stall sees it
    grow instead of nothing. Used from the loop and from that thread, hence the lock.
    """

    def __init__(self, window: float = LAG_WINDOW) -> None:
        self.window = window
        self._lock = threading.Lock()
        # (woke at, lag) with lags strictly decreasing: its head is the window's maximum.
        self._recent: deque[tuple[float, float]] = deque()
        self._due: float | None = None  # when the probe should wake next (time.monotonic)

    def expect(self, due: float) -> None:
        """The probe sleeps until `due`: later than that, the loop is stalled."""
        with self._lock:
            self._due = due

    def woke(self, now: float, lag: float) -> None:
        """The probe woke at `now`, `lag` late; sets the gauge."""
        with self._lock:
            while self._recent and self._recent[-1][1] <= lag:
                self._recent.pop()
            self._recent.append((now, lag))
            self._due = None
            EVENT_LOOP_LAG_MAX.set(self._max(now))

    def refresh(self, now: float) -> None:
        """The gauge as of `now`, a stall in progress included (the watchdog's tick)."""
        with self._lock:
            EVENT_LOOP_LAG_MAX.set(self._max(now))

    def _max(self, now: float) -> float:
        # max(the window's largest lag, now - due): the current stall is a lag
        # that has lasted that long so far.
        while self._recent and self._recent[0][0] <= now - self.window:
            self._recent.popleft()
        stalled = now - self._due if self._due is not None else 0.0
        return max(self._recent[0][1] if self._recent else 0.0, stalled, 0.0)


async def watch_event_loop_lag(
    interval: float = LAG_PROBE_INTERVAL,
    window: float = LAG_WINDOW,
    lags: LagWindow | None = None,
) -> None:
    """Sleep `interval` over and over, recording how late each wake-up is; until cancelled.

    A wake-up is late by however long the loop was busy with something else
    (a blocking handler, say): every request on this worker waited as long.
    Times are time.monotonic(), the clock the watchdog thread reads too.
    `lags`: the window shared with a watchdog; without one, a window of `window` s.
    """
    lags = lags if lags is not None else LagWindow(window)
    EVENT_LOOP_LAG_MAX.set(0.0)  # the worker's series exists from its start
    while True:
        due = time.monotonic() + interval
        lags.expect(due)
        await asyncio.sleep(interval)
        now = time.monotonic()
        lag = max(now - due, 0.0)
        EVENT_LOOP_LAG.observe(lag)
        lags.woke(now, lag)


def watch_stalls(lags: LagWindow, stop: threading.Event, interval: float) -> None:
    """The watchdog thread's body: refresh the gauge every `interval` until `stop`.

    A thread, because the loop it watches may be the one that is stuck.
    """
    while not stop.wait(interval):
        lags.refresh(time.monotonic())


@asynccontextmanager
async def probing_event_loop_lag(
    interval: float = LAG_PROBE_INTERVAL, window: float = LAG_WINDOW
) -> AsyncIterator[None]:
    """Run `watch_event_loop_lag` in the background while the block runs, and its
    watchdog thread beside it."""
    lags = LagWindow(window)
    task = asyncio.create_task(watch_event_loop_lag(interval, window, lags), name="event-loop-lag")
    stop = threading.Event()
    watchdog = threading.Thread(
        target=watch_stalls, args=(lags, stop, interval), name="event-loop-watchdog", daemon=True
    )
    watchdog.start()
    try:
        yield
    finally:
        # The thread first: once the probe is gone, its last due time would
        # read as a stall that never ends.
        stop.set()
        watchdog.join()
        task.cancel()
        # wait() rather than awaiting the task: its CancelledError is expected,
        # while one aimed at this coroutine must still propagate.
        await asyncio.wait({task})
