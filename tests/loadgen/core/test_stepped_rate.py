"""A profile that takes steps while the run goes on: Λ and its inverse across them."""

import itertools
import math

import pytest

from loadgen.core.pacer import ConstantPacer
from loadgen.core.rates import ConstantRate, profile_from_description, ramp
from loadgen.core.stepped_rate import SteppedRate, check_rate


def test_without_a_step_it_is_its_base():
    p = SteppedRate(ramp(10, 50, 20))
    base = ramp(10, 50, 20)
    for t in (0, 3.3, 19.9, 25):
        assert p.rate(t) == base.rate(t) and p.arrivals(t) == base.arrivals(t)
    assert p.length == 20 and p.describe() == base.describe()


def test_steps_hold_their_rate_and_lambda_is_continuous_across_them():
    p = SteppedRate(ConstantRate(10))
    p.step(2.0, 100)
    p.step(3.0, 40)
    assert [p.rate(t) for t in (1.9, 2.0, 2.5, 3.0, 60)] == [10, 100, 100, 40, 40]
    assert p.arrivals(2.0) == pytest.approx(20)
    assert p.arrivals(3.0) == pytest.approx(120)
    assert p.arrivals(4.0) == pytest.approx(160)
    assert p.length is None  # the last step holds until the run's end


@pytest.mark.parametrize("n", [0.5, 19.999, 20, 20.001, 77.7, 120, 500])
def test_time_of_inverts_arrivals(n):
    p = SteppedRate(ramp(0, 20, 2.0))  # Λ(2) = 20
    p.step(2.0, 100)
    p.step(3.0, 40)
    assert p.arrivals(p.time_of(n)) == pytest.approx(n)


def test_an_even_schedule_changes_spacing_at_the_step():
    p = SteppedRate(ConstantRate(4))
    p.step(1.0, 10)
    times = list(itertools.islice(ConstantPacer(p).offsets(), 8))
    assert times == pytest.approx([0, 0.25, 0.5, 0.75, 1.0, 1.1, 1.2, 1.3])


def test_a_step_at_the_last_one_s_time_replaces_it_and_one_before_is_refused():
    p = SteppedRate(ConstantRate(4))
    p.step(1.0, 10)
    p.step(1.0, 20)
    assert p.steps == [(1.0, 20)]
    with pytest.raises(ValueError, match="before the last"):
        p.step(0.5, 30)


@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, 2e6])
def test_a_rate_that_is_none_is_refused_in_words(bad):
    with pytest.raises(ValueError, match=r"above 0|at most"):
        check_rate(bad)


def test_its_description_keeps_the_base_and_the_steps_and_is_not_run_again():
    p = SteppedRate(ConstantRate(50))
    p.step(2.7469, 150)
    desc = p.describe()
    assert desc == {"kind": "constant", "rps": 50, "steps": [{"at_s": 2.747, "rps": 150}]}
    with pytest.raises(ValueError, match="record"):
        profile_from_description(desc)
