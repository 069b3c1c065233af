"""The recorder: every response and error counted and timed, per task and per second."""

import json
import time
import tracemalloc

from loadgen.measure.histogram import HIGHEST_US, new_histogram
from loadgen.measure.recorder import (
    MAX_CHECK_REASONS,
    MAX_REASON_CHARS,
    MAX_RETRY_AFTER_VALUES,
    OTHER_REASONS,
    OTHER_RETRY_AFTER,
    Recorder,
)
from loadgen.measure.recorder_state import from_state, merge_recorders, to_state
from loadgen.transports.models import Failed, Response


def response(status=200, start=0.0, sent=0.5, done=1.0, nbytes=10):
    return Response(status, b"", sent, done, nbytes)


def phased(status=200, sent=1.0, first=1.25, done=2.0, head=b""):
    return Response(status, b"", sent, done, 10, head, first)


def test_response_and_service_time_and_non_2xx():
    rec = Recorder(origin=0.0)
    rec.response("a", 0.0, response())
    rec.response("a", 0.0, response(status=503))
    rec.error("a", "timeout")
    iv = rec.close_interval(1.0)
    rec.settle_all()
    stats = rec.tasks["a"]
    assert stats.requests == 3
    assert stats.errors == {"http_503": 1, "timeout": 1}
    assert stats.response.get_total_count() == 2  # transport errors are not timed
    assert stats.response.get_max_value() == new_histogram().get_highest_equivalent_value(1_000_000)
    assert stats.service.get_max_value() == new_histogram().get_highest_equivalent_value(500_000)
    assert iv.responses == 2 and iv.errors == {"http_503": 1, "timeout": 1}
    assert set(iv.histograms) == {"response:a", "service:a"}


def test_values_out_of_range_are_clamped_not_dropped():
    rec = Recorder(origin=0.0)
    rec.response("a", 0.0, response(sent=0.0, done=0.0))  # 0 µs
    rec.response("a", 0.0, response(sent=0.0, done=10_000.0))  # ~2.8 h
    rec.close_interval(1.0)
    rec.settle_all()
    h = rec.tasks["a"].response
    assert h.get_total_count() == 2
    assert h.get_max_value() >= HIGHEST_US * 0.999


def test_intervals_fold_into_totals_and_memory_does_not_grow_per_request():
    rec = Recorder(origin=0.0)
    for second in range(3):
        for i in range(1000):
            rec.arrival(0.0001, measured=True)
            rec.response("a", second, response(sent=second, done=second + 0.001 * (i % 10 + 1)))
            rec.departure()
        rec.close_interval(second + 1.0)
        rec.settle_all()
    assert rec.tasks["a"].response.get_total_count() == 3000
    assert [iv.arrivals for iv in rec.intervals] == [1000, 1000, 1000]
    # Each closed interval keeps only small encoded payloads.
    assert all(len(p) < 2000 for iv in rec.intervals for p in iv.histograms.values())
    assert rec.in_flight == 0 and rec.max_in_flight == 1


def test_memory_grows_with_what_was_recorded_not_with_the_number_of_tasks():
    # A --targets file of distinct paths: each task answered once. A dense HDR
    # histogram is 184 KiB whatever it holds; two per task would be 180 MiB here.
    tracemalloc.start()
    try:
        rec = Recorder(origin=0.0)
        for i in range(500):
            rec.response(f"GET /p/{i}", 0.0, response(sent=0.0, done=0.001 + i / 1e5))
        rec.close_interval(1.0)
        rec.settle_all()
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(rec.tasks) == 500 and rec.total("response").get_total_count() == 500
    assert held < 5 * 2**20, f"{held / 2**20:.0f} MiB for 500 responses"


def test_warmup_arrivals_are_not_counted():
    rec = Recorder(origin=0.0)
    rec.arrival(0.001, measured=False)
    assert rec.arrivals == 0 and rec.send_lag.get_total_count() == 0
    assert rec.in_flight == 1


def test_waits_for_a_connection_count_in_the_measured_window_only():
    warming = Recorder(origin=time.perf_counter() + 60)  # measurement starts in a minute
    warming.waited_for_connection()
    assert warming.connection_waits == 0
    rec = Recorder(origin=time.perf_counter())
    rec.waited_for_connection()
    rec.waited_for_connection()
    assert rec.connection_waits == 2
    back = from_state(json.loads(json.dumps(to_state(rec))))
    assert back.connection_waits == 2
    assert merge_recorders([rec, back]).connection_waits == 4


