"""Runs side by side: loadgen run directories and Locust CSVs read as one shape, and
the page that overlays them."""

import re

import pytest

from loadgen.report.comparison import (
    Comparable,
    load_comparable,
    render_comparison,
    short_labels,
)


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
    from loadgen.report.comparison import delta

    assert delta(110, 100) == "+10%" and delta(100, 100) == "±0%" and delta(5, 0) == "new"
    assert delta(0, 100) == "-100%"  # gone
    assert delta(1.53, 323.33) == "-99.5%"  # not gone: not -100%


def comparable(label, scale, throughput=100.0):
    """A loadgen run whose spectrum rises from 0.4 ms × scale to 5 ms × scale."""
    spectra = {
        kind: [(q, scale * (0.4 + 4.6 * (q / 100) ** 8)) for q in (0, 50, 90, 99, 99.9)]
        for kind in ("response", "service")
    }
    stats = {"p50": 0.5 * scale, "p99": 3 * scale}
    return Comparable(label, "loadgen", 1000, throughput, 0, stats, stats, spectra,
                      throughput=[(float(t), throughput) for t in range(5)])  # fmt: skip


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
