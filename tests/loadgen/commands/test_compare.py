"""`loadgen compare` on saved runs and on a real Locust run's CSV output."""

import json
import re
from concurrent.futures import ThreadPoolExecutor
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


# The regression gate. A service whose every answer waits DELAY_S (an await, as on a
# slow dependency), and the same made 30 % slower: its own noise (the machine's) is
# small beside the wait, so two runs of it differ by chance alone.
DELAY_S = 0.1
GATE = ("--fail-if", "p50>+10%", "--fail-if", "p99>+10%", "--fail-if", "errors>+0.5pp",
        "--fail-if", "rps<-5%")  # fmt: skip


@pytest.fixture(scope="module")
def delayed_runs(tmp_path_factory):
    """Short real runs: the service twice (base, same), and 30 % slower (slower).

    The three at once: each waits on its service's delay, not on the CPU, and
    the runs compared meet the same machine."""
    out = tmp_path_factory.mktemp("gate")

    def run(url, name):
        proc = run_cli("--host", url, "--scenario", "tests/support/scenarios.py:Get",
                       "--rps", 100, "--duration", "6s", "--warmup", "1s", "--quiet",
                       "--out", out / name)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return out / name

    with (
        server_process(delay=DELAY_S) as url,
        server_process(delay=1.3 * DELAY_S) as slower_url,
        ThreadPoolExecutor(3) as pool,
    ):
        urls = {"base": url, "same": url, "slower": slower_url}
        futures = {name: pool.submit(run, u, name) for name, u in urls.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.slow
def test_two_runs_of_the_same_service_do_not_trip_a_10_percent_gate(delayed_runs, tmp_path):
    proc = compare(delayed_runs["base"], delayed_runs["same"], *GATE, "--no-html",
                   "--json", tmp_path / "cmp.json")  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^pass  p50>\+10%: ", proc.stdout, re.M), proc.stdout
    assert "FAIL" not in proc.stdout and "regression" not in proc.stderr
    report = json.loads((tmp_path / "cmp.json").read_text())
    assert report["format"] == 1 and report["exit_status"] == 0 and report["failed"] == []
    p99 = report["comparisons"][0]["metrics"]["p99"]
    assert p99["unit"] == "ms" and p99["intervals"][0] >= 5 and 95 < p99["base"] < 150
    # The keys docs/ci.md documents, no more, no fewer (format 1).
    assert set(report) == {"format", "method", "baseline", "runs", "comparisons", "failed",
                           "exit_status"}  # fmt: skip
    comparison = report["comparisons"][0]
    assert set(comparison) == {"baseline", "run", "metrics", "bounds", "failed"}
    assert set(comparison["metrics"]) == {
        *(f"{kind}{stat}" for kind in ("", "service:") for stat in ("p50", "p90", "p99", "max",
                                                                      "mean")),
        "rps", "throughput", "errors",
    }  # fmt: skip
    assert set(p99) == {"unit", "intervals", "base", "new", "change", "interval", "relative",
                        "relative_interval", "p", "significant"}  # fmt: skip
    bound = comparison["bounds"][0]
    assert set(bound) == {"bound", "metric", "limit", "unit", "change", "crossed", "significant",
                          "failed", "not_judged"}  # fmt: skip
    assert set(report["baseline"]) == {"label", "path", "target", "started_at", "duration_s",
                                       "target_rps", "achieved_rps", "throughput_rps", "requests",
                                       "errors", "latency_ms"}  # fmt: skip


@pytest.mark.slow
def test_a_service_30_percent_slower_trips_it_saying_which_bound(delayed_runs, tmp_path):
    proc = compare(delayed_runs["base"], delayed_runs["slower"], *GATE, "--no-html",
                   "--json", "-")  # fmt: skip
    assert proc.returncode == 99, proc.stdout + proc.stderr
    # The JSON alone on stdout (the table and verdicts on stderr), the bound crossed said last.
    report = json.loads(proc.stdout)
    # Every answer 30 % slower: the median found so, beyond the noise. The p99 of
    # each second (its slowest answer or two) may be within the noise of a busy
    # machine's; then it is said so, not failed.
    assert report["failed"][0] == "p50>+10%" and report["exit_status"] == 99
    assert set(report["failed"]) <= {"p50>+10%", "p99>+10%"}
    p50 = report["comparisons"][0]["metrics"]["p50"]
    assert p50["significant"] and 0.2 < p50["relative"] < 0.4
    low, high = p50["relative_interval"]
    assert low > 0.1 and low < p50["relative"] < high
    assert re.search(r"^FAIL  p50>\+10%: \+\d\d\.\d% \[.*\] is past \+10\.0% \(beyond the noise",
                     proc.stderr, re.M), proc.stderr  # fmt: skip
    assert "loadgen: compare: regression: slower: p50>+10%" in proc.stderr.splitlines()
    assert "pass  errors>+0.5pp" in proc.stderr and "pass  rps<-5%" in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--fail-if", "p99>+10pp"), "pp (percentage points) is for errors"),
        (("--fail-if", "errors>+1%"), "errors change in percentage points"),
        (("--fail-if", "p95>+10%"), "no metric 'p95'"),
        (("--fail-if", "p99 up 10%"), "not a bound"),
        (("--strict",), "--strict goes with --fail-if"),
    ],
)
def test_misuse_of_the_gate_is_one_line_and_exit_2(tmp_path, args, message):
    # Said before any run is read: these need not even exist.
    proc = compare(tmp_path / "base", tmp_path / "new", "--no-html", *args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


@pytest.mark.slow
def test_the_gate_needs_per_second_data_that_a_locust_csv_lacks(saved_run, locust_csv):
    proc = compare(saved_run, locust_csv, "--no-html", "--fail-if", "p99>+10%")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "need loadgen runs (their per-second data)" in proc.stderr
