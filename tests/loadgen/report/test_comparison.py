"""Runs side by side: loadgen run directories and Locust CSVs read as one shape."""

import pytest

from loadgen.report.comparison import load_comparable, short_labels


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
