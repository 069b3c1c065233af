"""`loadgen capacity`: find the highest rate the target sustains under an SLO.

Each level is an ordinary open-model run at a constant rate (same target,
client and scenario options as `loadgen run`), judged by the SLO; `search` in
`capacity_search.py` picks the next rate, `capacity_samples.py` how long a
level runs, `capacity_tasks.py` reads each task against its objective.
Output: a table of levels, the answer with its uncertainty, why it fails
there, which task failed first, the server's concurrency per level and the
Universal Scalability Law fitted to it (`report/usl.py`); in its folder
(`reports/capacity-<time>/`, or --out), `capacity.json`, `capacity.html`
(latency against throughput; throughput and concurrency against the offered
rate) and each level's run files.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from loadgen.commands.capacity_samples import (
    MAX_LEVEL_S,
    MIN_RESPONSES,
    level_length,
    low_confidence,
    lowest_rate,
    responses,
    weak_ends,
    weak_text,
)
from loadgen.commands.capacity_search import (
    FAIL,
    FLOOR_RPS,
    INTERRUPTED,
    PASS,
    SATURATED,
    Capacity,
    Level,
    Verdict,
    rps_text,
    search,
)
from loadgen.commands.capacity_tasks import level_tasks, limits_text, task_limits, tasks_table
from loadgen.commands.options.argtypes import (
    Parser,
    UsageError,
    check_slo_tasks,
    non_negative_int,
    positive_duration,
    positive_float,
    slo,
)
from loadgen.commands.options.dashboard import add_dashboard_option, open_capacity_dashboard
from loadgen.commands.options.exitcode import CommandFailed, ExitCode
from loadgen.commands.options.groups import hide, option_groups
from loadgen.commands.options.junit import add_junit_option, write_capacity_junit
from loadgen.commands.options.load_options import LoadOptions, add_load_options, check_load_options
from loadgen.commands.options.output import add_output_options, print_link, run_directory
from loadgen.commands.options.scale_options import add_spread_options
from loadgen.commands.options.server_sampling import (
    add_server_signal_options,
    check_server_signal_options,
)
from loadgen.commands.run import nothing_answered
from loadgen.commands.target import Sampling, sampling, target
from loadgen.core.rates import ConstantRate
from loadgen.measure.histogram import ms
from loadgen.measure.numbers import json_text
from loadgen.measure.tick import Tick
from loadgen.report.concurrency import concurrency, served_rps, unloaded_concurrency
from loadgen.report.diagnosis import headline
from loadgen.report.html import render_capacity
from loadgen.report.publish import publish
from loadgen.report.secrets import redact_url
from loadgen.report.slo import SLO, Outcome, parse_slo
from loadgen.report.summary_contract import FindingEntry, Summary
from loadgen.report.terminal import make_console
from loadgen.report.usl import describe, fit_json, n_text
from loadgen.scale.scaled import Scale, run_scaled
from loadgen.scale.stops import CatchStops

# The default SLO; --slo replaces it.
DEFAULT_SLOS = ("p99<=100ms", "errors<1%", "achieved>=99%")
# Its folder's default name: reports/capacity-<time>/.
PREFIX = "capacity-"
# A level the generator could not deliver (under 99 % of the target sent)
# cannot pass, whatever the SLO says: the target never saw the full rate.
MIN_ACHIEVED = 0.99


def _percent(text: str) -> float:
    value = positive_float(text.rstrip("%"))
    return value / 100 if text.endswith("%") else value


def parser() -> argparse.ArgumentParser:
    """`loadgen capacity`'s arguments (tests/test_docs.py parses the docs' examples with it).

    Its --help lists its own options; those it shares with `loadgen run` (load,
    target, scenario, TLS, server sampling, scale-out) work the same and are
    listed there, not twice."""
    p = Parser(
        prog="loadgen capacity",
        usage="loadgen capacity [--host URL] [OPTIONS]",
        description="Find the highest arrival rate the target sustains: step the rate\n"
        "up geometrically until a level fails its SLO (or down, halving, when the\n"
        "first one fails), then bisect.\n\n"
        "A run's options (--host, --scenario, --connections, --processes, TLS ...)\n"
        "work here too: see loadgen run --help.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    search = p.add_argument_group("search (the levels)")
    search.add_argument(
        "--start", type=positive_float, default=10.0, help="first level, req/s (10)"
    )
    search.add_argument("--factor", type=positive_float, default=2.0, help="ladder step factor (2)")
    search.add_argument(
        "--precision",
        type=_percent,
        default=0.05,
        help="stop bisecting when the bracket is this narrow, relative (default 5%%)",
    )
    search.add_argument(
        "--max-rps", type=positive_float, default=100_000.0, help="never ask for more (100000)"
    )
    search.add_argument(
        "--min-rps",
        type=positive_float,
        default=FLOOR_RPS,
        help=f"when the first level fails, halve down to this rate at most ({FLOOR_RPS:g}), "
        "and no lower than a --max-level level gets --min-responses at",
    )
    search.add_argument(
        "--level", type=positive_duration, default=10.0, help="length of each level (10s)"
    )
    search.add_argument(
        "--min-responses",
        type=non_negative_int,
        default=MIN_RESPONSES,
        help=f"responses a level's percentiles need: a low-rate level runs longer to get "
        f"them, up to --max-level; fewer marks it low-confidence ({MIN_RESPONSES}; 0: off)",
    )
    search.add_argument(
        "--max-level",
        type=positive_duration,
        default=MAX_LEVEL_S,
        help=f"the longest a level runs to get --min-responses ({MAX_LEVEL_S:g}s)",
    )
    search.add_argument(
        "--cooldown",
        type=positive_duration,
        default=1.0,
        help="pause between levels so the target drains (1s)",
    )
    g = option_groups(p)
    g.slo.add_argument(
        "--slo",
        type=slo,
        action="append",
        metavar="EXPR",
        help="what a passing level meets, repeatable (see loadgen run --help); "
        "default: " + " ".join(DEFAULT_SLOS).replace("%", "%%") + "; a task's own "
        "('GET /items: p99<500ms') comes beside the default, and judges that task alone",
    )
    add_junit_option(g.slo, "the answer and each level's SLO verdicts and verdict")
    add_output_options(g.output, "capacity.json, capacity.html and each level's files", PREFIX)
    add_dashboard_option(g.output)
    add_load_options(g)
    add_server_signal_options(g.sampling)
    add_spread_options(g.scale)
    hide(g.load, g.target, g.scenario, g.tls, g.sampling, g.scale)
    return p


def with_defaults(given: Sequence[SLO]) -> list[SLO]:
    """The SLOs a level is judged by: the defaults, unless a run-wide --slo replaces
    them; a task's own objectives come beside either."""
    if any(s.task is None for s in given):
        return list(given)
    return [*(parse_slo(text) for text in DEFAULT_SLOS), *given]


