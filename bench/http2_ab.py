"""The HTTP/2 client of two checkouts side by side: closed loops, interleaved.

Run by hand: `python bench/http2_ab.py BEFORE AFTER [--rounds 4]`, each a
directory holding a checkout of loadgen (`git worktree add /tmp/before
<commit>`). One nginx of bench/http2.py on core 1; on core 0, round after
round, each checkout's own `bench/http2.py --closed` measures its fast
client over HTTP/1.1, h2c and h2 (TLS), so a stall of this machine falls
on both checkouts alike. Prints each round's rates and each checkout's
HTTP/2 ÷ HTTP/1.1 ratios, per round and their median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from generator_max import GENERATOR_CORE
from http2 import h2_target

KINDS = ("h1", "h2c", "h2")


def closed(tree: Path, kind: str, url: str, seconds: float, ca: Path | None) -> float:
    """`tree`'s client alone in a closed loop on the generator core: answers per second."""
    client = "fast-h1" if kind == "h1" else "fast-h2"
    out = subprocess.run(
        ["taskset", "-c", GENERATOR_CORE, sys.executable, str(tree / "bench" / "http2.py"),
         "--closed", client, url, str(seconds), *([str(ca)] if ca else [])],
        check=True, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tree)},
    ).stdout  # fmt: skip
    return float(out.split()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("trees", nargs=2, type=Path, help="two checkouts: before, after")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--seconds", type=float, default=3.0, help="length of each closed loop")
    args = p.parse_args()
    rates: dict[Path, dict[str, list[float]]] = {t: {k: [] for k in KINDS} for t in args.trees}
    with tempfile.TemporaryDirectory() as tmp, h2_target(Path(tmp)) as (plain, h2c, h2, ca):
        targets = {"h1": (plain, None), "h2c": (h2c, None), "h2": (h2, ca)}
        for r in range(args.rounds):
            for tree in args.trees:
                for kind, (url, pem) in targets.items():
                    rates[tree][kind].append(closed(tree, kind, url, args.seconds, pem))
                got = "  ".join(f"{k} {rates[tree][k][-1]:>7.0f}" for k in KINDS)
                print(f"round {r + 1}  {tree}: {got}", flush=True)
    print()
    for tree in args.trees:
        for kind in KINDS[1:]:
            ratios = [a / b for a, b in zip(rates[tree][kind], rates[tree]["h1"], strict=True)]
            per_round = " ".join(f"{x:.2f}" for x in ratios)
            print(f"{tree}: {kind} ÷ HTTP/1.1 per round {per_round}, "
                  f"median {statistics.median(ratios):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
