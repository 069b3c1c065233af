"""Is the change between two runs beyond their noise? A seeded block bootstrap over their intervals.

Two runs of the same service on a shared machine differ by chance: a second
in which another process took the CPU, a garbage collection, a cold cache.
A run's seconds are its samples of that chance. So each metric is kept per
interval (second) i of a run as a pair (xᵢ, wᵢ), and the run's value is the
ratio of their sums

    θ = Σ xᵢ / Σ wᵢ

which covers every metric the gate knows: a per-second statistic averaged
over the seconds (xᵢ its value, wᵢ = 1: the mean of the per-second p99s), a
mean over requests (xᵢ the second's summed latency, wᵢ its responses), a rate
(xᵢ its arrivals, wᵢ its length in seconds) or a share (xᵢ its errors, wᵢ its
requests). The change is Δ = θ_new − θ_base (and θ_new / θ_base − 1).

How far Δ may be off is estimated by resampling each run's own intervals
(the bootstrap), both runs apart, B times: resample b draws n intervals of
a run of n with replacement and gives θ*_b, so Δ*_b = θ*_new,b − θ*_base,b.
Seconds are not independent (a stall, or a busy neighbour, lasts several),
and resampling them one by one would make the interval too narrow; so they
are drawn in circular blocks of L consecutive intervals (the moving-block
bootstrap of Künsch, 1989, wrapped around so that every interval is equally
likely). L is the larger of n^⅓ (the usual order of a block's length) and
the run's own integrated autocorrelation time τ = (1 + ρ) / (1 − ρ), ρ the
lag-1 autocorrelation of its per-interval values xᵢ / wᵢ (clipped to
[0, 0.9]: τ of an AR(1) series), so that a run whose seconds drift together
is resampled in stretches as long as its drifts; L is at most n / 3. With
prefix sums each block's Σx and Σw cost O(1), so a resample costs n / L.

A bootstrap from m blocks is too sure of itself when m is small: its spread
is that of m units, seen as if known. So each Δ*_b is taken c times as far
from Δ as drawn, c = t(m − 1) / z · √(m / (m − 1)), with z the normal's and
t(m − 1) Student's quantile of the confidence (t by its Cornish–Fisher
expansion), m the fewer blocks of the two runs: the interval a t-test would
give over m independent units instead of a normal one.

- The 95 % interval of Δ is the percentile interval of the widened Δ*_b:
  their 2.5th and 97.5th percentiles (likewise for the relative change).
- The two-sided p-value is p = min(1, 2 · min(#{Δ*_b ≤ 0}, #{Δ*_b ≥ 0}) / B),
  over the widened Δ*_b: how often the resampled change falls on the other
  side of zero.
- The change is *significant* when its interval leaves zero out (p < 0.05).
  A change that is the same in every resample (every interval of both runs
  equal, say no errors at all) has p = 1: no evidence of any change.
- With fewer than MIN_INTERVALS intervals in either run there is too little
  to tell noise from a change: `significant` is None, never a guess.

The random draws come from a generator seeded with `seed` (0 unless told):
the same two runs give the same interval and verdict every time, as a CI
gate must. No third-party statistics package is needed.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

RESAMPLES = 2000
CONFIDENCE = 0.95
# Below this many intervals in a run, its noise cannot be told apart from a change.
MIN_INTERVALS = 5
# The most lag-1 autocorrelation the block length follows (τ = 19 intervals).
MAX_RHO = 0.9


@dataclass(frozen=True)
class Series:
    """A run's metric per interval: the pairs (xᵢ, wᵢ), its value Σx / Σw."""

    x: Sequence[float]
    w: Sequence[float]

    def __len__(self) -> int:
        return len(self.x)

    @property
    def value(self) -> float | None:
        """Σx / Σw; None with no intervals or no weight at all."""
        total = sum(self.w)
        return sum(self.x) / total if total else None


@dataclass(frozen=True)
class Difference:
    """The change from a baseline's value to a new run's, with its interval and p-value."""

    base: float
    new: float
    change: float  # new − base
    interval: tuple[float, float]
    relative: float | None  # new / base − 1 (None: the baseline's value is 0)
    relative_interval: tuple[float, float] | None
    p: float | None  # None: too few intervals
    significant: bool | None  # the interval leaves 0 out; None: too few intervals to tell


