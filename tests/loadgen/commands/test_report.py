"""`loadgen report DIR` reproduces a run's numbers from its saved files."""

import json
import shutil

import pytest

from loadgen.commands.report import recompute_latencies
from loadgen.report.run_dir import load_run
from tests.support.cli import loadgen as run_cli


def report(*args):
    return run_cli("report", *args, timeout=60)


@pytest.mark.slow
def test_latencies_recomputed_from_the_interval_log_equal_the_live_run(saved_run):
    original = json.loads((saved_run / "summary.json").read_text())
    run = load_run(saved_run)
    recompute_latencies(run)
    assert run.summary["latency_ms"] == original["latency_ms"]
    for name, task in original["tasks"].items():
        assert run.summary["tasks"][name]["latency_ms"] == task["latency_ms"]
    assert len(run.seconds) >= 3


@pytest.mark.slow
def test_report_renders_the_same_summary_and_html(saved_run, tmp_path):
    copy = tmp_path / saved_run.name  # the page is titled with the run's folder name
    shutil.copytree(saved_run, copy)
    (copy / "report.html").unlink()
    proc = report(copy)
    assert proc.returncode == 0, proc.stderr
    s = json.loads((copy / "summary.json").read_text())
    p99 = f"{s['latency_ms']['response']['p99']:.2f}"
    assert p99 in proc.stdout and "Response time" in proc.stdout
    # Last, as a run's output ends: the page, as a link a terminal opens.
    assert proc.stdout.splitlines()[-1] == f"report: {(copy / 'report.html').resolve().as_uri()}"
    html = (copy / "report.html").read_text()
    assert html.startswith("<!doctype html>") and html.count("<svg") >= 7
    # The very page the run wrote: every number and every plotted point the same.
    assert html == (saved_run / "report.html").read_text()


@pytest.mark.slow
def test_slos_on_a_saved_run_exit_0_or_99(saved_run, tmp_path):
    passing = report(saved_run, "--no-html", "--slo", "max<1000s")
    assert passing.returncode == 0 and "pass  max<1000s" in passing.stdout
    # Legacy mode: most additions overflow into 500s.
    failing = report(saved_run, "--no-html", "--slo", "errors<1%", "--slo", "p95<1000s")
    assert failing.returncode == 99
    assert "FAIL  errors<1%" in failing.stdout and "pass  p95<1000s" in failing.stdout


def test_misuse(tmp_path):
    empty = report(tmp_path)  # not a run directory
    assert empty.returncode == 2 and "not a loadgen run" in empty.stderr
    bad = report(tmp_path, "--slo", "p99<")
    assert bad.returncode == 2 and "not an SLO" in bad.stderr


@pytest.mark.slow
def test_an_slo_on_a_task_the_run_lacks_is_misuse(saved_run):
    proc = report(saved_run, "--no-html", "--slo", "task:nope:p99<1s")
    assert proc.returncode == 2 and "no task 'nope'" in proc.stderr


def damage(run, how):
    """Spoil a copy of a run directory one way."""
    summary, hlog = run / "summary.json", run / "intervals.hlog"
    s = json.loads(summary.read_text())
    if how == "summary is []":
        summary.write_text("[]")
    elif how == "no tasks":
        del s["tasks"]
        summary.write_text(json.dumps(s))
    elif how == "no generator":
        del s["generator"]
        summary.write_text(json.dumps(s))
    elif how == "not a histogram":
        lines = hlog.read_text().splitlines()
        i = next(k for k, ln in enumerate(lines) if ln.startswith("Tag="))
        head = lines[i].rsplit(",", 1)[0]
        lines[i] = head + ",aGVsbG8gd29ybGQsIG5vdCBhIGhpc3RvZ3JhbQ=="  # base64, not HDR
        hlog.write_text("\n".join(lines) + "\n")
    elif how == "duration NaN":
        s["duration_s"] = float("nan")  # json.dumps writes NaN: not JSON, but Python reads it
        summary.write_text(json.dumps(s))
    elif how == "emptied log":
        hlog.write_text("")
    elif how == "half the log":
        lines = hlog.read_text().splitlines(keepends=True)
        hlog.write_text("".join(lines[: len(lines) // 2]))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "names"),
    [
        ("summary is []", "summary.json: not a loadgen summary"),
        ("no tasks", "summary.json: tasks is missing"),
        ("no generator", "summary.json: generator is missing"),
        ("not a histogram", "intervals.hlog:"),
        ("duration NaN", "summary.json: duration_s is nan"),
        ("emptied log", "intervals.hlog holds 0 timed responses"),
        ("half the log", "intervals.hlog holds"),
    ],
)
def test_a_damaged_run_is_one_line_and_exit_2(saved_run, tmp_path, how, names):
    copy = tmp_path / "run"
    shutil.copytree(saved_run, copy)
    damage(copy, how)
    for proc in (report(copy, "--no-html"), run_cli("compare", copy, saved_run, "--no-html")):
        assert proc.returncode == 2, proc.stdout + proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and names in lines[0], proc.stderr
        assert str(copy) in lines[0]


@pytest.mark.slow
def test_a_run_in_which_nothing_was_answered_reports_with_the_run_s_status(tmp_path):
    from server.launch import free_port

    out = tmp_path / "run"
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: every request is refused
    ran = run_cli("--host", dead, "--rps", 10, "--duration", "1s", "--out", out, "--quiet")
    assert ran.returncode == 1, ran.stderr
    again = report(out, "--no-html")
    assert again.returncode == ran.returncode, again.stdout + again.stderr
    assert "no request got a response" in again.stderr
