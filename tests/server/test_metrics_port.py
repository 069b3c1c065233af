"""METRICS_PORT: /metrics served from a thread, off the event loop, and the loop's lag
seen while the loop is stuck (server/metrics_port.py, the watchdog in server/metrics.py),
in-process and under a real uvicorn and a real gunicorn."""

import asyncio
import logging
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector

from server.config import Settings
from server.launch import free_port, start_uvicorn, stop_gunicorn, wait_until_serving
from server.metrics import LagWindow, probing_event_loop_lag
from server.metrics_port import registry, start
from tests.server.conftest import SETTINGS_ENV, StartServer, worker_pids
from tests.server.test_metrics import CONTRACT, Sample, parse, total

# What loadgen's sampler allows a scrape (loadgen/measure/sampler.py).
SCRAPE_TIMEOUT = 0.5
# Legacy mode's naive Fibonacci here blocks a loop for seconds: long enough to
# scrape in the middle of it, whatever the machine.
BLOCKING_FIB = 35
# The lag a scrape during the stall must show, and how far into it that scrape must be.
STALL_SEEN = 0.5


@pytest.fixture(autouse=True)
def _own_metrics_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each gunicorn makes its own directory; a single uvicorn must not be in multiprocess mode.
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)


def lag_gauge() -> float:
    value = REGISTRY.get_sample_value("event_loop_lag_max_seconds")
    assert value is not None
    return value


# --- in-process: the window, the watchdog, the server ------------------------------------


def test_lag_window_counts_the_stall_in_progress_and_forgets_it_after_the_window() -> None:
    lags = LagWindow(window=2.0)
    lags.expect(10.0)  # the probe sleeps until 10.0
    lags.refresh(9.9)
    assert lag_gauge() == 0.0  # not due yet
    lags.refresh(10.7)
    assert lag_gauge() == pytest.approx(0.7)  # still stuck: 0.7 s late so far
    lags.woke(10.8, 0.8)
    lags.expect(10.85)
    lags.woke(10.86, 0.01)
    lags.expect(10.91)
    lags.refresh(12.0)
    assert lag_gauge() == pytest.approx(1.09)  # a new stall, longer than the last
    lags.woke(12.1, 1.19)
    lags.expect(12.15)
    lags.woke(12.16, 0.01)
    lags.refresh(14.0)
    assert lag_gauge() == pytest.approx(1.19)  # the worst of the last 2 s
    lags.refresh(14.15)
    assert lag_gauge() == pytest.approx(0.01)  # the stall left the window


@pytest.mark.anyio
async def test_the_watchdog_shows_a_stall_while_the_loop_is_stuck() -> None:
    seen: list[float] = []
    async with probing_event_loop_lag(interval=0.02, window=0.5):
        await asyncio.sleep(0.1)
        assert lag_gauge() < 0.25
        # Read from another thread 0.4 s into a 0.6 s stall, as a scrape would.
        reader = threading.Timer(0.4, lambda: seen.append(lag_gauge()))
        reader.start()
        time.sleep(0.6)  # what legacy /computeFib does: the loop runs nothing else
        reader.join()
        await asyncio.sleep(0.05)
        assert lag_gauge() >= 0.55  # once free, the probe measured all of it
    assert seen and seen[0] >= 0.3
    assert "event-loop-watchdog" not in {t.name for t in threading.enumerate()}


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return False
    return True


def test_serves_the_registry_and_frees_its_port() -> None:
    port = free_port()
    server = start("127.0.0.1", port)
    assert server is not None
    try:
        samples = scrape(f"http://127.0.0.1:{port}/metrics").samples
        assert "event_loop_lag_max_seconds" in {name for name, _, _ in samples}
    finally:
        server.stop()
    assert not listening(port)


def test_a_file_a_starting_worker_is_still_creating_is_passed_over(tmp_path: Path) -> None:
    written = MmapedDict(str(tmp_path / "counter_101.db"))
    written.write_value(mmap_key("hits", "hits_total", [], [], "hits"), 3.0, 0.0)
    written.close()
    # prometheus_client creates a worker's file empty, then sizes it: a scrape may come between.
    (tmp_path / "counter_102.db").touch()
    plain = CollectorRegistry()
    MultiProcessCollector(plain, str(tmp_path))  # type: ignore[no-untyped-call]
    with pytest.raises(Exception, match="buffer"):
        generate_latest(plain)
    assert "hits_total 3.0" in generate_latest(registry(str(tmp_path))).decode()


def test_a_taken_port_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="server.metrics_port"):
            assert start("127.0.0.1", port) is None
    assert f"127.0.0.1:{port}" in caplog.text


