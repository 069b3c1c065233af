"""`loadgen compare A B [...]`: runs side by side, deltas against the first.

Each argument is a run directory (--out) or a Locust --csv prefix. Prints a
table of the numbers with each run's change against the first (the
baseline) and writes a page named after the runs
(`reports/compare-A-vs-B.html`) with their set-ups, diagnoses and errors side
by side and their spectra and throughput overlaid. A page already there is
never replaced unasked: compare refuses (exit 2) unless --force, so that an
earlier comparison is never lost silently.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from rich.table import Table

from loadgen.commands.options.argtypes import Parser, UsageError, out_dir
from loadgen.commands.options.exitcode import ExitCode
from loadgen.report.comparison import (
    Comparable,
    delta,
    load_comparable,
    page_name,
    render_comparison,
    short_labels,
)
from loadgen.report.summary import LATENCY_STATS
from loadgen.report.terminal import make_console

PAGE_SUFFIXES = (".html", ".htm")


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
        type=out_page,
        default="reports",
        metavar="FILE|DIR",
        help="the page: FILE.html, or a directory to write compare-A-vs-B.html into "
        "(default reports/)",
    )
    p.add_argument("--force", action="store_true", help="replace the page if it exists")
    p.add_argument("--no-html", action="store_true", help="only the terminal table")
    return p


def out_page(text: str) -> Path:
    """--out: a file ending in .html (its directory may not exist yet), or a directory."""
    path = Path(text)
    if path.suffix.lower() not in PAGE_SUFFIXES or path.is_dir():
        return out_dir(text)
    try:
        out_dir(str(path.parent))
    except argparse.ArgumentTypeError as e:
        raise argparse.ArgumentTypeError(f"{text}: {e}") from None
    return path


def page_path(out: Path, labels: Sequence[str]) -> Path:
    """Where the page goes: --out itself when it names a page, else the runs'
    page name (`page_name`) in the directory it names."""
    if out.suffix.lower() in PAGE_SUFFIXES and not out.is_dir():
        return out
    return out / page_name(labels)


def _exists(page: Path) -> UsageError:
    return UsageError(f"{page} exists: --force replaces it, --out FILE.html writes another")


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
    """Print the runs side by side and, unless --no-html, write their page: refused
    (before anything is printed) where one is already there, unless --force."""
    args = parser().parse_args(argv)
    if len(args.runs) < 2:
        raise UsageError("compare needs at least two runs")
    labels = short_labels(args.runs)
    try:
        runs = [load_comparable(a, label) for a, label in zip(args.runs, labels, strict=True)]
    except ValueError as e:
        raise UsageError(str(e)) from None
    page = None if args.no_html else page_path(args.out, labels)
    replaced = page is not None and page.exists()
    if page is not None and replaced and not args.force:
        raise _exists(page)
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
    if page is not None:
        page.parent.mkdir(parents=True, exist_ok=True)
        try:
            # "x": a page that appeared since the check is not written over either.
            with page.open("w" if args.force else "x") as f:
                f.write(render_comparison(runs, rows(runs)))
        except FileExistsError:
            raise _exists(page) from None
        said = "comparison (it replaced the earlier one)" if replaced else "comparison"
        # Last, whole, as a link a terminal opens (as a run's `report: file://…`).
        console.print(
            f"{said}: {page.resolve().as_uri()}", markup=False, highlight=False, soft_wrap=True
        )
    return ExitCode.OK
