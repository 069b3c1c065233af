"""Publishing a finished run: summary, SLO verdicts, files, then the terminal.

Every command that ends with a run (run, each capacity level, merge) goes
through `publish`. Files come before the terminal: a closed stdout must not
cost the files, and the summary is written last among them (its presence says
the others are complete).

A stop (Ctrl-C) that comes while the files are written is the caller's to
catch; `stopped` tells it to `write_run`, which then leaves out the views not
yet written (never the measurements) and `Published.not_written` says which,
in one line for the user. The run itself stays what it was: finished unless
the stop came while sending.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from loadgen.core.results import RunResult
from loadgen.report.diagnosis import diagnose
from loadgen.report.run_dir import write_run
from loadgen.report.server_signals import NO_SOURCES, ServerSignals
from loadgen.report.slo import SLO, Outcome
from loadgen.report.summary import build_summary, judge_slos
from loadgen.report.summary_contract import Summary
from loadgen.report.terminal import render_slos, render_summary


@dataclass
class Published:
    """What publishing a run gave: its summary, its SLO verdicts, what was not written."""

    summary: Summary
    outcomes: list[Outcome]
    # What a stop while writing left out, in one line (None: nothing was).
    not_written: str | None = None

    @property
    def slos_passed(self) -> bool:
        """Every objective met (True with none)."""
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
    stopped: Callable[[], bool] = lambda: False,
) -> Published:
    """Summarise `result`, diagnose, judge it, write, print.

    `meta` is the run's parameters; `server` the target's own signals (else
    `server_note` says why there are none); `stopped` says whether a stop
    came since the run ended (asked between files, see `write_run`).

    With `quiet` the summary is not printed; SLO verdicts always are (they
    were asked for, and they explain an exit status).
    """
    summary = summarize(result, meta, server, server_note, slos)
    outcomes = judge_slos(slos, summary, result.recorder.histograms())
    not_written = None
    if out is not None:
        not_written = write_run(out, summary, result, stopped).note(out)
    if console is not None:
        if not quiet:
            render_summary(summary, console)
        render_slos(outcomes, console)
    return Published(summary, outcomes, not_written)


def summarize(
    result: RunResult,
    meta: dict[str, Any],
    server: ServerSignals | None = None,
    server_note: str = NO_SOURCES,
    slos: Sequence[SLO] = (),
) -> Summary:
    """A finished run's whole summary: what was measured, with the target's side
    beside it (`build_summary`), and the diagnosis read from them both (and from
    the run's objectives, `slos`)."""
    summary = build_summary(result, meta, server, server_note)
    summary["diagnosis"] = [f.to_json() for f in diagnose(summary, slos)]
    return summary
