"""Little's law on the client side: requests held at once, and the server's N."""

from loadgen.report.concurrency import read, steady_seconds
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
