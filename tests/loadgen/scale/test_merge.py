"""The exact merge of shard states: counters and histograms add, what is missing is said."""

import pytest

from loadgen.core.results import MergedResult
from loadgen.measure.histogram import new_histogram
from loadgen.report.summary import build_summary
from loadgen.report.summary_contract import RunInfo
from loadgen.scale.merge import merge_states
from tests.support.shard_states import job, latencies, recorder, state


def test_merging_shards_adds_counters_and_histograms_exactly():
    a_vals, b_vals = [latencies(100, 4), latencies(90, 5)], [latencies(100, 6), latencies(110, 7)]
    a = recorder(a_vals, errors=["timeout"])
    b = recorder(b_vals, errors=["connect", "timeout"])
    everything = recorder([a_vals[0] + b_vals[0], a_vals[1] + b_vals[1]])
    merged = merge_states([state(job(0, 2), a), state(job(1, 2), b)])
    rec = merged.result.recorder
    assert merged.warnings == [] and merged.missing == []
    assert rec.arrivals == 400
    assert rec.tasks["get"].requests == 400 + 3
    assert rec.tasks["get"].errors == {"timeout": 2, "connect": 1}
    for kind in ("response", "service"):
        assert rec.total(kind).equals(everything.total(kind))
    assert rec.send_lag.equals(everything.send_lag)
    assert rec.max_in_flight == 2  # each shard had 1 at a time: an upper bound
    # Intervals merge by position, histogram by histogram.
    assert [iv.arrivals for iv in rec.intervals] == [200, 200]
    for mine, whole in zip(rec.intervals, everything.intervals, strict=True):
        for tag, payload in whole.histograms.items():
            h = new_histogram()
            h.decode_and_add(mine.histograms[tag])
            w = new_histogram()
            w.decode_and_add(payload)
            assert h.equals(w)
            assert mine.maxima[tag] == whole.maxima[tag]
    result = merged.result
    assert isinstance(result, MergedResult)
    assert result.connections_opened == 6
    # What the shards planned, all of it sent: the target is met exactly.
    assert result.target_arrivals == 400 and result.unsent == 0
    summary = build_summary(result, merged.meta())
    assert summary["requests"] == 403
    assert summary["target_rps"] == summary["achieved_rps"] == 200
    assert summary["run"]["shard_count"] == 2
    assert [s["arrivals"] for s in summary["run"]["shards"]] == [190, 210]


def test_a_missing_shard_is_reported_with_its_share_and_the_rest_kept():
    a = recorder([latencies(100, 8)])
    merged = merge_states([state(job(0, 3), a)], lost={2: "worker process 9 exited with status 3"})
    assert merged.missing == [1, 2]
    assert merged.meta()["missing_share"] == pytest.approx(2 / 3)
    assert set(merged.meta()) <= RunInfo.__annotations__.keys()  # summary.json's `run` fields
    assert merged.result.recorder.arrivals == 100
    assert merged.shards[2] == {
        "index": 2,
        "status": "missing",
        "reason": "worker process 9 exited with status 3",
    }
    assert any("shard 1/3 is missing" in w and "1/3 of the arrivals" in w for w in merged.warnings)
    # The target covers the shard that reported: it did not fall behind.
    assert merged.result.target_arrivals == 100
    # The timeline's per-second target is the present shards' share of the profile.
    assert merged.result.expected_arrivals(0.0, 1.0) == pytest.approx(100 / 3)


def test_arrivals_a_shard_never_sent_add_up_into_the_target():
    a = state(job(0, 2), recorder([latencies(100, 1)]), unsent=20)
    b = state(job(1, 2), recorder([latencies(90, 2)]), unsent=5)
    result = merge_states([a, b]).result
    assert result.unsent == 25 and result.target_arrivals == 190 + 25
    summary = build_summary(result, {})
    assert summary["generator"]["unsent"] == 25 and summary["generator"]["behind"]


def test_overlapping_and_foreign_shards_are_warned_about():
    a = recorder([latencies(50, 9)])
    dup = merge_states(
        [state(job(0, 2), a), state(job(0, 2), a), state(job(1, 2), a)], labels=["x", "y", "z"]
    )
    assert dup.result.recorder.arrivals == 100  # the duplicate is not counted twice
    assert any("appears twice (x and y)" in w for w in dup.warnings)

    other = merge_states(
        [state(job(0, 2), a), state(job(1, 2, duration=5.0), a)], labels=["x", "z"]
    )
    assert any("different runs" in w and "z" in w for w in other.warnings)

    sizes = merge_states([state(job(0, 2), a), state(job(1, 3), a)])
    assert any("split different ways" in w for w in sizes.warnings)

    # Different seeds and start times are still one run (pods without --seed/--start-at).
    later = state(job(1, 2, seed=2, start_at=1003.0), a, started_at=1003.0)
    same = merge_states([state(job(0, 2, seed=1), a), later])
    assert same.warnings == []
    assert any("3.0 s apart" in n for n in same.notes)


def test_a_missing_shard_s_share_of_the_asked_rate_is_said_first():
    merged = merge_states([state(job(0, 2), recorder([latencies(200, 3)]))])  # job: 100/s
    meta = merged.meta()
    assert meta["asked_rps"] == pytest.approx(100.0) and meta["lost_rps"] == pytest.approx(50.0)
    assert set(meta) <= RunInfo.__annotations__.keys()
    assert merged.warnings[0].startswith("asked 100.0/s; 50.0/s of it was lost with 1 of 2 shards")
    whole = merge_states([state(job(i, 2), recorder([latencies(100, i)])) for i in range(2)])
    assert "asked_rps" not in whole.meta() and whole.warnings == []
