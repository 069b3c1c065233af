"""`loadgen merge OUT DIR...`: shards run anywhere, put back together as one run.

Each DIR is the `--out` of a `loadgen --shard I/N ... --out DIR` run (for
example one per pod of a Kubernetes Indexed Job), holding its shard state.
The merge is exact (see `scale/merge.py`), and OUT gets the files a single run
writes, with the same terminal report. Shards missing, the same shard twice,
or shards of different runs are warned about, and make the exit status 1
(after writing), so that a pipeline notices an incomplete report.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from loadgen.commands.options.argtypes import Parser, UsageError, out_dir
from loadgen.commands.options.exitcode import ExitCode
from loadgen.report.publish import publish
from loadgen.report.terminal import make_console, print_shard_notes
from loadgen.scale.merge import merge_states
from loadgen.scale.shard import STATE_FILE, ShardJob, read_state
from loadgen.scale.stops import CatchStops


def parser() -> argparse.ArgumentParser:
    """`loadgen merge`'s arguments (tests/test_docs.py parses the docs' examples with it)."""
    p = Parser(
        prog="loadgen merge",
        description="Merge the output directories of `loadgen --shard I/N --out DIR` runs "
        "into one run's files and report, exactly (HDR histograms add bucket by bucket).",
    )
    p.add_argument("out", type=out_dir, metavar="OUT", help="directory for the merged run's files")
    p.add_argument(
        "dirs",
        type=Path,
        nargs="+",
        metavar="DIR",
        help=f"a shard's --out directory (or its {STATE_FILE})",
    )
    p.add_argument("--quiet", action="store_true", help="no terminal summary (warnings still)")
    return p


def merge(argv: Sequence[str]) -> ExitCode:
    """Read the shard states, merge them, write OUT's files and report; exit 1
    (after writing) when the merge is incomplete or dubious.
    """
    args = parser().parse_args(argv)
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
        except ValueError as e:  # not JSON, not ours, or damaged
            raise UsageError(str(e)) from None
        labels.append(str(d))
    merged = merge_states(states, labels=labels)

    # The run's parameters as the shards recorded them, minus what was per shard.
    meta = dict(ShardJob.from_dict(states[0]["job"]).meta)
    meta.pop("shard", None)
    meta["merged_from"] = labels
    console = make_console()
    # A stop while the files are written skips those not begun, and says so.
    with CatchStops() as stops:
        published = publish(
            merged.result,
            {**meta, **merged.meta()},
            out=args.out,
            console=console,
            quiet=args.quiet,
            server_note="no server signals: shard states carry only what each generator measured",
            stopped=lambda: bool(stops.received),
        )
    if published.not_written:
        make_console(stderr=True).print(published.not_written, highlight=False)
    print_shard_notes(merged.notes, merged.warnings)
    if stops.received:
        return ExitCode.stopped_by(stops.received[0])
    if not args.quiet:
        console.print(f"merged {len(states)} shard(s) into {args.out}/")
    return ExitCode.INCOMPLETE if merged.warnings else ExitCode.OK