def test_closing_a_second_is_cheap_and_its_histograms_settle_one_at_a_time():
    rec = Recorder(origin=0.0)
    for task in ("a", "b"):
        rec.response(task, 0.0, response())
    iv = rec.close_interval(1.0)
    # At once: the counters and maxima (what the progress line needs), in file order.
    assert iv.responses == 2 and list(iv.maxima) == list(iv.histograms)
    assert list(iv.histograms) == ["response:a", "service:a", "response:b", "service:b"]
    assert rec.tasks["a"].response.get_total_count() == 0 and len(rec.pending) == 4
    assert rec.settle() is True  # one folded and encoded, more to come
    assert rec.tasks["a"].response.get_total_count() == 1 and iv.histograms["response:a"]
    rec.settle_all()
    assert not rec.pending and all(iv.histograms.values())
    assert rec.tasks["b"].service.get_total_count() == 1


def test_a_failed_check_is_an_error_of_a_response_already_timed_not_another_request():
    rec = Recorder(origin=0.0)
    rec.response("add", 0.0, response())
    rec.check_failed("add", "wrong result")
    rec.response("add", 0.0, response())
    iv = rec.close_interval(1.0)
    rec.settle_all()
    stats = rec.tasks["add"]
    assert stats.requests == 2 and stats.response.get_total_count() == 2
    assert stats.errors == {"check": 1} and stats.checks == {"wrong result": 1}
    assert iv.errors == {"check": 1} and iv.responses == 2


def test_failed_raised_by_a_task_is_a_check_error_not_an_exception():
    rec = Recorder(origin=0.0)
    rec.exception("login", Failed("no token"))
    rec.exception("login", Failed())
    assert rec.tasks["login"].errors == {"check": 2}
    assert rec.tasks["login"].checks == {"no token": 1, "Failed": 1}
    assert rec.first_exception is None


def test_check_reasons_are_bounded_per_task_whatever_they_say():
    rec = Recorder(origin=0.0)
    for i in range(10_000):  # a reason with a number in it: a new one each time
        rec.check_failed("add", f"expected {i}, got {i + 1}")
    rec.check_failed("add", "x" * 10_000)
    rec.check_failed("fib", "wrong result")
    checks = rec.tasks["add"].checks
    assert len(checks) == MAX_CHECK_REASONS + 1 and checks[OTHER_REASONS] == 10_001 - 20
    assert sum(checks.values()) == rec.tasks["add"].errors["check"] == 10_001
    assert "expected 0, got 1" in checks and "expected 20, got 21" not in checks
    assert rec.tasks["fib"].checks == {"wrong result": 1}  # each task has its own table
    long = Recorder(origin=0.0)
    long.check_failed("t", "y" * 10_000)
    assert list(long.tasks["t"].checks) == ["y" * MAX_REASON_CHARS]


def test_phases_are_timed_run_wide_when_the_client_tells_the_first_byte():
    rec = Recorder(origin=0.0)
    rec.response("a", 0.0, phased(sent=1.0, first=1.25, done=2.0))
    rec.response("b", 0.0, phased(sent=1.0, first=1.5, done=1.5))
    rec.response("a", 0.0, response())  # first_at unknown (0.0): no phases
    assert rec.first_byte.get_total_count() == rec.body.get_total_count() == 2
    assert rec.first_byte.get_max_value() == rec.first_byte.get_highest_equivalent_value(500_000)
    assert rec.body.get_max_value() == rec.body.get_highest_equivalent_value(750_000)
    iv = rec.close_interval(1.0)
    assert set(iv.histograms) == {"response:a", "service:a", "response:b", "service:b"}


def test_busy_is_the_sum_of_the_service_times_recorded_in_each_interval():
    rec = Recorder(origin=0.0)
    for sent, done in ((0.0, 0.5), (0.2, 0.45), (0.9, 0.95)):
        rec.response("a", sent, response(sent=sent, done=done))
    rec.error("a", "timeout")  # no answer: no service time
    first = rec.close_interval(1.0)
    second = rec.close_interval(2.0)
    assert abs(first.busy - 0.8) < 1e-9 and second.busy == 0.0


def test_retry_after_of_refusals_is_tallied_within_a_bound():
    rec = Recorder(origin=0.0)
    for i in range(15):
        head = f"HTTP/1.1 429 Too Many\r\nretry-after: {i % 12}\r\n\r\n".encode()
        rec.response("a", 0.0, phased(status=429, head=head))
    rec.response("a", 0.0, phased(status=503, head=b"HTTP/1.1 503 X\r\nRetry-After: 1\r\n\r\n"))
    rec.response("a", 0.0, phased(status=503, head=b"HTTP/1.1 503 X\r\n\r\n"))  # none
    rec.response("a", 0.0, phased(status=500, head=b"HTTP/1.1 500 X\r\nRetry-After: 1\r\n\r\n"))
    assert rec.retry_after_responses == 16
    assert len(rec.retry_after) == MAX_RETRY_AFTER_VALUES + 1
    assert rec.retry_after["1"] == 3  # 429s at i = 1 and 13, and the 503
    assert rec.retry_after[OTHER_RETRY_AFTER] == 2  # "10" and "11": past the bound
    assert sum(rec.retry_after.values()) == 16
