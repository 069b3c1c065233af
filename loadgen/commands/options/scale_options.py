"""The scale-out options: `--processes`, `--dask` (every command that sends load),
`--shard` and `--start-at` (the run command)."""

from __future__ import annotations

import argparse
import time

from loadgen.commands.options.argtypes import UsageError, process_count, shard_spec, start_time
from loadgen.commands.options.groups import Group
from loadgen.scale.scaled import Scale


def add_scale_options(group: Group) -> None:
    """--processes, --dask, --shard and --start-at (the run command's)."""
    add_spread_options(group)
    group.add_argument(
        "--shard",
        type=shard_spec,
        metavar="I/N",
        help="send only shard I of N (0 <= I < N), e.g. in pod I of a Kubernetes "
        "Indexed Job; needs --out; `loadgen merge` combines the shards' directories",
    )
    group.add_argument(
        "--start-at",
        type=start_time,
        metavar="TIME",
        help="wall-clock time of the first arrival: epoch seconds or ISO 8601 "
        "(UTC unless a zone is given); shards given the same time start together",
    )


def add_spread_options(group: Group) -> None:
    """--processes and --dask: for every command that sends load."""
    group.add_argument(
        "--processes",
        type=process_count,
        metavar="N|auto",
        help="split the run over N local worker processes (auto: one per core); "
        "with --dask, the number of shards (default: one per Dask worker)",
    )
    group.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the shards as tasks on a Dask cluster, e.g. tcp://scheduler:8786 "
        "(needs the dask extra)",
    )


def check_scale_options(args: argparse.Namespace) -> Scale:
    """How the run is split, checked: a shard split again, a shard with nowhere to
    write its state, or a start in the past is a UsageError.
    """
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
