"""HDR histograms as loadgen uses them: clamped recording, one-read statistics, exact merges."""

import io
import json
import math

from hypothesis import example, given, settings
from hypothesis import strategies as st

from loadgen.measure.histogram import (
    HIGHEST_US,
    SUMMARY_PERCENTILES,
    Distribution,
    SparseHistogram,
    merged,
    new_histogram,
    percentile_distribution,
    percentiles,
    record,
    summary_ms,
)
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


@given(st.lists(st.integers(min_value=0, max_value=2 * HIGHEST_US), max_size=200))
@example([0, 1, 2047, 2048, 2049, 4097, 999_999, HIGHEST_US, 2 * HIGHEST_US])
@example([])
def test_a_sparse_histogram_reads_encodes_and_merges_as_a_dense_one(values):
    sparse, dense = SparseHistogram(), new_histogram()
    for v in values:
        record(sparse, v / 1_000_000)
        record(dense, v / 1_000_000)
    assert sparse.get_total_count() == dense.get_total_count() == len(values)
    assert sparse.get_max_value() == dense.get_max_value()
    assert sparse.get_min_value() == dense.get_min_value()
    assert sparse.encode() == dense.encode()
    assert summary_ms(sparse) == summary_ms(dense)
    assert percentile_distribution(sparse) == percentile_distribution(dense)
    assert merged([sparse, dense]).encode() == merged([dense, dense]).encode()
    again = SparseHistogram.of(dense)
    again.add(sparse)
    assert again.encode() == merged([dense, dense]).encode()
    assert again.get_min_value() == dense.get_min_value()


def test_a_sparse_histogram_holds_only_what_was_recorded():
    sparse = SparseHistogram()
    for ms in (1, 2, 2, 500):
        record(sparse, ms / 1000)
    assert sorted(sparse.counts.items()) == [(1000, 1), (2000, 2), (_index_of(500_000), 1)]


def _index_of(us):
    h = new_histogram()
    h.record_value(us)
    return next(i for i in range(h.counts_len) if h.counts[i])


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


_SPREAD = st.lists(
    st.one_of(
        st.integers(min_value=1, max_value=5_000),  # the first bucket, a fast target's
        st.integers(min_value=1, max_value=HIGHEST_US),
    ),
    min_size=1,
    max_size=300,
)


# hdrh's own read-outs, the reference here, take a tenth of a second each.
_FEW = settings(max_examples=6, deadline=None)


def _filled(values_us):
    h = new_histogram()
    for v in values_us:
        record(h, v / 1_000_000)
    return h


@_FEW
@given(_SPREAD)
@example([1])
@example([HIGHEST_US, 2048, 2049])
def test_one_read_gives_hdrh_percentiles_mean_and_deviation(values):
    h = _filled(values)
    one = Distribution.of(h)
    qs = [0.0, 0.1, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0]
    assert one.percentiles_us(qs) == h.get_percentile_to_value_dict(qs)
    assert one.mean_us() == h.get_mean_value()
    assert math.isclose(one.stddev_us(), h.get_stddev(), rel_tol=1e-9, abs_tol=1e-9)
    assert sum(n for _, n in one.counts) == len(values)


def test_a_summary_block_is_what_hdrh_says_of_the_same_histogram():
    h = _filled(v * 997 for v in range(1, 2000))
    block = summary_ms(h)
    assert block["mean"] == round(h.get_mean_value() / 1000, 3)
    for key, q in SUMMARY_PERCENTILES.items():
        assert block[key] == round(h.get_value_at_percentile(q) / 1000, 3)


def test_buckets_of_a_histogram_whose_min_and_max_were_not_kept_are_all_read():
    h = _filled([5, 70_000])
    h.min_value, h.max_value = 60_000, 60_000  # as if filled without record()
    assert Distribution.of(h).percentiles_us([0.0, 100.0]) == {0.0: 5, 100.0: 70_015}


@_FEW
@given(_SPREAD)
@example([])
def test_the_hgrm_text_is_hdrhs_but_for_a_standard_deviation_in_ms(values):
    h = _filled(values)
    buf = io.BytesIO()
    h.output_percentile_distribution(buf, 1000.0)
    theirs, ours = buf.getvalue().splitlines(), percentile_distribution(h).splitlines()
    mean = [i for i, line in enumerate(theirs) if line.startswith(b"#[Mean")]
    assert [x for i, x in enumerate(theirs) if i not in mean] == [
        x for i, x in enumerate(ours) if i not in mean
    ]
    (at,) = mean
    assert ours[at] == b"#[Mean    = %12.3f, StdDeviation   = %12.3f]" % (
        h.get_mean_value() / 1000,
        h.get_stddev() / 1000,
    )
