"""`loadgen run` (or just `loadgen --rps 100`): send load, report it, judge it."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence

from loadgen.commands.main import OVERVIEW
from loadgen.commands.options.argtypes import (
    Parser,
    check_slo_tasks,
    positive_duration,
    rate_spec,
    slo,
    stages_spec,
)
from loadgen.commands.options.dashboard import add_dashboard_option, open_dashboard
from loadgen.commands.options.exitcode import ExitCode
from loadgen.commands.options.groups import option_groups
from loadgen.commands.options.junit import add_junit_option, write_run_junit
from loadgen.commands.options.load_options import add_load_options, check_load_options
from loadgen.commands.options.output import add_output_options, print_link, run_directory
from loadgen.commands.options.scale_options import add_scale_options, check_scale_options
from loadgen.commands.options.server_sampling import (
    add_server_signal_options,
    check_server_signal_options,
)
from loadgen.commands.target import sampling, target
from loadgen.core.config import DURATION_S
from loadgen.core.rates import NAMED_PROFILES, ConstantRate, RateProfile, ramp, stages
from loadgen.measure.tick import Tick
from loadgen.report.dashboard import Dashboard
from loadgen.report.progress import make_progress
from loadgen.report.publish import Published, publish
from loadgen.report.run_dir import REPORT
from loadgen.report.summary_contract import Summary
from loadgen.report.terminal import make_console, print_shard_notes
from loadgen.scale.scaled import ScaledRun, run_scaled
from loadgen.scale.stops import CatchStops
from loadgen.transports.models import UNREACHED

# A --start-at further than this ahead is said, with when the run starts.
FAR_START_S = 5.0

DESCRIPTION = """\
Send load at a target arrival rate whatever the server does, measure each
latency from the request's intended send time (no coordinated omission),
and write the run's files and page (report.html). Without --host it starts
the bundled server on a free loopback port and tests that."""


def parser(overview: bool = False) -> argparse.ArgumentParser:
    """`loadgen run`'s arguments (tests/test_docs.py parses the docs' examples with it);
    with `overview`, as `loadgen --help` shows them: the commands and examples first."""
    p = Parser(
        prog="loadgen" if overview else "loadgen run",
        usage="loadgen [COMMAND] [OPTIONS]"
        if overview
        else "loadgen run (--rps RATE | --stages SPEC | --profile NAME) [OPTIONS]",
        description=f"{OVERVIEW}\n\n{DESCRIPTION}" if overview else DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g = option_groups(p)
    rate = g.load.add_mutually_exclusive_group(required=True)
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
    g.load.add_argument(
        "--duration",
        type=positive_duration,
        help=f"how long to send: 30s, 2m, 1h30m or seconds "
        f"(default {DURATION_S:g}s; for --stages and --profile, their length)",
    )
    add_load_options(g)
    add_server_signal_options(g.sampling)
    add_output_options(g.output, "summary.json, report.html, .hgrm and .hlog files")
    add_dashboard_option(g.output)
    g.slo.add_argument(
        "--slo",
        type=slo,
        action="append",
        default=[],
        metavar="EXPR",
        help="an objective to judge the run by, repeatable: p99<50ms, "
        "task:compute_fib:p99.9<=200ms, service:p90<10ms, errors<1%%, achieved>=99%%; "
        "any failure exits 99 (after the files are written)",
    )
    add_junit_option(g.slo, "the SLO verdicts")
    add_scale_options(g.scale)
    return p


def rate_profile(args: argparse.Namespace) -> RateProfile:
    """The profile named by --rps, --stages or --profile."""
    if args.profile:
        return NAMED_PROFILES[args.profile]()
    if args.stages:
        return stages(args.stages)
    start, end = args.rps
    if start == end:
        return ConstantRate(start)
    return ramp(start, end, args.duration or DURATION_S)


def run(argv: Sequence[str]) -> ExitCode:
    """Send the load to the target (the bundled server without --host), write and
    print the report; the exit status says whether the run completed and met its
    SLOs, or what stopped it.
    """
    args = parser().parse_args(argv)
    load = check_load_options(args)
    check_server_signal_options(args)
    check_slo_tasks(args.slo, load.scenario.task_weights())
    scale = check_scale_options(args)
    load.check_shards(scale)
    profile = rate_profile(args)
    seconds = args.duration or profile.length or DURATION_S
    # Made once nothing else can be wrong: the bundled server's logs go in it.
    args.out = run_directory(args)
    mismatch = duration_mismatch(profile, args.duration)
    if mismatch:
        make_console(stderr=True).print(f"[yellow]note:[/yellow] {mismatch}")
    note = start_note(scale.start_at, time.time())
    if note:
        make_console(stderr=True).print(f"[yellow]note:[/yellow] {note}")
    console = make_console()
    meta = {"rate_profile": profile.describe(), **load.meta(), **scale.meta()}
    live = open_dashboard(args.dashboard, args.out.name, profile, args.warmup, scale)
    if live is not None:
        profile = live.profile  # the page may add steps to it
    # Outside the engine (the bundled server starting, the files being written)
    # a stop signal is recorded, never a traceback: a run not started yet is
    # not started, and a second Ctrl-C may cut the drain short, never the files.
    with CatchStops() as stops, live or contextlib.nullcontext():
        with target(args) as tgt:
            if stops.received:
                return _stopped_before_the_run(stops.received[0])
            config = load.config(tgt.url, profile, seconds)
            config.rate_control = live.control if live is not None else None
            progress = None
            if not args.quiet:  # live on a terminal, a plain line every 10 s elsewhere
                progress = make_progress(console, seconds, profile, config.warmup)
            with sampling(args, tgt) as sampled, progress or contextlib.nullcontext():
                if live is not None:
                    live.follow(sampled.sampler, meta)
                # Here, or as shards (local processes, Dask) merged into one result.
                on_tick = fan_out(progress.on_tick if progress is not None else None, live)
                scaled = run_scaled(scale, config, args.scenario, meta, on_tick, stops.first)
        result = scaled.result
        meta["rate_profile"] = profile.describe()  # with the steps the page made, if any
        if (
            live is not None
        ):  # its totals before the files: /metrics shows them while they are written
            rec = result.recorder
            requests = sum(s.requests for s in rec.tasks.values())
            live.ended(requests, rec.errors(), result.interrupted or bool(stops.received))
        # A stop from here on comes after the run: it cuts the writing short
        # (publish says what was not written), it does not make the run interrupted.
        before = stops.received[:]
        scaled.write(args.out)  # a shard's state, before summary.json says "complete"
        published = publish(
            result,
            {**meta, **scaled.meta()},
            args.slo,
            out=args.out,
            console=console,
            quiet=args.quiet,
            server=sampled.signals(),
            stopped=lambda: len(stops.received) > len(before),
        )
        if live is not None:
            live.report(args.out / REPORT, list(published.summary["diagnosis"]))
        if published.not_written:
            make_console(stderr=True).print(published.not_written, highlight=False)
        print_shard_notes(scaled.notes, scaled.warnings)
        status = _status(scaled, published, before)
        silence = nothing_answered(published.summary) or ""
        write_run_junit(args.junit, published.summary, status, silence)
        if not args.quiet:  # last of all, after the verdicts and whatever went to stderr
            print_link(console, args.out, REPORT)
    return status


def fan_out(
    progress: Callable[[Tick], None] | None, live: Dashboard | None
) -> Callable[[Tick], None] | None:
    """One tick callback for the progress line and the dashboard, whichever there are."""
    if live is None:
        return progress
    if progress is None:
        return live.on_tick

    def both(t: Tick) -> None:
        progress(t)
        live.on_tick(t)

    return both


def _status(scaled: ScaledRun, published: Published, before: list[int]) -> ExitCode:
    """The run's exit status, what it means said on stderr: a stop, a shard lost,
    nothing answered, SLOs failed."""
    result = scaled.result
    if result.interrupted or before:
        make_console(stderr=True).print(
            "interrupted: the report covers what was measured before the stop"
        )
        return ExitCode.stopped_by(result.stop_signal or before[0])
    if scaled.shards_lost:
        return ExitCode.INCOMPLETE
    silence = nothing_answered(published.summary)
    if silence:  # with SLOs (all n/a, failed) their verdict stands as the status
        print(f"loadgen: error: {silence}", file=sys.stderr)
        return ExitCode.INCOMPLETE if published.slos_passed else ExitCode.SLO_FAILED
    return ExitCode.OK if published.slos_passed else ExitCode.SLO_FAILED


def _stopped_before_the_run(sig: int) -> ExitCode:
    make_console(stderr=True).print("interrupted before the run started: nothing was sent")
    return ExitCode.stopped_by(sig)


def nothing_answered(summary: Summary) -> str | None:
    """Said when not one request got a response, whatever the cause (the target
    down, every task raising before it sent, no arrival due): the run measured
    nothing of the target, and exits 1."""
    if summary["latency_ms"]["response"]["max"] is not None:
        return None
    by_kind = summary["errors"]["by_kind"]
    unsent = summary["generator"].get("unsent", 0)
    if not by_kind and unsent:
        return (
            f"no request was sent: all {unsent} due were left unsent, loadgen fell that far "
            "behind (a rate beyond this machine: lower it, or add --processes)"
        )
    if not by_kind:
        return "no request was sent: the rate and duration asked for none"
    kinds = ", ".join(f"{n} {kind} errors" for kind, n in by_kind.items())
    if "exception" in by_kind:
        return f"no request got a response ({kinds}): the scenario's tasks raised before one did"
    if UNREACHED.intersection(by_kind):
        return f"no request got a response ({kinds}): is the target up?"
    # Connected, and then reset, stalled, garbled or too long: something answers
    # there, and asking whether it is up would send the user the wrong way.
    return (
        f"no request got a response ({kinds}): the target took the connections but gave "
        "no complete answer (the errors above say how)"
    )


def start_note(start_at: float | None, now: float) -> str | None:
    """When a --start-at run will start, said before it waits (a wait without a word
    looks like a hang)."""
    if start_at is None or start_at - now < FAR_START_S:
        return None
    when = dt.datetime.fromtimestamp(start_at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"the run starts at {when} (in {_spoken(round(start_at - now))}); Ctrl-C cancels it"


def duration_mismatch(profile: RateProfile, duration: float | None) -> str | None:
    """What --duration does to a profile of its own length, when it is not that length."""
    length = profile.length
    if duration is None or length is None or abs(duration - length) < 1e-9:
        return None
    kind = profile.describe().get("kind", "rate")
    if duration < length:
        return (
            f"--duration {_spoken(duration)} cuts the {kind} profile "
            f"({_spoken(length)}) short: only its first {_spoken(duration)} are sent"
        )
    return (
        f"--duration {_spoken(duration)} outlasts the {kind} profile ({_spoken(length)}): "
        f"nothing is sent in its last {_spoken(duration - length)}"
    )


def _spoken(seconds: float) -> str:
    """147.3 → "2 min 27 s", 2.5 → "2.5 s"."""
    if seconds < 60:
        return f"{round(seconds, 3):g} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min" + (f" {rest} s" if rest else "")
