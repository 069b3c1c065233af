"""Helpers for the scale-out tests: loadgen on the command line, and reading its files back."""

import json
import subprocess
import sys
from pathlib import Path

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "tests/loadgen/shard_scenarios.py:Get"
RPS, SECONDS = 300, 2


def loadgen(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "loadgen", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def summary(out):
    return json.loads((out / "summary.json").read_text())


def logged_responses(out):
    reader = HistogramLogReader(str(out / "intervals.hlog"), HdrHistogram(1, 3_600_000_000, 3))
    total = 0
    while (h := reader.get_next_interval_histogram()) is not None:
        if h.get_tag().startswith("response:"):
            total += h.get_total_count()
    return total


def run_args(target, *more):
    return ("--host", target, "--rps", RPS, "--duration", f"{SECONDS}s", "--scenario", SCENARIO,
            "--seed", 5, *more)  # fmt: skip