def judge(summary: Summary, outcomes: Sequence[Outcome]) -> tuple[Verdict, list[str]]:
    """Pass, fail, or saturated (the generator, not the target, decided the outcome).

    `outcomes` are the level's SLO verdicts. Response time = the generator's
    send lag + the rest, so lag can only make a level look worse: a latency
    ceiling missed is the target's failure only if it is still missed with the
    worst lag taken off. Errors are always the target's. An `achieved`
    objective, or under 99 % of the rate sent, is about the generator: such a
    level cannot pass, and fails only if the target failed even the lighter
    load it got.
    """
    lag_max = summary["generator"]["send_lag_ms"]["max"] or 0.0  # None: nothing sent
    failures, lag_explained, short = [], [], []
    for o in outcomes:
        if o.passed:
            continue
        if o.slo.metric == "achieved":
            short.append(o.reason())
        elif (
            o.slo.metric == "latency"
            and o.slo.op in ("<", "<=")
            and o.slo.passes(max(o.measured - lag_max, 0.0))
        ):
            lag_explained.append(f"{o.reason()}, within the generator's send lag")
        else:
            failures.append(o.reason())
    if failures:
        return FAIL, failures
    achieved, wanted = summary["achieved_rps"], summary["target_rps"]
    if achieved < MIN_ACHIEVED * wanted and not short:
        short.append(f"generator sent {achieved:.1f}/s of {wanted:.1f}/s")
    if short or lag_explained:
        return SATURATED, short + lag_explained
    return PASS, []


# What the levels table's N columns mean, printed under it.
N_LEGEND = (
    "served/s: responses per second while the level's load was on; N: requests the server "
    "held at once (Little's law: served/s × mean service time); N0: the same priced at each "
    "task's fastest service time, the work without the queueing"
)


