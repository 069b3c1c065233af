"""Capacity search: the highest arrival rate a target sustains under an SLO.

The exercise finds the breaking point by hand (1, 10, 50, 100 users, then
"keep going"). `search` does it in two phases, each level a fixed-length
open-model run judged pass / fail / saturated:

1. Ladder: r₀, r₀·f, r₀·f², … until a level fails (or `max_rps` passes).
   When the first level fails, downwards instead: r₀/2, r₀/4, … until one
   passes (then the bracket is it and the level above it), down to a floor
   (`min_rps`, FLOOR_RPS = 0.1/s by default, tried last); a level that says no rate can pass
   (`Level.out_of_reach`: a task slower than the SLO even alone) ends it
   there, since every lower level would fail the same way.
2. Bisection between the last passing rate L and the first failing rate F:
   test (L + F)/2 and keep the half that holds the boundary, until
   F − L ≤ precision · L. The limit lies in [L, F): the answer is L, its
   uncertainty F − L.

3. Confirmation: a noisy machine (a laptop, a CI runner) can fail one level
   and pass a higher one. Each bracket's ends, L and F, run once more
   (`CONFIRM_RUNS`); when a verdict changes, every level between the rates
   that stayed clean runs once more too. The answer is then read from all
   the runs: L is the highest rate below which every run passed, F the lowest
   above it where every run failed, and a rate between them whose runs
   disagree (or a pass above a failure) makes the answer "noisy": the limit
   is somewhere in [L, F), and `Capacity.describe` says which levels
   disagreed and the spread of their p99.

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
from loadgen.transports.models import UNREACHED

Verdict = Literal["pass", "fail", "saturated", "interrupted"]
PASS: Verdict = "pass"
FAIL: Verdict = "fail"
SATURATED: Verdict = "saturated"
INTERRUPTED: Verdict = "interrupted"  # cut short by Ctrl-C: judged by no one
# The findings that say why loadgen fell behind (report/findings/generator.py).
_GENERATOR_FINDINGS = ("generator_saturated", "machine_busy")
# Each end of the bracket runs this many times more before the answer stands.
CONFIRM_RUNS = 1
# The search downwards stops here by default (--min-rps): a service that fails
# 0.1/s is not a matter of load.
FLOOR_RPS = 0.1


def rps_text(rps: float | None) -> str:
    """A rate as the answers say it: four digits at most (1.667, not 1.66667), whole
    from 1000/s ("n/a": none)."""
    if rps is None:
        return "n/a"
    return f"{rps:.4g}" if rps < 1000 else f"{rps:.0f}"


@dataclass
class Level:
    """One rate the search tried: its verdict, why it failed or saturated, and its
    run's summary.
    """

    rps: float
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)  # why it failed or saturated
    summary: Summary | None = None  # None: made without a run (a search's tests)
    # Its diagnosis says no rate can pass (slow_at_any_load): no point going lower.
    out_of_reach: bool = False


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
    # Rates whose runs disagreed, or passed above a failure: (rate, passes, runs).
    noisy: list[tuple[float, int, int]] = field(default_factory=list)
    # The search went down from a first level that failed, and none passed: the
    # lowest rate it tried, and whether a level said no rate can pass.
    lowest_tried: float | None = None
    out_of_reach: bool = False
    floor: bool = False  # it went down to the floor (--min-rps)

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
            floor = (
                f"; it sustained at least {rps_text(self.sustained)}/s" if self.sustained else ""
            )
            last = self.levels[-1].summary if self.levels else None
            kinds = set(last["errors"]["by_kind"]) if last is not None else set()
            why = (
                "is the target up?"
                if not kinds or kinds & UNREACHED
                else "it took the connections but gave no complete answer"
            )
            return (
                f"no answer: the target answered nothing at {rps_text(self.unanswered_at)}/s "
                f"({why}){floor}"
            )
        if self.interrupted:
            floor = (
                f"; the target sustained at least {rps_text(self.sustained)}/s"
                if self.sustained
                else ""
            )
            return f"interrupted after {len(self.levels)} level(s), no answer{floor}"
        if self.saturated_at is not None:
            floor = (
                f"; the target sustained at least {rps_text(self.sustained)}/s"
                if self.sustained
                else ""
            )
            return (
                f"the generator saturated at {rps_text(self.saturated_at)}/s before the target "
                f"failed{floor}: {self._saturated_why()}"
            )
        if self.sustained is None:
            return self._none_passed()
        if self.failed is None:
            return f"no limit found up to {rps_text(self.sustained)}/s (raise --max-rps)"
        width = self.failed - self.sustained
        answer = (
            f"sustains {rps_text(self.sustained)}/s; fails at {rps_text(self.failed)}/s "
            f"(limit in [{rps_text(self.sustained)}, {rps_text(self.failed)}), "
            f"±{rps_text(width / 2)}/s)"
        )
        return answer + self.how_sure()

    def _saturated_why(self) -> str:
        """Why loadgen fell behind, as the saturated level's diagnosis said it (its
        machine shared with the server, or busy with other work), else the usual advice."""
        at = [lv for lv in self.levels if lv.rps == self.saturated_at and lv.summary is not None]
        found = at[-1].summary.get("diagnosis", []) if at and at[-1].summary else []
        said = next((f for f in found if f["finding"] in _GENERATOR_FINDINGS), None)
        if said is None:
            return "run loadgen on more cores (--processes) or machines"
        return f"{said['summary']} — {said['advice']}"

    def _none_passed(self) -> str:
        """Why no level passed, from how far down the search went."""
        lowest = self.lowest_tried
        if self.noisy:  # a level passed, and failed when run again
            disagreed = ", ".join(
                f"{rps_text(rate)}/s passed {passes} of {runs}{self._spread(rate)}"
                for rate, passes, runs in self.noisy
            )
            return (
                f"no rate passed every run ({disagreed}; {rps_text(self.failed)}/s failed): a busy "
                "machine, or a limit right there"
            )
        if lowest is None:
            return (
                f"even the first level ({rps_text(self.failed)}/s) failed: the limit is below it "
                "(the search's floor: see --min-rps)"
            )
        if self.out_of_reach:
            return (
                f"no rate meets the SLO: every level failed down to {rps_text(lowest)}/s, where a "
                "request was slower than the SLO on its own (why: below)"
            )
        floor = " (the search's floor, --min-rps)" if self.floor else ""
        return (
            f"no level passed, down to {rps_text(lowest)}/s{floor}: the target fails even under "
            "the lightest load tried"
        )

    def how_sure(self) -> str:
        """How far the runs agree: each end's runs, and the levels that disagreed."""
        if self.sustained is None or self.failed is None:
            return ""
        passed, runs = self._count(self.sustained, PASS)
        failed, runs_failed = self._count(self.failed, FAIL)
        ends = (
            f"{rps_text(self.sustained)}/s passed {passed} of {runs} runs, "
            f"{rps_text(self.failed)}/s failed {failed} of {runs_failed}"
        )
        if not self.noisy:
            return f"; {ends}"
        disagreed = ", ".join(
            f"{rps_text(rate)}/s passed {passes} of {runs}{self._spread(rate)}"
            for rate, passes, runs in self.noisy
        )
        return f"; {ends}; noisy between them ({disagreed}): a busy machine, or a limit right there"

    def _count(self, rate: float, verdict: Verdict) -> tuple[int, int]:
        """The runs at `rate` with `verdict`, and all its judged runs."""
        judged = [lv.verdict for lv in self.levels if lv.rps == rate and lv.verdict in (PASS, FAIL)]
        return judged.count(verdict), len(judged)

    def _spread(self, rate: float) -> str:
        """The p99 of the runs at `rate`, low to high ("" without summaries)."""
        p99s = sorted(
            p99
            for lv in self.levels
            if lv.rps == rate
            and lv.summary is not None
            and (p99 := lv.summary["latency_ms"]["response"]["p99"]) is not None
        )
        if len(p99s) < 2:
            return ""
        return f", p99 {p99s[0]:.3g}–{p99s[-1]:.3g} ms"


