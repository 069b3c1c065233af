"""The Universal Scalability Law fitted to capacity's levels: throughput against
the server's concurrency N (by Little's law: see `concurrency.py`).

**The USL** (Gunther): throughput as a function of concurrency N,

    X(N) = λN / (1 + σ(N − 1) + κN(N − 1)),    λ > 0, σ ≥ 0, κ ≥ 0,

λ the throughput per unit of concurrency without interference, σ contention
(a serial share: requests queue for one shared resource, throughput levels off
towards λ/σ) and κ coherency (pairwise cost of keeping shared state consistent:
throughput peaks, then falls). With κ > 0, dX/dN = 0 at

    N* = sqrt((1 − σ) / κ),   the peak X(N*);

with κ = 0 there is no peak, only the ceiling λ/σ approached as N grows.

**The fit.** Dividing N by X makes the model linear in three unknowns:

    y = N / X = a + b(N − 1) + c·N(N − 1),    a = 1/λ, b = σ/λ, c = κ/λ.

Least squares on y weighted by 1/y² minimises Σ ((ŷ − y)/y)², to first order
the squared relative errors of X, so the fast levels weigh as much as the slow.
The 3 × 3 normal equations (columns scaled to unit norm first, so that N² does
not swamp 1) are solved by Gaussian elimination with partial pivoting. When the
unconstrained optimum has σ < 0 or κ < 0, the constrained optimum lies on a
face of the feasible set: each of σ = 0, κ = 0 and both is fitted, and the
best feasible one kept. A fit is given only with 4 levels at distinct N (3
unknowns and one degree of freedom), and only when it describes them: its
root-mean-square relative error in X at most `MAX_RMS_ERROR`, and its peak,
when levels held more than its N, no further than that above the highest rate
those levels were offered (`_unseen_peak`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Levels at concurrencies within this relative distance count as one N.
DISTINCT_N = 0.05
MIN_DISTINCT = 4
# A fit further off its levels than this (RMS of relative throughput errors)
# does not describe them: no prediction rather than a wrong one.
MAX_RMS_ERROR = 0.15
# Interference that slows the most concurrent level measured by less than this
# (1 + σ(N − 1) + κN(N − 1) within 2 % of 1) is linear scaling: no limit in sight.
LINEAR = 0.02
ROUNDING = 1e-9


@dataclass(frozen=True)
class Fit:
    """The USL fitted to capacity's levels: λ, σ, κ and how well they fit."""

    lam: float  # throughput per unit of concurrency, req/s
    sigma: float  # contention
    kappa: float  # coherency
    rms_error: float  # RMS of the levels' relative throughput errors
    levels: int
    max_n: float  # the highest concurrency measured

    def throughput(self, n: float) -> float:
        """X(N) = λN / (1 + σ(N − 1) + κN(N − 1))."""
        return self.lam * n / (1 + self.sigma * (n - 1) + self.kappa * n * (n - 1))

    @property
    def peak_concurrency(self) -> float | None:
        """N* where X peaks; None when it only approaches a ceiling (κ = 0)."""
        if self.kappa <= 0:
            return None
        if self.sigma >= 1:  # X falls from N = 1 on
            return 1.0
        return math.sqrt((1 - self.sigma) / self.kappa)

    @property
    def peak_throughput(self) -> float | None:
        """X(N*), or the ceiling λ/σ when κ = 0; None: no limit (σ = κ = 0)."""
        n = self.peak_concurrency
        if n is not None:
            return self.throughput(n)
        return self.lam / self.sigma if self.sigma > 0 else None

    @property
    def limited_by(self) -> str:
        """Which term of the denominator is larger where the limit is (N*, or the
        highest N measured when there is no peak): contention or coherency; none
        when the levels measured scaled linearly."""
        top = self.max_n
        if self.sigma * (top - 1) + self.kappa * top * (top - 1) < LINEAR:
            return "none"
        n = self.peak_concurrency or top
        return "coherency" if self.kappa * n > self.sigma else "contention"


