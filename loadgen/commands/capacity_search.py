"""Capacity search: the highest arrival rate a target sustains under an SLO.

The exercise finds the breaking point by hand (1, 10, 50, 100 users, then
"keep going"). `search` does it in two phases, each level a fixed-length
open-model run judged pass / fail / saturated:

1. Ladder: r₀, r₀·f, r₀·f², … until a level fails (or `max_rps` passes).
2. Bisection between the last passing rate L and the first failing rate F:
   test (L + F)/2 and keep the half that holds the boundary, until
   F − L ≤ precision · L. The limit lies in [L, F): the answer is L, its
   uncertainty F − L.

A level where the *generator* fell behind (it could not send the target
rate, or sent it late) says nothing about the target: the search stops and
reports the generator's saturation, never mistaking it for the server's
limit. Latency measured from intended send times is what makes the curve of
latency against throughput bend into a "hockey stick" at the limit instead of
flattening out as closed-loop tools show it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from loadgen.report.summary_contract import Summary

Verdict = Literal["pass", "fail", "saturated", "interrupted"]
PASS: Verdict = "pass"
FAIL: Verdict = "fail"
SATURATED: Verdict = "saturated"
INTERRUPTED: Verdict = "interrupted"  # cut short by Ctrl-C: judged by no one


@dataclass
class Level:
    """One rate the search tried: its verdict, why it failed or saturated, and its
    run's summary.
    """

    rps: float
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)  # why it failed or saturated
    summary: Summary | None = None  # None: made without a run (a search's tests)


@dataclass
class Capacity:
    """The search's answer: every level, the highest rate sustained and the lowest
    above it that failed, or why there is no answer (the generator fell behind,
    a stop, a target that answered nothing).
    """

    levels: list[Level]
    sustained: float | None  # highest rate that passed
    failed: float | None  # lowest rate above it that failed
    saturated_at: float | None = None  # rate at which the generator fell behind
    interrupted: bool = False  # stopped by the user before an answer
    unanswered_at: float | None = None  # the level at which the target answered nothing

    @classmethod
    def stopped(cls, levels: list[Level]) -> Capacity:
        """What the levels run before an interruption say."""
        passed = [lv.rps for lv in levels if lv.verdict == PASS]
        sustained = max(passed, default=None)
        failed = [lv.rps for lv in levels if lv.verdict == FAIL and lv.rps > (sustained or 0)]
        return cls(levels, sustained, min(failed, default=None), interrupted=True)

    @classmethod
    def unanswered(cls, levels: list[Level]) -> Capacity:
        """The last level got not one response: the target is down or stuck, which is
        no limit of its (a limit is where it answers too slowly or wrongly). What
        passed before stands as a floor; the search ends with no answer."""
        passed = [lv.rps for lv in levels if lv.verdict == PASS]
        return cls(levels, max(passed, default=None), None, unanswered_at=levels[-1].rps)

    @property
    def found(self) -> bool:
        """A limit was bracketed: some level passed and a higher one failed."""
        return self.sustained is not None and self.failed is not None

    def describe(self) -> str:
        """The answer in one line, for the terminal."""
        if self.unanswered_at is not None:
            floor = f"; it sustained at least {self.sustained:g}/s" if self.sustained else ""
            return (
                f"no answer: the target answered nothing at {self.unanswered_at:g}/s "
                f"(is the target up?){floor}"
            )
        if self.interrupted:
            floor = (
                f"; the target sustained at least {self.sustained:g}/s" if self.sustained else ""
            )
            return f"interrupted after {len(self.levels)} level(s), no answer{floor}"
        if self.saturated_at is not None:
            floor = (
                f"; the target sustained at least {self.sustained:g}/s" if self.sustained else ""
            )
            return (
                f"the generator saturated at {self.saturated_at:g}/s before the target "
                f"failed{floor}: run loadgen on more cores (--processes) or machines"
            )
        if self.sustained is None:
            return f"even the first level ({self.failed:g}/s) failed: the limit is below it"
        if self.failed is None:
            return f"no limit found up to {self.sustained:g}/s (raise --max-rps)"
        width = self.failed - self.sustained
        return (
            f"sustains {self.sustained:g}/s; fails at {self.failed:g}/s "
            f"(limit in [{self.sustained:g}, {self.failed:g}), ±{width / 2:g}/s)"
        )


def search(
    measure: Callable[[float], Level],
    start: float,
    factor: float = 2.0,
    precision: float = 0.05,
    max_rps: float = 100_000.0,
) -> Capacity:
    """Find the limit by ladder then bisection; `measure(rps)` runs and judges one level."""
    if not (start > 0 and factor > 1 and precision > 0 and max_rps >= start):
        raise ValueError("need start > 0, factor > 1, precision > 0 and max_rps >= start")
    levels: list[Level] = []

    def run(rps: float) -> Level:
        level = measure(rps)
        levels.append(level)
        return level

    passed: float | None = None
    rps = start
    while True:
        level = run(rps)
        if level.verdict == SATURATED:
            return Capacity(levels, passed, None, saturated_at=rps)
        if level.verdict == FAIL:
            failed = rps
            break
        passed = rps
        if rps >= max_rps:
            return Capacity(levels, passed, None)
        rps = min(rps * factor, max_rps)
    if passed is None:
        return Capacity(levels, None, failed)
    while failed - passed > precision * passed:
        mid = (passed + failed) / 2
        level = run(mid)
        if level.verdict == SATURATED:
            return Capacity(levels, passed, failed, saturated_at=mid)
        if level.verdict == PASS:
            passed = mid
        else:
            failed = mid
    return Capacity(levels, passed, failed)
