"""Does loadgen send on time at low rates too? Its send lag across rates, beside another tree's.

Run by hand (`python bench/send_lag.py`, after `apt-get install nginx-light`);
prints a table. nginx on core 1, loadgen on core 0 at each rate for
`--seconds`, `--tries` times; the table shows the median and the best of the
tries' send-lag p99 and max. `--against DIR` runs the same tries with the
loadgen of another checkout (a `git worktree` of an older commit) in turn
with this one, so the two compare in one sitting.

Send lag is how late a request left against its schedule: at a low rate the
loop sleeps between arrivals, and a wake-up that comes late shows here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from generator_max import ROOT, loadgen_level, static_target


def lags(tree: Path, url: str, rps: float, seconds: float, out: Path) -> dict:
    """One run of the loadgen in `tree` at `rps`: its send-lag summary in ms."""
    env = {**os.environ, "PYTHONPATH": str(tree)}  # it imports loadgen from there
    return loadgen_level(url, rps, seconds, out, env=env)["generator"]["send_lag_ms"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rates", default="100,200,400,700,2000", help="comma-separated req/s")
    p.add_argument("--seconds", type=float, default=5.0, help="length of each run")
    p.add_argument("--tries", type=int, default=3, help="runs per rate and tree")
    p.add_argument("--against", type=Path, help="another checkout's root, run in turn")
    args = p.parse_args()
    trees = {"this": ROOT} | ({"other": args.against.resolve()} if args.against else {})
    rates = [float(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory() as tmp, static_target(Path(tmp)) as (url, name):
        print(f"target: {name} on core 1; loadgen on core 0; trees: {trees}")
        seen: dict[tuple[str, float], list[dict]] = {}
        for rps in rates:
            for i in range(args.tries):
                for tag, tree in trees.items():  # in turn: the machine's moods hit both
                    out = Path(tmp) / f"{tag}-{int(rps)}-{i}"
                    seen.setdefault((tag, rps), []).append(lags(tree, url, rps, args.seconds, out))
    print()
    print(f"{'tree':<6}{'req/s':>8}{'p99 median':>12}{'p99 best':>10}{'max median':>12}")
    for (tag, rps), runs in seen.items():
        p99s, maxes = [r["p99"] for r in runs], [r["max"] for r in runs]
        print(
            f"{tag:<6}{rps:>8.0f}{statistics.median(p99s):>12.3f}{min(p99s):>10.3f}"
            f"{statistics.median(maxes):>12.3f}"
        )
    print("(milliseconds)")


if __name__ == "__main__":
    main()