def search(
    measure: Callable[[float], Level],
    start: float,
    factor: float = 2.0,
    precision: float = 0.05,
    max_rps: float = 100_000.0,
    min_rps: float = FLOOR_RPS,
) -> Capacity:
    """Find the limit by ladder (or halving, from a first level that fails) then
    bisection; `measure(rps)` runs and judges one level."""
    if not (start > 0 and factor > 1 and precision > 0 and min_rps <= start <= max_rps):
        raise ValueError(
            "need start > 0, factor > 1, precision > 0 and min_rps <= start <= max_rps"
        )
    levels: list[Level] = []

    def run(rps: float) -> Level:
        level = measure(rps)
        levels.append(level)
        return level

    level = run(start)
    if level.verdict == FAIL:
        return _downwards(levels, run, level, precision, min_rps)
    passed, rps = start, start
    while level.verdict != FAIL:
        if level.verdict == SATURATED:
            return Capacity(levels, None if rps == start else passed, None, saturated_at=rps)
        passed = rps
        if rps >= max_rps:
            return Capacity(levels, passed, None)
        rps = min(rps * factor, max_rps)
        level = run(rps)
    return _bisected(levels, run, passed, rps, precision)


def _downwards(
    levels: list[Level],
    run: Callable[[float], Level],
    first: Level,
    precision: float,
    floor: float,
) -> Capacity:
    """From a first level that failed: halve the rate until a level passes, then
    bisect between it and the one above it (see the module's doc)."""
    failed, level = first.rps, first
    if failed <= floor and not first.out_of_reach:  # not to go down: the limit is below it
        return Capacity(levels, None, failed)
    while not level.out_of_reach and failed > floor:
        rps = max(failed / 2, floor)
        level = run(rps)
        if level.verdict == SATURATED:
            return Capacity(levels, None, failed, saturated_at=rps, lowest_tried=rps)
        if level.verdict == PASS:
            return _bisected(levels, run, rps, failed, precision)
        failed = rps
    return Capacity(
        levels,
        None,
        failed,
        lowest_tried=failed,
        out_of_reach=level.out_of_reach,
        floor=failed <= floor,
    )


