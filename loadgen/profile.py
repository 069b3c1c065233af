"""Rate profiles: the target arrival rate as a function of time.

A profile is the rate curve r(t) (arrivals per second, t in seconds from the
start of the run) together with its integral, the expected number of arrivals
by time t:

    Λ(t) = ∫₀ᵗ r(s) ds

Pacers never look at r(t) directly. They need the inverse of Λ: the n-th
arrival of a perfectly even schedule is due when Λ(t) = n, i.e. at
t = Λ⁻¹(n) (see `pacer.py`). Λ is non-decreasing, so its inverse is well
defined wherever r > 0; where r = 0 the inverse jumps to the end of the gap.
"""

from __future__ import annotations

import math
from typing import Protocol


class RateProfile(Protocol):
    """The target arrival rate over time."""

    def rate(self, t: float) -> float:
        """r(t): arrivals per second at time t."""
        ...

    def arrivals(self, t: float) -> float:
        """Λ(t): expected arrivals in [0, t]."""
        ...

    def time_of(self, n: float) -> float:
        """Λ⁻¹(n): the time at which n arrivals are due; +inf if never."""
        ...


class ConstantRate:
    """r(t) = λ, so Λ(t) = λ·t and Λ⁻¹(n) = n / λ."""

    def __init__(self, rps: float) -> None:
        if not (rps > 0 and math.isfinite(rps)):
            raise ValueError(f"rate must be a positive number, got {rps!r}")
        self.rps = rps

    def rate(self, t: float) -> float:
        return self.rps

    def arrivals(self, t: float) -> float:
        return self.rps * max(t, 0.0)

    def time_of(self, n: float) -> float:
        return n / self.rps

    def __repr__(self) -> str:
        return f"ConstantRate({self.rps:g})"
