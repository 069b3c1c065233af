"""`loadgen compare A B [...]`: runs side by side, deltas against the first.

Each argument is a run directory (--out) or a Locust --csv prefix. Prints a
table of the numbers with each run's change against the first (the
baseline) and writes a page named after the runs
(`reports/compare-A-vs-B.html`) with their set-ups, diagnoses and errors side
by side and their spectra and throughput overlaid. A page already there is
never replaced unasked: compare refuses (exit 2) unless --force, so that an
earlier comparison is never lost silently.

With `--fail-if BOUND` it is a regression gate (report/regression.py): each
run against the first, per interval, exit 99 when a bound is crossed beyond
the noise (or past it at all, with --strict), 1 when a bound could not be
judged; `--json FILE` writes the comparison for CI to keep (docs/ci.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from loadgen.commands.options.argtypes import Parser, UsageError, bound, out_dir
from loadgen.commands.options.exitcode import ExitCode
from loadgen.commands.options.junit import junit_file
from loadgen.measure.numbers import json_text
from loadgen.report.comparison import (
    Comparable,
    delta,
    load_comparable,
    page_name,
    render_comparison,
    short_labels,
)
from loadgen.report.regression import (
    Bound,
    Gate,
    comparison_json,
    gate,
    metric_lines,
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
    gate_options = p.add_argument_group("regression gate (each run against the first)")
    gate_options.add_argument(
        "--fail-if",
        type=bound,
        action="append",
        default=[],
        metavar="BOUND",
        help="exit 99 if the change crosses this bound beyond the noise, repeatable: "
        "p99>+10%%, service:p90>+2ms, errors>+0.5pp, rps<-5%% (metrics: p50 p90 p99 "
        "max mean rps throughput errors)",
    )
    gate_options.add_argument(
        "--strict",
        action="store_true",
        help="fail on a crossed bound even when the change is within the runs' noise",
    )
    gate_options.add_argument(
        "--json",
        type=json_file,
        metavar="FILE",
        help="write the comparison as JSON (format 1, docs/ci.md); - for stdout "
        "(the table then goes to stderr)",
    )
    return p


def json_file(text: str) -> Path:
    """--json: `-` for stdout, else a file to write, checked as --junit's is."""
    return Path(text) if text == "-" else junit_file(text)


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
    if args.strict and not args.fail_if:
        raise UsageError("--strict goes with --fail-if (it drops the noise rule of the bounds)")
    labels = short_labels(args.runs)
    try:
        runs = [load_comparable(a, label) for a, label in zip(args.runs, labels, strict=True)]
    except ValueError as e:
        raise UsageError(str(e)) from None
    gated = bool(args.fail_if) or args.json is not None
    not_ours = [r.label for r in runs if r.run is None]
    if gated and not_ours:
        raise UsageError(
            f"--fail-if and --json need loadgen runs (their per-second data): "
            f"{', '.join(not_ours)} is not one"
        )
    page = None if args.no_html else page_path(args.out, labels)
    replaced = page is not None and page.exists()
    if page is not None and replaced and not args.force:
        raise _exists(page)
    console = make_console(stderr=args.json == Path("-"))
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
    status = judge(args, runs, console) if gated else ExitCode.OK
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
    return status


def judge(args: argparse.Namespace, runs: list[Comparable], console: Console) -> ExitCode:
    """The gate (each run against the first): its verdicts printed, its JSON written,
    each bound that failed said last on stderr; its exit status."""
    gates = [gate_against(runs[0], r, args.fail_if, args.strict) for r in runs[1:]]
    status = gate_status(gates)
    if args.fail_if:
        print_gates(console, gates, args.strict)
    if args.json is not None:
        facts = [run_facts(r, a) for r, a in zip(runs, args.runs, strict=True)]
        text = json_text(comparison_json(facts, gates, args.strict, int(status)), indent=2)
        if args.json == Path("-"):
            sys.stdout.write(text + "\n")
        else:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(text + "\n")
    for g in gates:
        for c in g.failed:
            print(f"loadgen: compare: regression: {g.new}: {c.bound.text}", file=sys.stderr)
    return status


def gate_against(base: Comparable, new: Comparable, bounds: list[Bound], strict: bool) -> Gate:
    """`new` judged against the baseline by `bounds` (both loadgen runs, checked before)."""
    assert base.run is not None and new.run is not None  # loadgen runs: checked before
    return gate(base.run, new.run, (base.label, new.label), bounds, strict)


def gate_status(gates: Sequence[Gate]) -> ExitCode:
    """99 when a bound failed; 1 when none did but one could not be judged; else 0."""
    if any(g.failed for g in gates):
        return ExitCode.SLO_FAILED
    if any(g.unjudged for g in gates):
        return ExitCode.INCOMPLETE
    return ExitCode.OK


def print_gates(console: Console, gates: Sequence[Gate], strict: bool) -> None:
    """Each run's metrics the bounds name, then each bound's verdict."""
    rule = "a bound fails only when crossed beyond the noise (95% interval leaves out 0)"
    if strict:
        rule = "--strict: a bound crossed fails"
    for g in gates:
        console.print()
        console.print(
            f"[bold]gate:[/bold] {g.new} against {g.base}: the mean of per-second values, "
            f"change [95% interval]; {rule}",
            highlight=False,
        )
        named = {c.bound.key() for c in g.checks}
        for line in metric_lines(g):
            if line.split(" ", 1)[0] in named:
                console.print(f"  {line}", markup=False, highlight=False)
        for c in g.checks:
            console.print(c.line(strict), markup=False, highlight=False)


def run_facts(run: Comparable, path: str) -> dict[str, Any]:
    """A run as the JSON names it: its label and folder, and its totals."""
    s = run.run.summary if run.run is not None else None
    facts: dict[str, Any] = {"label": run.label, "path": path}
    if s is not None:
        facts |= {
            "target": s["target"],
            "started_at": s["run"].get("started_at"),
            "duration_s": s["duration_s"],
            "target_rps": s["target_rps"],
            "achieved_rps": s["achieved_rps"],
            "throughput_rps": s["throughput_rps"],
            "requests": s["requests"],
            "errors": s["errors"]["total"],
            "latency_ms": s["latency_ms"],
        }
    return facts
