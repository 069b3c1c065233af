"""Runs side by side: loadgen run directories and Locust CSVs read as one shape, and
the page that overlays them."""

import json
import re
from html import escape

import pytest

from loadgen.report.comparison import (
    Comparable,
    delta,
    load_comparable,
    page_name,
    render_comparison,
    short_labels,
)
from loadgen.report.diagnosis import headline
from loadgen.report.run_data import MIN_RATE_INTERVAL_S
from loadgen.report.setup import setup_lines


@pytest.mark.slow
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
    # What is known of its set-up: its users and when it ran; no diagnosis.
    setup = dict(run.setup)
    assert "up to 20 users" in setup["rate"] and "closed model" in setup["rate"]
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, \d+ s logged", setup["started"])
    assert "target" not in setup and run.diagnosis is None and run.errors_over_time == {}


def test_a_locust_run_without_requests_is_refused(tmp_path):
    prefix = tmp_path / "idle"
    columns = "Type,Name,Request Count,Failure Count,Median Response Time,50%,100%"
    (tmp_path / "idle_stats.csv").write_text(f"{columns}\n,Aggregated,0,0,0,N/A,N/A\n")
    with pytest.raises(ValueError, match="no requests"):
        load_comparable(str(prefix), "idle")


def test_labels_are_the_shortest_distinct_suffixes():
    assert short_labels(["a/x/run", "b/x/run"]) == ["a/x/run", "b/x/run"]
    assert short_labels(["r/fixed", "r/legacy"]) == ["fixed", "legacy"]
    assert short_labels(["a/x", "b/y/x"]) == ["a/x", "y/x"]


def test_changes_read_as_people_read_them():
    assert delta(110, 100) == "+10%" and delta(100, 100) == "±0%" and delta(5, 0) == "new"
    assert delta(105, 100) == "+5.0%" and delta(82, 100) == "-18%"  # one decimal under 10 %
    assert delta(0, 100) == "-100%"  # gone
    # Past twofold, a factor: not +17343% nor -99.5%.
    assert delta(17443, 100) == "×174" and delta(100, 1200) == "÷12"
    assert delta(1.53, 323.33) == "÷211" and delta(250, 100) == "×2.5" and delta(40, 100) == "÷2.5"
    assert delta(200, 100) == "+100%" and delta(50, 100) == "-50%"  # twofold itself still is


def test_the_page_is_named_after_the_runs():
    assert page_name(["legacy", "fixed"]) == "compare-legacy-vs-fixed.html"
    assert page_name(["a/x/run", "b/x/run"]) == "compare-a_x_run-vs-b_x_run.html"
    # A run against itself is named by its directory, not its whole path.
    assert page_name(["/tmp/r/run1", "/tmp/r/run1"]) == "compare-run1-vs-run1.html"
    assert page_name(["été 1", "../x"]) == "compare-t_1-vs-x.html"  # nothing a shell trips on
    long = page_name([f"run-{i:03d}-" + "x" * 30 for i in range(8)])
    assert len(long) < 160 and long.startswith("compare-run-000-") and "-vs-7-more-" in long
    assert long != page_name([f"run-{i:03d}-" + "y" * 30 for i in range(8)])


def test_a_locust_run_without_history_or_failures_file_shows_what_it_has(tmp_path):
    columns = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    columns += "Min Response Time,Max Response Time,Requests/s,50%,66%,75%,80%,90%,95%,98%,99%,"
    columns += "99.9%,99.99%,100%"
    (tmp_path / "run_stats.csv").write_text(
        f"{columns}\n,Aggregated,100,7,2,3.0,1,40,50.0,2,2,3,3,5,9,20,30,40,40,40\n"
    )
    run = load_comparable(str(tmp_path / "run"), "run")
    assert run.errors == 7 and run.errors_over_time == {} and run.errors_by_kind == {}
    assert "started" not in dict(run.setup)
    # With its history and failures: failures per second, and by what Locust said.
    (tmp_path / "run_stats_history.csv").write_text(
        "Timestamp,User Count,Type,Name,Total Request Count,Total Failure Count\n"
        "1796518800,5,,Aggregated,0,0\n1796518801,10,,Aggregated,50,2\n"
        "1796518803,10,,Aggregated,100,7\n"
    )
    (tmp_path / "run_failures.csv").write_text(
        "Method,Name,Error,Occurrences\nPOST,/a,HTTPError('500'),5\nGET,/,HTTPError('500'),2\n"
    )
    run = load_comparable(str(tmp_path / "run"), "run")
    assert run.errors_over_time == {"failures, all kinds": [(0.0, 2.0), (1.0, 2.5), (3.0, 2.5)]}
    assert run.errors_by_kind == {"HTTPError('500')": 7}
    setup = dict(run.setup)
    assert setup["started"] == "2026-12-06 01:00:00 UTC, 3 s logged"
    assert "up to 10 users" in setup["rate"]