def _levels_table(levels: list[dict[str, Any]]) -> Table:
    """capacity.json's levels as the terminal shows them."""
    table = Table(box=None, pad_edge=False)
    columns = ("target/s", "achieved/s", "served/s", "N", "N0", "p50 ms", "p99 ms",
               "p99.9 ms", "errors", "verdict")  # fmt: skip
    for col in columns:
        table.add_column(col, justify="left" if col == "verdict" else "right")
    for lv in levels:
        lat = lv["latency_ms"]["response"]
        verdict = lv["verdict"]
        style = {PASS: "green", FAIL: "red", SATURATED: "yellow", INTERRUPTED: "yellow"}[verdict]
        table.add_row(
            rate_text(lv["target_rps"]),
            rate_text(lv["achieved_rps"]),
            rate_text(lv["served_rps"]),
            _n(lv["concurrency"]),
            _n(lv["concurrency_unloaded"]),
            ms(lat["p50"]),
            ms(lat["p99"]),
            ms(lat["p99.9"]),
            f"{100 * lv['errors']['rate']:.2f}%",
            f"[{style}]{verdict}[/{style}]{_weak_mark(lv)}  {'; '.join(lv['reasons'])}",
        )
    return table


def rate_text(rps: float) -> str:
    """A level's rate as the table shows it: one decimal, or three digits below 1/s
    (the search down goes to 0.125/s and 0.1/s: they must not read alike)."""
    return f"{rps:.1f}" if rps >= 1 else f"{rps:.3g}"


def _weak_mark(lv: dict[str, Any]) -> str:
    """capacity.json's level marked when judged on too few responses."""
    if not lv.get("low_confidence"):
        return ""
    n = lv["responses"]
    return f" (on {n} response{'' if n == 1 else 's'}: low confidence)"


def _n(value: float | None) -> str:
    return "—" if value is None else n_text(value)


def capacity_json(
    result: Capacity, slos: list[str], min_responses: int = MIN_RESPONSES
) -> dict[str, Any]:
    """The search as `capacity.json`: the answer, each level (with the server's
    concurrency, N and N₀, by Little's law, and whether it had the responses its
    percentiles need, and each task against its objectives), which task failed
    first, and the USL fitted to the levels."""
    objectives = [parse_slo(text) for text in slos]
    limits = task_limits(result.levels, objectives)
    levels: list[dict[str, Any]] = [
        {
            "target_rps": lv.rps,
            "verdict": lv.verdict,
            "reasons": lv.reasons,
            "length_s": lv.summary["duration_s"],
            "responses": responses(lv),
            "low_confidence": low_confidence(lv, min_responses),
            "achieved_rps": lv.summary["achieved_rps"],
            "throughput_rps": lv.summary["throughput_rps"],
            "served_rps": served_rps(lv.summary),
            "concurrency": concurrency(lv.summary),
            "concurrency_unloaded": unloaded_concurrency(lv.summary),
            "errors": lv.summary["errors"],
            "latency_ms": lv.summary["latency_ms"],
            "generator": lv.summary["generator"],
            "server": lv.summary.get("server"),
            "diagnosis": lv.summary.get("diagnosis", []),
            "tasks": level_tasks(lv, objectives),
        }
        for lv in result.levels
        if lv.summary is not None
    ]
    # A level cut short by the user measured part of a level: not a point.
    measured = [lv for lv in levels if lv["verdict"] != INTERRUPTED]
    points = [(lv["concurrency"], lv["served_rps"]) for lv in measured]
    offered = [(lv["concurrency"], lv["achieved_rps"]) for lv in measured]
    return {
        "schema": "loadgen.capacity/1",
        "slo": slos,
        "sustained_rps": result.sustained,
        "failed_rps": result.failed,
        "saturated_at_rps": result.saturated_at,
        "found": result.found,
        # None passed: how far down the search went, and whether a level said none can.
        "lowest_tried_rps": result.lowest_tried,
        "out_of_reach": result.out_of_reach,
        # Rates whose runs disagreed (a busy machine, or a limit right there).
        "noisy": [{"rps": r, "passed": p, "runs": n} for r, p, n in result.noisy],
        "answer": result.describe(),
        "min_responses": min_responses,
        # The answer rests on a level judged on too few responses (None: it does not).
        "low_confidence": weak_text(weak_ends(result, min_responses), min_responses) or None,
        "why": first_failure(result),
        # Each task's limit, the first to fail first, and that in one line.
        "tasks": limits,
        "first_to_fail": limits_text(limits),
        "levels": levels,
        "usl": fit_json(points, offered),
    }