def fit(
    points: Iterable[tuple[float, float]], offered: Sequence[tuple[float, float]] = ()
) -> Fit | str:
    """The USL fitted to (N, X) points, or why not (a sentence); `offered`, each
    level's (N, rate sent), rules out a peak no level was offered (`_unseen_peak`)."""
    pts = [(n, x) for n, x in points if _positive(n) and _positive(x)]
    if not pts:
        return "no level had timed responses"
    distinct = _distinct([n for n, _ in pts])
    if len(distinct) == 1 and len(pts) > 1:
        return f"all levels at one concurrency (N ≈ {n_text(distinct[0])}): nothing to fit"
    if len(distinct) < MIN_DISTINCT:
        return (
            f"{len(distinct)} level(s) at distinct concurrency, "
            f"{MIN_DISTINCT} needed for 3 unknowns"
        )
    unconstrained = _solve(pts, (True, True))
    if unconstrained is not None and min(unconstrained.sigma, unconstrained.kappa) >= 0:
        best: Fit | None = unconstrained
    else:
        faces = [_solve(pts, free) for free in ((True, False), (False, True), (False, False))]
        feasible = [f for f in faces if f is not None and min(f.sigma, f.kappa) >= 0]
        best = min(feasible, key=lambda f: f.rms_error, default=None)
    if best is None:
        return "the least-squares fit has no positive λ"
    if best.rms_error > MAX_RMS_ERROR:
        negative = (
            ""
            if unconstrained is None or min(unconstrained.sigma, unconstrained.kappa) >= 0
            else " (its best fit needs a negative σ or κ: throughput rose faster than concurrency)"
        )
        return (
            f"the best fit with σ, κ ≥ 0 misses the levels by {100 * best.rms_error:.0f} % "
            f"RMS{negative}"
        )
    return _unseen_peak(best, offered) or best


def _unseen_peak(best: Fit, offered: Sequence[tuple[float, float]]) -> str | None:
    """Why a fit whose peak was never offered is no answer, or None.

    `offered`: each level's concurrency and the rate sent to it. Under open
    load concurrency grows with the rate offered, so a level that held more
    than the peak's N was offered at least about the peak's throughput: a peak
    far above that is a curve bridging a gap in N (levels crowded at both
    ends), a number no level could have seen."""
    n_star, peak = best.peak_concurrency, best.peak_throughput
    past = [rate for n, rate in offered if n is not None and n > n_star] if n_star else []
    if peak is None or not past or peak <= (1 + MAX_RMS_ERROR) * max(past):
        return None
    return (
        f"its peak ({n_text(peak)}/s at N ≈ {n_text(n_star or 0)}) was never offered: levels "
        f"held more than that N at {n_text(max(past))}/s at most"
    )


def fit_json(
    points: Iterable[tuple[float, float]], offered: Sequence[tuple[float, float]] = ()
) -> dict[str, Any]:
    """`capacity.json`'s `usl`: the coefficients and what they predict, or `note`."""
    result = fit(points, offered)
    if isinstance(result, str):
        return {"note": result}
    by = result.limited_by
    peak_n, peak_x = (
        (None, None) if by == "none" else (result.peak_concurrency, result.peak_throughput)
    )
    return {
        "lambda_rps": _sig(result.lam),
        "sigma": _sig(result.sigma),
        "kappa": _sig(result.kappa),
        "peak_rps": None if peak_x is None else _sig(peak_x),
        "peak_concurrency": None if peak_n is None else _sig(peak_n),
        "limited_by": by,
        "levels": result.levels,
        "max_concurrency": _sig(result.max_n),
        "rms_error": round(result.rms_error, 4),
    }


def describe(usl: Mapping[str, Any]) -> str:
    """`fit_json`'s answer in a sentence."""
    if "note" in usl:
        return f"no USL fit: {usl['note']}"
    head = (
        f"USL fit to {usl['levels']} levels (±{100 * usl['rms_error']:.0f} % RMS): "
        f"λ = {n_text(usl['lambda_rps'])}/s per request in flight, "
        f"σ = {usl['sigma']:.3g}, κ = {usl['kappa']:.3g}"
    )
    peak_x, peak_n, by = usl["peak_rps"], usl["peak_concurrency"], usl["limited_by"]
    if by == "none" or peak_x is None:
        return f"{head}; throughput still rises in proportion to concurrency: no limit in sight"
    beyond = " (extrapolated)" if peak_n is not None and peak_n > usl["max_concurrency"] else ""
    if peak_n is None:
        where = f"a ceiling of {n_text(peak_x)}/s approached as concurrency grows"
    else:
        where = f"a peak of {n_text(peak_x)}/s at N ≈ {n_text(peak_n)}{beyond}"
    why = {
        "contention": "contention (σ: requests queue for one shared resource)",
        "coherency": "coherency (κ: keeping shared state consistent costs more with each "
        "request added, so throughput falls past the peak)",
    }[by]
    return f"{head}; predicts {where}, limited mostly by {why}"


