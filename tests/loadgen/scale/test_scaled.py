"""One run, here or scaled out: how a run is split, and what comes back either way."""

import time

import pytest

from loadgen.core.config import RunConfig
from loadgen.core.rates import ConstantRate
from loadgen.report.summary_contract import RunInfo
from loadgen.scale.errors import ShardsLost
from loadgen.scale.scaled import Scale, run_scaled
from loadgen.scale.shard import read_state
from loadgen.scenario.loading import load_scenario
from tests.support.cli import ROOT
from tests.support.http_server import OK, replying, server_thread

SCENARIOS = ROOT / "tests/support/scenarios.py"
RPS = 40  # evenly spaced: 40 arrivals a second


@pytest.fixture(scope="module")
def target():
    with server_thread(replying(OK)) as url:
        yield url


def config_of(target, seconds, name="Get"):
    spec = f"{SCENARIOS}:{name}"
    return RunConfig(target, ConstantRate(RPS), seconds, load_scenario(spec), seed=3), spec


@pytest.mark.parametrize(
    ("scale", "spread", "meta"),
    [
        (Scale(None, None, (0, 1), None), False, {}),
        (Scale(1, None, (0, 1), None), False, {"processes": 1}),
        (Scale(4, None, (0, 1), None), True, {"processes": 4}),
        (Scale(None, "tcp://sched:8786", (0, 1), None), True, {"dask": "tcp://sched:8786"}),
        (Scale(3, "tcp://sched:8786", (0, 1), None), True, {"dask": "tcp://sched:8786"}),
        (
            Scale(None, None, (2, 5), 1_900_000_000.0),
            False,  # one shard runs here: the others run elsewhere, merged later
            {"shard": {"index": 2, "count": 5}, "start_at_epoch": 1_900_000_000.0},
        ),
    ],
)
def test_how_a_run_is_split_and_what_summary_json_says_of_it(scale, spread, meta):
    assert scale.spread is spread
    assert scale.meta() == meta
    assert set(meta) <= RunInfo.__annotations__.keys()  # summary.json's `run` fields


@pytest.mark.alone  # counts every arrival of a short run
def test_a_run_here_is_one_engine_s_and_says_nothing_of_shards(target, tmp_path):
    config, spec = config_of(target, 1.2)
    ticks = []
    run = run_scaled(Scale(None, None, (0, 1), None), config, spec, {}, ticks.append)
    assert run.result.recorder.arrivals == 48
    assert run.result.recorder.tasks["get"].requests == 48
    assert run.merged is None and run.job is None
    assert run.meta() == {} and run.notes == [] and run.warnings == []
    assert not run.shards_lost
    # Each second closed while it runs reaches the progress line, as a tick.
    assert [t["second"] for t in ticks] == [1] and ticks[0]["total_arrivals"] == RPS
    run.write(tmp_path)  # a whole run has no shard state to leave
    assert list(tmp_path.iterdir()) == []


@pytest.mark.alone  # counts every arrival of a short run
def test_one_shard_of_several_sends_its_share_and_leaves_its_state(target, tmp_path):
    config, spec = config_of(target, 0.5)
    start = time.time() + 0.3
    run = run_scaled(Scale(None, None, (1, 2), start), config, spec, {"label": "x"})
    assert config.shard == (1, 2) and config.start_at == start
    assert run.result.recorder.arrivals == 10  # every other slot of the schedule's 20
    assert run.result.started_at == pytest.approx(start, abs=0.01)
    assert run.job is not None and (run.job.index, run.job.count) == (1, 2)
    assert run.job.meta == {"label": "x"} and run.merged is None
    run.write(tmp_path)
    state = read_state(tmp_path)  # what `loadgen merge` reads
    assert state["job"]["index"] == 1 and state["job"]["start_at"] == start
    assert state["recorder"]["arrivals"] == 10


@pytest.mark.slow
@pytest.mark.alone
def test_shards_spread_over_processes_come_back_merged(target):
    config, spec = config_of(target, 1.2)
    ticks = []
    run = run_scaled(Scale(2, None, (0, 1), None), config, spec, {}, ticks.append)
    assert run.merged is not None and run.job is None
    assert run.result.recorder.arrivals == 48  # both halves, merged exactly
    assert run.meta()["shard_count"] == 2 and run.meta()["missing_shards"] == []
    assert not run.shards_lost and run.warnings == []
    # The shards' first seconds, added up into one tick.
    assert [t["second"] for t in ticks] == [1] and ticks[0]["total_arrivals"] == RPS


@pytest.mark.slow
def test_a_run_whose_every_shard_is_lost_has_nothing_to_report(target):
    config, spec = config_of(target, 1.0, "EveryShardFails")
    with pytest.raises(ShardsLost, match="every shard was lost") as lost:
        run_scaled(Scale(2, None, (0, 1), None), config, spec, {})
    assert "shard 0: worker failed" in str(lost.value) and "shard 1: " in str(lost.value)
