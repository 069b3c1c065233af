"""`loadgen compare` on saved runs and on a real Locust run's CSV output."""

import json
import re
from html import escape

import pytest

from loadgen.report.diagnosis import headline
from loadgen.report.plots import text_width
from loadgen.report.setup import setup_lines
from tests.support.chromium import (
    CHART_TEXTS_JS,
    legend_collisions,
    measure,
    page_requests,
    render,
)
from tests.support.cli import loadgen as run_cli
from tests.support.http_server import server_process

# A change in a table cell: "(+5.0%)", "(×174)", "(÷12)", "(±0%)", "(-100%)", "(new)".
CHANGE = re.compile(r"\(([×÷][\d.]+|[+-][\d.]+%|±0%|new)\)")


def compare(*args):
    return run_cli("compare", *args, timeout=60)


@pytest.fixture(scope="module")
def host_run(tmp_path_factory):
    """A short run of two stages against the loopback test server (`--host`): a
    set-up other than saved_run's in every line, and no errors."""
    out = tmp_path_factory.mktemp("host-run")
    with server_process() as url:
        proc = run_cli("--host", url, "--stages", "1s:40,1s:80", "--seed", 3, "--quiet",
                       "--scenario", "tests/support/scenarios.py:Get", "--out", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.slow
def test_the_page_is_named_after_the_runs_and_never_overwritten(saved_run, host_run, tmp_path):
    out = tmp_path / "cmp"
    page = out / f"compare-{saved_run.name}-vs-{host_run.name}.html"
    first = compare(saved_run, host_run, "--out", out)
    assert first.returncode == 0, first.stderr
    # The page's path, last, as a link a terminal opens.
    assert first.stdout.splitlines()[-1] == f"comparison: {page.resolve().as_uri()}"
    assert [p.name for p in out.iterdir()] == [page.name]
    page.write_text(page.read_text() + "<!-- read and kept -->")
    again = compare(saved_run, host_run, "--out", out)
    assert again.returncode == 2 and again.stdout == ""  # refused before anything is printed
    assert again.stderr.count("\n") == 1 and f"{page} exists: --force replaces it" in again.stderr
    assert page.read_text().endswith("<!-- read and kept -->")
    forced = compare(saved_run, host_run, "--out", out, "--force")
    assert forced.returncode == 0, forced.stderr
    last = forced.stdout.splitlines()[-1]
    assert last == f"comparison (it replaced the earlier one): {page.resolve().as_uri()}"
    assert "<!-- read and kept -->" not in page.read_text()
    # --out FILE.html: that file, its directory made.
    own = tmp_path / "new" / "legacy-or-not.html"
    assert compare(saved_run, host_run, "--out", own).returncode == 0 and own.is_file()
    assert compare(saved_run, host_run, "--out", own).returncode == 2


@pytest.mark.slow
def test_the_page_sets_each_run_s_setup_and_diagnosis_side_by_side(saved_run, host_run, tmp_path):
    page = tmp_path / "page.html"
    proc = compare(saved_run, host_run, "--out", page)
    assert proc.returncode == 0, proc.stderr
    html = page.read_text()
    for run in (saved_run, host_run):
        summary = json.loads((run / "summary.json").read_text())
        for label, text in setup_lines(summary):
            assert f"<td>{escape(text)}</td>" in html, label
        assert escape(headline(summary["diagnosis"])) in html
    assert "LEGACY_BUGS=1" in html and "given by --host" in html
    assert "stages: 40/s for 1 s, 80/s for 1 s" in html
    assert f"Errors by kind: {saved_run.name}" in html  # the legacy run's; the other has none
    # Changes past twofold are factors, alike in the terminal and on the page.
    changes = CHANGE.findall(proc.stdout)
    assert any(c[0] in "×÷" for c in changes) and not any(re.search(r"\d{4}%", c) for c in changes)
    numbers = html[html.index("<h2>Numbers") :]
    assert CHANGE.findall(numbers) == changes


@pytest.mark.browser
@pytest.mark.slow
def test_compare_two_runs_and_locust(saved_run, host_run, locust_csv, tmp_path):
    page = tmp_path / "cmp" / f"compare-{saved_run.name}-vs-{host_run.name}-vs-run.html"
    proc = compare(saved_run, host_run, locust_csv, "--out", tmp_path / "cmp")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith(f"comparison: {page.resolve().as_uri()}\n")
    out = proc.stdout
    assert "baseline" in out
    assert "n/a" in out  # Locust's missing response time, marked
    assert "closed model" in out
    html = page.read_text()
    # The legacy run's errors chart, then the spectra and throughput.
    assert html.count("<svg") == 4 and "(locust)" in html and "Throughput over time" in html
    assert "up to 20 users" in html and "Locust keeps no signals" in html
    requests, log = render(page, tmp_path / "cmp.png", tmp_path / "profile")
    assert page_requests(requests) == [] and "CONSOLE" not in log, log
    # Run labels are long paths: each legend label ends before the next swatch.
    texts = measure(page, CHART_TEXTS_JS, tmp_path)
    assert [len(chart) for chart in texts[1:]] == [2, 3, 3]  # Locust has no response time
    assert legend_collisions(texts) == []
    assert all(t["w"] <= text_width(t["text"]) for chart in texts for t in chart)
    # The side-by-side columns share the page's width, none wider than its share.
    widths = measure(
        page,
        "return [...document.querySelectorAll('table.runs th')].map(th => th.offsetWidth);",
        tmp_path,
    )
    assert len(widths) == 4 and max(widths[1:]) - min(widths[1:]) <= 2


@pytest.mark.slow
def test_the_page_goes_to_reports_unless_told_otherwise(saved_run, tmp_path):
    proc = run_cli("compare", saved_run, saved_run, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["reports"]  # .gitignore covers it
    name = f"compare-{saved_run.name}-vs-{saved_run.name}.html"  # a run against itself
    assert [p.name for p in (tmp_path / "reports").iterdir()] == [name]


@pytest.mark.slow
def test_compare_misuse(saved_run, tmp_path):
    (tmp_path / "file").write_text("x")
    not_a_dir = compare(saved_run, saved_run, "--out", tmp_path / "file")
    assert not_a_dir.returncode == 2 and "not a directory" in not_a_dir.stderr
    under_a_file = compare(saved_run, saved_run, "--out", tmp_path / "file" / "page.html")
    assert under_a_file.returncode == 2
    assert f"page.html: {tmp_path / 'file'} exists and is not a directory" in under_a_file.stderr
    one = compare(saved_run)
    assert one.returncode == 2 and "at least two" in one.stderr
    bad = compare(saved_run, tmp_path / "nothing")
    assert bad.returncode == 2 and "neither a loadgen run" in bad.stderr
