"""`loadgen compare` on saved runs and on a real Locust run's CSV output."""

import pytest

from loadgen.report.plots import text_width
from tests.support.chromium import (
    CHART_TEXTS_JS,
    legend_collisions,
    measure,
    page_requests,
    render,
)
from tests.support.cli import loadgen as run_cli


def compare(*args):
    return run_cli("compare", *args, timeout=60)


@pytest.mark.browser
@pytest.mark.slow
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
    # Run labels are long paths: each legend label ends before the next swatch.
    texts = measure(page, CHART_TEXTS_JS, tmp_path)
    assert [len(chart) for chart in texts] == [2, 3, 3]  # Locust has no response time
    assert legend_collisions(texts) == []
    assert all(t["w"] <= text_width(t["text"]) for chart in texts for t in chart)


@pytest.mark.slow
def test_the_page_goes_to_reports_unless_told_otherwise(saved_run, tmp_path):
    proc = run_cli("compare", saved_run, saved_run, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["reports"]  # .gitignore covers it
    assert (tmp_path / "reports" / "compare.html").is_file()


@pytest.mark.slow
def test_compare_misuse(saved_run, tmp_path):
    (tmp_path / "file").write_text("x")
    not_a_dir = compare(saved_run, saved_run, "--out", tmp_path / "file")
    assert not_a_dir.returncode == 2 and "not a directory" in not_a_dir.stderr
    one = compare(saved_run)
    assert one.returncode == 2 and "at least two" in one.stderr
    bad = compare(saved_run, tmp_path / "nothing")
    assert bad.returncode == 2 and "neither a loadgen run" in bad.stderr
