"""Enough responses per capacity level: how long a level runs, and when its verdict is weak.

A level's percentile means something only over enough responses: the p99 of
fewer than 100 is their maximum, one slow answer away from a failure. A
level lasts `--level`, or longer at a low rate: long enough for
`--min-responses` (MIN_RESPONSES, 100) arrivals, but no longer than
`--max-level` (MAX_LEVEL_S, 60 s), so a search that goes down to 0.1/s does
not run for a quarter of an hour per level. A level judged on fewer timed
responses than that (the cap reached, or requests that got no answer) is
marked low-confidence in the terminal, capacity.json and capacity.html, and
so is an answer that rests on one. The search down (from a first level that
fails) stops where a level of --max-level would hold fewer than
--min-responses (100 / 60 s: 1.67/s by default), or at --min-rps: below,
a level that passed would pass on a handful of answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from loadgen.commands.capacity_search import FAIL, PASS, Capacity, Level, rps_text
from loadgen.report.summary import timed_responses

MIN_RESPONSES = 100
MAX_LEVEL_S = 60.0


def level_length(rps: float, level_s: float, min_responses: int, max_level_s: float) -> float:
    """How long the level at `rps` runs (see the module's doc)."""
    wanted = min_responses / rps
    return max(level_s, min(wanted, max_level_s))


def lowest_rate(start: float, min_rps: float, min_responses: int, max_level_s: float) -> float:
    """How far down the search may go: --min-rps, and no rate whose level, at its
    longest, holds fewer than --min-responses (a level of 3 responses that passes
    is no limit); never above the first level."""
    return max(min_rps, min(start, min_responses / max_level_s))


def responses(level: Level) -> int | None:
    """The level's timed responses (those its percentiles are read from); None: no run."""
    if level.summary is None:
        return None
    return sum(timed_responses(t) for t in level.summary["tasks"].values())


def low_confidence(level: Level, min_responses: int) -> bool:
    """A judged level whose percentiles rest on fewer than `min_responses` responses."""
    n = responses(level)
    return level.verdict in (PASS, FAIL) and n is not None and n < min_responses


def weak_ends(result: Capacity, min_responses: int) -> list[Level]:
    """The levels the answer rests on (the rates it names) judged on too few responses."""
    named = {result.sustained, result.failed}
    return [lv for lv in result.levels if lv.rps in named and low_confidence(lv, min_responses)]


def weak_text(weak: Sequence[Level], min_responses: int) -> str:
    """What the answer says of the weak levels it rests on ("" when none)."""
    if not weak:
        return ""
    shown = ", ".join(f"{rps_text(lv.rps)}/s on {responses(lv)}" for lv in weak)
    return (
        f"low confidence: judged on fewer than {min_responses} responses ({shown}), where "
        "a p99 is close to the maximum — raise --max-level for longer low-rate levels"
    )
