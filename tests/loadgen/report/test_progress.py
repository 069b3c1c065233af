"""Progress while a run goes on: the live line on a terminal (a real pseudo-terminal
here), a plain line every 10 s in a pipe (a CI log), nothing with --quiet."""

import io
import os
import pty
import random
import re
import subprocess
import sys

import pytest
from rich.console import Console

from loadgen.core.rates import ramp
from loadgen.measure.histogram import percentiles
from loadgen.measure.recorder import Recorder
from loadgen.measure.tick import tick
from loadgen.report.progress import PlainProgress
from loadgen.transports.models import Response
from server.launch import free_port
from tests.support.cli import GET_SCENARIO, ROOT, loadgen
from tests.support.http_server import server_process

LIVE_LINE = re.compile(r"\d+s/\d+s  arrivals \d+")


def run_on_a_terminal(*args: str) -> str:
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadgen", *args],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        env={**os.environ, "COLUMNS": "160", "TERM": "xterm"},
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            data = os.read(controller, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(controller)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_progress_line_on_a_terminal(tmp_path):
    # Nothing listens on the port: every request is a connect error, counted live.
    url = f"http://127.0.0.1:{free_port()}"
    screen = run_on_a_terminal("--rps", "20", "--duration", "2.5s", "--host", url,
                               "--out", str(tmp_path))  # fmt: skip
    assert LIVE_LINE.search(screen)
    assert "errors 20" in screen  # one second's worth, as it happened
    assert "Response time" in screen  # then the summary


@pytest.mark.slow
def test_no_live_line_in_a_pipe(tmp_path):
    with server_process() as url:
        proc = loadgen("--rps", 20, "--duration", "1.5s", "--host", url, "--out", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not LIVE_LINE.search(proc.stdout) and "Response time" in proc.stdout


PLAIN_LINE = re.compile(
    r"^\[(\d+)s/(\d+)s\] last (\d+) s: target ([\d.]+)/s, achieved ([\d.]+)/s; "
    r"so far: p99 ([\d.]+) ms, errors (\d+)$",
    re.M,
)


@pytest.mark.slow
def test_a_plain_line_every_10_s_in_a_pipe_and_none_with_quiet(tmp_path):
    def start(url, out, *more):
        argv = [sys.executable, "-m", "loadgen", "--host", url, "--rps", "5", "--duration",
                "11s", "--scenario", GET_SCENARIO, "--out", str(tmp_path / out), *more]  # fmt: skip
        return subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)  # fmt: skip

    with server_process() as url:  # the two at once: one wait of 11 s
        plain, quiet = start(url, "plain"), start(url, "quiet", "--quiet")
        out, err = plain.communicate(timeout=60)
        quiet_out, quiet_err = quiet.communicate(timeout=60)
    assert plain.returncode == 0 and quiet.returncode == 0, err + quiet_err
    lines = PLAIN_LINE.findall(out)
    assert len(lines) == 1, out  # at 10 s (the run's end is the report's)
    elapsed, planned, stretch, target, achieved, p99, errors = lines[0]
    assert (elapsed, planned, stretch, target, errors) == ("10", "11", "10", "5.0", "0")
    assert float(achieved) == pytest.approx(5.0, abs=0.2) and float(p99) > 0
    # Before the report, and plain text: no escape, no carriage return.
    assert out.index("[10s/11s]") < out.index("Response time")
    assert "\x1b" not in out and "\r" not in out
    assert quiet_out == ""


def recorder_seconds(latencies_ms):
    """A real recorder given one second per list of latencies; its ticks and itself."""
    rec = Recorder(100.0)
    ticks = []
    for second, values in enumerate(latencies_ms, start=1):
        for ms in values:
            rec.arrival(0.0, measured=True)
            start = 100.0 + second - 1
            rec.response(
                "a" if ms % 2 else "b", start, Response(200, b"", start, start + ms / 1000, 1)
            )
        ticks.append(tick(rec.close_interval(100.0 + second), rec))
    rec.settle_all()
    return rec, ticks


def test_the_plain_line_s_p99_is_the_run_s_so_far_exactly():
    rng = random.Random(7)
    # A slow first half, a quick second: "so far" is not "the last 10 s".
    seconds = [[rng.randint(1, 40) * (1 if i >= 10 or rng.random() < 0.9 else 250)
                for _ in range(97)] for i in range(20)]  # fmt: skip
    rec, ticks = recorder_seconds(seconds)
    text = io.StringIO()
    progress = PlainProgress(Console(file=text, width=200), 20.0, ramp(0, 40, 20.0), 0.0)
    for t in ticks[:10]:
        progress.on_tick(t)
    first = text.getvalue()
    for t in ticks[10:]:
        progress.on_tick(t)
    lines = PLAIN_LINE.findall(text.getvalue())
    assert [ln[:3] for ln in lines] == [("10", "20", "10"), ("20", "20", "10")]
    # The ramp 0 → 40/s: 10/s on average over its first 10 s, 30/s over the next.
    assert [(ln[3], ln[4]) for ln in lines] == [("10.0", "97.0"), ("30.0", "97.0")]
    exact = percentiles(rec.total("response"), [99])[99]  # every second's, as the report's
    assert float(lines[1][5]) == pytest.approx(exact, abs=0.005)
    assert exact > 2 * merged_p99(seconds[10:])  # (what the last 10 s alone would say)
    # The first line's p99 is of its first 10 seconds alone.
    first_ten = merged_p99(seconds[:10])
    assert float(PLAIN_LINE.findall(first)[0][5]) == pytest.approx(first_ten, abs=0.005)


def merged_p99(seconds):
    rec, _ = recorder_seconds(seconds)
    return percentiles(rec.total("response"), [99])[99]