def difference(
    base: Series,
    new: Series,
    *,
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> Difference | None:
    """The change of the value from `base` to `new` and how sure it is (see the module
    docstring); None when either run has no value (no intervals, or no weight)."""
    b, n = base.value, new.value
    if b is None or n is None:
        return None
    change = n - b
    relative = n / b - 1 if b else None
    if min(len(base), len(new)) < MIN_INTERVALS:
        return Difference(b, n, change, (change, change), relative, None, None, None)
    rng = random.Random(seed)
    lengths = block_length(base), block_length(new)
    draw_base, draw_new = _resampler(base, lengths[0], rng), _resampler(new, lengths[1], rng)
    blocks = min(-(-len(base) // lengths[0]), -(-len(new) // lengths[1]))
    widen = small_sample_factor(blocks, confidence)
    changes, ratios = [], []
    for _ in range(resamples):
        tb, tn = draw_base(), draw_new()
        changes.append(change + widen * (tn - tb - change))
        if tb and relative is not None:
            ratios.append(relative + widen * (tn / tb - 1 - relative))
    tail = (1 - confidence) / 2
    interval = _percentiles(changes, tail)
    below = sum(c <= 0 for c in changes)
    above = sum(c >= 0 for c in changes)
    p = min(1.0, 2 * min(below, above) / resamples)
    rel_interval = _percentiles(ratios, tail) if relative is not None and ratios else None
    significant = interval[0] > 0 or interval[1] < 0
    return Difference(b, n, change, interval, relative, rel_interval, p, significant)


def block_length(series: Series) -> int:
    """The circular blocks' length: the larger of n^⅓ and the series' autocorrelation
    time, at most n / 3 (see the module docstring)."""
    n = len(series)
    rho = min(max(lag1_autocorrelation(series), 0.0), MAX_RHO)
    tau = (1 + rho) / (1 - rho)
    return max(1, min(max(round(math.cbrt(n)), math.ceil(round(tau, 6))), n // 3))


def lag1_autocorrelation(series: Series) -> float:
    """ρ of the per-interval values xᵢ / wᵢ (intervals of no weight left out); 0 when flat."""
    values = [x / w for x, w in zip(series.x, series.w, strict=True) if w]
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    spread = sum((v - mean) ** 2 for v in values)
    if not spread:
        return 0.0
    return sum((a - mean) * (b - mean) for a, b in itertools.pairwise(values)) / spread


def small_sample_factor(blocks: int, confidence: float = CONFIDENCE) -> float:
    """c = t(m − 1) / z · √(m / (m − 1)) for m blocks (see the module docstring)."""
    if blocks < 2:
        return 1.0
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    df = blocks - 1
    t = (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )
    return t / z * math.sqrt(blocks / df)


def _resampler(series: Series, length: int, rng: random.Random) -> Callable[[], float]:
    """A function drawing one resample's Σx / Σw (circular blocks, see the docstring)."""
    n = len(series)
    # Twice around, so that a block wrapping past the end is one slice of the sums.
    px = [0.0, *itertools.accumulate([*series.x, *series.x])]
    pw = [0.0, *itertools.accumulate([*series.w, *series.w])]
    full, rest = divmod(n, length)
    sizes = [length] * full + ([rest] if rest else [])

    def draw() -> float:
        sx = sw = 0.0
        for size in sizes:
            start = rng.randrange(n)
            sx += px[start + size] - px[start]
            sw += pw[start + size] - pw[start]
        return sx / sw if sw else 0.0

    return draw


def _percentiles(values: list[float], tail: float) -> tuple[float, float]:
    """The `tail` and 1 − `tail` quantiles (the nearest rank), as an interval."""
    ordered = sorted(values)
    last = len(ordered) - 1
    low = ordered[max(0, math.floor(tail * len(ordered)))]
    high = ordered[min(last, math.ceil((1 - tail) * len(ordered)) - 1)]
    return low, high
