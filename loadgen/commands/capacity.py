"""`loadgen capacity`: find the highest rate the target sustains under an SLO.

Each level is an ordinary open-model run at a constant rate (same target,
client and scenario options as `loadgen run`), judged by the SLO; `search` in
`capacity_search.py` picks the next rate. Output: a table of levels, the answer
with its uncertainty, why it fails there, the server's concurrency per level and
the Universal Scalability Law fitted to it (`report/usl.py`); in its folder
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
from rich.table import Table

from loadgen.commands.capacity_search import (
    FAIL,
    INTERRUPTED,
    PASS,
    SATURATED,
    Capacity,
    Level,
    Verdict,
    search,
)
from loadgen.commands.options.argtypes import (
    Parser,
    UsageError,
    check_slo_tasks,
    positive_duration,
    positive_float,
    slo,
)
from loadgen.commands.options.dashboard import add_dashboard_option, open_capacity_dashboard
from loadgen.commands.options.exitcode import CommandFailed, ExitCode
from loadgen.commands.options.groups import hide, option_groups
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
from loadgen.report.summary_contract import Summary
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
        "up geometrically until a level fails its SLO, then bisect.\n\n"
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
        "--level", type=positive_duration, default=10.0, help="length of each level (10s)"
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
        "default: " + " ".join(DEFAULT_SLOS).replace("%", "%%"),
    )
    add_output_options(g.output, "capacity.json, capacity.html and each level's files", PREFIX)
    add_dashboard_option(g.output)
    add_load_options(g)
    add_server_signal_options(g.sampling)
    add_spread_options(g.scale)
    hide(g.load, g.target, g.scenario, g.tls, g.sampling, g.scale)
    return p


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
            f"{lv['target_rps']:.1f}",
            f"{lv['achieved_rps']:.1f}",
            f"{lv['served_rps']:.1f}",
            _n(lv["concurrency"]),
            _n(lv["concurrency_unloaded"]),
            ms(lat["p50"]),
            ms(lat["p99"]),
            ms(lat["p99.9"]),
            f"{100 * lv['errors']['rate']:.2f}%",
            f"[{style}]{verdict}[/{style}]  {'; '.join(lv['reasons'])}",
        )
    return table


def _n(value: float | None) -> str:
    return "—" if value is None else n_text(value)


def capacity_json(result: Capacity, slos: list[str]) -> dict[str, Any]:
    """The search as `capacity.json`: the answer, each level (with the server's
    concurrency, N and N₀, by Little's law) and the USL fitted to the levels."""
    levels: list[dict[str, Any]] = [
        {
            "target_rps": lv.rps,
            "verdict": lv.verdict,
            "reasons": lv.reasons,
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
        }
        for lv in result.levels
        if lv.summary is not None
    ]
    # A level cut short by the user measured part of a level: not a point.
    points = [
        (lv["concurrency"], lv["served_rps"]) for lv in levels if lv["verdict"] != INTERRUPTED
    ]
    return {
        "schema": "loadgen.capacity/1",
        "slo": slos,
        "sustained_rps": result.sustained,
        "failed_rps": result.failed,
        "saturated_at_rps": result.saturated_at,
        "found": result.found,
        # Rates whose runs disagreed (a busy machine, or a limit right there).
        "noisy": [{"rps": r, "passed": p, "runs": n} for r, p, n in result.noisy],
        "answer": result.describe(),
        "why": first_failure(result),
        "levels": levels,
        "usl": fit_json(points),
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
    load = check_load_options(args)
    load.check_shards(Scale(args.processes, args.dask, (0, 1), None))
    check_server_signal_options(args)
    slos = args.slo or [parse_slo(text) for text in DEFAULT_SLOS]
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
                _print_level(console, level)
                if level.verdict == INTERRUPTED:
                    raise _Stopped(sig)
                silence = level.summary is not None and nothing_answered(level.summary)
                if silence:
                    raise _Unanswered(f"at {rps:g}/s, {silence}")
                time.sleep(args.cooldown)
                return level

            try:
                result = search(measure, args.start, args.factor, args.precision, args.max_rps)
            except _Stopped as stop:
                result = Capacity.stopped(levels)
                stopped_by.append(stop.signal)
            except _Unanswered as unanswered:
                result = Capacity.unanswered(levels)
                silence = str(unanswered)

        report = capacity_json(result, [o.text for o in slos])
        console.print()
        console.print(_levels_table(report["levels"]))
        console.print(N_LEGEND, style="dim", highlight=False)
        console.print()
        console.print(f"[bold]capacity:[/bold] {result.describe()}")
        if report["why"]:
            console.print(f"[bold]why:[/bold] {report['why']}", highlight=False)
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
    the search overshoots before it narrows."""
    failed = [lv for lv in result.levels if lv.verdict == FAIL]
    if not failed or result.unanswered_at is not None:  # the answer says why
        return None
    lowest = min(failed, key=lambda lv: lv.rps)
    first = next((lv for lv in failed if lv.rps == result.failed), lowest)
    where = f"{first.rps:g}/s"
    if first is result.levels[0]:
        where = f"the first level ({where})"
    found = first.summary.get("diagnosis", []) if first.summary is not None else []
    return f"fails at {where}: {headline(found)}"


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
    config = load.config(url, ConstantRate(rps), args.level)
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
    return Level(rps, verdict, reasons, published.summary), scaled.result.stop_signal


def level_dir(out: Path, rps: float) -> Path:
    """Where a level's files go: `levels/<rate>rps`, and `-2`, `-3` … for the
    same rate run again (the confirmation runs): no run's files replace another's."""
    base = out / "levels" / f"{rps:.1f}rps"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def _print_level(console: Console, level: Level) -> None:
    summary = level.summary
    if summary is None:
        return
    lat = summary["latency_ms"]["response"]
    console.print(
        f"  {level.rps:>10.1f}/s  p99 {ms(lat['p99']):>9} ms  "
        f"errors {100 * summary['errors']['rate']:6.2f}%  N {_n(concurrency(summary)):>6}  "
        f"{level.verdict}"
    )


def exit_status(result: Capacity) -> ExitCode:
    """OK only when a limit was found; each inconclusive outcome has its own status."""
    if result.saturated_at is not None:
        return ExitCode.GENERATOR_SATURATED
    if result.sustained is None:
        return ExitCode.SLO_FAILED  # even the first level failed
    if result.failed is None:
        return ExitCode.NO_LIMIT_FOUND
    return ExitCode.OK
