"""How well does loadgen scale out over local processes? `--processes N` vs N × one process.

Run by hand (`python bench/scaling.py`); prints a table. For N = 1 … cores,
the highest constant rate loadgen *sustains* (achieved ≥ 99.5 % of target,
merged send-lag p99 ≤ 1 ms, no errors: generator_max's criterion) with
`--processes N`, against the static target of bench/generator_max.py
(nginx when installed, else bench/static_server.py) on its own core.

    scaling efficiency = rate(N) / (N × rate(1))

1.0 is perfect scaling; the merge itself costs nothing while sending (it
happens after the run), so losses come from the machine: shared caches,
the target's core, and — for N = cores — a generator process sharing the
target's core (marked in the table, not a fair point). N = 1 is a plain
single-process run (`--processes 1` runs in the parent).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

# Run as a script, bench/ is on sys.path: the helpers are generator_max's own.
from generator_max import TARGET_CORE, loadgen_level, static_target


def generator_cores(n: int, cores: int) -> tuple[str, bool]:
    """A taskset list of n cores avoiding the target's while possible; True if shared with it."""
    others = [c for c in range(cores) if str(c) != TARGET_CORE]
    if n <= len(others):
        return ",".join(map(str, others[:n])), False
    return ",".join(map(str, range(cores))), True


def max_sustained(ok: Callable[[float], bool], guess: float, precision: float = 0.05) -> float:
    """The highest rate `ok` accepts: bracket around `guess` geometrically, then bisect."""
    if ok(guess):
        lo, hi = guess, guess * 1.5
        while ok(hi):
            lo, hi = hi, hi * 1.5
    else:
        lo, hi = guess / 1.5, guess
        while not ok(lo):
            lo, hi = lo / 1.5, lo
            if lo < 100:
                return 0.0
    while hi - lo > precision * hi:
        mid = (lo + hi) / 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0, help="length of each measurement")
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1, help="largest N to try")
    p.add_argument("--start", type=float, default=4000.0, help="first rate tried for N = 1")
    args = p.parse_args()
    rows: list[tuple[int, str, bool, float]] = []
    with tempfile.TemporaryDirectory() as tmp, static_target(Path(tmp)) as (url, target):
        workdir = Path(tmp)
        print(f"target: {target} on core {TARGET_CORE}")
        rate1 = 0.0
        for n in range(1, args.cores + 1):
            cores, shared = generator_cores(n, args.cores)
            extra = ["--processes", str(n)]

            def ok(rps: float, n: int = n, cores: str = cores, extra: list[str] = extra) -> bool:
                out = workdir / f"n{n}-{int(rps)}"
                s = loadgen_level(url, rps, args.seconds, out, extra, cores)
                lag = s["generator"]["send_lag_ms"]["p99"]
                verdict = "ok" if s["sustained"] else "no"
                print(
                    f"  N={n} {rps:>9.0f}/s: achieved {s['achieved_rps']:>9.0f}/s, "
                    f"lag p99 {lag:.3f} ms → {verdict}",
                    flush=True,
                )
                return bool(s["sustained"])

            rate = max_sustained(ok, args.start if n == 1 else n * rate1)
            rate1 = rate1 or rate
            rows.append((n, cores, shared, rate))
    print()
    print(f"{'N':>3}  {'cores':<10}{'req/s':>10}{'N × rate(1)':>14}{'efficiency':>12}")
    for n, cores, shared, rate in rows:
        ideal = n * rate1
        eff = rate / ideal if ideal else 0.0
        note = "  (shares the target's core)" if shared else ""
        print(f"{n:>3}  {cores:<10}{rate:>10.0f}{ideal:>14.0f}{eff:>12.2f}{note}")


if __name__ == "__main__":
    main()
