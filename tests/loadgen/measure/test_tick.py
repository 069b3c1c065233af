"""A tick: one closed second of a run as a few plain numbers (the progress line's)."""

import json

import pytest

from loadgen.measure.histogram import buckets, new_histogram
from loadgen.measure.recorder import Recorder
from loadgen.measure.tick import tick
from loadgen.transports.models import Response

ORIGIN = 100.0  # perf_counter() at the start of measurement


def response(intended, sent, done, status=200):
    """A response to an arrival due at ORIGIN + `intended` (times in seconds after ORIGIN)."""
    return ORIGIN + intended, Response(status, b"", ORIGIN + sent, ORIGIN + done, 10)


def test_a_second_in_numbers():
    rec = Recorder(ORIGIN)
    for _ in range(4):
        rec.arrival(0.0, measured=True)
    rec.arrival(0.0, measured=False)  # a warm-up arrival: in flight, not counted
    rec.response("a", *response(0.1, 0.1, 0.3))  # 200 ms
    rec.response("b", *response(0.2, 0.6, 0.65, status=503))  # 450 ms, most of it waited
    rec.error("a", "timeout")
    for _ in range(3):
        rec.departure()
    t = tick(rec.close_interval(ORIGIN + 1.0004), rec)
    assert t["second"] == 1 and t["end"] == t["length"] == pytest.approx(1.0004)
    assert t["arrivals"] == 4 and t["total_arrivals"] == 4
    assert t["responses"] == 2  # the 503 is a response, and an error
    assert t["errors"] == 2  # http_503 and timeout
    assert t["in_flight"] == 2  # five dispatched, three done
    # The worst response time of the second, as its histogram holds it (µs).
    assert t["max_us"] == new_histogram().get_highest_equivalent_value(450_000)


def test_the_worst_is_of_response_times_not_service_times():
    rec = Recorder(ORIGIN)
    # A response timed from a later start than its send (a session's next call):
    # its service time (900 ms) exceeds its response time (100 ms).
    rec.response("a", *response(0.9, 0.1, 1.0))
    t = tick(rec.close_interval(ORIGIN + 1.0), rec)
    assert t["max_us"] == new_histogram().get_highest_equivalent_value(100_000)


def test_totals_run_on_across_seconds_and_a_quiet_second_is_zeros():
    rec = Recorder(ORIGIN)
    rec.arrival(0.0, measured=True)
    first = tick(rec.close_interval(ORIGIN + 1.0), rec)
    quiet = tick(rec.close_interval(ORIGIN + 2.0), rec)
    assert first["total_arrivals"] == quiet["total_arrivals"] == 1
    assert quiet["second"] == 2 and quiet["length"] == pytest.approx(1.0)
    assert quiet["arrivals"] == quiet["responses"] == quiet["errors"] == quiet["max_us"] == 0
    assert quiet["in_flight"] == 1  # still waiting for its answer


def test_a_tick_is_plain_data_that_crosses_a_pipe():
    rec = Recorder(ORIGIN)
    rec.arrival(0.001, measured=True)
    rec.response("a", *response(0.0, 0.0, 0.02))
    t = tick(rec.close_interval(ORIGIN + 1.0), rec)
    assert json.loads(json.dumps(t)) == t
    lists = ("response_counts", "service_counts", "errors_by_kind")
    numbers = {k: v for k, v in t.items() if k not in lists}
    assert all(type(v) in (int, float) for v in numbers.values())
    for key in ("response_counts", "service_counts"):
        assert t[key] and all(type(n) is int for pair in t[key] for n in pair)
    assert all(type(n) is int for n in t["errors_by_kind"].values())


def test_a_tick_carries_its_second_s_service_times_and_time_in_service():
    rec = Recorder(ORIGIN)
    for start in (0.1, 0.2):
        rec.arrival(0.0, measured=True)
        rec.response("a", *response(start, start + 0.01, start + 0.03))
    t = tick(rec.close_interval(ORIGIN + 1.0), rec)
    assert sum(n for _, n in t["service_counts"]) == 2
    assert t["busy_s"] == pytest.approx(0.04, abs=0.001)


def test_a_tick_carries_its_second_s_errors_by_kind_and_worst_send_lag():
    rec = Recorder(ORIGIN)
    for lag in (0.001, 0.250, 0.002):
        rec.arrival(lag, measured=True)
    rec.arrival(9.0, measured=False)  # the warm-up's: not the measured second's
    rec.error("a", "timeout")
    rec.response("a", *response(0.0, 0.0, 0.02, status=503))
    t = tick(rec.close_interval(ORIGIN + 1.0), rec)
    assert t["errors_by_kind"] == {"timeout": 1, "http_503": 1}
    assert t["requests"] == 2  # the 503 answered, the timeout not: requests as summary.json's
    assert t["max_lag_us"] == 250_000
    quiet = tick(rec.close_interval(ORIGIN + 2.0), rec)
    assert quiet["errors_by_kind"] == {} and quiet["max_lag_us"] == 0


def test_a_second_s_response_times_are_its_buckets_every_task_s_together():
    rec = Recorder(ORIGIN)
    for task, ms in (("a", 2), ("a", 2), ("b", 2), ("b", 40), ("a", 900)):
        rec.response(task, *response(0.0, 0.0, ms / 1000))
    rec.error("a", "timeout")  # no response time
    iv = rec.close_interval(ORIGIN + 1.0)
    t = tick(iv, rec)
    expected = new_histogram()
    for ms in (2, 2, 2, 40, 900):
        expected.record_value(ms * 1000)
    assert t["response_counts"] == [[i, n] for i, n in buckets(expected)]
    # Read back the same once the recorder has settled (encoded) the second's histograms.
    rec.settle_all()
    assert tick(iv, rec)["response_counts"] == t["response_counts"]


def test_one_task_s_second_is_its_buckets_too():
    rec = Recorder(ORIGIN)
    for ms in (2, 2, 40, 900, 0.3):
        rec.response("a", *response(0.0, 0.0, ms / 1000))
    iv = rec.close_interval(ORIGIN + 1.0)
    t = tick(iv, rec)
    expected = new_histogram()
    for ms in (2, 2, 40, 900, 0.3):
        expected.record_value(round(ms * 1000))
    assert t["response_counts"] == [[i, n] for i, n in buckets(expected)]
    rec.settle_all()
    assert tick(iv, rec)["response_counts"] == t["response_counts"]
