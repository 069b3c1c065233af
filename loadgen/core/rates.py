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

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


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

    @property
    def length(self) -> float | None:
        """How long the profile lasts (it is 0 after); None if it never ends."""
        ...

    def describe(self) -> dict[str, Any]:
        """A JSON-able description, kept in summary.json."""
        ...


class ConstantRate:
    """r(t) = λ, so Λ(t) = λ·t and Λ⁻¹(n) = n / λ."""

    def __init__(self, rps: float) -> None:
        if not (rps > 0 and math.isfinite(rps)):
            raise ValueError(f"rate must be a positive number, got {rps!r}")
        self.rps = rps

    def rate(self, t: float) -> float:
        """λ, at any time."""
        return self.rps

    def arrivals(self, t: float) -> float:
        """λ·t (none before the start)."""
        return self.rps * max(t, 0.0)

    def time_of(self, n: float) -> float:
        """n / λ."""
        return n / self.rps

    @property
    def length(self) -> float | None:
        """None: a constant rate never ends (the run's duration does)."""
        return None

    def describe(self) -> dict[str, Any]:
        """`{"kind": "constant", "rps": λ}`."""
        return {"kind": "constant", "rps": self.rps}

    def __repr__(self) -> str:
        return f"ConstantRate({self.rps:g})"


@dataclass(frozen=True)
class Segment:
    """Rate going linearly from `start` to `end` (per second) over `duration` seconds."""

    duration: float
    start: float
    end: float


class Piecewise:
    """A rate curve made of linear segments; the rate is 0 after the last one.

    Within a segment of duration T from rate a to rate b, at time s into it:

        r(s) = a + (b − a)·s/T
        Λ(s) = a·s + (b − a)·s²/(2T)

    and the inverse solves (b − a)/(2T)·s² + a·s − m = 0 for the m arrivals
    due within the segment. The root is written in the form

        s = 2m / (a + √(a² + 2(b − a)·m/T))

    which has no cancellation when a ≈ b and stays finite when a = 0.
    """

    def __init__(self, segments: Sequence[Segment], kind: str = "stages") -> None:
        if not segments:
            raise ValueError("a profile needs at least one stage")
        for seg in segments:
            if not (seg.duration > 0 and math.isfinite(seg.duration)):
                raise ValueError(f"stage durations must be positive, got {seg.duration!r}")
            for r in (seg.start, seg.end):
                if not (r >= 0 and math.isfinite(r)):
                    raise ValueError(f"rates must be finite and non-negative, got {r!r}")
        if all(seg.start == seg.end == 0 for seg in segments):
            raise ValueError("the profile never sends: every rate is 0")
        self.segments = list(segments)
        self.kind = kind
        # Start time and arrivals due at the start of each segment.
        self._t: list[float] = []
        self._n: list[float] = []
        t = n = 0.0
        for seg in self.segments:
            self._t.append(t)
            self._n.append(n)
            t += seg.duration
            n += (seg.start + seg.end) / 2 * seg.duration
        self._total_t, self._total_n = t, n

    def rate(self, t: float) -> float:
        """The linear rate of the segment holding `t`; 0 before the start and after the end."""
        if t < 0 or t >= self._total_t:
            return 0.0
        i = bisect.bisect_right(self._t, t) - 1
        seg = self.segments[i]
        return seg.start + (seg.end - seg.start) * (t - self._t[i]) / seg.duration

    def arrivals(self, t: float) -> float:
        """The whole segments before `t`, plus Λ(s) of the one holding it."""
        if t <= 0:
            return 0.0
        if t >= self._total_t:
            return self._total_n
        i = bisect.bisect_right(self._t, t) - 1
        seg, s = self.segments[i], t - self._t[i]
        return self._n[i] + seg.start * s + (seg.end - seg.start) * s * s / (2 * seg.duration)

    def time_of(self, n: float) -> float:
        """The root above, in the segment where the n-th arrival falls; +inf past the last."""
        if n <= 0:
            return 0.0
        if n >= self._total_n:
            return math.inf
        # The earliest t with Λ(t) ≥ n lies in the last segment starting below n
        # (which therefore adds arrivals: zero-rate gaps are skipped).
        i = bisect.bisect_left(self._n, n) - 1
        seg, m = self.segments[i], n - self._n[i]
        a, b, T = seg.start, seg.end, seg.duration
        root = math.sqrt(max(a * a + 2 * (b - a) * m / T, 0.0))
        if a + root > 0:
            return self._t[i] + 2 * m / (a + root)
        # a = 0 and the radicand underflowed (tiny m and b): there Λ = b·s²/(2T),
        # so s = √(2T·(m/b)), in an order that does not underflow.
        return self._t[i] + math.sqrt(2 * T * (m / b))

    @property
    def length(self) -> float | None:
        """The segments' durations added up."""
        return self._total_t

    def describe(self) -> dict[str, Any]:
        """The kind and each segment as [duration, start, end], as
        `profile_from_description` reads them back.
        """
        return {
            "kind": self.kind,
            "segments": [[s.duration, s.start, s.end] for s in self.segments],
        }


def ramp(start: float, end: float, duration: float) -> Piecewise:
    """`--rps A:B`: linearly from A to B per second over the run."""
    return Piecewise([Segment(duration, start, end)], kind="ramp")


def stages(steps: Sequence[tuple[float, float]]) -> Piecewise:
    """`--stages 30s:100,60s:200`: hold each rate for its duration, in turn."""
    return Piecewise([Segment(d, r, r) for d, r in steps], kind="stages")


def wagon_ladder(hold: float = 30.0) -> Piecewise:
    """The exercise's ladder as arrival rates: 1 → 10 → 50 → 100 users.

    A Locust user waiting between(1, 5) s sends about one request per 3 s, so
    N users ≈ N/3 req/s. Users are spawned at 1, 3 and 10 per second on the
    way up, which become ramps between the holds.
    """
    per_user = 1 / 3
    ladder = [(1, None), (10, 1), (50, 3), (100, 10)]  # (users, spawn rate per second)
    segments: list[Segment] = []
    users_before = 0
    for users, spawn in ladder:
        if spawn is not None:
            up = (users - users_before) / spawn
            segments.append(Segment(up, users_before * per_user, users * per_user))
        segments.append(Segment(hold, users * per_user, users * per_user))
        users_before = users
    return Piecewise(segments, kind="wagon-ladder")


NAMED_PROFILES = {"wagon-ladder": wagon_ladder}


def profile_from_description(desc: dict[str, Any]) -> RateProfile:
    """The profile `describe()` described: profiles travel to workers as their description
    (one changed live is a run's record, never a shard's job: see `stepped_rate.py`)."""
    if desc.get("steps"):
        raise ValueError("a rate profile changed live is a record, not one to run again")
    if "rps" in desc:
        return ConstantRate(float(desc["rps"]))
    if "segments" in desc:
        segments = [Segment(float(d), float(a), float(b)) for d, a, b in desc["segments"]]
        return Piecewise(segments, kind=str(desc.get("kind", "stages")))
    raise ValueError(f"cannot rebuild a rate profile from {desc!r}")
