"""What does a `--targets` file of many distinct paths cost? Wall time and peak RSS.

Run by hand (`python bench/many_targets.py`); prints a table. The target,
bench/static_server.py on core 1, answers every path at once; loadgen runs
`--targets FILE --rps 200 --duration 2s --out DIR` with FILE listing 1 000,
10 000 and 100 000 distinct paths (`GET /p/<i>`, one task each). Each row is
one whole run (reading the file, 2 s of load, the report and its files) and
the peak RSS of that process alone (`os.wait4`).

Goal (issue 22): 100 000 targets at the default 200/s for 2 s finish, report
and files included, in under 10 s; memory grows with what was recorded (a
few hundred bytes per target read, a histogram entry per bucket used), never
by a fixed cost per task (the per-task views show the 20 busiest tasks and
one row of the rest, whatever the count). `--rps` and `--seconds` make the
load heavier: the wall time then includes that much more load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generator_max import ROOT, free_port, target_process

COUNTS = (1_000, 10_000, 100_000)
GOAL_S = 10.0


def targets_file(path: Path, count: int, url: str) -> Path:
    path.write_text("".join(f"GET {url}/p/{i}\n\n" for i in range(count)))
    return path


def one_run(url: str, targets: Path, out: Path, rps: float, seconds: float) -> tuple[float, float]:
    """(wall s, peak RSS MiB) of one loadgen run, its report and files."""
    argv = [
        sys.executable, "-m", "loadgen", "--host", url, "--targets", str(targets),
        "--rps", str(rps), "--duration", f"{seconds}s", "--out", str(out), "--quiet",
    ]  # fmt: skip
    began = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if proc.returncode != 0:
        raise SystemExit(f"loadgen exited {proc.returncode} with {targets.name}")
    return wall, usage.ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--counts", type=int, nargs="+", default=list(COUNTS))
    p.add_argument("--rps", type=float, default=200.0)
    p.add_argument("--seconds", type=float, default=2.0)
    args = p.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = [sys.executable, str(ROOT / "bench" / "static_server.py"), str(port)]
    with tempfile.TemporaryDirectory() as tmp, target_process(server, url + "/"):
        work = Path(tmp)
        print(f"{'targets':>9} {'wall s':>8} {'RSS MiB':>8} {'files':>6}")
        for count in args.counts:
            targets = targets_file(work / f"targets-{count}.txt", count, url)
            out = work / f"run-{count}"
            wall, rss = one_run(url, targets, out, args.rps, args.seconds)
            files = len(list(out.iterdir()))
            at_goal_load = (args.rps, args.seconds) == (200.0, 2.0)
            flag = "" if wall < GOAL_S or not at_goal_load else f"  (over the {GOAL_S:g} s goal)"
            print(f"{count:>9} {wall:>8.2f} {rss:>8.0f} {files:>6}{flag}")


if __name__ == "__main__":
    main()
