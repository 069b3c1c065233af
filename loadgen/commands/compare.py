"""`loadgen compare A B [...]`: runs side by side, deltas against the first.

Each argument is a run directory (--out) or a Locust --csv prefix. Prints a
table of the numbers with each run's change against the first (the
baseline) and writes an HTML page with their percentile spectra and
throughput over time overlaid.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from rich.table import Table

from loadgen.commands.options.argtypes import Parser, UsageError, out_dir
from loadgen.commands.options.exitcode import ExitCode
from loadgen.report.comparison import (
    Comparable,
    delta,
    load_comparable,
    render_comparison,
    short_labels,
)
from loadgen.report.summary import LATENCY_STATS
from loadgen.report.terminal import make_console


def parser() -> argparse.ArgumentParser:
    """`loadgen compare`'s arguments (tests/test_docs.py parses the docs' examples with it)."""
    p = Parser(
        prog="loadgen compare",
        description="Compare runs (loadgen --out directories or Locust --csv prefixes); "
        "the first is the baseline.",
    )
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directory or Locust CSV prefix")
    p.add_argument(
        "--out",
        type=out_dir,
        default="reports",
        metavar="DIR",
        help="where to write compare.html (default reports/)",
    )
    p.add_argument("--no-html", action="store_true", help="only the terminal table")
    return p


def rows(runs: Sequence[Comparable]) -> list[tuple[str, list[str]]]:
    """(metric, one cell per run: value and change against the first)."""
    out: list[tuple[str, list[str]]] = []

    def add(name: str, values: list[float | None], fmt: str) -> None:
        b = values[0]
        cells = []
        for i, v in enumerate(values):
            if v is None:
                cells.append("n/a")
            elif i == 0 or b is None or not delta(v, b):
                cells.append(format(v, fmt))
            else:
                cells.append(f"{format(v, fmt)} ({delta(v, b)})")
        out.append((name, cells))

    add("requests", [r.requests for r in runs], "d")
    add("achieved req/s", [r.achieved_rps for r in runs], ".1f")
    add("errors %", [100 * r.error_rate for r in runs], ".2f")
    for kind in ("response", "service"):
        for stat in LATENCY_STATS:
            values = [None if getattr(r, kind) is None else getattr(r, kind)[stat] for r in runs]
            add(f"{kind} {stat} ms", values, ".2f")
    return out


def compare(argv: Sequence[str]) -> ExitCode:
    """Print the runs side by side and, unless --no-html, write compare.html."""
    args = parser().parse_args(argv)
    if len(args.runs) < 2:
        raise UsageError("compare needs at least two runs")
    try:
        runs = [
            load_comparable(a, label)
            for a, label in zip(args.runs, short_labels(args.runs), strict=True)
        ]
    except ValueError as e:
        raise UsageError(str(e)) from None
    console = make_console()
    table = Table(
        box=None, pad_edge=False, title="baseline: " + runs[0].label, title_justify="left"
    )
    table.add_column("metric")
    for r in runs:
        table.add_column(f"{r.label} ({r.tool})", justify="right")
    for name, cells in rows(runs):
        table.add_row(name, *cells)
    console.print(table)
    for r in runs:
        for note in r.notes:
            console.print(f"[yellow]note[/yellow] {r.label}: {note}")
    if not args.no_html:
        args.out.mkdir(parents=True, exist_ok=True)
        page = args.out / "compare.html"
        page.write_text(render_comparison(runs, rows(runs)))
        console.print(f"comparison written to {page}")
    return ExitCode.OK