def test_metrics_port_setting(clean_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().metrics_port == 0  # off unless asked
    assert Settings().metrics_host == "127.0.0.1"
    monkeypatch.setenv("METRICS_PORT", "9100")
    assert Settings().metrics_port == 9100
    monkeypatch.setenv("METRICS_PORT", "70000")
    with pytest.raises(ValueError, match="metrics_port"):
        Settings()


# --- real servers: scrapes while /computeFib holds a loop ----------------------------------


@dataclass
class Scraped:
    samples: list[Sample]
    took: float
    at: float = 0.0  # when it was answered (time.monotonic)


def scrape(url: str, timeout: float = 10.0) -> Scraped:
    started = time.monotonic()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as response:
        assert response.status == 200
        text = response.read().decode()
    now = time.monotonic()
    return Scraped(parse(text), now - started, now)


@dataclass
class Stall:
    took: float  # how long /computeFib took to answer
    scrapes: list[Scraped] = field(default_factory=list)  # those answered before it


def scrape_through_a_stall(app_url: str, metrics_url: str) -> Stall:
    """Scrape `metrics_url` every 0.1 s while a legacy /computeFib holds a loop;
    each scrape must answer within the sampler's timeout."""
    answered: list[float] = []

    def block() -> None:
        body = {"iteration": BLOCKING_FIB}
        assert httpx.post(app_url + "/computeFib", json=body, timeout=60).status_code == 200
        answered.append(time.monotonic())

    started = time.monotonic()
    fib = threading.Thread(target=block)
    fib.start()
    scrapes: list[Scraped] = []
    while fib.is_alive():
        scrapes.append(scrape(metrics_url, timeout=SCRAPE_TIMEOUT))
        time.sleep(0.1)
    fib.join()
    assert answered, "the blocking request failed"
    stall = Stall(answered[0] - started, [s for s in scrapes if s.at < answered[0]])
    assert stall.took >= 2 * STALL_SEEN, "fib too fast here to block the loop for long"
    return stall


def lags_by_pid(samples: list[Sample]) -> dict[int, float]:
    """event_loop_lag_max_seconds by worker pid; 0 for one process's unlabelled series."""
    return {
        int(labels.get("pid", 0)): v
        for n, labels, v in samples
        if n == "event_loop_lag_max_seconds"
    }


def stuck(stall: Stall) -> dict[int, float]:
    """The largest lag each worker showed in a scrape taken during the stall."""
    worst: dict[int, float] = {}
    for s in stall.scrapes:
        for pid, lag in lags_by_pid(s.samples).items():
            worst[pid] = max(worst.get(pid, 0.0), lag)
    return worst


@pytest.fixture
def legacy_uvicorn(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A single legacy uvicorn serving METRICS_PORT: (app URL, off-loop metrics URL)."""
    port, metrics_port = free_port(), free_port()
    settings = {name: "" for name in SETTINGS_ENV if name != "LOG_DIR"}
    settings |= {"LEGACY_BUGS": "1", "METRICS_PORT": str(metrics_port)}
    proc = start_uvicorn("127.0.0.1", port, tmp_path, settings)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc)
        yield url, f"http://127.0.0.1:{metrics_port}/metrics"
    finally:
        stop_gunicorn(proc)


@pytest.mark.slow
def test_single_uvicorn_answers_off_the_loop_while_it_is_blocked(
    legacy_uvicorn: tuple[str, str],
) -> None:
    app_url, metrics_url = legacy_uvicorn
    assert httpx.post(app_url + "/addNumbers", json={"a": 1, "b": 2}).status_code == 200
    before = scrape(metrics_url).samples
    assert {name for name, _, _ in before} >= set(CONTRACT)
    assert total(before, "http_requests_total", handler="/addNumbers", status="2xx") == 1

    stall = scrape_through_a_stall(app_url, metrics_url)
    # One process: no pid label, one series.
    assert stuck(stall)[0] >= STALL_SEEN  # seen while still stuck, not only after
    assert all(s.took < SCRAPE_TIMEOUT for s in stall.scrapes)


@pytest.mark.slow
def test_gunicorn_master_answers_for_every_worker_while_one_is_blocked(
    start_server: StartServer,
) -> None:
    metrics_port = free_port()
    server = start_server({"LEGACY_BUGS": "1", "METRICS_PORT": str(metrics_port)})
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    workers = worker_pids(server.wait_for_error_log(lambda log: len(worker_pids(log)) == 2))
    deadline = time.monotonic() + 10
    while set(lags_by_pid(scrape(metrics_url).samples)) != set(workers):
        assert time.monotonic() < deadline, "the workers' lag never reached the master"
        time.sleep(0.05)

    # The same counts as the app's /metrics: every worker's files, read by the master.
    for i in range(6):
        httpx.post(
            server.url + "/addNumbers", json={"a": i, "b": 1}, headers={"Connection": "close"}
        )
    app_side = parse(httpx.get(server.url + "/metrics").text)
    off_loop = scrape(metrics_url).samples
    assert total(off_loop, "http_requests_total") == total(app_side, "http_requests_total") >= 6

    stall = scrape_through_a_stall(server.url, metrics_url)
    worst = stuck(stall)
    assert set(worst) == set(workers)  # the master is no worker of its own
    blocked = [pid for pid, lag in worst.items() if lag >= STALL_SEEN]
    assert len(blocked) == 1, worst
    assert all(s.took < SCRAPE_TIMEOUT for s in stall.scrapes)


def listening_ports(pid: int) -> set[int]:
    return {
        c.laddr.port
        for c in psutil.Process(pid).net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN
    }


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@pytest.mark.slow
def test_only_the_master_listens_on_metrics_port_and_only_when_asked(
    start_server: StartServer,
) -> None:
    plain = start_server()
    assert listening_ports(plain.proc.pid) == {port_of(plain.url)}

    metrics_port = free_port()
    server = start_server({"METRICS_PORT": str(metrics_port)})
    workers = worker_pids(server.wait_for_error_log(lambda log: len(worker_pids(log)) == 2))
    assert listening_ports(server.proc.pid) == {port_of(server.url), metrics_port}
    for pid in workers:  # each closed the copy it inherited by fork
        assert metrics_port not in listening_ports(pid)
    server.stop()
    assert not listening(metrics_port)  # closed on the way out