def _positive(v: float | None) -> bool:
    return v is not None and math.isfinite(v) and v > 0


def _distinct(values: Sequence[float]) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v > out[-1] * (1 + DISTINCT_N):
            out.append(v)
    return out


def _solve(pts: Sequence[tuple[float, float]], free: tuple[bool, bool]) -> Fit | None:
    """Weighted least squares of y = N/X on [1, N − 1, N(N − 1)], σ and κ fitted
    where `free` says (else held at 0); None when singular or λ ≤ 0."""
    used = [0] + [i + 1 for i, f in enumerate(free) if f]
    rows = [[_column(j, n) / (n / x) for j in used] for n, x in pts]  # √w = 1/y per row
    rhs = [1.0 for _ in pts]  # y · √w
    scale = [math.sqrt(sum(r[j] ** 2 for r in rows)) or 1.0 for j in range(len(used))]
    rows = [[v / s for v, s in zip(r, scale, strict=True)] for r in rows]
    k = len(used)
    normal = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    target = [sum(r[i] * b for r, b in zip(rows, rhs, strict=True)) for i in range(k)]
    solved = _gauss(normal, target)
    if solved is None:
        return None
    coef = dict(zip(used, (c / s for c, s in zip(solved, scale, strict=True)), strict=True))
    a = coef[0]
    if a <= 0:
        return None
    top = max(n for n, _ in pts)
    sigma, kappa = coef.get(1, 0.0) / a, coef.get(2, 0.0) / a
    # A term that changes the denominator by under ROUNDING at the highest N is
    # rounding error of the solve (a κ of 1e-15 would put a peak at N = 10⁷).
    sigma = 0.0 if abs(sigma * (top - 1)) < ROUNDING else sigma
    kappa = 0.0 if abs(kappa * top * (top - 1)) < ROUNDING else kappa
    model = Fit(1 / a, sigma, kappa, 0.0, len(pts), top)
    errors = [(model.throughput(n) - x) / x for n, x in pts]
    rms = math.sqrt(sum(e * e for e in errors) / len(errors))
    return Fit(model.lam, sigma, kappa, rms, len(pts), model.max_n)


def _column(j: int, n: float) -> float:
    """The model's terms: 1, N − 1, N(N − 1)."""
    return (1.0, n - 1, n * (n - 1))[j]


def _gauss(m: list[list[float]], b: list[float]) -> list[float] | None:
    """Solve m·x = b by elimination with partial pivoting; None when singular."""
    k = len(b)
    aug = [[*row, v] for row, v in zip(m, b, strict=True)]
    for col in range(k):
        pivot = max(range(col, k), key=lambda r: abs(aug[r][col]))
        if abs(aug[pivot][col]) < 1e-12:
            return None
        aug[col], aug[pivot] = aug[pivot], aug[col]
        for r in range(col + 1, k):
            f = aug[r][col] / aug[col][col]
            aug[r] = [v - f * p for v, p in zip(aug[r], aug[col], strict=True)]
    x = [0.0] * k
    for r in reversed(range(k)):
        x[r] = (aug[r][k] - sum(aug[r][c] * x[c] for c in range(r + 1, k))) / aug[r][r]
    return x


def _sig(v: float) -> float:
    """Four significant digits: what the levels' noise allows."""
    return float(f"{v:.4g}")


def n_text(n: float) -> str:
    """A concurrency or a rate as people read it: 7.9, 12, 1,040."""
    return f"{n:.1f}" if n < 10 else f"{n:,.0f}"