def capacity(argv: Sequence[str]) -> ExitCode:
    """Run the search, report each level and the answer, write the files and end
    with the link to capacity.html; the exit status says whether a limit was found
    and why not.
    """
    args = parser().parse_args(argv)
    if args.factor <= 1:
        raise UsageError("--factor must be greater than 1")
    if args.max_rps < args.start:
        raise UsageError("--max-rps must be at least --start")
    if args.min_rps > args.start:
        raise UsageError("--min-rps must be at most --start")
    load = check_load_options(args)
    load.check_shards(Scale(args.processes, args.dask, (0, 1), None))
    check_server_signal_options(args)
    slos = with_defaults(args.slo or [])
    check_slo_tasks(slos, load.scenario.task_weights())
    # Made once nothing else can be wrong: the bundled server's logs go in it.
    args.out = run_directory(args, PREFIX)
    console = make_console(quiet=args.quiet)
    levels: list[Level] = []
    silence = ""  # why the search ended when the target answered nothing
    stopped_by: list[int | None] = []  # what ended the search early (a signal, if known)

    live = open_capacity_dashboard(args.dashboard, args.out.name, args.warmup)
    # Outside a level's engine a stop signal is recorded, never a traceback:
    # the search ends after the level it came in, and its files are written.
    with CatchStops() as stops, live or contextlib.nullcontext():
        with target(args) as tgt, sampling(args, tgt) as sampled:
            if live is not None:
                live.follow(sampled.sampler, load.meta())
            shown = redact_url(tgt.url)
            if args.dask is None:  # Dask's workers may reach a target this machine cannot
                reach(tgt.url, args.timeout)
            console.print(f"capacity of {shown}: levels of {args.level:g}s from {args.start:g}/s")

            def measure(rps: float) -> Level:
                if stops.received:  # between two levels
                    raise _Stopped(stops.received[0])
                if live is not None:
                    live.level_started(rps)
                on_tick = live.on_tick if live is not None else None
                level, sig = _level(args, load, slos, tgt.url, sampled, rps, stops.first, on_tick)
                levels.append(level)
                if live is not None:
                    live.level_measured(level.rps, level.verdict, level.reasons, level.summary)
                _print_level(console, level, args.min_responses)
                if level.verdict == INTERRUPTED:
                    raise _Stopped(sig)
                silence = level.summary is not None and nothing_answered(level.summary)
                if silence:
                    raise _Unanswered(f"at {rps:g}/s, {silence}")
                time.sleep(args.cooldown)
                return level

            try:
                floor = lowest_rate(args.start, args.min_rps, args.min_responses, args.max_level)
                result = search(
                    measure, args.start, args.factor, args.precision, args.max_rps, floor
                )
            except _Stopped as stop:
                result = Capacity.stopped(levels)
                stopped_by.append(stop.signal)
            except _Unanswered as unanswered:
                result = Capacity.unanswered(levels)
                silence = str(unanswered)

        report = capacity_json(result, [o.text for o in slos], args.min_responses)
        console.print()
        console.print(_levels_table(report["levels"]))
        console.print(N_LEGEND, style="dim", highlight=False)
        by_task = tasks_table(report)
        if by_task is not None:
            console.print()
            console.print(by_task)
        console.print()
        console.print(f"[bold]capacity:[/bold] {result.describe()}")
        if report["low_confidence"]:
            console.print(report["low_confidence"], style="yellow", highlight=False)
        if report["why"]:
            console.print(f"[bold]why:[/bold] {report['why']}", highlight=False)
        if report["first_to_fail"]:
            console.print(f"[bold]tasks:[/bold] {escape(report['first_to_fail'])}", highlight=False)
        console.print(f"[bold]scaling:[/bold] {describe(report['usl'])}", highlight=False)
        (args.out / "capacity.json").write_text(json_text(report, indent=2) + "\n")
        (args.out / "capacity.html").write_text(render_capacity(report))
        if live is not None:
            stopped = bool(stopped_by or stops.received)
            live.search_over(result.describe(), report["why"], args.out / "capacity.html", stopped)
    if stopped_by or stops.received:
        status = ExitCode.stopped_by((stopped_by or stops.received)[0])
    elif silence:
        print(f"loadgen: error: {silence}", file=sys.stderr)
        status = ExitCode.INCOMPLETE
    else:
        status = exit_status(result)
    write_capacity_junit(args.junit, report, result.levels, status)
    print_link(console, args.out, "capacity.html")  # last of all (nothing with --quiet)
    return status


class _Unanswered(Exception):
    """A level got not one response: the search ends, saying why."""


