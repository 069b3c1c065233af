"""`loadgen report DIR`: the terminal summary and report.html again, from a run's files;
with `--serve`, the live page over them (`report/dashboard_replay.py`).

The latency numbers are recomputed from `intervals.hlog` (whose intervals sum
to the run's totals), so the report is checked against, not copied from,
`summary.json`; `--slo` judges a finished run after the fact (without it, the
run is judged again by the SLOs it was run with). The exit status is the
run's for the same facts: a run that lost shards, or in which no request got
a response, is 1 here as it was when it ran (SLOs still decide between 1 and
99 as they do for `run`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from loadgen.commands.options.argtypes import Parser, UsageError, check_slo_tasks, slo
from loadgen.commands.options.dashboard import add_address_option
from loadgen.commands.options.exitcode import ExitCode
from loadgen.commands.options.junit import add_junit_option, write_run_junit
from loadgen.commands.options.output import print_link
from loadgen.commands.run import nothing_answered
from loadgen.measure.histogram import summary_ms
from loadgen.report.dashboard_replay import Replay, replayed
from loadgen.report.run_data import RunData
from loadgen.report.run_dir import load_run, write_report
from loadgen.report.slo import SLOError, parse_slo
from loadgen.report.summary import judge_slos
from loadgen.report.summary_contract import Summary
from loadgen.report.terminal import make_console, render_slos, render_summary


def parser() -> argparse.ArgumentParser:
    """`loadgen report`'s arguments (tests/test_docs.py parses the docs' examples with it)."""
    p = Parser(
        prog="loadgen report",
        description="Re-render a run's terminal summary and report.html from its saved files.",
    )
    p.add_argument("run", type=Path, metavar="DIR", help="a directory written by --out")
    p.add_argument(
        "--slo",
        type=slo,
        action="append",
        default=[],
        metavar="EXPR",
        help="judge the run by this SLO, repeatable (default: the SLOs it was run with)",
    )
    p.add_argument("--no-html", action="store_true", help="only the terminal summary")
    add_junit_option(p, "the SLO verdicts (--slo's, else those the run was judged by)")
    add_address_option(
        p, "--serve", "then serve the live page over the saved run, as at its end, until Ctrl-C"
    )
    return p


def recompute_latencies(run: RunData) -> None:
    """Replace the summary's latency blocks with values from the histograms."""
    s = run.summary
    for task, by_kind in run.histograms.items():
        if task in s["tasks"]:
            s["tasks"][task]["latency_ms"] = {
                "response": summary_ms(by_kind["response"]),
                "service": summary_ms(by_kind["service"]),
            }
    s["latency_ms"] = {
        "response": summary_ms(run.total("response")),
        "service": summary_ms(run.total("service")),
    }


def report(argv: Sequence[str]) -> ExitCode:
    """Load the run, recompute its latencies, judge the SLOs given, and print and
    write the report again.
    """
    args = parser().parse_args(argv)
    try:
        run = load_run(args.run)
    except ValueError as e:
        raise UsageError(str(e)) from None
    try:
        slos = args.slo or [parse_slo(v["slo"]) for v in run.summary.get("slo", [])]
    except SLOError as e:
        raise UsageError(f"{args.run}: its summary's SLO: {e}") from None
    check_slo_tasks(slos, run.summary["tasks"])
    recompute_latencies(run)
    outcomes = judge_slos(slos, run.summary, run.histograms)
    console = make_console()
    render_summary(run.summary, console)
    render_slos(outcomes, console)
    path = None
    if not args.no_html:
        path = write_report(args.run, run)
    passed = all(o.passed for o in outcomes)
    failure = incomplete(run.summary)
    status = ExitCode.OK if passed else ExitCode.SLO_FAILED
    if failure:
        print(f"loadgen: error: {failure}", file=sys.stderr)
        status = ExitCode.INCOMPLETE if passed else ExitCode.SLO_FAILED
    write_run_junit(args.junit, run.summary, status, failure or "")
    if path is not None:  # last, as a run ends: the page, as a link a terminal opens
        print_link(console, path.parent, path.name)
    if args.serve is not None:
        return serve_saved(args.serve, run, args.run, path)
    return status


def serve_saved(
    address: tuple[str, int], run: RunData, directory: Path, page: Path | None
) -> ExitCode:
    """The live page over the saved run, until Ctrl-C (exit 130, as a run stopped so)."""
    host, port = address
    try:
        replay = Replay(host, port, replayed(run, directory.resolve().name, page))
    except OSError as e:
        raise UsageError(f"--serve {host}:{port}: cannot listen there: {e.strerror or e}") from None
    print(f"serving: {replay.url} (Ctrl-C ends it)", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        replay.serve_forever()
    return ExitCode.INTERRUPTED


def incomplete(summary: Summary) -> str | None:
    """Why the run that wrote `summary` exited 1 (None: it did not, for this reason)."""
    missing = summary["run"].get("missing_shards")
    if missing:
        return f"shard(s) {', '.join(map(str, missing))} of the run are missing from it"
    return nothing_answered(summary)
