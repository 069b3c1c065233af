"""`GET /metrics`: prometheus-fastapi-instrumentator's HTTP metrics and the
event loop's lag, which the app measures itself.

Under gunicorn every worker is a process of its own, so prometheus_client runs
in multiprocess mode there: infra/gunicorn_conf.py sets PROMETHEUS_MULTIPROC_DIR
before any worker forks, each worker writes its samples to files in it, and
/metrics reads every worker's files. prometheus_client picks the mode when it
is imported, from that variable; without it (one uvicorn process) the metrics
live in the ordinary in-process registry. docs/server.md lists what is exported.
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from fastapi import FastAPI
from prometheus_client import Gauge, Histogram
from prometheus_fastapi_instrumentator import Instrumentator

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
    "The largest event loop lag of the last 2 seconds, per worker.",
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
    # With PROMETHEUS_MULTIPROC_DIR set, expose() answers from a fresh registry
    # holding a MultiProcessCollector: every worker's samples, whichever serves.
    instrumentator.expose(app, endpoint=METRICS_PATH, include_in_schema=False)


async def watch_event_loop_lag(
    interval: float = LAG_PROBE_INTERVAL, window: float = LAG_WINDOW
) -> None:
    """Sleep `interval` over and over, recording how late each wake-up is; until cancelled.

    A wake-up is late by however long the loop was busy with something else
    (a blocking handler, say): every request on this worker waited as long.
    """
    loop = asyncio.get_running_loop()
    # (woke at, lag) with lags strictly decreasing: its head is the window's maximum.
    recent: deque[tuple[float, float]] = deque()
    EVENT_LOOP_LAG_MAX.set(0.0)  # the worker's series exists from its start
    while True:
        due = loop.time() + interval
        await asyncio.sleep(interval)
        now = loop.time()
        lag = max(now - due, 0.0)
        EVENT_LOOP_LAG.observe(lag)
        while recent and recent[-1][1] <= lag:
            recent.pop()
        recent.append((now, lag))
        while recent[0][0] <= now - window:
            recent.popleft()
        EVENT_LOOP_LAG_MAX.set(recent[0][1])


@asynccontextmanager
async def probing_event_loop_lag() -> AsyncIterator[None]:
    """Run `watch_event_loop_lag` in the background while the block runs."""
    task = asyncio.create_task(watch_event_loop_lag(), name="event-loop-lag")
    try:
        yield
    finally:
        task.cancel()
        # wait() rather than awaiting the task: its CancelledError is expected,
        # while one aimed at this coroutine must still propagate.
        await asyncio.wait({task})
