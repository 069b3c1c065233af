"""The block bootstrap: no more false alarms on noise than its level says, a real change found."""

import math
import random

import pytest

from loadgen.report.significance import (
    MIN_INTERVALS,
    Series,
    block_length,
    difference,
    small_sample_factor,
)

FAST = 400  # resamples: enough for these checks, and quick


def seconds(rng, n, level=50.0, noise=0.1, spike=0.0):
    """n per-second values around `level` (relative `noise`), with a rare spike."""
    values = [level * rng.lognormvariate(0, noise) for _ in range(n)]
    return Series([v * (1 + spike * (rng.random() < 0.05)) for v in values], [1.0] * n)


def test_two_runs_of_the_same_service_are_rarely_told_apart():
    rng = random.Random(1)
    pairs = [(seconds(rng, 30, spike=2), seconds(rng, 30, spike=2)) for _ in range(120)]
    alarms = sum(bool(difference(a, b, resamples=FAST).significant) for a, b in pairs)
    # A 95 % interval leaves 0 out of about 5 % of such pairs.
    assert alarms <= 0.1 * 120, alarms


def test_seconds_that_drift_together_do_not_make_a_change_out_of_noise():
    """A slow drift (one busy stretch) spans many seconds: the blocks keep it whole."""
    rng = random.Random(2)

    def drifting():
        level, values = 50.0, []
        for _ in range(40):
            level = 50 + 0.8 * (level - 50) + rng.gauss(0, 3)
            values.append(level)
        return Series(values, [1.0] * 40)

    alarms = sum(
        bool(difference(drifting(), drifting(), resamples=FAST).significant) for _ in range(120)
    )
    assert alarms <= 0.2 * 120, alarms


def test_a_service_30_percent_slower_is_found_with_its_change_in_the_interval():
    rng = random.Random(3)
    d = difference(seconds(rng, 20), seconds(rng, 20, level=65.0), resamples=FAST)
    assert d.significant and d.p < 0.01
    low, high = d.relative_interval
    assert low < 0.3 < high and low > 0.15
    assert d.interval[0] < d.change < d.interval[1]


def test_a_value_is_the_ratio_of_sums():
    # Errors per request: 3 of 200, not the mean of the per-second shares.
    assert Series([0, 3, 0], [100, 50, 50]).value == 3 / 200
    assert Series([], []).value is None
    assert difference(Series([], []), Series([1.0], [1.0])) is None


def test_no_change_at_all_is_no_evidence_of_one():
    flat = Series([0.0] * 10, [50.0] * 10)  # no errors in any second of either run
    d = difference(flat, flat)
    assert d.change == 0 and d.p == 1.0 and d.significant is False
    assert d.relative is None  # relative to a baseline of 0: none


def test_too_few_intervals_say_so_and_never_guess():
    few = Series([1.0] * (MIN_INTERVALS - 1), [1.0] * (MIN_INTERVALS - 1))
    d = difference(few, Series([2.0] * 10, [1.0] * 10))
    assert d.change == 1.0 and d.significant is None and d.p is None


def test_the_same_runs_give_the_same_answer_every_time():
    rng = random.Random(4)
    a, b = seconds(rng, 25), seconds(rng, 25, level=52.0)
    assert difference(a, b) == difference(a, b)
    assert difference(a, b, seed=1) != difference(a, b)


@pytest.mark.parametrize(("n", "length"), [(1, 1), (5, 1), (30, 3), (60, 4), (600, 8), (3600, 15)])
def test_independent_seconds_are_drawn_in_blocks_of_the_cube_root(n, length):
    rng = random.Random(5)
    assert block_length(Series([rng.random() for _ in range(n)], [1.0] * n)) in (length, length + 1)


def test_seconds_that_drift_together_are_drawn_in_longer_blocks():
    wave = [50 + 10 * math.sin(i / 5) for i in range(60)]  # lag-1 autocorrelation about 0.98
    assert block_length(Series(wave, [1.0] * 60)) == 19  # τ at the most: (1 + 0.9) / (1 - 0.9)


def test_few_blocks_widen_the_interval_as_a_t_test_would():
    # Exactly t(m - 1) / z · √(m / (m - 1)): 2.69 for 3 blocks (t(2) = 4.303), 1.217 for 10.
    assert small_sample_factor(3) == pytest.approx(2.69, abs=0.2)
    assert small_sample_factor(10) == pytest.approx(1.217, abs=0.005)
    assert small_sample_factor(1000) == pytest.approx(1.0, abs=0.002)