@pytest.mark.slow
def test_a_loadgen_run_brings_its_setup_diagnosis_and_errors_over_time(saved_run):
    run = load_comparable(str(saved_run), "legacy")
    summary = json.loads((saved_run / "summary.json").read_text())
    assert run.setup == setup_lines(summary) and "LEGACY_BUGS=1" in dict(run.setup)["target"]
    assert run.diagnosis == summary["diagnosis"] and run.diagnosis
    assert run.errors_by_kind == summary["errors"]["by_kind"]
    # Each kind per second, as steps (the last held to its end), over the timeline's
    # entries long enough for a rate (a drain's few ms are not).
    timeline = [e for e in summary["timeline"] if e["length"] >= MIN_RATE_INTERVAL_S]
    assert set(run.errors_over_time) == {k for e in timeline for k in e["errors"]} >= {"http_500"}
    for kind, points in run.errors_over_time.items():
        steps = [(e["t"], e["errors"].get(kind, 0) / e["length"]) for e in timeline]
        end = (timeline[-1]["t"] + timeline[-1]["length"], steps[-1][1])
        assert points == [*steps, end]


def comparable(label, scale, throughput=100.0, **more):
    """A loadgen run whose spectrum rises from 0.4 ms × scale to 5 ms × scale."""
    spectra = {
        kind: [(q, scale * (0.4 + 4.6 * (q / 100) ** 8)) for q in (0, 50, 90, 99, 99.9)]
        for kind in ("response", "service")
    }
    stats = {"p50": 0.5 * scale, "p99": 3 * scale}
    errors = more.pop("errors", 0)
    return Comparable(label, "loadgen", 1000, throughput, errors, stats, stats, spectra,
                      throughput=[(float(t), throughput) for t in range(5)], **more)  # fmt: skip


def test_a_fixed_run_is_not_a_flat_line_under_a_legacy_one():
    page = render_comparison([comparable("legacy", 70.0), comparable("fixed", 1.0)], [])
    spectra = re.findall(r"<svg .*?</svg>", page, re.DOTALL)[:2]
    for chart in spectra:
        assert "ms (log scale)" in chart
        lines = re.findall(r'<polyline points="([^"]*)"', chart)
        fixed = [float(p.split(",")[1]) for p in lines[1].split()]
        grid = [float(y) for y in re.findall(r'y1="([\d.]+)" y2="[\d.]+" class="g"', chart)]
        height = max(grid) - min(grid)
        assert max(fixed) - min(fixed) > 0.2 * height  # its own rise shows
    # Runs within two decades of each other keep a linear axis; throughput always does.
    close = render_comparison([comparable("a", 2.0), comparable("b", 1.0, 30.0)], [])
    assert "(log scale)" not in close
    assert "responses per second (log" not in page


def finding(name, summary, **more):
    return {"finding": name, "weight": 0.5, "summary": summary, "evidence": "e",
            "advice": "fix it", "confidence": "measured", **more}  # fmt: skip


def test_the_runs_stand_side_by_side_with_their_setup_diagnosis_and_errors():
    legacy = comparable(
        "legacy", 70.0, errors=40,
        setup=[("target", "http://a (the bundled server: gunicorn, 2 workers, LEGACY_BUGS=1)"),
               ("rate", "ramp 10 → 500/s over 60 s, evenly spaced arrivals")],
        diagnosis=[finding("server_errors", "/addNumbers returns 500"),
                   finding("machine_busy", "the machine was busy", context=True)],
        errors_by_kind={"http_500": 40},
        errors_over_time={"http_500": [(0.0, 10.0), (1.0, 30.0), (2.0, 30.0)]},
    )  # fmt: skip
    fixed = comparable(
        "fixed", 1.0, errors=4,
        setup=[("target", "http://b (given by --host)"), ("client", "fast")],
        diagnosis=[finding("none", "nothing stood out")],
        errors_by_kind={"reset": 4},
        errors_over_time={"reset": [(0.0, 2.0), (1.0, 2.0), (2.0, 2.0)]},
    )  # fmt: skip
    page = render_comparison([legacy, fixed], [])
    table = page[page.index('<table class="runs"') : page.index("<h2>Numbers")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)
    cells = {re.sub("<.*?>", "", r.split("</td>")[0]): r.split("</td>")[1:-1] for r in rows[1:]}
    assert list(cells) == ["target", "rate", "client", "diagnosis", "errors"]
    assert "LEGACY_BUGS=1" in cells["target"][0] and "given by --host" in cells["target"][1]
    assert "ramp 10 → 500/s over 60 s" in cells["rate"][0] and cells["rate"][1] == "<td>—"
    assert escape(headline(legacy.diagnosis)) in cells["diagnosis"][0]
    assert "<b>machine_busy</b>" in cells["diagnosis"][0]  # the other findings, listed
    assert "nothing stood out" in cells["diagnosis"][1]
    # One chart each, on one y scale, each kind in its own colour on both.
    charts = [re.findall(r"<svg .*?</svg>", c, re.DOTALL) for c in cells["errors"]]
    assert [len(c) for c in charts] == [1, 1]
    top_ticks = [re.findall(r'class="yl"[^>]*>([\d.,]+)<', c[0])[-1] for c in charts]
    assert (
        top_ticks[0] == top_ticks[1] and float(top_ticks[1]) >= 30
    )  # fixed's 2/s on legacy's axis
    assert "http_500: 40" in cells["errors"][0] and "reset: 4" in cells["errors"][1]
    assert "<title>loadgen compare: legacy vs fixed</title>" in page
