"""A recorder as a shard's state and back, and shards' recorders merged exactly."""

import json

from loadgen.measure.recorder import MAX_CHECK_REASONS, OTHER_REASONS, Recorder
from loadgen.measure.recorder_state import from_state, merge_recorders, to_state
from tests.loadgen.measure.test_recorder import phased, response
from tests.support.shard_states import latencies, recorder


def test_recorder_state_round_trips_through_json():
    rec = recorder([latencies(300, 2), latencies(200, 3)], errors=["timeout", "http_503"])
    rec.exception("get", RuntimeError("boom"))
    back = from_state(json.loads(json.dumps(to_state(rec))))
    assert back.arrivals == rec.arrivals == 500
    assert back.max_in_flight == rec.max_in_flight
    assert back.first_exception == "get: RuntimeError: boom"
    assert back.send_lag.equals(rec.send_lag)
    for kind in ("response", "service"):
        assert back.total(kind).equals(rec.total(kind))
    assert back.tasks["get"].errors == {"timeout": 1, "http_503": 1, "exception": 1}
    assert back.tasks["get"].requests == rec.tasks["get"].requests
    assert back.tasks["get"].bytes_received == 500 * 7
    assert [(iv.start, iv.end, iv.arrivals, iv.histograms, iv.maxima) for iv in back.intervals] == [
        (iv.start, iv.end, iv.arrivals, iv.histograms, iv.maxima) for iv in rec.intervals
    ]


def test_check_reasons_travel_with_the_state_and_merge_within_the_bound():
    shards = []
    for shard in range(3):
        rec = Recorder(origin=0.0)
        rec.response("add", 0.0, response())
        for i in range(15):  # each shard its own 15 reasons, and one they share
            rec.check_failed("add", f"shard {shard} reason {i}")
        rec.check_failed("add", "shared")
        rec.close_interval(1.0)
        shards.append(from_state(json.loads(json.dumps(to_state(rec)))))
    assert shards[0].tasks["add"].checks["shared"] == 1
    merged = merge_recorders(shards).tasks["add"]
    assert merged.errors == {"check": 48} and sum(merged.checks.values()) == 48
    assert len(merged.checks) == MAX_CHECK_REASONS + 1
    assert merged.checks["shared"] == 3  # a reason with a line of its own keeps it
    assert merged.checks[OTHER_REASONS] == 48 - 3 - (MAX_CHECK_REASONS - 1)


def test_phases_busy_and_retry_after_travel_with_the_state_and_add_up_when_merged():
    def one() -> Recorder:
        rec = Recorder(origin=0.0)
        rec.response("a", 0.0, phased(sent=0.1, first=0.2, done=0.4))
        head = b"HTTP/1.1 429 X\r\nRetry-After: 2\r\n\r\n"
        rec.response("a", 0.0, phased(status=429, sent=0.5, first=0.6, done=0.6, head=head))
        rec.close_interval(1.0)
        return from_state(json.loads(json.dumps(to_state(rec))))

    back = one()
    assert back.first_byte.get_total_count() == back.body.get_total_count() == 2
    assert abs(back.intervals[0].busy - 0.4) < 1e-9
    assert (back.retry_after_responses, dict(back.retry_after)) == (1, {"2": 1})
    total = merge_recorders([back, one()])
    assert total.first_byte.get_total_count() == 4
    assert abs(total.intervals[0].busy - 0.8) < 1e-9
    assert (total.retry_after_responses, dict(total.retry_after)) == (2, {"2": 2})


def test_a_state_written_before_phases_busy_and_retry_after_still_loads():
    rec = recorder([latencies(50, 1)])
    state = to_state(rec)
    del state["phases"], state["retry_after"]
    for iv in state["intervals"]:
        del iv["busy"]
    back = from_state(state)
    assert back.first_byte.get_total_count() == 0 and back.retry_after_responses == 0
    assert back.intervals[0].busy == 0.0


def test_stream_waits_and_the_http_version_travel_with_the_state_and_merge():
    a, b = Recorder(0.0), Recorder(0.0)
    a.stream_waits, a.http_version = 3, "2"
    b.stream_waits, b.http_version = 4, "2"
    back = from_state(json.loads(json.dumps(to_state(a))))
    assert (back.stream_waits, back.http_version) == (3, "2")
    merged = merge_recorders([a, b])
    assert (merged.stream_waits, merged.http_version) == (7, "2")
    b.http_version = "1.1"  # one shard fell back to HTTP/1.1: both are said
    assert merge_recorders([a, b]).http_version == "1.1, 2"
    older = to_state(Recorder(0.0))  # a state written before HTTP/2
    del older["stream_waits"], older["http_version"]
    assert (from_state(older).stream_waits, from_state(older).http_version) == (0, "")
