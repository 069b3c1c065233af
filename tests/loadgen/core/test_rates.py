"""Rate profiles: the schedules pacers draw from them follow the integral of r(t)."""

import itertools
import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from loadgen.core.pacer import ConstantPacer, PoissonPacer
from loadgen.core.rates import ConstantRate, Piecewise, Segment, ramp, stages, wagon_ladder

rates = st.floats(min_value=0, max_value=1000, allow_nan=False)
segments = st.lists(
    st.builds(Segment, st.floats(min_value=0.1, max_value=100), rates, rates),
    min_size=1,
    max_size=6,
).filter(lambda segs: any(s.start or s.end for s in segs))


@given(segments, st.floats(min_value=0, max_value=1))
@example([Segment(1.0, 0.0, 3.9429883235557023e-115)], 3.9429883235557023e-115)  # underflow
def test_inverse_of_the_integral_round_trips(segs, fraction):
    p = Piecewise(segs)
    n = fraction * p.arrivals(p.length)
    t = p.time_of(n)
    if n < p.arrivals(p.length):
        assert p.arrivals(t) == pytest.approx(n, rel=1e-6, abs=1e-6)
        # ... and it is the earliest such time: just before it, fewer are due.
        assert p.arrivals(max(t - 1e-6, 0)) <= n + 1e-6


@given(segments)
def test_integral_matches_the_rate_curve_numerically(segs):
    # Midpoint sums within each segment (exact for a linear rate), so this
    # checks Λ against r(t) everywhere, boundaries included.
    p = Piecewise(segs)
    t0, total = 0.0, 0.0
    for seg in segs:
        dt = seg.duration / 50
        total += sum(p.rate(t0 + (i + 0.5) * dt) for i in range(50)) * dt
        t0 += seg.duration
        assert p.arrivals(t0) == pytest.approx(total, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize(
    "profile",
    [ramp(10, 500, 60), ramp(400, 20, 30), stages([(5, 100), (5, 0), (10, 250)]), wagon_ladder()],
    ids=["ramp-up", "ramp-down", "stages-with-gap", "wagon-ladder"],
)
def test_constant_schedule_counts_equal_the_integral(profile):
    """#{n : tₙ ≤ t} = ⌊Λ(t)⌋ + 1 at every t inside the profile."""
    times = list(itertools.takewhile(math.isfinite, ConstantPacer(profile).offsets()))
    assert times == sorted(times)
    assert len(times) == math.ceil(profile.arrivals(profile.length))
    for k in range(1, 50):
        t = profile.length * k / 50
        due = sum(1 for x in times if x <= t)
        assert due == pytest.approx(math.floor(profile.arrivals(t)) + 1, abs=1)


def test_poisson_schedule_follows_a_ramp():
    profile = ramp(0, 400, 100)  # Λ(t) = 2 t²
    times = list(PoissonPacer(profile, seed=3).offsets())
    assert len(times) == pytest.approx(profile.arrivals(100), rel=0.03)
    first_half = sum(1 for t in times if t < 50)
    assert first_half == pytest.approx(profile.arrivals(50), rel=0.05)  # a quarter of them


def test_stages_hold_each_rate():
    p = stages([(10, 100), (20, 0), (10, 50)])
    assert [p.rate(t) for t in (0, 9.9, 15, 35, 40)] == [100, 100, 0, 50, 0]
    assert p.length == 40 and p.arrivals(40) == 1500
    assert p.time_of(1000) == 10  # the last arrival of the first stage
    assert p.time_of(1000.5) == pytest.approx(30.01)  # the gap is skipped


def test_wagon_ladder_is_the_exercise_ladder_as_rates():
    p = wagon_ladder(hold=30)
    holds = [p.rate(t) for t in (15, 55, 100, 140)]
    assert holds == pytest.approx([1 / 3, 10 / 3, 50 / 3, 100 / 3])
    assert p.describe()["kind"] == "wagon-ladder"


@pytest.mark.parametrize(
    "segs",
    [[], [Segment(0, 1, 1)], [Segment(1, -1, 1)], [Segment(1, 0, 0)], [Segment(1, math.inf, 1)]],
)
def test_invalid_profiles_are_refused(segs):
    with pytest.raises(ValueError):
        Piecewise(segs)


def test_constant_rate_never_ends():
    assert ConstantRate(5).length is None and ConstantRate(5).describe() == {
        "kind": "constant",
        "rps": 5,
    }