def _bisected(
    levels: list[Level],
    run: Callable[[float], Level],
    passed: float,
    failed: float,
    precision: float,
) -> Capacity:
    """Bisect [passed, failed) to `precision`, then confirm the ends."""
    while failed - passed > precision * passed:
        mid = (passed + failed) / 2
        level = run(mid)
        if level.verdict == SATURATED:
            return Capacity(levels, passed, failed, saturated_at=mid)
        if level.verdict == PASS:
            passed = mid
        else:
            failed = mid
    return _confirmed(levels, run, passed, failed)


def _confirmed(
    levels: list[Level], run: Callable[[float], Level], passed: float, failed: float
) -> Capacity:
    """Run the bracket's ends again (and, if a verdict changed, the levels between
    the rates that stayed clean), then answer from every run (see the module's doc)."""
    for rate in (failed, passed):
        for _ in range(CONFIRM_RUNS):
            if run(rate).verdict == SATURATED:
                return Capacity(levels, passed, failed, saturated_at=rate)
    sustained, first_failed = _bounds(levels)
    if (sustained, first_failed) != (passed, failed):  # a verdict changed: look between
        for rate in _rates_between(levels, sustained, first_failed):
            if run(rate).verdict == SATURATED:
                return Capacity(levels, sustained, first_failed, saturated_at=rate)
        sustained, first_failed = _bounds(levels)
    return Capacity(levels, sustained, first_failed, noisy=_noisy(levels, sustained, first_failed))


def _verdicts(levels: list[Level]) -> dict[float, list[Verdict]]:
    by_rate: dict[float, list[Verdict]] = {}
    for lv in levels:
        if lv.verdict in (PASS, FAIL):
            by_rate.setdefault(lv.rps, []).append(lv.verdict)
    return dict(sorted(by_rate.items()))


def _bounds(levels: list[Level]) -> tuple[float | None, float | None]:
    """The highest rate at and below which every run passed, and the lowest rate
    above it where every run failed (else where any did)."""
    sustained: float | None = None
    by_rate = _verdicts(levels)
    for rate, verdicts in by_rate.items():
        if any(v != PASS for v in verdicts):
            break
        sustained = rate
    above = [r for r in by_rate if sustained is None or r > sustained]
    failed = next((r for r in above if all(v == FAIL for v in by_rate[r])), None)
    if failed is None:  # no clean failure: the lowest that failed at all bounds it
        failed = next((r for r in above if FAIL in by_rate[r]), None)
    return sustained, failed


def _rates_between(levels: list[Level], low: float | None, high: float | None) -> list[float]:
    """The rates already run strictly between `low` and `high` (the uncertain zone)."""
    return [r for r in _verdicts(levels) if (low is None or r > low) and (high is None or r < high)]


def _noisy(
    levels: list[Level], low: float | None, high: float | None
) -> list[tuple[float, int, int]]:
    """Where the runs disagreed: each rate between the bounds, and the upper bound
    itself when not every run there failed, with its passes and runs."""
    by_rate = _verdicts(levels)
    rates = _rates_between(levels, low, high)
    if high is not None and PASS in by_rate.get(high, []):
        rates.append(high)
    return [(r, by_rate[r].count(PASS), len(by_rate[r])) for r in rates]
