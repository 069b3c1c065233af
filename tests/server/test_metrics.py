"""server/metrics.py: /metrics in-process, the loop-lag probe, and /metrics under
real gunicorn (every worker counted) and a single uvicorn."""

import asyncio
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from server.launch import free_port, start_uvicorn, stop_gunicorn, wait_until_serving
from server.metrics import probing_event_loop_lag, watch_event_loop_lag
from tests.server.conftest import (
    SETTINGS_ENV,
    GunicornServer,
    StartServer,
    pid_alive,
    worker_pids,
)

Sample = tuple[str, dict[str, str], float]

# The names loadgen's sampler reads (loadgen/measure/metrics_scrape.py).
CONTRACT = (
    "http_requests_total",
    "http_request_duration_seconds_sum",
    "http_request_duration_seconds_count",
    "http_request_duration_seconds_bucket",
    "http_requests_inprogress",
    "event_loop_lag_seconds_bucket",
    "event_loop_lag_seconds_count",
    "event_loop_lag_max_seconds",
)

# Legacy mode's naive Fibonacci at this iteration blocks a worker's loop for
# about half a second; the test checks it took at least 0.3 s.
SLOW_FIB = 33


@pytest.fixture(autouse=True)
def _own_metrics_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each gunicorn makes its own directory; a single uvicorn must not be in
    # multiprocess mode. A developer's shell must not decide either.
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


