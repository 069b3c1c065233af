"""Pacers: when each request is *intended* to be sent.

A pacer turns a rate profile into the sequence of intended send offsets
(seconds from the start of the run). The engine sends at those instants
whatever the server is doing (an open model), and latency is measured from
them, so a stalled server cannot hide its stall by slowing the generator down
(coordinated omission).

Both pacers use the time-rescaling theorem: if E₁ < E₂ < … are the arrival
"counts" on a unit-rate axis, then tₙ = Λ⁻¹(Eₙ) are arrivals of a process with
rate r(t) (Λ is the profile's cumulative rate, see `rates.py`).

- Constant: Eₙ = φ + n·k, so the n-th arrival is at Λ⁻¹(φ + n·k). With a
  constant rate λ this is tₙ = (φ + n·k)/λ: exactly evenly spaced. The phase φ
  and stride k let k shards each take every k-th slot of one schedule so that
  their union stays evenly spaced.
- Poisson: Eₙ = Eₙ₋₁ + Xₙ with Xₙ ~ Exp(1) i.i.d., so gaps on the unit axis are
  exponential with mean 1 and tₙ is a (non-homogeneous) Poisson process with
  rate r(t): mean count Λ(t), variance Λ(t). Seeded, so runs repeat.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Protocol

from loadgen.core.rates import RateProfile


class Pacer(Protocol):
    """Yields intended send offsets in seconds, non-decreasing; may be infinite."""

    def offsets(self, after: float = 0.0) -> Iterator[float]:
        """The offsets from `after` on (a profile changed at `after` is drawn again from there)."""
        ...

    def between(self, start: float, end: float) -> float:
        """How many offsets fall in [start, end), without drawing them."""
        ...


class ConstantPacer:
    """Evenly spaced arrivals: tₙ = Λ⁻¹(phase + n·stride), n = 0, 1, 2, …"""

    def __init__(self, profile: RateProfile, phase: float = 0.0, stride: float = 1.0) -> None:
        self.profile = profile
        self.phase = phase
        self.stride = stride

    def offsets(self, after: float = 0.0) -> Iterator[float]:
        """tₙ for n = 0, 1, 2, …, until the profile ends (Λ⁻¹ is +inf); from `after`
        on, n starts at #{n : tₙ < after}: the slots of the one schedule that are left."""
        time_of, phase, stride, isinf = self.profile.time_of, self.phase, self.stride, math.isinf
        n = self._before(after) if after > 0 else 0
        while True:
            t = time_of(phase + n * stride)
            if isinf(t):
                return
            yield t
            n += 1

    def between(self, start: float, end: float) -> float:
        """tₙ < t ⟺ phase + n·stride < Λ(t), so #{n : tₙ < t} = ⌈(Λ(t) − phase)/stride⌉⁺."""
        return max(0, self._before(end) - self._before(start))

    def _before(self, t: float) -> int:
        return max(0, math.ceil((self.profile.arrivals(t) - self.phase) / self.stride))


class PoissonPacer:
    """Poisson arrivals: tₙ = Λ⁻¹(X₁ + … + Xₙ), Xᵢ ~ Exp(1), seeded."""

    def __init__(self, profile: RateProfile, seed: int | None = None, scale: float = 1.0) -> None:
        # `scale` thins the process: a shard carrying 1/k of the load uses
        # Xᵢ ~ Exp(1/k) (mean k), and k independent such shards superpose
        # back into the requested rate.
        self.profile = profile
        self.rng = random.Random(seed)
        self.scale = scale

    def offsets(self, after: float = 0.0) -> Iterator[float]:
        """tₙ from the running sum of the exponential draws, until the profile ends;
        from `after` on, the sum starts at Λ(after): the exponential gap is memoryless,
        so the arrivals after it are the process's whatever came before."""
        e = self.profile.arrivals(after) if after > 0 else 0.0
        while True:
            e += self.rng.expovariate(1.0 / self.scale)
            t = self.profile.time_of(e)
            if math.isinf(t):
                return
            yield t

    def between(self, start: float, end: float) -> float:
        """Not drawn, so the expected number: E[N(end) − N(start)] = (Λ(end) − Λ(start))/scale."""
        arrivals = self.profile.arrivals
        return max(0.0, arrivals(end) - arrivals(start)) / self.scale


def shard_seed(seed: int | None, index: int) -> int | None:
    """A distinct, repeatable random stream for each shard of a seeded run."""
    return None if seed is None else seed * 1_000_003 + index


def make_pacer(
    arrival: str, profile: RateProfile, seed: int | None = None, shard: tuple[int, int] = (0, 1)
) -> Pacer:
    """The pacer for shard `index` of `count` (the whole schedule when count is 1).

    Constant: shard i takes slots i, i + k, i + 2k, … of the one even schedule.
    Poisson: each shard is an independent process at 1/k of the rate (its own
    random stream), and the superposition of k of them is the requested process.
    """
    index, count = shard
    if not 0 <= index < count:
        raise ValueError(f"shard {index}/{count} does not exist (need 0 <= i < N)")
    if arrival == "constant":
        return ConstantPacer(profile, phase=index, stride=count)
    if arrival == "poisson":
        return PoissonPacer(profile, shard_seed(seed, index), scale=count)
    raise ValueError(f"unknown arrival process {arrival!r} (expected constant or poisson)")
