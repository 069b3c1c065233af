"""Command line: `loadgen --rps 100` (or `python -m loadgen`).

Misuse gets one line on stderr and exit status 2, before any load is sent.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from loadgen.argtypes import (
    Parser,
    UsageError,
    check_slo_tasks,
    positive_duration,
    rate_spec,
    slo,
    stages_spec,
)
from loadgen.options import add_load_options, check_load_options, target
from loadgen.output import write_run
from loadgen.profile import NAMED_PROFILES, ConstantRate, RateProfile, ramp, stages
from loadgen.progress import Progress
from loadgen.scaleout import ShardsLost, add_scale_options, check_scale_options, run_scaled
from loadgen.summary import build_summary, judge_slos
from loadgen.target import TargetError
from loadgen.terminal import make_console, render_slos, render_summary

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_SLO_FAILED = 99  # k6's convention for failed thresholds


def run_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="loadgen",
        description=(
            "Open-model HTTP load generator. Sends requests at a target arrival rate "
            "whatever the server does, and measures each latency from the request's "
            "intended send time (no coordinated omission)."
        ),
        epilog=subcommands_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rate = p.add_mutually_exclusive_group(required=True)
    rate.add_argument(
        "--rps",
        type=rate_spec,
        metavar="RATE|FROM:TO",
        help="target arrival rate in requests/s, or a linear ramp over the run, e.g. 10:500",
    )
    rate.add_argument(
        "--stages",
        type=stages_spec,
        metavar="SPEC|FILE",
        help="rates held in turn, e.g. 30s:100,30s:200,60s:400 (or a file of them); "
        "the run lasts their total unless --duration says otherwise",
    )
    rate.add_argument(
        "--profile",
        choices=sorted(NAMED_PROFILES),
        help="a named rate profile: wagon-ladder replays the exercise's 1 → 10 → 50 → 100 "
        "users (1–5 s think time) as arrival rates",
    )
    p.add_argument(
        "--duration",
        type=positive_duration,
        help="how long to send: 30s, 2m, 1h30m or seconds "
        "(default 30s; for --stages and --profile, their length)",
    )
    add_load_options(p)
    p.add_argument("--out", type=Path, metavar="DIR", help="write summary.json, .hgrm, .hlog here")
    p.add_argument(
        "--slo",
        type=slo,
        action="append",
        default=[],
        metavar="EXPR",
        help="an objective to judge the run by, repeatable: p99<50ms, "
        "task:compute_fib:p99.9<=200ms, service:p90<10ms, errors<1%%, achieved>=99%%; "
        "any failure exits 99 (after the files are written)",
    )
    add_scale_options(p)
    return p


DEFAULT_DURATION = 30.0


def rate_profile(args: argparse.Namespace) -> RateProfile:
    """The profile named by --rps, --stages or --profile."""
    if args.profile:
        return NAMED_PROFILES[args.profile]()
    if args.stages:
        return stages(args.stages)
    start, end = args.rps
    if start == end:
        return ConstantRate(start)
    return ramp(start, end, args.duration or DEFAULT_DURATION)


def run(argv: Sequence[str]) -> int:
    args = run_parser().parse_args(argv)
    load = check_load_options(args)
    check_slo_tasks(args.slo, load.scenario.task_weights())
    scale = check_scale_options(args)
    profile = rate_profile(args)
    seconds = args.duration or profile.length or DEFAULT_DURATION
    console = make_console()
    meta = {"rate_profile": profile.describe(), **load.meta(), **scale.meta()}
    with target(args) as url:
        config = load.config(url, profile, seconds)
        live = not args.quiet and console.is_terminal
        progress = Progress(console, seconds) if live else None
        with progress or contextlib.nullcontext():
            # Here, or as shards (local processes, Dask) merged into one result.
            scaled = run_scaled(scale, config, args.scenario, meta, progress)
    result = scaled.result
    summary = build_summary(result, {**meta, **scaled.meta()})
    outcomes = judge_slos(args.slo, summary, result.recorder.histograms())
    if not args.quiet:
        render_summary(summary, console)
    render_slos(outcomes, console)  # even with --quiet: asked for, and they explain an exit 99
    scaled.report()
    if args.out is not None:
        write_run(args.out, summary, result)
        scaled.write(args.out)
        if not args.quiet:
            console.print(f"files written to {args.out}/")
    if result.interrupted:
        make_console(stderr=True).print(
            "interrupted: the report covers what was measured before the stop"
        )
        return EXIT_INTERRUPTED
    if scaled.exit_code == 0 and not all(o.passed for o in outcomes):
        return EXIT_SLO_FAILED
    return scaled.exit_code


# Subcommands: name → "module:function", imported on use. A command line that
# does not start with one of them is a run (`loadgen --rps 100`).
COMMANDS: dict[str, str] = {
    "run": "loadgen.cli:run",
    "capacity": "loadgen.capacity_command:capacity",
    "report": "loadgen.report_command:report",
    "compare": "loadgen.compare_command:compare",
    "merge": "loadgen.merge_command:merge",
}
SUMMARIES: dict[str, str] = {
    "run": "send load and report it (the default: `loadgen --rps 100` is `loadgen run ...`)",
    "capacity": "find the highest rate the target sustains under an SLO",
    "report": "the terminal summary and report.html again, from a run's --out directory",
    "compare": "runs (or Locust CSVs) side by side, against the first",
    "merge": "put the --out directories of --shard runs back together as one run",
}


def subcommands_epilog() -> str:
    lines = [f"  {name:<9} {SUMMARIES[name]}" for name in COMMANDS]
    return "commands (loadgen COMMAND --help for each):\n" + "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = run
    if argv and argv[0] in COMMANDS:
        module, _, function = COMMANDS[argv.pop(0)].partition(":")
        command = getattr(importlib.import_module(module), function)
    try:
        return int(command(argv))
    except UsageError as e:
        print(f"loadgen: error: {e} (see loadgen --help)", file=sys.stderr)
        return EXIT_USAGE
    except (TargetError, ShardsLost) as e:
        print(f"loadgen: error: {e}", file=sys.stderr)
        return 1
