"""`loadgen compare` on saved runs and on a real Locust run's CSV output."""

import os
import subprocess
import sys

import pytest

from loadgen.report.comparison import load_comparable, short_labels
from server.launch import free_port, start_gunicorn, stop_gunicorn, wait_until_serving
from tests.support.chromium import page_requests, render
from tests.support.cli import loadgen as run_cli


@pytest.fixture(scope="module")
def locust_csv(tmp_path_factory):
    """A real headless Locust run (its own process: it patches with gevent) with --csv."""
    out = tmp_path_factory.mktemp("locust")
    port = free_port()
    server = start_gunicorn(f"127.0.0.1:{port}", 2, out / "logs")
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", server)
        proc = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "locust"), "-f", "locust.py",
             "--headless", "-u", "20", "-r", "20", "-t", "3s", "-H", f"http://127.0.0.1:{port}",
             "--csv", str(out / "run"), "--only-summary"],
            env={**os.environ, "LOCUST_WAIT_SCALE": "0.05"},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
    finally:
        stop_gunicorn(server)
    return str(out / "run")


def compare(*args):
    return run_cli("compare", *args, timeout=60)


def test_locust_csv_maps_to_service_time(locust_csv):
    run = load_comparable(locust_csv, "locust")
    assert run.tool == "locust" and run.requests > 50 and run.errors == 0
    assert run.response is None  # a closed-loop tool cannot measure it
    assert load_comparable(f"{locust_csv}_stats.csv", "locust") == run  # as a shell completes it
    assert 0 < run.service["p50"] <= run.service["p99"] <= run.service["max"]
    assert [q for q, _ in run.spectra["service"]][:2] == [50.0, 66.0]
    assert any("service time" in n for n in run.notes)
    # Throughput over time, from the history's cumulative counts.
    assert run.throughput and all(rate >= 0 for _, rate in run.throughput)
    assert 0.3 * run.achieved_rps < max(rate for _, rate in run.throughput) < 3 * run.achieved_rps


def test_a_locust_run_without_requests_is_refused(tmp_path):
    prefix = tmp_path / "idle"
    columns = "Type,Name,Request Count,Failure Count,Median Response Time,50%,100%"
    (tmp_path / "idle_stats.csv").write_text(f"{columns}\n,Aggregated,0,0,0,N/A,N/A\n")
    with pytest.raises(ValueError, match="no requests"):
        load_comparable(str(prefix), "idle")


def test_compare_two_runs_and_locust(saved_run, locust_csv, tmp_path):
    page = tmp_path / "cmp" / "compare.html"
    proc = compare(saved_run, saved_run, locust_csv, "--out", tmp_path / "cmp")
    assert proc.returncode == 0, proc.stderr
    assert f"comparison written to {page}" in proc.stdout
    out = proc.stdout
    assert "baseline" in out and "(±0%)" in out  # a run against itself changes nothing
    assert "n/a" in out  # Locust's missing response time, marked
    assert "closed model" in out
    html = page.read_text()
    assert html.count("<svg") == 3 and "(locust)" in html and "Throughput over time" in html
    requests, log = render(page, tmp_path / "cmp.png", tmp_path / "profile")
    assert page_requests(requests) == [] and "CONSOLE" not in log, log


def test_the_page_goes_to_reports_unless_told_otherwise(saved_run, tmp_path):
    proc = run_cli("compare", saved_run, saved_run, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["reports"]  # .gitignore covers it
    assert (tmp_path / "reports" / "compare.html").is_file()


def test_compare_misuse(saved_run, tmp_path):
    (tmp_path / "file").write_text("x")
    not_a_dir = compare(saved_run, saved_run, "--out", tmp_path / "file")
    assert not_a_dir.returncode == 2 and "not a directory" in not_a_dir.stderr
    one = compare(saved_run)
    assert one.returncode == 2 and "at least two" in one.stderr
    bad = compare(saved_run, tmp_path / "nothing")
    assert bad.returncode == 2 and "neither a loadgen run" in bad.stderr


def test_labels_are_the_shortest_distinct_suffixes():
    assert short_labels(["a/x/run", "b/x/run"]) == ["a/x/run", "b/x/run"]
    assert short_labels(["r/fixed", "r/legacy"]) == ["fixed", "legacy"]
    assert short_labels(["a/x", "b/y/x"]) == ["a/x", "y/x"]
