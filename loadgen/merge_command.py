"""`loadgen merge OUT DIR...`: shards run anywhere, put back together as one run.

Each DIR is the `--out` of a `loadgen --shard I/N ... --out DIR` run (for
example one per pod of a Kubernetes Indexed Job), holding its shard state.
The merge is exact (see `state.py`), and OUT gets the files a single run
writes, with the same terminal report. Shards missing, the same shard twice,
or shards of different runs are warned about, and make the exit status 1
(after writing), so that a pipeline notices an incomplete report.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from loadgen.argtypes import Parser, UsageError
from loadgen.output import write_run
from loadgen.scaleout import ScaledRun
from loadgen.state import STATE_FILE, merge_states, read_state
from loadgen.summary import build_summary
from loadgen.terminal import make_console, render_summary

EXIT_INCOMPLETE = 1


def merge_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="loadgen merge",
        description="Merge the output directories of `loadgen --shard I/N --out DIR` runs "
        "into one run's files and report, exactly (HDR histograms add bucket by bucket).",
    )
    p.add_argument("out", type=Path, metavar="OUT", help="directory for the merged run's files")
    p.add_argument(
        "dirs",
        type=Path,
        nargs="+",
        metavar="DIR",
        help=f"a shard's --out directory (or its {STATE_FILE})",
    )
    p.add_argument("--quiet", action="store_true", help="no terminal summary (warnings still)")
    return p


def merge(argv: Sequence[str]) -> int:
    args = merge_parser().parse_args(argv)
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"{args.out} exists and is not a directory")
    states, labels = [], []
    for d in args.dirs:
        if d.resolve() == args.out.resolve():
            raise UsageError(f"OUT {args.out} is also one of the shard directories")
        try:
            states.append(read_state(d))
        except FileNotFoundError:
            raise UsageError(
                f"{d}: no {STATE_FILE} (write shards with --shard I/N --out DIR)"
            ) from None
        except (ValueError, KeyError) as e:  # not JSON, or not ours
            raise UsageError(f"{d}: {e}") from None
        labels.append(str(d))
    try:
        merged = merge_states(states, labels=labels)
    except (KeyError, TypeError, ValueError) as e:
        raise UsageError(f"cannot merge these states: {e!r}") from None

    # The run's parameters as the shards recorded them, minus what was per shard.
    meta = dict(states[0]["job"]["meta"])
    meta.pop("shard", None)
    meta["merged_from"] = labels
    summary = build_summary(merged.result, {**meta, **merged.meta()})
    console = make_console()
    if not args.quiet:
        render_summary(summary, console)
    run = ScaledRun(merged.result, merged=merged)
    run.report()
    write_run(args.out, summary, merged.result)
    if not args.quiet:
        console.print(f"merged {len(states)} shard(s) into {args.out}/")
    return EXIT_INCOMPLETE if merged.warnings else 0
