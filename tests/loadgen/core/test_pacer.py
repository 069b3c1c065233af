import itertools
import statistics

import pytest

from loadgen.core.pacer import ConstantPacer, PoissonPacer, make_pacer
from loadgen.core.rates import ConstantRate


def take(pacer, n):
    return list(itertools.islice(pacer.offsets(), n))


def test_constant_schedule_is_exactly_evenly_spaced():
    assert take(ConstantPacer(ConstantRate(4)), 5) == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_constant_shards_interleave_into_one_even_schedule():
    rate = ConstantRate(100)
    shards = [ConstantPacer(rate, phase=i, stride=3) for i in range(3)]
    union = sorted(t for s in shards for t in take(s, 100))
    assert union == pytest.approx(take(ConstantPacer(rate), 300))


def test_poisson_counts_have_poisson_mean_and_dispersion():
    rate, windows = 50.0, 2000
    counts = [0] * windows
    for t in PoissonPacer(ConstantRate(rate), seed=7).offsets():
        if t >= windows:
            break
        counts[int(t)] += 1
    mean = statistics.fmean(counts)
    dispersion = statistics.pvariance(counts) / mean
    assert mean == pytest.approx(rate, rel=0.02)
    assert dispersion == pytest.approx(1.0, abs=0.1)  # 1 for Poisson, 0 for constant


def test_poisson_is_repeatable_for_a_seed():
    a = take(PoissonPacer(ConstantRate(10), seed=1), 50)
    b = take(PoissonPacer(ConstantRate(10), seed=1), 50)
    c = take(PoissonPacer(ConstantRate(10), seed=2), 50)
    assert a == b != c
    assert a == sorted(a)


def test_make_pacer_rejects_unknown_arrival():
    with pytest.raises(ValueError, match="unknown arrival"):
        make_pacer("bursty", ConstantRate(1))


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan")])
def test_constant_rate_must_be_positive_and_finite(bad):
    with pytest.raises(ValueError):
        ConstantRate(bad)


def test_make_pacer_shards_constant_schedules_by_phase_and_stride():
    rate = ConstantRate(90)
    union = sorted(
        t for i in range(3) for t in take(make_pacer("constant", rate, shard=(i, 3)), 30)
    )
    assert union == pytest.approx(take(make_pacer("constant", rate), 90))


def test_poisson_shards_are_independent_and_superpose_to_the_rate():
    rate = ConstantRate(100)
    shards = [make_pacer("poisson", rate, seed=5, shard=(i, 4)) for i in range(4)]
    first = [take(s, 20) for s in shards]
    assert len({tuple(f) for f in first}) == 4  # independent streams
    horizon = 200.0
    total = 0
    for s in shards:
        for t in s.offsets():
            if t >= horizon:
                break
            total += 1
    assert total / horizon == pytest.approx(100, rel=0.03)


@pytest.mark.parametrize("shard", [(3, 3), (-1, 2)])
def test_make_pacer_rejects_missing_shards(shard):
    with pytest.raises(ValueError, match="shard"):
        make_pacer("constant", ConstantRate(1), shard=shard)


def test_offsets_after_a_time_are_the_schedule_s_remaining_slots():
    pacer = ConstantPacer(ConstantRate(10), phase=1, stride=2)
    whole = take(pacer, 20)
    rest = list(itertools.islice(pacer.offsets(after=0.75), 5))
    assert rest == pytest.approx([t for t in whole if t >= 0.75][:5])


def test_poisson_offsets_after_a_time_start_there_at_the_rate():
    pacer = PoissonPacer(ConstantRate(100), seed=3)
    after = list(itertools.takewhile(lambda t: t < 101, pacer.offsets(after=1.0)))
    assert min(after) >= 1.0
    assert len(after) == pytest.approx(100 * 100, rel=0.05)