def reach(url: str, timeout: float) -> None:
    """Connect once to the target before searching: a target that is not up
    fails here in one line (exit 1), not as a first level "failed" by errors."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except TimeoutError:
        why = f"no connection within {timeout:g}s"
    except OSError as e:
        why = e.strerror or str(e)
    else:
        return
    raise CommandFailed(f"cannot connect to {redact_url(url)}: {why}: is the target up?")


class _Stopped(Exception):
    """A stop signal ended the search (`signal`: which one, if known)."""

    def __init__(self, signal: int | None) -> None:
        super().__init__(signal)
        self.signal = signal


def first_failure(result: Capacity) -> str | None:
    """The diagnosis of the level that failed at the limit (else the lowest that
    failed) in one sentence; None: none failed. Not the first failed level run:
    the search overshoots before it narrows. A task slower than its SLO even
    alone (slow_at_any_load, at the lowest level that shows it) comes first:
    no rate meets that SLO, whatever broke at the limit."""
    failed = [lv for lv in result.levels if lv.verdict == FAIL]
    if not failed or result.unanswered_at is not None:  # the answer says why
        return None
    slow = slow_alone(result.levels)
    if slow is not None:
        return headline([slow]).removeprefix("slow_at_any_load: ")
    lowest = min(failed, key=lambda lv: lv.rps)
    first = next((lv for lv in failed if lv.rps == result.failed), lowest)
    where = f"{rps_text(first.rps)}/s"
    if first is result.levels[0]:
        where = f"the first level ({where})"
    found = first.summary.get("diagnosis", []) if first.summary is not None else []
    return f"fails at {where}: {headline(found)}"


def slow_alone(levels: Sequence[Level]) -> FindingEntry | None:
    """slow_at_any_load as the lowest level that found it said it (None: none did)."""
    for lv in sorted(levels, key=lambda lv: lv.rps):
        found = lv.summary.get("diagnosis", []) if lv.summary is not None else []
        slow = next((f for f in found if f["finding"] == "slow_at_any_load"), None)
        if slow is not None:
            return slow
    return None


def _level(
    args: argparse.Namespace,
    load: LoadOptions,
    slos: Sequence[SLO],
    url: str,
    sampled: Sampling,
    rps: float,
    stopped_before: Callable[[], int | None],
    on_tick: Callable[[Tick], None] | None = None,
) -> tuple[Level, int | None]:
    """Run one level at `rps` and judge it (its files go under the search's folder); and the
    signal that stopped it, if one did."""
    scale = Scale(args.processes, args.dask, (0, 1), None)
    length = level_length(rps, args.level, args.min_responses, args.max_level)
    config = load.config(url, ConstantRate(rps), length)
    meta = {"rate_profile": config.profile.describe(), **load.meta(), **scale.meta()}
    scaled = run_scaled(scale, config, args.scenario, meta, on_tick, stopped_before)
    out = level_dir(args.out, rps)
    sampled.sample_now()  # so the level's last second has the server's side too
    published = publish(
        scaled.result, {**meta, **scaled.meta()}, slos, out=out, server=sampled.signals()
    )
    verdict, reasons = judge(published.summary, published.outcomes)
    if scaled.result.interrupted:
        verdict, reasons = INTERRUPTED, ["stopped by the user"]
    elif scaled.shards_lost:  # a generator shard was lost: the level is void
        verdict, reasons = SATURATED, ["a generator shard was lost", *reasons]
    found = published.summary.get("diagnosis", [])
    out_of_reach = verdict == FAIL and any(f["finding"] == "slow_at_any_load" for f in found)
    return Level(rps, verdict, reasons, published.summary, out_of_reach), scaled.result.stop_signal


def level_dir(out: Path, rps: float) -> Path:
    """Where a level's files go: `levels/<rate>rps`, and `-2`, `-3` … for the
    same rate run again (the confirmation runs): no run's files replace another's."""
    base = out / "levels" / f"{rate_text(rps)}rps"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def _print_level(console: Console, level: Level, min_responses: int) -> None:
    summary = level.summary
    if summary is None:
        return
    lat = summary["latency_ms"]["response"]
    console.print(
        f"  {rate_text(level.rps):>10}/s  p99 {ms(lat['p99']):>9} ms  "
        f"errors {100 * summary['errors']['rate']:6.2f}%  N {_n(concurrency(summary)):>6}  "
        f"{level.verdict}{_weak(level, min_responses)}"
    )


def _weak(level: Level, min_responses: int) -> str:
    """A level's mark when its percentiles rest on too few responses."""
    weak = low_confidence(level, min_responses)
    return _weak_mark({"responses": responses(level), "low_confidence": weak})


def exit_status(result: Capacity) -> ExitCode:
    """OK only when a limit was found; each inconclusive outcome has its own status."""
    if result.saturated_at is not None:
        return ExitCode.GENERATOR_SATURATED
    if result.sustained is None:
        return ExitCode.SLO_FAILED  # no level passed, down to the floor
    if result.failed is None:
        return ExitCode.NO_LIMIT_FOUND
    return ExitCode.OK
