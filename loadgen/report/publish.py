"""Publishing a finished run: summary, SLO verdicts, files, then the terminal.

Every command that ends with a run (run, each capacity level, merge) goes
through `publish`. Files come before the terminal: a closed stdout must not
cost the files, and the summary is written last among them (its presence says
the others are complete).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from loadgen.core.results import RunResult
from loadgen.report.diagnosis import diagnose
from loadgen.report.run_dir import write_run
from loadgen.report.server_signals import NO_SOURCES, ServerSignals, attach
from loadgen.report.slo import SLO, Outcome
from loadgen.report.summary import build_summary, judge_slos
from loadgen.report.terminal import render_slos, render_summary


@dataclass
class Published:
    summary: dict[str, Any]
    outcomes: list[Outcome]

    @property
    def slos_passed(self) -> bool:
        return all(o.passed for o in self.outcomes)


def publish(
    result: RunResult,
    meta: dict[str, Any],
    slos: Sequence[SLO] = (),
    *,
    out: Path | None = None,
    console: Console | None = None,
    quiet: bool = False,
    server: ServerSignals | None = None,
    server_note: str = NO_SOURCES,
) -> Published:
    """Summarise `result`, diagnose, judge it, write, print.

    `meta` is the run's parameters; `server` the target's own signals (else
    `server_note` says why there are none).

    With `quiet` the summary is not printed; SLO verdicts always are (they
    were asked for, and they explain an exit status).
    """
    summary = build_summary(result, meta)
    attach(summary, server, server_note)
    summary["diagnosis"] = diagnose(summary)
    outcomes = judge_slos(slos, summary, result.recorder.histograms())
    if out is not None:
        write_run(out, summary, result)
    if console is not None:
        if not quiet:
            render_summary(summary, console)
        render_slos(outcomes, console)
    return Published(summary, outcomes)
