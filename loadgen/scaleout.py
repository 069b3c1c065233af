"""Scaling one run out: `--processes`, `--dask`, `--shard` and `--start-at`.

The run command asks `run_scaled` for its result; what comes back is a
`RunResult` whichever way it was produced (one engine here, shards in local
processes or on Dask merged exactly), so the summary, the terminal report and
the files are the same code as for a single process. What is specific to
shards (which ran where, which are missing) is added to summary.json's `run`
and said after the report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadgen.argtypes import UsageError, positive_int
from loadgen.engine import Engine, RunConfig, RunResult
from loadgen.options import run_engine
from loadgen.progress import Progress
from loadgen.state import Merged, ShardJob, merge_states, shard_state, write_state
from loadgen.terminal import make_console

EXIT_SHARDS_LOST = 1


def process_count(text: str) -> int:
    """`--processes N` or `auto` (one per core)."""
    if text == "auto":
        return os.cpu_count() or 1
    if not text.strip().lstrip("+-").isdigit():
        raise argparse.ArgumentTypeError(f"expected a number or auto, got {text!r}")
    return positive_int(text)


def shard_spec(text: str) -> tuple[int, int]:
    """`--shard 2/8`: shard index 2 of 8 (indices from 0, as Kubernetes numbers pods)."""
    index, sep, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i = n = -1
    if not sep or not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"expected I/N with 0 <= I < N, e.g. 0/4, got {text!r}")
    return i, n


def start_time(text: str) -> float:
    """`--start-at`: epoch seconds, or an ISO 8601 time (UTC unless it names a zone)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected epoch seconds or an ISO time like 2030-01-01T12:00:00Z, got {text!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def add_scale_options(p: argparse.ArgumentParser) -> None:
    g = add_spread_options(p)
    g.add_argument(
        "--shard",
        type=shard_spec,
        metavar="I/N",
        help="send only shard I of N (0 <= I < N), e.g. in pod I of a Kubernetes "
        "Indexed Job; needs --out; `loadgen merge` combines the shards' directories",
    )
    g.add_argument(
        "--start-at",
        type=start_time,
        metavar="TIME",
        help="wall-clock time of the first arrival: epoch seconds or ISO 8601 "
        "(UTC unless a zone is given); shards given the same time start together",
    )


def add_spread_options(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """--processes and --dask: for every command that sends load."""
    g = p.add_argument_group("scaling out (one run split into shards, merged exactly)")
    g.add_argument(
        "--processes",
        type=process_count,
        metavar="N|auto",
        help="split the run over N local worker processes (auto: one per core); "
        "with --dask, the number of shards (default: one per Dask worker)",
    )
    g.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the shards as tasks on a Dask cluster, e.g. tcp://scheduler:8786 "
        "(needs the dask extra)",
    )
    return g


@dataclass
class Scale:
    processes: int | None
    dask: str | None
    shard: tuple[int, int]
    start_at: float | None

    @property
    def spread(self) -> bool:
        """Shards run elsewhere and are merged here (local processes or Dask)."""
        return self.dask is not None or (self.processes or 1) > 1

    def meta(self) -> dict[str, Any]:
        """summary.json `run` keys saying how the run was split."""
        meta: dict[str, Any] = {}
        if self.dask is not None:
            meta["dask"] = self.dask
        elif self.processes is not None:
            meta["processes"] = self.processes
        if self.shard[1] > 1:
            meta["shard"] = {"index": self.shard[0], "count": self.shard[1]}
        if self.start_at is not None:
            meta["start_at_epoch"] = self.start_at
        return meta


def check_scale_options(args: argparse.Namespace) -> Scale:
    shard = args.shard or (0, 1)
    if args.shard and (args.processes or args.dask):
        raise UsageError("--shard runs one shard here: it cannot be split again by "
                         "--processes or --dask")  # fmt: skip
    if args.shard and args.out is None:
        raise UsageError("--shard needs --out DIR: its state file there is what "
                         "`loadgen merge` combines")  # fmt: skip
    if args.start_at is not None and args.start_at < time.time():
        ago = time.time() - args.start_at
        raise UsageError(f"--start-at is {ago:.1f} s in the past: the missed arrivals "
                         "would all be sent at once")  # fmt: skip
    if args.dask is not None and not args.dask.strip():
        raise UsageError("--dask needs the scheduler's address, e.g. tcp://scheduler:8786")
    return Scale(args.processes, args.dask, shard, args.start_at)


@dataclass
class ScaledRun:
    result: RunResult
    merged: Merged | None = None  # when shards ran elsewhere
    job: ShardJob | None = None  # when this process ran one shard of several

    def meta(self) -> dict[str, Any]:
        return self.merged.meta() if self.merged is not None else {}

    def report(self) -> None:
        """Say what is missing or odd about the shards, on stderr (even with --quiet)."""
        if self.merged is None:
            return
        err = make_console(stderr=True)
        for note in self.merged.notes:
            err.print(f"[yellow]note:[/yellow] {note}")
        for warning in self.merged.warnings:
            err.print(f"[bold red]warning:[/bold red] {warning}")

    def write(self, out: Path) -> None:
        """The shard state beside the run's files, for `loadgen merge`."""
        if self.job is not None:
            write_state(out, shard_state(self.job, self.result))

    @property
    def exit_code(self) -> int:
        return EXIT_SHARDS_LOST if self.merged is not None and self.merged.missing else 0


def run_scaled(
    scale: Scale,
    config: RunConfig,
    scenario: str,
    meta: dict[str, Any],
    progress: Progress | None = None,
) -> ScaledRun:
    """Run `config` here, as one shard of several, or spread over processes or Dask."""
    config.shard = scale.shard
    if scale.start_at is not None:
        config.start_at = scale.start_at
    if not scale.spread:
        on_interval = progress.on_interval if progress is not None else None
        result = run_engine(Engine(config, on_interval))
        job = ShardJob.from_config(config, scenario, meta) if scale.shard[1] > 1 else None
        return ScaledRun(result, job=job)

    template = ShardJob.from_config(config, scenario, meta)
    on_tick = progress.on_tick if progress is not None else None
    if scale.dask is not None:
        from loadgen.distributed import run_on_dask  # keeps Dask out of every other run

        outcomes = run_on_dask(scale.dask, template, scale.processes, on_tick, scale.start_at)
    else:
        from loadgen.processes import run_local

        assert scale.processes is not None
        outcomes = run_local(template, scale.processes, on_tick, scale.start_at)
    states = [o.state for o in outcomes if o.state is not None]
    lost = {o.index: o.reason or "lost" for o in outcomes if o.state is None}
    if not states:
        reasons = "; ".join(f"shard {i}: {why}" for i, why in sorted(lost.items()))
        raise ShardsLost(f"every shard was lost, nothing to report ({reasons})")
    merged = merge_states(states, count=len(outcomes), lost=lost)
    return ScaledRun(merged.result, merged=merged)


class ShardsLost(Exception):
    """No shard came back: there is nothing to report."""
