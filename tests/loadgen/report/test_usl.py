"""Little's law per level, and the USL fit: known λ, σ, κ come back; no fit says why."""

import math
import random

import pytest

from loadgen.report.usl import (
    Fit,
    describe,
    fit,
    fit_json,
)


def usl(lam, sigma, kappa):
    return lambda n: lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


LADDER = (1, 2, 4, 8, 16, 32, 64)


@pytest.mark.parametrize(
    ("lam", "sigma", "kappa"),
    [(100.0, 0.05, 0.002), (20.0, 0.1, 0.0), (500.0, 0.0, 0.0005), (1.0, 0.3, 0.01)],
)
def test_exact_points_give_back_their_coefficients(lam, sigma, kappa):
    x = usl(lam, sigma, kappa)
    result = fit((n, x(n)) for n in LADDER)
    assert isinstance(result, Fit)
    assert result.lam == pytest.approx(lam, rel=1e-6)
    assert result.sigma == pytest.approx(sigma, abs=1e-7)
    assert result.kappa == pytest.approx(kappa, abs=1e-9)
    assert result.rms_error < 1e-9


def test_the_peak_is_where_the_derivative_vanishes():
    lam, sigma, kappa = 100.0, 0.05, 0.002
    result = fit((n, usl(lam, sigma, kappa)(n)) for n in LADDER)
    assert isinstance(result, Fit)
    n_star = math.sqrt((1 - sigma) / kappa)
    assert result.peak_concurrency == pytest.approx(n_star, rel=1e-5)
    x = usl(lam, sigma, kappa)
    assert result.peak_throughput == pytest.approx(x(n_star), rel=1e-6)
    assert x(n_star) > x(n_star * 0.9) and x(n_star) > x(n_star * 1.1)


def test_noisy_levels_still_recover_the_shape():
    rng = random.Random(7)
    x = usl(50.0, 0.04, 0.001)
    points = [(n * rng.uniform(0.97, 1.03), x(n) * rng.uniform(0.97, 1.03)) for n in LADDER * 2]
    result = fit(points)
    assert isinstance(result, Fit)
    assert result.lam == pytest.approx(50.0, rel=0.1)
    assert result.peak_concurrency == pytest.approx(math.sqrt(0.96 / 0.001), rel=0.25)
    assert result.rms_error < 0.05


def test_contention_alone_approaches_a_ceiling_and_coherency_names_a_peak():
    ceiling = fit_json((n, usl(100.0, 0.1, 0.0)(n)) for n in LADDER)
    assert ceiling["peak_concurrency"] is None and ceiling["peak_rps"] == pytest.approx(1000)
    assert ceiling["limited_by"] == "contention"
    assert "ceiling of 1,000/s" in describe(ceiling) and "contention (σ" in describe(ceiling)
    retrograde = fit_json((n, usl(100.0, 0.0, 0.002)(n)) for n in LADDER)
    assert retrograde["limited_by"] == "coherency"
    assert retrograde["peak_concurrency"] == pytest.approx(math.sqrt(1 / 0.002), rel=1e-3)
    assert "peak of" in describe(retrograde) and "N ≈ 22" in describe(retrograde)
    assert "(extrapolated)" not in describe(retrograde)  # 22 is inside the levels (≤ 64)
    linear = fit_json((n, 30.0 * n) for n in LADDER)
    assert linear["limited_by"] == "none" and linear["peak_rps"] is None
    assert "no limit in sight" in describe(linear)


def test_a_peak_past_the_levels_is_called_extrapolated():
    points = [(n, usl(100.0, 0.02, 0.0005)(n)) for n in (1, 2, 4, 8, 12)]
    result = fit_json(points)
    assert result["peak_concurrency"] > 12 and "(extrapolated)" in describe(result)


def test_small_negative_noise_is_fitted_on_the_boundary_not_refused():
    # Linear scaling measured with a little noise: the unconstrained fit may want
    # σ or κ a hair below zero; the constrained one holds them at 0.
    points = [(1, 101.0), (2, 199.0), (4, 402.0), (8, 797.0), (16, 1605.0)]
    result = fit(points)
    assert isinstance(result, Fit)
    assert result.sigma >= 0 and result.kappa >= 0 and result.limited_by == "none"


@pytest.mark.parametrize(
    ("points", "why"),
    [
        ([], "no level had timed responses"),
        ([(0.0, 0.0), (None, 5.0)], "no level had timed responses"),
        ([(8.0, 100.0), (8.1, 101.0), (7.9, 99.0), (8.0, 100.0)], "all levels at one concurrency"),
        ([(1.0, 100.0), (2.0, 190.0), (4.0, 350.0)], "3 level(s) at distinct concurrency"),
        ([(1.0, 10.0), (1.02, 10.2), (2.0, 19.0), (4.0, 35.0)], "3 level(s) at distinct"),
        # Throughput rising as N²: only negative σ and κ fit it.
        ([(n, 10.0 * n * n) for n in LADDER], "needs a negative σ or κ"),
    ],
)
def test_no_fit_says_why(points, why):
    result = fit_json(points)
    assert set(result) == {"note"} and why in result["note"]
    assert describe(result).startswith("no USL fit: ")


def test_a_peak_never_offered_is_no_answer():
    # A busy machine's search: three levels at low N, two far past N = 1 at about
    # 100/s. The curve through both ends peaks at 233/s near N = 1, a rate never
    # offered: the levels past that N were sent 94/s and 100/s.
    n = [0.217, 0.242, 0.277, 2.879, 2.94]
    sent = [50.0, 75.0, 87.5, 94.0, 100.0]
    levels, offered = list(zip(n, sent, strict=True)), list(zip(n, sent, strict=True))
    why = fit(levels, offered)
    assert isinstance(why, str) and "was never offered" in why and "100/s at most" in why, why
    assert "no USL fit: its peak" in describe(fit_json(levels, offered))
    # A hard pool of 200/s: the smooth curve rounds its corner above it (285/s), a
    # rate the levels past its N (300/s, 400/s offered) were sent: it stands.
    n = [0.512, 1.025, 2.05, 3.075, 32.8, 24.6]
    served = [25.0, 50.0, 100.0, 150.0, 196.0, 196.0]
    sent = [25.0, 50.0, 100.0, 150.0, 400.0, 300.0]
    assert isinstance(fit(list(zip(n, served, strict=True)), list(zip(n, sent, strict=True))), Fit)
