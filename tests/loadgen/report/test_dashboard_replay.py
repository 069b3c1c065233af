"""loadgen report DIR --serve: the live page over a saved run, until Ctrl-C."""

import json
import re
import signal
import socket
import subprocess
import sys

import pytest

from loadgen.report.dashboard_replay import replayed
from loadgen.report.run_data import rate_intervals
from loadgen.report.run_dir import load_run
from tests.loadgen.report.test_dashboard import get, post
from tests.support.cli import ROOT, as_in_a_terminal, loadgen


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    out = tmp_path_factory.mktemp("replay") / "saved"
    done = loadgen("--rps", 40, "--duration", "3s", "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
def test_a_saved_run_s_seconds_are_its_timeline_and_its_histograms(saved):
    run = load_run(saved)
    live = replayed(run, "saved", saved / "report.html")
    page = json.loads(live.ticks_json())
    timeline = rate_intervals(run.summary)
    assert [s["end"] for s in page["seconds"]] == [e["t"] + e["length"] for e in timeline]
    assert [s["achieved"] for s in page["seconds"]] == [
        e["arrivals"] / e["length"] for e in timeline
    ]
    p99s = {round(t, 3): stats["response"]["p99"] for t, stats in run.seconds}
    assert page["seconds"][0]["latency_ms"]["0.99"] == p99s[0.0]
    assert page["end"]["report"].endswith("report.html") and page["end"]["diagnosis"]
    assert page["server"] and page["fixed"]  # the bundled server was sampled; nothing changes


@pytest.mark.slow
def test_serve_answers_until_ctrl_c_then_exits_130(saved):
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadgen", "report", str(saved), "--no-html", "--serve"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=as_in_a_terminal,
    )  # fmt: skip
    try:
        line = proc.stderr.readline()
        found = re.fullmatch(r"serving: (http://127\.0\.0\.1:\d+/) \(Ctrl-C ends it\)\n", line)
        assert found, line
        base = found.group(1)
        assert json.loads(get(f"{base}ticks"))["run"] == "saved"
        assert b"loadgen live" in get(base)
        assert post(f"{base}stop", {})[0] == 409  # a saved run: nothing to stop
        assert post(f"{base}rate", {"rps": 10})[0] == 409
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_a_busy_port_is_one_line_and_exit_2(saved):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        done = loadgen("report", saved, "--no-html", "--serve", f"127.0.0.1:{port}")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "cannot listen there" in done.stderr, done.stderr
