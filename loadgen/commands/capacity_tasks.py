"""Which task breaks first: each task against the latency objectives that judge it, per level.

A level passes or fails as a whole; what to fix is a task. Each task is held
to the latency objectives that judge it (its own, else the run's: as
`report/slo.py` judges them), at each level, from that level's summary. Over
the levels, a task holds up to the highest rate at and below which it met
them at every level, and fails from the lowest rate above that where it
missed one; the task that failed first is the one that fails from the lowest
rate (at the same rate, the one furthest over its objective). A percentile
the summary does not carry (p95) cannot be read back here: that objective is
left out of this view (the level's verdict still judged it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from rich.markup import escape
from rich.table import Table

from loadgen.commands.capacity_search import FAIL, PASS, Level, rps_text
from loadgen.report.findings.finding import seconds_text
from loadgen.report.findings.slow import judged_by, objective_text
from loadgen.report.slo import SLO, SLOError


def level_tasks(level: Level, slos: Sequence[SLO]) -> list[dict[str, Any]]:
    """Each task of the level against each latency objective that judges it."""
    if level.summary is None:
        return []
    rows = []
    for name, task in level.summary["tasks"].items():
        for slo in judged_by(slos, name):
            scoped = replace(slo, task=name)
            try:
                measured = scoped.measure(level.summary)
            except SLOError:  # a percentile only the run's histograms had
                continue
            rows.append(
                {
                    "task": name,
                    "objective": objective_text(slo),
                    "threshold_ms": slo.threshold,
                    "measured_ms": None if math.isnan(measured) else measured,
                    "passed": scoped.passes(measured),
                    "requests": task["requests"],
                }
            )
    return rows


def task_limits(levels: Sequence[Level], slos: Sequence[SLO]) -> list[dict[str, Any]]:
    """Each task's bounds over the judged levels: the rate it holds up to, the rate it
    fails from, and what it measured there; the first to fail first."""
    by_task: dict[tuple[str, str], dict[float, list[dict[str, Any]]]] = {}
    for lv in levels:
        if lv.verdict not in (PASS, FAIL):
            continue
        for row in level_tasks(lv, slos):
            rates = by_task.setdefault((row["task"], row["objective"]), {})
            rates.setdefault(lv.rps, []).append(row)
    limits = [_limit(task, objective, rates) for (task, objective), rates in by_task.items()]
    return sorted(limits, key=_first_to_fail)


def _limit(task: str, objective: str, rates: dict[float, list[dict[str, Any]]]) -> dict[str, Any]:
    holds: float | None = None
    fails: float | None = None
    for rate in sorted(rates):
        if all(r["passed"] for r in rates[rate]):
            if fails is None:
                holds = rate
        elif fails is None:
            fails = rate
    at = rates[fails] if fails is not None else []
    worst = max((r["measured_ms"] or math.inf for r in at), default=None)
    threshold = next(iter(rates.values()))[0]["threshold_ms"]
    return {
        "task": task,
        "objective": objective,
        "threshold_ms": threshold,
        "holds_up_to_rps": holds,
        "fails_from_rps": fails,
        "measured_ms_there": worst,
        "tried_up_to_rps": max(rates),
    }


def _first_to_fail(limit: dict[str, Any]) -> tuple[float, float]:
    """The lowest rate failed from first; at one rate, the furthest over its objective
    (the measured value's ratio to it: 281 ms against 100 ms before 1.25 s against 1 s)."""
    fails = limit["fails_from_rps"]
    measured = limit["measured_ms_there"] or 0.0
    over = measured / limit["threshold_ms"] if limit["threshold_ms"] else math.inf
    return (math.inf if fails is None else fails, -over)


def limits_text(limits: Sequence[dict[str, Any]]) -> str | None:
    """The tasks' limits in one line, the first to fail first (None: none failed)."""
    if not limits or limits[0]["fails_from_rps"] is None:
        return None
    first = limits[0]
    parts = [f"{first['task']} first: {_fails(first)}"]
    for other in limits[1:]:
        if other["fails_from_rps"] is None:
            parts.append(
                f"{other['task']} met {other['objective']} at every level "
                f"(up to {rps_text(other['tried_up_to_rps'])}/s)"
            )
        else:
            parts.append(f"{other['task']}: {_fails(other)}")
    return "; ".join(parts)


def _fails(limit: dict[str, Any]) -> str:
    measured = limit["measured_ms_there"]
    shown = "n/a" if measured is None or math.isinf(measured) else seconds_text(measured)
    holds = limit["holds_up_to_rps"]
    held = f"holds up to {rps_text(holds)}/s, " if holds is not None else ""
    fails = rps_text(limit["fails_from_rps"])
    return f"{held}fails from {fails}/s ({shown} against {limit['objective']})"


# The terminal's table of tasks by level shows this many tasks, the first to fail first.
TABLE_TASKS = 10


def tasks_table(report: dict[str, Any]) -> Table | None:
    """capacity.json's tasks by level: each task's measured value per rate, red where
    it missed its objective (None: no task was judged, or only one task ran)."""
    limits = report.get("tasks", [])
    if len({lim["task"] for lim in limits}) < 2:
        return None  # one task: the levels table says it all
    levels = sorted(
        (lv for lv in report["levels"] if lv["verdict"] in (PASS, FAIL)),
        key=lambda lv: lv["target_rps"],
    )
    table = Table(box=None, pad_edge=False, title="each task against its objective, by level")
    table.add_column("task")
    table.add_column("objective")
    for lv in levels:
        table.add_column(f"{rps_text(lv['target_rps'])}/s", justify="right")
    for lim in limits[:TABLE_TASKS]:
        cells = []
        for lv in levels:
            row = next(
                (
                    r
                    for r in lv.get("tasks", [])
                    if (r["task"], r["objective"]) == (lim["task"], lim["objective"])
                ),
                None,
            )
            cells.append(_cell(row))
        table.add_row(escape(lim["task"]), lim["objective"], *cells)
    return table


def ms_cell(value: float) -> str:
    """Milliseconds in a narrow cell: three digits (0.52, 425), whole from 1000 (6058)."""
    return f"{value:.3g}" if value < 1000 else f"{value:.0f}"


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "—"
    measured = row["measured_ms"]
    shown = "n/a" if measured is None else ms_cell(measured)
    return shown if row["passed"] else f"[red]{shown}[/red]"
