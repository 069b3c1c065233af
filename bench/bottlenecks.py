"""What loadgen names for each bottleneck service: the table in docs/measuring.md.

Run by hand from the checkout (`python bench/bottlenecks.py`); prints a
Markdown table, one row per service of tests/support/bottlenecks, each run
as the end-to-end tests run it (tests/support/bottlenecks/loads.py: about
1.5 times its capacity for a few seconds, `--host` and `--server-pid`).
`--hog` runs a process burning a core beside every run: what a busy laptop
or CI runner would show.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.bottlenecks import SERVICES  # noqa: E402
from tests.support.bottlenecks.loads import LOADS, drive  # noqa: E402
from tests.support.cpu_hog import burning_a_core  # noqa: E402


def row(name: str, out: Path) -> str:
    load = LOADS[name]
    summary = drive(load, out)
    top = summary["diagnosis"][0]
    n = f"{top['concurrency']:g}" if "concurrency" in top else ""
    how = "`--server-pid`" if load.sampled else "client side only"
    offered = f"{load.rps}/s" + (f", --connections {load.connections}" if load.connections else "")
    return (
        f"| {name} | {SERVICES[load.service]} | {offered} ({how}) | `{top['finding']}` | {n} | "
        f"{top['summary']} |"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hog", action="store_true", help="burn a core beside every run")
    p.add_argument("names", nargs="*", help=f"runs of {', '.join(LOADS)} (default: all)")
    args = p.parse_args()
    unknown = [n for n in args.names if n not in LOADS]
    if unknown:
        p.error(f"no run named {unknown[0]!r}")
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, `python bench/bottlenecks.py"
          f"{' --hog' if args.hog else ''}`\n")  # fmt: skip
    print("| run | its one bottleneck | offered | top finding | N | what loadgen said |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.names or LOADS:
            hog = burning_a_core(60) if args.hog else contextlib.nullcontext()
            with hog:
                print(row(name, Path(tmp) / name), flush=True)


if __name__ == "__main__":
    main()
