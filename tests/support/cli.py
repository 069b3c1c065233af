"""The real command line (`python -m loadgen ...`) in its own process, and its files read back."""

import json
import signal
import subprocess
import sys
from pathlib import Path

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

ROOT = Path(__file__).resolve().parents[2]


def as_in_a_terminal() -> None:
    """In a child, before it runs: SIGINT's default action, as a terminal's foreground
    job has it, even when the tests were started with it ignored (as a script's
    background jobs are, and their children): a Ctrl-C test must not hang on that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def loadgen(*args, timeout=90, **kwargs):
    """Run `python -m loadgen ARGS` (from the checkout unless `cwd` says otherwise)."""
    kwargs.setdefault("cwd", ROOT)
    return subprocess.run(
        [sys.executable, "-m", "loadgen", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def summary(out):
    return json.loads((Path(out) / "summary.json").read_text())


def logged_responses(out):
    """Responses in a run directory's intervals.hlog, read with hdrh's own reader."""
    reader = HistogramLogReader(
        str(Path(out) / "intervals.hlog"), HdrHistogram(1, 3_600_000_000, 3)
    )
    total = 0
    while (h := reader.get_next_interval_histogram()) is not None:
        if h.get_tag().startswith("response:"):
            total += h.get_total_count()
    return total


# Scale-out runs: one GET per arrival against a static target, short and seeded.
GET_SCENARIO = "tests/support/scenarios.py:Get"
RPS, SECONDS = 300, 2


def run_args(target, *more):
    return ("--host", target, "--rps", RPS, "--duration", f"{SECONDS}s",
            "--scenario", GET_SCENARIO, "--seed", 5, *more)  # fmt: skip
