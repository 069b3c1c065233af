"""What a run asked for: the target behind achieved/target, and each second's target."""

import pytest

from loadgen.core.config import RunConfig
from loadgen.core.rates import ConstantRate, stages
from loadgen.core.results import MergedResult, RunResult
from loadgen.measure.recorder import Recorder
from loadgen.scenario import Scenario


def result(cls=RunResult, profile=None, warmup=0.0, shard=(0, 1), arrivals=1000, **kw):
    config = RunConfig("http://x", profile or ConstantRate(100), 10.0, Scenario, warmup=warmup)
    config.shard = shard
    rec = Recorder(0.0)
    rec.arrivals = arrivals
    return cls(config, rec, 0.0, 10.0, False, 1, **kw)


def test_the_target_is_what_was_planned_sent_or_not():
    assert result().target_arrivals == 1000  # every planned arrival sent: met exactly
    assert result(arrivals=900, unsent=100).target_arrivals == 1000


def test_each_second_is_asked_the_profile_after_the_warmup_for_this_shard():
    staged = result(profile=stages([(2, 10), (10, 100)]), warmup=2.0)
    assert staged.expected_arrivals(0.0, 1.0) == pytest.approx(100)
    assert result(shard=(1, 4)).expected_arrivals(0.0, 10.0) == pytest.approx(250)
    merged = result(MergedResult, share=0.5)  # half the shards came back
    assert merged.expected_arrivals(0.0, 1.0) == pytest.approx(50)
