"""What a run asked for: the target arrivals behind achieved/target and the timeline."""

import pytest

from loadgen.core.config import RunConfig
from loadgen.core.rates import ConstantRate, stages
from loadgen.core.results import MergedResult, RunResult
from loadgen.measure.recorder import Recorder
from loadgen.scenario import Scenario


def result(cls=RunResult, profile=None, warmup=0.0, shard=(0, 1), **kw):
    config = RunConfig("http://x", profile or ConstantRate(100), 10.0, Scenario, warmup=warmup)
    config.shard = shard
    return cls(config, Recorder(0.0), 0.0, 10.0, False, 1, **kw)


def test_the_target_is_the_profile_over_the_measured_window():
    assert result().target_arrivals == pytest.approx(1000)
    # Warm-up comes first: the measured window of a staged profile starts after it.
    staged = result(profile=stages([(2, 10), (10, 100)]), warmup=2.0)
    assert staged.expected_arrivals(0.0, 1.0) == pytest.approx(100)
    # A shard is asked its share.
    assert result(shard=(1, 4)).target_arrivals == pytest.approx(250)


def test_a_merged_run_is_asked_what_its_shards_were():
    merged = result(MergedResult, shard_target_arrivals=480.0, share=0.5)
    assert merged.target_arrivals == 480.0
    assert merged.expected_arrivals(0.0, 1.0) == pytest.approx(50)
