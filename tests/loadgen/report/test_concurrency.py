"""Little's law on the client side: requests held at once, and the server's N."""

import pytest

from loadgen.report.concurrency import (
    concurrency,
    read,
    served_rps,
    steady_seconds,
    unloaded_concurrency,
)
from tests.support.summaries import run


def test_the_first_second_is_not_steady():
    assert [e["t"] for e in steady_seconds(run(5))] == [1.0, 2.0, 3.0, 4.0]
    assert len(steady_seconds(run(3))) == 3  # too few: all of them


def test_in_service_and_the_servers_n():
    c = read(run(offered=320, answered=160, service_ms=600, unloaded_ms=50, connections=100))
    assert c.in_service == 96.0  # 160/s × 0.6 s
    assert c.server_n == 8.0  # 160/s × 0.05 s
    assert c.saturated and c.queued
    assert c.shortfall == 0.5


def test_a_run_keeping_up_is_not_saturated():
    c = read(run(offered=100, service_ms=2.0, unloaded_ms=1.0))
    assert not c.saturated and not c.queued


def test_an_older_summary_without_busy_seconds_reads_the_mean():
    s = run(offered=100, service_ms=30.0)
    for e in s["timeline"]:
        del e["busy_s"]
    assert read(s).in_service == 3.0


def level_summary(**extra):
    """A 2 s level that served 200/s while loaded, and a backlog of 100 after."""
    seconds = [{"t": float(t), "length": 1.0, "responses": 200} for t in range(2)]
    return {
        "throughput_rps": 250.0,  # every response over the level's 2 s, the drain's too
        "duration_s": 2.0,
        "latency_ms": {"service": {"mean": 40.0}},
        "tasks": {
            "a": {"requests": 375, "errors_by_kind": {}, "service_min_ms": 10.0},
            "b": {"requests": 135, "errors_by_kind": {"timeout": 10}, "service_min_ms": 30.0},
        },
        "timeline": [*seconds, {"t": 2.0, "length": 0.4, "responses": 100}],
        **extra,
    }


def test_served_rate_leaves_the_backlog_out():
    assert served_rps(level_summary()) == 200.0
    # A level shorter than a second has no whole second inside: all responses, then.
    short = level_summary(duration_s=0.5, timeline=[{"t": 0.0, "length": 0.9, "responses": 9}])
    assert served_rps(short) == 250.0


def test_concurrency_by_littles_law():
    assert concurrency(level_summary()) == pytest.approx(200.0 * 0.040)
    nothing = level_summary(latency_ms={"service": {"mean": None}}, throughput_rps=0.0)
    assert concurrency(nothing) is None


def test_unloaded_concurrency_prices_each_task_at_its_fastest():
    # 200/s, 3/4 of the timed responses a's (375 of 500; b's 10 timeouts untimed):
    # 200 × (0.75 × 10 ms + 0.25 × 30 ms)
    assert unloaded_concurrency(level_summary()) == pytest.approx(200 * 0.015)
    older = level_summary()
    del older["tasks"]["a"]["service_min_ms"]
    assert unloaded_concurrency(older) is None  # a summary from before the field
    untimed = level_summary()
    untimed["tasks"]["b"]["service_min_ms"] = None
    assert unloaded_concurrency(untimed) == pytest.approx(200 * 0.010)
