"""Shard states: JSON round trips, and merges that are exact, not approximate."""

import json

import pytest

from loadgen.core.config import RunConfig
from loadgen.core.rates import ConstantRate, profile_from_description, ramp
from loadgen.core.results import MergedResult
from loadgen.measure.histogram import new_histogram, record
from loadgen.measure.recorder import Recorder
from loadgen.report.summary import build_summary
from loadgen.scale.merge import merge_states
from loadgen.scale.shard import ShardJob, read_state, write_state
from tests.support.scenarios import Get
from tests.support.shard_states import job, latencies, recorder, state


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


def test_recorder_state_round_trips_through_json():
    rec = recorder([latencies(300, 2), latencies(200, 3)], errors=["timeout", "http_503"])
    rec.exception("get", RuntimeError("boom"))
    back = Recorder.from_state(json.loads(json.dumps(rec.to_state())))
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
    # Each shard was asked for half of 100/s over 2 s.
    assert result.target_arrivals == pytest.approx(200)
    summary = build_summary(result, merged.meta())
    assert summary["requests"] == 403
    assert summary["target_rps"] == pytest.approx(100)
    assert summary["run"]["shard_count"] == 2
    assert [s["arrivals"] for s in summary["run"]["shards"]] == [190, 210]


def test_a_missing_shard_is_reported_with_its_share_and_the_rest_kept():
    a = recorder([latencies(100, 8)])
    merged = merge_states([state(job(0, 3), a)], lost={2: "worker process 9 exited with status 3"})
    assert merged.missing == [1, 2]
    assert merged.meta()["missing_share"] == pytest.approx(2 / 3)
    assert merged.result.recorder.arrivals == 100
    assert merged.shards[2] == {
        "index": 2,
        "status": "missing",
        "reason": "worker process 9 exited with status 3",
    }
    assert any("shard 1/3 is missing" in w and "1/3 of the arrivals" in w for w in merged.warnings)
    # The target covers the shard that reported: it did not fall behind.
    assert merged.result.target_arrivals == pytest.approx(100 * 2.0 / 3)


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


def test_state_files_and_profiles_round_trip(tmp_path):
    s = state(job(1, 2, profile=ramp(10, 50, 2.0).describe()), recorder([latencies(10, 10)]))
    write_state(tmp_path, s)
    assert read_state(tmp_path) == s
    assert profile_from_description(s["job"]["profile"]).arrivals(2.0) == pytest.approx(60)
    assert profile_from_description(ConstantRate(5).describe()).rate(1.0) == 5
    (tmp_path / "shard-state.json").write_text('{"schema": "something else"}')
    with pytest.raises(ValueError, match="not a loadgen shard state"):
        read_state(tmp_path)


def test_a_job_carries_a_file_scenario_to_where_the_file_is_not(tmp_path):
    scenario_file = tmp_path / "my_mix.py"
    scenario_file.write_text(
        "from loadgen.scenario import Scenario, task\n"
        "class Mix(Scenario):\n"
        "    @task(2)\n"
        "    async def home(self, s):\n"
        "        await s.get('/')\n"
    )
    config = RunConfig(target="http://x", profile=ConstantRate(1), duration=1.0, scenario=Get)
    shipped = ShardJob.from_config(config, f"{scenario_file}:Mix", {})
    scenario_file.unlink()  # as on another machine
    again = ShardJob.from_dict(json.loads(json.dumps(shipped.to_dict())))
    assert again.load_scenario().task_weights() == {"home": 2}


def test_loading_a_shipped_scenario_leaves_no_temporary_directory(tmp_path, monkeypatch):
    import tempfile

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    source = "from loadgen.scenario import Scenario, task\nclass Mix(Scenario):\n" \
        "    @task(1)\n    async def home(self, s):\n        await s.get('/')\n"  # fmt: skip
    config = RunConfig(target="http://x", profile=ConstantRate(1), duration=1.0, scenario=Get)
    path = tmp_path / "mix.py"
    path.write_text(source)
    job = ShardJob.from_config(config, f"{path}:Mix", {})
    path.unlink()  # as on another machine: the job carries the source
    for _ in range(3):  # one load per shard
        assert job.load_scenario().task_weights() == {"home": 1}
    assert list(temp.iterdir()) == []
