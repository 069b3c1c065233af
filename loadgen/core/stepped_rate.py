"""A rate profile that takes steps while the run goes on (the dashboard's rate field).

The run starts on a base profile P (constant, ramp, stages); each change of the
target rate is a step (Tᵢ, rᵢ): from time Tᵢ on, the rate is rᵢ until the next
step or the run's end. With T₁ ≤ T₂ ≤ … ≤ Tₖ:

    r(t) = r_P(t)                  t < T₁
    r(t) = rᵢ                      Tᵢ ≤ t < Tᵢ₊₁

so the expected arrivals are P's up to the first step, then straight lines:

    Λ(t) = Λ_P(t)                  t ≤ T₁
    Λ(t) = Nᵢ + rᵢ·(t − Tᵢ)        Tᵢ ≤ t ≤ Tᵢ₊₁,   N₁ = Λ_P(T₁),  Nᵢ₊₁ = Nᵢ + rᵢ·(Tᵢ₊₁ − Tᵢ)

and the inverse the pacer needs is P's up to N₁ (Λ_P(T₁) = N₁, so its answer
is ≤ T₁), else Λ⁻¹(n) = Tᵢ + (n − Nᵢ)/rᵢ in the last step with Nᵢ < n. Every
rᵢ > 0, so Λ is strictly increasing past T₁ and never ends: the run's window
does. A step changes Λ only after its time, which is now when it is taken (see
`rate_control.py`): the arrivals already sent stay those of the profile as it
was, and the run stays one open-model run whose profile is the record of it.
"""

from __future__ import annotations

import bisect
import math
from typing import Any

from loadgen.core.rates import RateProfile

# Past this a "rate" is a typing slip, not a load anyone can send from here.
MAX_RPS = 1_000_000.0


def check_rate(rps: float) -> float:
    """`rps` as a step's rate; ValueError, said for a user, when it cannot be one."""
    if not math.isfinite(rps) or rps <= 0:
        raise ValueError(f"the rate must be a number above 0, got {rps!r}")
    if rps > MAX_RPS:
        raise ValueError(f"{rps:g}/s is past what loadgen sends ({MAX_RPS:g}/s at most)")
    return rps


class SteppedRate:
    """`base` until the first step, then each step's rate in turn (see the module's doc)."""

    def __init__(self, base: RateProfile) -> None:
        self.base = base
        self._t: list[float] = []  # Tᵢ
        self._r: list[float] = []  # rᵢ
        self._n: list[float] = []  # Nᵢ = Λ(Tᵢ)

    def step(self, at: float, rps: float) -> None:
        """From `at` (seconds into the profile) on, `rps` per second. Steps come in
        time order; one at the same time as the last replaces it."""
        check_rate(rps)
        if self._t and at < self._t[-1]:
            raise ValueError(f"a step at {at:g} s comes before the last one ({self._t[-1]:g} s)")
        if self._t and at == self._t[-1]:
            self._r[-1] = rps
            return
        n = self.arrivals(at)
        self._t.append(at)
        self._r.append(rps)
        self._n.append(n)

    @property
    def steps(self) -> list[tuple[float, float]]:
        """(Tᵢ, rᵢ) so far."""
        return list(zip(self._t, self._r, strict=True))

    def rate(self, t: float) -> float:
        """r(t): the base's before the first step, else the last step's at or before t."""
        i = bisect.bisect_right(self._t, t) - 1
        return self.base.rate(t) if i < 0 else self._r[i]

    def arrivals(self, t: float) -> float:
        """Λ(t), as in the module's doc."""
        i = bisect.bisect_right(self._t, t) - 1
        if i < 0:
            return self.base.arrivals(t)
        return self._n[i] + self._r[i] * (t - self._t[i])

    def time_of(self, n: float) -> float:
        """Λ⁻¹(n), as in the module's doc."""
        i = bisect.bisect_left(self._n, n) - 1
        if i < 0:  # n ≤ N₁ = Λ_P(T₁): by T₁ (a base that ended there says +inf for its last)
            return min(self.base.time_of(n), self._t[0]) if self._t else self.base.time_of(n)
        return self._t[i] + (n - self._n[i]) / self._r[i]

    @property
    def length(self) -> float | None:
        """The base's, until a step: a step's rate holds until the run's end."""
        return self.base.length if not self._t else None

    def describe(self) -> dict[str, Any]:
        """The base's description, with the steps (`at_s` from the profile's start)."""
        desc = self.base.describe()
        if self._t:
            desc["steps"] = [{"at_s": round(t, 3), "rps": r} for t, r in self.steps]
        return desc
