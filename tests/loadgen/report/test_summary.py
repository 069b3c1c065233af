"""build_summary on synthetic runs: the per-second timeline against the rate profile."""

import pytest

from loadgen.core.results import RunResult
from loadgen.report.summary import build_summary
from tests.support.shard_states import job, recorder


def test_timeline_target_is_the_profile_per_second_and_nothing_during_the_drain():
    # 100/s for 2 s, then a 3-second drain (requests stuck until their timeout):
    # the ticker keeps closing one-second intervals while they finish.
    rec = recorder([[0.001] * 100, [0.001] * 100, [], [], [2.5]])
    config = job(0, 1, profile={"kind": "constant", "rps": 100.0}, duration=2.0).config()
    result = RunResult(config, rec, 1000.0, 2.0, False, 1, ["get"])
    timeline = build_summary(result, {})["timeline"]
    assert [iv["t"] for iv in timeline] == [0, 1, 2, 3, 4]
    assert [iv["target"] for iv in timeline] == [100, 100, 0, 0, 0]
    assert [iv["arrivals"] for iv in timeline] == [100, 100, 0, 0, 1]


def test_timeline_target_of_a_shard_is_its_share():
    rec = recorder([[0.001] * 25, [0.001] * 25])
    config = job(1, 4, profile={"kind": "constant", "rps": 100.0}, duration=2.0).config()
    result = RunResult(config, rec, 1000.0, 2.0, False, 1, ["get"])
    assert [iv["target"] for iv in build_summary(result, {})["timeline"]] == [
        pytest.approx(25),
        pytest.approx(25),
    ]


def test_retries_are_said_and_warned_of_above_one_percent():
    from loadgen.report.summary import retries_note

    assert retries_note({"requests": 1000, "retries": 0}) is None
    text, warn = retries_note({"requests": 1000, "retries": 5})
    assert "5 requests (0.50%) were sent a second time" in text and not warn
    assert retries_note({"requests": 1000, "retries": 20})[1] is True
