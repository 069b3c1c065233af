"""The terminal summary, rendered from the summary dict with rich."""

from __future__ import annotations

import io
import os
import sys
from typing import TextIO, cast

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from loadgen.measure.histogram import ms
from loadgen.report.diagnosis import how_sure
from loadgen.report.notes import Note, notes
from loadgen.report.server_signals import describe
from loadgen.report.setup import arrivals_text, http_text, target_rate_text
from loadgen.report.slo import Outcome
from loadgen.report.summary import (
    LATENCY_STATS,
    asked_note,
    failed_checks,
    task_rows,
)
from loadgen.report.summary_contract import LatencyKind, Summary

_COLUMNS = tuple(stat for stat in LATENCY_STATS if stat != "mean")
# Not a terminal (a pipe, a CI log): lines as wide as they are, never wrapped.
_PLAIN_WIDTH = 240
# Failed checks: the reasons shown per task (summary.json has them all).
_TOP_REASONS = 3


def make_console(*, stderr: bool = False, quiet: bool = False) -> Console:
    """rich's console on a terminal; elsewhere a plain one that does not wrap lines.

    Either way its output may go nowhere: when the reader of a pipe is gone
    (`loadgen ... | head -1`), what is left to print is dropped, not raised.
    """
    std = sys.stderr if stderr else sys.stdout
    if std is None:  # closed before Python started (`>&-`): the output goes nowhere
        std = io.StringIO()
    # (a TextIOBase is not typed as IO[str], which is all rich asks for)
    stream = cast(TextIO, _Closable(std))
    console = Console(file=stream, quiet=quiet)
    if console.is_terminal:
        return console
    return Console(file=stream, quiet=quiet, width=_PLAIN_WIDTH, soft_wrap=True, no_color=True)


class _Closable(io.TextIOBase):
    """A standard stream whose reader may go away: then writes go nowhere.

    A broken pipe is the reader's choice (it has read enough), not the run's
    failure: the files are written before anything is printed, and the exit
    status stays the run's.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._broken = False

    def write(self, text: str) -> int:
        if not self._broken:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def flush(self) -> None:
        if not self._broken:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding

    def _gone(self) -> None:
        self._broken = True
        # The interpreter flushes the stream again at exit: point it at nothing.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self._stream.fileno())
        os.close(devnull)


def _latency_table(summary: Summary, kind: LatencyKind, title: str) -> Table:
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    table.add_column("task")
    table.add_column("requests", justify="right")
    table.add_column("errors", justify="right")
    for col in _COLUMNS:
        table.add_column(f"{col} ms", justify="right")
    rows = task_rows(summary)
    for i, (name, t) in enumerate(rows):
        lat = t["latency_ms"][kind]
        style = "bold" if i == len(rows) - 1 else None
        table.add_row(
            name,
            str(t["requests"]),
            str(t["errors"]),
            *(ms(lat[c]) for c in _COLUMNS),
            style=style,
        )
    return table


def _asked(summary: Summary) -> str:
    note = asked_note(summary)
    return f" [red]({note})[/red]" if note else ""


def _label(note: Note) -> str:
    if note.level == "warning":
        return "[bold yellow]warning:[/bold yellow]"
    if note.level == "note":
        return f"[yellow]{note.label or 'note'}:[/yellow]"
    return f"{note.label}:"


def render_summary(summary: Summary, console: Console) -> None:
    """The run on the terminal: rates, both latency tables, the notes under them, then
    the target's side and the diagnosis (`render_server`)."""
    run = summary.get("run", {})
    gen = summary["generator"]
    errors = summary["errors"]
    console.print(
        f"[bold]loadgen[/bold] → {summary['target']}  "
        f"{arrivals_text(summary['arrival'])}, "
        f"target {target_rate_text(summary)}{_asked(summary)}, "
        f"achieved {summary['achieved_rps']:.1f}/s over {summary['duration_s']:.1f}s"
        + ("  [yellow](interrupted)[/yellow]" if run.get("interrupted") else "")
    )
    console.print(
        f"requests {summary['requests']}, responses {summary['throughput_rps']:.1f}/s, "
        f"errors {errors['total']} ({100 * errors.get('rate', 0):.2f}%)"
        + (
            "  " + ", ".join(f"{k}={v}" for k, v in errors["by_kind"].items())
            if errors["by_kind"]
            else ""
        )
    )
    console.print()
    console.print(_latency_table(summary, "response", "Response time (from intended send)"))
    console.print()
    console.print(_latency_table(summary, "service", "Service time (from actual send)"))
    console.print()
    lag = gen["send_lag_ms"]
    console.print(
        f"generator: send lag p50 {ms(lag['p50'], 3)} ms, p99 {ms(lag['p99'], 3)} ms, "
        f"max {ms(lag['max'], 3)} ms; max in flight {gen['max_in_flight']}; "
        f"connections opened {gen['connections_opened']}"
        + (f" ({http})" if (http := http_text(summary)) else "")
    )
    for note in notes(summary):
        console.print(f"{_label(note)} {escape(note.text)}", highlight=False)
    for line in check_lines(summary):
        console.print(f"[yellow]failed checks:[/yellow] {escape(line)}", highlight=False)
    if run.get("exception"):
        console.print(f"[yellow]first task exception:[/yellow] {run['exception']}")
    render_server(summary, console)


def check_lines(summary: Summary, top: int = _TOP_REASONS) -> list[str]:
    """Each task's failed checks in one line, its `top` reasons first:
    `compute_addition 40: 38× "wrong result", 2× "status 201, expected 200"`."""
    lines = []
    for task, failed, reasons in failed_checks(summary):
        shown = ", ".join(f'{n}× "{reason}"' for reason, n in reasons[:top])
        rest = reasons[top:]
        if rest:
            shown += f", {sum(n for _, n in rest)}× for {len(rest)} more reasons"
        lines.append(f"{task} {failed}: {shown}")
    return lines


def render_server(summary: Summary, console: Console) -> None:
    """The target's own signals, then the diagnosis (both absent from older summaries)."""
    if "server" not in summary:
        return
    console.print()
    for line in describe(summary["server"]):
        console.print(line, highlight=False)
    for f in summary.get("diagnosis", []):
        if f["finding"] == "none":
            look = "yellow" if summary["errors"]["total"] else "green"
            console.print(f"[{look}]diagnosis:[/{look}] {f['summary']} ({f['evidence']})")
            continue
        console.print(
            f"[bold yellow]diagnosis:[/bold yellow] [bold]{f['finding']}[/bold]{how_sure(f)}: "
            f"{f['summary']} ({f['evidence']}) → {f['advice']}",
            highlight=False,
        )


def render_slos(outcomes: list[Outcome], console: Console) -> None:
    """A line per objective judged, red when it failed."""
    if not outcomes:
        return
    console.print()
    for o in outcomes:
        style = "green" if o.passed else "bold red"
        console.print(f"[{style}]{o.line()}[/{style}]", highlight=False)


def print_shard_notes(notes: list[str], warnings: list[str]) -> None:
    """What is odd or missing about a scaled-out run's shards: on stderr, even with --quiet."""
    if not notes and not warnings:
        return
    err = make_console(stderr=True)
    for note in notes:
        err.print(f"[yellow]note:[/yellow] {note}")
    for warning in warnings:
        err.print(f"[bold red]warning:[/bold red] {warning}")
