"""HDR histograms as loadgen uses them: clamped recording, batch percentiles, exact merges."""

import json

from hypothesis import example, given
from hypothesis import strategies as st

from loadgen.measure.histogram import HIGHEST_US, new_histogram, percentiles, record, summary_ms
from tests.support.shard_states import latencies


@given(st.lists(st.integers(min_value=1, max_value=HIGHEST_US), min_size=1, max_size=200))
@example([3, 2047, 2048, 2049, 4097, 999_999, HIGHEST_US])
def test_fast_record_matches_hdrh_record_value(values):
    ours, theirs = new_histogram(), new_histogram()
    for v in values:
        record(ours, v / 1_000_000)
        assert theirs.record_value(v)
    assert ours.get_total_count() == theirs.get_total_count()
    assert ours.get_max_value() == theirs.get_max_value()
    assert ours.get_min_value() == theirs.get_min_value()
    assert ours.encode() == theirs.encode()


def test_percentiles_in_ms_and_summary_keys():
    h = new_histogram()
    for ms in range(1, 1001):
        record(h, ms / 1000)
    p = percentiles(h, [50.0, 99.0])
    assert abs(p[50.0] - 500) <= 1 and abs(p[99.0] - 990) <= 1
    s = summary_ms(h)
    assert list(s) == ["p50", "p90", "p99", "p99.9", "max", "mean"]
    assert abs(s["max"] - 1000) <= 1 and abs(s["mean"] - 500.5) <= 1


def test_nothing_timed_is_no_latency_not_a_latency_of_zero():
    from loadgen.measure.histogram import ms

    block = summary_ms(new_histogram())
    assert list(block) == ["p50", "p90", "p99", "p99.9", "max", "mean"]
    assert set(block.values()) == {None}
    assert ms(None) == "n/a" and ms(1.234) == "1.23" and ms(0.0, 3) == "0.000"


def test_merged_shard_histograms_equal_the_histogram_of_all_values():
    values = latencies(20_000, seed=1)
    whole = new_histogram()
    shards = [new_histogram() for _ in range(3)]
    for i, v in enumerate(values):
        record(whole, v)
        record(shards[i % 3], v)
    # Through the wire format, as shards in other processes send them.
    merged = new_histogram()
    for h in shards:
        merged.decode_and_add(json.loads(json.dumps(h.encode().decode("ascii"))))
    assert merged.equals(whole)
    assert merged.get_total_count() == len(values)
    qs = [50, 90, 99, 99.9, 99.99, 100]
    assert merged.get_percentile_to_value_dict(qs) == whole.get_percentile_to_value_dict(qs)
    assert merged.get_mean_value() == whole.get_mean_value()


def test_a_dropped_histogram_is_freed_at_once_not_by_the_cycle_collector():
    # The engine collects cycles rarely (it raises the GC thresholds): a
    # histogram that only the cycle collector frees piles up, a second's worth
    # of them (with their encoder's buffers) every second of a run.
    import gc
    import weakref

    h = new_histogram()
    record(h, 0.001)
    h.encode()
    gone = weakref.ref(h)
    gc.disable()
    try:
        del h
        assert gone() is None
    finally:
        gc.enable()