def parse(text: str) -> list[Sample]:
    return [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def scrape(base_url: str) -> list[Sample]:
    # A fresh connection each time, so that either worker may answer.
    response = httpx.get(base_url + "/metrics", headers={"Connection": "close"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def total(samples: list[Sample], name: str, **labels: str) -> float:
    return sum(
        value
        for n, have, value in samples
        if n == name and all(have.get(k) == v for k, v in labels.items())
    )


def series(samples: list[Sample], name: str) -> list[dict[str, str]]:
    return [labels for n, labels, _ in samples if n == name]


def lag_max_by_pid(samples: list[Sample]) -> dict[int, float]:
    return {int(labels["pid"]): v for n, labels, v in samples if n == "event_loop_lag_max_seconds"}


def poll(
    base_url: str, done: Callable[[list[Sample]], bool], timeout: float = 10.0
) -> list[Sample]:
    """Scrape until `done` holds for a scrape; fail with the last one otherwise."""
    deadline = time.monotonic() + timeout
    while not done(samples := scrape(base_url)):
        assert time.monotonic() < deadline, samples
        time.sleep(0.05)
    return samples


def both_probing(server: GunicornServer) -> list[int]:
    """The two workers' pids once each runs its lag probe (its lifespan has started)."""
    workers = worker_pids(server.wait_for_error_log(lambda log: len(worker_pids(log)) == 2))
    poll(server.url, lambda s: set(lag_max_by_pid(s)) == set(workers))
    return workers


# --- in-process: the ASGI app, the probe -------------------------------------------------


@pytest.mark.anyio
async def test_metrics_is_served_uncounted_and_left_out_of_the_schema(
    client: httpx.AsyncClient,
) -> None:
    def count(samples: list[Sample], handler: str) -> float:
        return total(samples, "http_requests_total", handler=handler)

    before = parse((await client.get("/metrics")).text)
    assert (await client.get("/")).status_code == 200
    assert (await client.post("/addNumbers", json={"a": "x", "b": 1})).status_code == 422
    response = await client.get("/metrics")
    assert response.status_code == 200
    after = parse(response.text)

    names = {name for name, _, _ in after}
    assert set(CONTRACT) <= names
    assert count(after, "/") - count(before, "/") == 1
    assert total(after, "http_requests_total", handler="/addNumbers", status="4xx") >= 1
    assert total(after, "http_requests_total", handler="/", method="GET", status="2xx") >= 1
    assert {"handler", "method"} <= set(series(after, "http_requests_inprogress")[0])
    # Scrapes are neither counted nor timed nor in progress.
    for name in ("http_requests_total", "http_request_duration_seconds_count"):
        assert all(labels.get("handler") != "/metrics" for labels in series(after, name))
    assert "/metrics" not in (await client.get("/openapi.json")).json()["paths"]


def _sample(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels)
    assert value is not None, name
    return value


def _over_quarter_second() -> float:
    """event_loop_lag_seconds observations above 0.25 s so far."""
    return _sample("event_loop_lag_seconds_count") - _sample(
        "event_loop_lag_seconds_bucket", le="0.25"
    )


@pytest.mark.anyio
async def test_probe_records_a_blocked_loop_and_forgets_it_after_the_window() -> None:
    slow_before = _over_quarter_second()
    probe = asyncio.create_task(watch_event_loop_lag(interval=0.02, window=0.5))
    try:
        await asyncio.sleep(0.1)
        count_before = _sample("event_loop_lag_seconds_count")
        assert count_before > 0  # it samples while the loop is free
        assert _sample("event_loop_lag_max_seconds") < 0.25
        time.sleep(0.35)  # what legacy /computeFib does: the loop runs nothing else
        await asyncio.sleep(0.05)
        assert _sample("event_loop_lag_max_seconds") >= 0.3
        assert _over_quarter_second() - slow_before == 1
        await asyncio.sleep(0.2)  # within the window the maximum holds
        assert _sample("event_loop_lag_max_seconds") >= 0.3
        await asyncio.sleep(0.5)  # past it, only the recent small lags remain
        assert _sample("event_loop_lag_max_seconds") < 0.25
        assert _sample("event_loop_lag_seconds_count") > count_before + 20
    finally:
        probe.cancel()


@pytest.mark.anyio
async def test_probe_runs_only_inside_its_block() -> None:
    def probes() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks() if t.get_name() == "event-loop-lag"]

    async with probing_event_loop_lag():
        await asyncio.sleep(0.12)
        assert len(probes()) == 1
        task = probes()[0]
    assert task.cancelled()
    assert probes() == []


# --- under gunicorn, two workers ---------------------------------------------------------


async def _fire(base_url: str, n: int) -> None:
    # No keep-alive: each request is a new accept, which either worker may win.
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def one(i: int) -> None:
            if i % 4 == 0:
                response = await client.get("/")
            elif i % 4 == 1:
                response = await client.post("/addNumbers", json={"a": i, "b": 1})
            elif i % 4 == 2:
                response = await client.post("/computeFib", json={"iteration": i})
            else:
                response = await client.post("/addNumbers", json={"a": "x", "b": 1})
            assert response.status_code == (422 if i % 4 == 3 else 200)

        await asyncio.gather(*(one(i) for i in range(n)))


ACCESS_PID = re.compile(r"\[(\d+)\] \S+ - \"[A-Z]+ (\S+) HTTP")


def served_by(lines: list[str]) -> set[int]:
    return {int(m.group(1)) for line in lines if (m := ACCESS_PID.search(line))}


def spread(server: GunicornServer, workers: list[int]) -> int:
    """Send rounds of requests until access.log shows every worker served some;
    returns how many were sent."""
    start, sent = len(server.access_lines), 0
    while served_by(server.access_lines[start:]) != set(workers):
        assert sent < 600, f"one worker took every connection: {server.access_lines[start:]}"
        asyncio.run(_fire(server.url, 40))
        sent += 40
    return sent


@pytest.mark.slow
def test_every_worker_is_counted_and_scrapes_are_neither_counted_nor_logged(
    start_server: StartServer,
) -> None:
    server = start_server()
    workers = both_probing(server)
    before = scrape(server.url)
    log_start = len(server.access_lines)

    sent = spread(server, workers)
    for _ in range(5):
        scrape(server.url)

    def requests(samples: list[Sample]) -> float:
        return total(samples, "http_requests_total")

    # A worker counts a request just after answering it: wait for the last ones.
    after = poll(server.url, lambda s: requests(s) >= requests(before) + sent)
    assert requests(after) == requests(before) + sent
    durations = total(after, "http_request_duration_seconds_count")
    assert durations - total(before, "http_request_duration_seconds_count") == sent
    assert total(after, "http_request_duration_seconds_sum") > 0

    # Labels as loadgen reads them: route templates, methods, status classes.
    statuses = {
        (labels["handler"], labels["method"], labels["status"])
        for labels in series(after, "http_requests_total")
    }
    assert statuses == {
        ("/", "GET", "2xx"),
        ("/addNumbers", "POST", "2xx"),
        ("/addNumbers", "POST", "4xx"),
        ("/computeFib", "POST", "2xx"),
    }
    assert total(after, "http_requests_total", handler="/addNumbers", status="4xx") == (
        total(before, "http_requests_total", handler="/addNumbers", status="4xx") + sent // 4
    )
    in_progress = series(after, "http_requests_inprogress")
    assert {(labels["handler"], labels["method"]) for labels in in_progress} >= {
        ("/", "GET"),
        ("/computeFib", "POST"),
    }
    assert total(after, "http_requests_inprogress") == 0  # all answered, scrapes not counted
    assert set(lag_max_by_pid(after)) == set(workers)
    assert total(after, "event_loop_lag_seconds_count") > 0

    # access.log: every request but the scrapes.
    lines = server.access_lines[log_start:]
    assert len(lines) == sent, lines[:5]
    assert served_by(lines) == set(workers)
    assert not [line for line in server.access_lines if "/metrics" in line]


@pytest.mark.slow
def test_a_killed_workers_gauge_goes_and_its_counts_stay(start_server: StartServer) -> None:
    server = start_server()
    workers = both_probing(server)
    before = total(scrape(server.url), "http_requests_total")
    counted = before + spread(server, workers)  # both workers counted some
    poll(server.url, lambda s: total(s, "http_requests_total") == counted)

    dead, survivor = workers
    os.kill(dead, signal.SIGKILL)
    replacement = worker_pids(server.wait_for_error_log(lambda log: len(worker_pids(log)) == 3))[2]
    assert not pid_alive(dead)

    after = poll(server.url, lambda s: set(lag_max_by_pid(s)) == {survivor, replacement})
    assert dead not in lag_max_by_pid(after)
    # Counters are not live: the dead worker's requests stay in the totals.
    assert total(after, "http_requests_total") == counted


@pytest.mark.slow
def test_legacy_fibonacci_shows_as_event_loop_lag(start_server: StartServer) -> None:
    server = start_server({"LEGACY_BUGS": "1"})
    both_probing(server)
    before = scrape(server.url)

    def over_quarter_second(samples: list[Sample]) -> float:
        count = total(samples, "event_loop_lag_seconds_count")
        return count - total(samples, "event_loop_lag_seconds_bucket", le="0.25")

    started = time.monotonic()
    response = httpx.post(server.url + "/computeFib", json={"iteration": SLOW_FIB}, timeout=30)
    answered = time.monotonic()
    assert response.status_code == 200
    assert answered - started >= 0.3, "fib too fast here to block the loop measurably"

    after = poll(
        server.url, lambda s: max(lag_max_by_pid(s).values(), default=0) >= 0.2, timeout=1.5
    )
    (blocked,) = [pid for pid, lag in lag_max_by_pid(after).items() if lag >= 0.2]
    assert over_quarter_second(after) - over_quarter_second(before) >= 1
    # The rolling maximum lets go of the stall about 2 s after it ended.
    poll(server.url, lambda s: lag_max_by_pid(s)[blocked] < 0.2, timeout=5)
    assert time.monotonic() - answered >= 1.5


# --- a single uvicorn process ------------------------------------------------------------


@pytest.fixture
def uvicorn_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    settings = {name: "" for name in SETTINGS_ENV if name != "LOG_DIR"}
    proc = start_uvicorn("127.0.0.1", port, tmp_path, settings)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc)
        yield url
    finally:
        stop_gunicorn(proc)


@pytest.mark.slow
def test_single_uvicorn_serves_metrics_from_its_own_registry(uvicorn_url: str) -> None:
    assert httpx.post(uvicorn_url + "/addNumbers", json={"a": 1, "b": 2}).status_code == 200
    samples = poll(uvicorn_url, lambda s: total(s, "http_requests_total") >= 2)
    assert {name for name, _, _ in samples} >= set(CONTRACT)
    assert total(samples, "http_requests_total", handler="/addNumbers", status="2xx") == 1
    # One process, so no pid label: the in-process registry, not multiprocess mode.
    assert series(samples, "event_loop_lag_max_seconds") == [{}]
    assert total(samples, "event_loop_lag_seconds_count") > 0
