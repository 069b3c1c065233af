"""`loadgen capacity --dashboard`: the search on the live page, level by level.

Each level is a run of its own (its seconds count from 0 again); here they
are put on one time axis, the search's, from its start by the wall clock (the
cooldowns between levels show as gaps), so that the page draws the whole
search as one timeline and the sampler's samples fall where they were taken.
Each level measured goes to the page with its verdict, latency and rate: the
hockey stick (latency against offered rate) grows a point per level, and the
bracket is the highest rate that passed and the lowest above it that failed,
as the search reads them. At the end, the answer and where capacity.html is.

The capacity command calls this in a few places (`level_started`, `on_tick`,
`level_measured`, `search_over`); the search itself is none of its business.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loadgen.core.rates import ConstantRate
from loadgen.measure.tick import Tick
from loadgen.report.dashboard import Dashboard
from loadgen.report.summary_contract import Summary

WHY_FIXED = "the capacity search sets each level's rate itself"


def bracket(levels: Sequence[Mapping[str, Any]]) -> dict[str, float | None]:
    """The highest rate that passed and the lowest above it that failed, so far."""
    passed = [lv["rps"] for lv in levels if lv["verdict"] == "pass"]
    low = max(passed, default=None)
    failed = [lv["rps"] for lv in levels if lv["verdict"] == "fail" and lv["rps"] > (low or 0)]
    return {"passed": low, "failed": min(failed, default=None)}


class CapacityDashboard(Dashboard):
    """A `Dashboard` fed a capacity search: its levels on one timeline, and the search."""

    def __init__(self, host: str, port: int, run_id: str, warmup: float = 0.0) -> None:
        """OSError if the address cannot be bound (see `Dashboard`)."""
        super().__init__(host, port, run_id, ConstantRate(1.0), warmup, why_fixed=WHY_FIXED)
        self.levels: list[dict[str, Any]] = []
        self._started = time.time()
        self._offset = 0.0  # the running level's start on the search's time axis
        self._requests = 0
        self._errors: dict[str, int] = {}

    def __enter__(self) -> CapacityDashboard:
        super().__enter__()
        self._started = time.time()
        return self

    def level_started(self, rps: float) -> None:
        """A level at `rps` begins: its ticks count from now on the search's axis."""
        self.profile = ConstantRate(rps)
        self._offset = time.time() - self._started + self.warmup
        self.send({"level": {"rps": rps, "verdict": "running"}})

    def on_tick(self, t: Tick, offset: float = 0.0) -> None:
        """A second of the running level (on its engine's loop, as for a run), where
        it falls on the search's time axis."""
        super().on_tick(t, self._offset + offset)

    def level_measured(
        self, rps: float, verdict: str, reasons: Sequence[str], summary: Summary | None
    ) -> None:
        """The level is judged: its point of the hockey stick, the bracket, and its
        diagnosis (the report's own, over the level) as the findings so far."""
        level: dict[str, Any] = {"rps": rps, "verdict": verdict, "reasons": list(reasons)}
        if summary is not None:
            lat = summary["latency_ms"]["response"]
            level.update(
                p50_ms=lat["p50"],
                p99_ms=lat["p99"],
                achieved_rps=summary["achieved_rps"],
                throughput_rps=summary["throughput_rps"],
                error_rate=summary["errors"]["rate"],
                diagnosis=list(summary.get("diagnosis", [])),
            )
            self._requests += summary["requests"]
            for kind, n in summary["errors"]["by_kind"].items():
                self._errors[kind] = self._errors.get(kind, 0) + n
        self.levels.append(level)
        self.send({"level": level, "bracket": bracket(self.levels)})

    def search_over(self, answer: str, why: str | None, page: Path, stopped: bool) -> None:
        """The search's answer, why it fails there, and its capacity.html."""
        self.send({"capacity": {"answer": answer, "why": why}})
        self.ended(self._requests, self._errors, stopped)
        self.report(page)
