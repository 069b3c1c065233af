"""The capacity search against simulated targets with known limits."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadgen.commands.capacity_search import (
    FAIL,
    FLOOR_RPS,
    PASS,
    SATURATED,
    Capacity,
    Level,
    search,
)


def target(limit: float, generator_max: float = float("inf")):
    calls = []

    def measure(rps: float) -> Level:
        # A clear server failure (errors) counts even when the generator lags;
        # a level that would pass is void when the generator could not keep up.
        calls.append(rps)
        if rps > limit:
            return Level(rps, FAIL, ["errors 12% >= 1%"])
        if rps > generator_max:
            return Level(rps, SATURATED, ["send-lag p99 3 ms > 1 ms"])
        return Level(rps, PASS)

    return measure, calls


@given(
    limit=st.floats(min_value=1, max_value=50_000),
    start=st.floats(min_value=0.5, max_value=100),
    precision=st.sampled_from([0.01, 0.05, 0.2]),
)
def test_finds_a_known_limit_within_the_stated_precision(limit, start, precision):
    measure, calls = target(limit)
    result = search(measure, start, factor=2, precision=precision, max_rps=1e6)
    assert result.found  # below the first level too: the search goes down
    assert result.sustained <= limit < result.failed
    assert result.failed - result.sustained <= precision * result.sustained
    assert len(calls) < 60


def test_ladder_then_bisection_levels():
    measure, calls = target(limit=300)
    result = search(measure, start=50, factor=2, precision=0.1)
    assert calls[:5] == [50, 100, 200, 400, 300]
    assert result.sustained == 300 and result.failed == 325
    assert "sustains 300/s" in result.describe()


def test_a_first_level_failing_sends_the_search_down_until_one_passes():
    measure, calls = target(limit=3)
    result = search(measure, start=20, precision=0.1)
    assert calls[:4] == [20, 10, 5, 2.5]  # halved until one passes, then bisected
    assert result.sustained is not None and result.sustained <= 3 < result.failed
    assert result.failed - result.sustained <= 0.1 * result.sustained


def test_none_passing_down_to_the_floor_says_so():
    measure, calls = target(limit=0.01)
    result = search(measure, start=1)
    assert calls == [1, 0.5, 0.25, 0.125, FLOOR_RPS]  # the floor, tried last
    assert not result.found and result.sustained is None and result.lowest_tried == FLOOR_RPS
    assert result.describe().startswith("no level passed, down to 0.1/s (the search's floor, ")


def test_a_level_out_of_reach_ends_the_search_down():
    """A task slower than the SLO even alone: every lower level would fail as well."""
    calls = []

    def measure(rps):
        calls.append(rps)
        return Level(rps, FAIL, ["p99<=100ms"], out_of_reach=rps < 5)

    result = search(measure, start=20)
    assert calls == [20, 10, 5, 2.5]
    assert result.out_of_reach and result.sustained is None and result.lowest_tried == 2.5
    assert result.describe().startswith("no rate meets the SLO: every level failed down to 2.5/s")


def test_generator_saturation_is_reported_not_mistaken_for_the_limit():
    measure, calls = target(limit=10_000, generator_max=1500)
    result = search(measure, start=100)
    assert result.saturated_at == 1600
    assert result.sustained == 800 and not result.found
    assert "generator saturated at 1600/s" in result.describe()
    assert calls[-1] == 1600  # stopped there


def test_saturation_during_bisection_keeps_the_bracket():
    measure, _ = target(limit=1000, generator_max=900)
    result = search(measure, start=100, factor=4)  # 100, 400, 1600 fails, then 1000 saturates
    assert result.saturated_at == 1000 and result.sustained == 400 and result.failed == 1600


def test_no_limit_below_max_rps():
    measure, calls = target(limit=1e9)
    result = search(measure, start=10, max_rps=100)
    assert calls == [10, 20, 40, 80, 100]
    assert result.sustained == 100 and result.failed is None
    assert "no limit found up to 100/s" in result.describe()


@pytest.mark.parametrize("kwargs", [{"start": 0}, {"factor": 1}, {"precision": 0}, {"max_rps": 1}])
def test_bad_parameters(kwargs):
    args = {"start": 10, "factor": 2, "precision": 0.05, "max_rps": 100} | kwargs
    with pytest.raises(ValueError):
        search(target(1)[0], **args)


def noisy_target(verdicts: dict[float, list[str]], limit: float):
    """A target whose verdict at a rate comes from `verdicts[rate]` in turn (a noisy
    machine), else pass below `limit` and fail above."""
    calls = []

    def measure(rps: float) -> Level:
        calls.append(rps)
        queued = verdicts.get(rps)
        verdict = queued.pop(0) if queued else (PASS if rps <= limit else FAIL)
        return Level(rps, verdict)

    return measure, calls


def test_each_end_of_the_bracket_is_run_again_and_a_steady_answer_says_so():
    measure, calls = target(limit=300)
    result = search(measure, start=50, factor=2, precision=0.1)
    assert calls[-2:] == [325, 300]  # the bracket's ends, once more each
    assert result.sustained == 300 and result.failed == 325 and not result.noisy
    assert "300/s passed 2 of 2 runs, 325/s failed 2 of 2" in result.describe()


def test_a_w_shaped_search_retests_around_the_limit_and_says_how_sure_it_is():
    # A busy machine: 1 600/s failed once (p99 58 ms), then passed; 2 000/s passed
    # once then failed; the true limit is near 2 000/s.
    measure, calls = noisy_target({1600.0: [FAIL, PASS], 3200.0: [FAIL]}, limit=1900)
    result = search(measure, start=100, factor=2, precision=0.05)
    # ladder 100 … 1 600 fails; bisection within [800, 1 600); then the re-runs
    assert calls[:5] == [100, 200, 400, 800, 1600]
    assert result.noisy and result.noisy[0][0] == 1600.0
    assert result.sustained is not None and result.sustained < 1600
    assert result.failed == 1600.0  # failed once: it bounds the limit, noisily
    said = result.describe()
    assert "1600/s failed 1 of 2" in said
    assert "noisy between them (1600/s passed 1 of 2)" in said
    assert "a busy machine, or a limit right there" in said


def test_a_level_run_again_keeps_its_files_beside_the_first_runs(tmp_path):
    from loadgen.commands.capacity import level_dir

    first = level_dir(tmp_path, 1250.0)
    assert first == tmp_path / "levels" / "1250.0rps"
    first.mkdir(parents=True)
    second = level_dir(tmp_path, 1250.0)
    assert second.name == "1250.0rps-2"
    second.mkdir()
    assert level_dir(tmp_path, 1250.0).name == "1250.0rps-3"


def test_min_rps_at_the_first_level_keeps_the_search_from_going_down():
    measure, calls = target(limit=5)
    result = search(measure, start=10, min_rps=10)
    assert calls == [10] and result.sustained is None and result.lowest_tried is None
    assert "even the first level (10/s) failed: the limit is below it" in result.describe()


def test_saturation_says_why_loadgen_fell_behind_as_the_level_diagnosed_it():
    shared = {
        "finding": "generator_saturated",
        "summary": "loadgen shared the machine with the server, and fell behind",
        "advice": "run loadgen on another machine",
    }
    levels = [Level(5, PASS), Level(10, SATURATED, [], {"diagnosis": [shared]})]
    said = Capacity(levels, 5, None, saturated_at=10).describe()
    assert said.endswith(
        "failed; the target sustained at least 5/s: loadgen shared the machine with the "
        "server, and fell behind — run loadgen on another machine"
    )
    assert "--processes" in Capacity(levels[:1], 5, None, saturated_at=10).describe()


def test_a_lone_pass_that_failed_when_run_again_is_said_as_noise():
    verdicts = {20: [FAIL], 10: [PASS, FAIL, FAIL], 15: [FAIL, FAIL]}
    calls = []

    def measure(rps):
        calls.append(rps)
        return Level(rps, verdicts[rps].pop(0))

    result = search(measure, start=20, precision=0.5)
    assert calls == [20, 10, 15, 15, 10, 10]
    assert result.sustained is None and not result.found
    assert result.describe().startswith("no rate passed every run (10/s passed 1 of 3")


def test_a_first_level_out_of_reach_at_the_floor_says_no_rate_meets_the_slo():
    result = search(lambda rps: Level(rps, FAIL, [], out_of_reach=True), start=2, min_rps=2)
    assert result.out_of_reach and result.lowest_tried == 2
    assert result.describe().startswith("no rate meets the SLO: every level failed down to 2/s")


@pytest.mark.parametrize(
    ("by_kind", "up"), [({"connect": 40}, True), ({"protocol": 40}, False), ({"reset": 9}, False)]
)
def test_a_level_answered_nothing_asks_if_the_target_is_up_only_when_it_was_not_reached(
    by_kind, up
):
    levels = [Level(10, PASS), Level(20, FAIL, summary={"errors": {"by_kind": by_kind}})]
    said = Capacity.unanswered(levels).describe()
    assert said.startswith("no answer: the target answered nothing at 20/s (")
    assert ("is the target up?" in said) is up, said
    assert up or "took the connections but gave no complete answer" in said
