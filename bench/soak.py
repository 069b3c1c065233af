"""Does loadgen's memory stay flat over a long run? RSS, second by second.

Run by hand: `python bench/soak.py` (10 minutes at 5 000 req/s against a
static nginx, or bench/static_server.py, on the other core). Prints the
generator's resident memory every `--every` seconds and the verdict: RSS
flat within `--slack` MB from the 20th second to the end. Memory must grow
with a run's duration only by the encoded one-second intervals (a few
hundred bytes per task and kind), never with its request count.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generator_max import GENERATOR_CORE, ROOT, static_target

SETTLE_S = 20  # start-up and the first intervals: not judged


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rps", type=float, default=5000.0, help="arrival rate (5000)")
    p.add_argument("--minutes", type=float, default=10.0, help="length of the run (10)")
    p.add_argument("--every", type=float, default=10.0, help="seconds between printed samples")
    p.add_argument("--slack", type=float, default=10.0, help="MB of growth allowed (10)")
    args = p.parse_args()
    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory() as tmp, static_target(Path(tmp)) as (url, target):
        proc = subprocess.Popen(
            ["taskset", "-c", GENERATOR_CORE, sys.executable, "-m", "loadgen", "--host", url,
             "--rps", str(args.rps), "--duration", f"{seconds}s",
             "--scenario", f"{ROOT / 'bench' / 'static_get.py'}:StaticGet",
             "--out", str(Path(tmp) / "run"), "--quiet"],
            cwd=ROOT,
        )  # fmt: skip
        print(f"loadgen at {args.rps:g} req/s for {seconds:g} s against {target}")
        print(f"{'second':>8}{'RSS MB':>10}")
        series: list[tuple[float, float]] = []
        start = time.monotonic()
        next_print = 0.0
        while proc.poll() is None:
            t = time.monotonic() - start
            rss = rss_mb(proc.pid)
            if rss is not None and t <= seconds:
                series.append((t, rss))
                if t >= next_print:
                    print(f"{t:>8.0f}{rss:>10.1f}", flush=True)
                    next_print += args.every
            time.sleep(1.0)
        settled = [rss for t, rss in series if t >= SETTLE_S]
    if proc.returncode != 0 or not settled:
        sys.exit(f"the run failed (exit {proc.returncode})")
    growth = max(settled) - settled[0]
    verdict = "flat" if growth <= args.slack else "GROWING"
    print(f"RSS from second {SETTLE_S}: {settled[0]:.1f} → max {max(settled):.1f} MB, "
          f"end {settled[-1]:.1f} MB: grew {growth:.1f} MB "
          f"({verdict}, slack {args.slack:g} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
