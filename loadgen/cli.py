"""Command line: `loadgen --rps 100` (or `python -m loadgen`).

Misuse gets one line on stderr and exit status 2, before any load is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import random
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from loadgen.argtypes import (
    Parser,
    UsageError,
    duration,
    env_pair,
    positive_duration,
    positive_int,
    rate_spec,
    stages_spec,
)
from loadgen.engine import Engine, RunConfig, RunResult
from loadgen.output import write_run
from loadgen.profile import NAMED_PROFILES, ConstantRate, RateProfile, ramp, stages
from loadgen.progress import Progress
from loadgen.scenario import DEFAULT_SCENARIO, load_scenario
from loadgen.summary import build_summary
from loadgen.target import TargetError
from loadgen.terminal import render_summary

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def run_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="loadgen",
        description=(
            "Open-model HTTP load generator. Sends requests at a target arrival rate "
            "whatever the server does, and measures each latency from the request's "
            "intended send time (no coordinated omission)."
        ),
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
    p.add_argument(
        "--host",
        metavar="URL",
        help="target base URL, e.g. http://127.0.0.1:8000; omitted: start the bundled "
        "server under gunicorn on a free loopback port and test that",
    )
    p.add_argument(
        "--arrival",
        choices=("constant", "poisson"),
        default="constant",
        help="evenly spaced arrivals, or a Poisson process with the same mean (default constant)",
    )
    p.add_argument(
        "--connections",
        type=positive_int,
        default=512,
        metavar="N",
        help="max open keep-alive connections; requests beyond wait for one, their latency "
        "still counted from the intended time (default 512)",
    )
    p.add_argument(
        "--timeout",
        type=positive_duration,
        default=10.0,
        help="per-request timeout, counted from the intended send time (default 10s)",
    )
    p.add_argument(
        "--warmup",
        type=duration,
        default=0.0,
        help="send for this long first without recording (default 0)",
    )
    p.add_argument(
        "--seed", type=int, help="random seed for arrivals and request bodies (default: random)"
    )
    p.add_argument(
        "--client",
        choices=("fast", "httpx"),
        default="fast",
        help="fast: our HTTP/1.1 client (default); httpx: for HTTPS and HTTP/2 targets",
    )
    p.add_argument(
        "--scenario",
        default=DEFAULT_SCENARIO,
        metavar="MODULE:CLASS",
        help=f"task mix to replay, module:Class or file.py:Class (default {DEFAULT_SCENARIO})",
    )
    p.add_argument("--out", type=Path, metavar="DIR", help="write summary.json, .hgrm, .hlog here")
    p.add_argument("--quiet", action="store_true", help="no progress line and no terminal summary")
    server = p.add_argument_group("embedded server (when --host is omitted)")
    server.add_argument(
        "--server-workers",
        type=positive_int,
        default=2,
        metavar="N",
        help="gunicorn worker processes (default 2)",
    )
    server.add_argument(
        "--server-env",
        type=env_pair,
        action="append",
        default=[],
        metavar="K=V",
        help="environment for the server, repeatable, e.g. LEGACY_BUGS=1",
    )
    server.add_argument(
        "--server-log-dir",
        type=Path,
        metavar="DIR",
        help="where the server writes access.log and error.log (default: a temporary dir)",
    )
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


def _check_target(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--host must be an http:// or https:// URL, got {url!r}")
    try:
        parts.port  # noqa: B018 (validates the port)
    except ValueError:
        raise UsageError(f"--host has an invalid port: {url!r}") from None
    return url.rstrip("/")


@contextlib.contextmanager
def _target(args: argparse.Namespace) -> Iterator[str]:
    if args.host:
        yield args.host
        return
    from loadgen.target import EmbeddedServer  # imports the server package: only when needed

    log_dir = args.server_log_dir
    if log_dir is None and args.out is not None:
        log_dir = args.out / "server-logs"  # kept with the run's report
    with EmbeddedServer(args.server_workers, dict(args.server_env), log_dir) as server:
        yield server.url


def _run_loop(engine: Engine) -> RunResult:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.run(engine.run())
    result: RunResult = uvloop.run(engine.run())
    return result


def run(argv: Sequence[str]) -> int:
    args = run_parser().parse_args(argv)
    if args.host:
        args.host = _check_target(args.host)
        if args.client == "fast" and args.host.startswith("https:"):
            raise UsageError("the fast client speaks plain http: use --client httpx for https")
    try:
        scenario = load_scenario(args.scenario)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} exists and is not a directory")
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    profile = rate_profile(args)
    duration = args.duration or profile.length or DEFAULT_DURATION
    console = Console()
    stderr = Console(stderr=True)
    with _target(args) as url:
        config = RunConfig(
            target=url,
            profile=profile,
            arrival=args.arrival,
            duration=duration,
            scenario=scenario,
            warmup=args.warmup,
            timeout=args.timeout,
            connections=args.connections,
            client=args.client,
            seed=seed,
        )
        show_progress = not args.quiet and console.is_terminal
        if show_progress:
            with Progress(console, duration) as progress:
                result = _run_loop(Engine(config, progress.on_interval))
        else:
            result = _run_loop(Engine(config))
    meta: dict[str, Any] = {
        "rate_profile": profile.describe(),
        "scenario": args.scenario,
        "client": args.client,
        "connections": args.connections,
        "timeout_s": args.timeout,
        "warmup_s": args.warmup,
        "seed": seed,
        "embedded_server": None
        if args.host
        else {"workers": args.server_workers, "env": dict(args.server_env)},
    }
    summary = build_summary(result, meta)
    if not args.quiet:
        render_summary(summary, console)
    if args.out is not None:
        write_run(args.out, summary, result)
        if not args.quiet:
            console.print(f"files written to {args.out}/")
    if result.interrupted:
        stderr.print("interrupted: the report covers what was measured before the stop")
        return EXIT_INTERRUPTED
    return 0


# Subcommands: name → "module:function", imported on use. A command line that
# does not start with one of them is a run (`loadgen --rps 100`).
COMMANDS: dict[str, str] = {
    "run": "loadgen.cli:run",
}


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
    except TargetError as e:
        print(f"loadgen: error: {e}", file=sys.stderr)
        return 1
