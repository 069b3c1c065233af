"""saved_run: what the reports plot from a run."""

from loadgen.report.run_data import rate_intervals


def test_rate_plots_leave_out_a_last_interval_of_a_few_milliseconds():
    timeline = [
        {"t": 0.0, "length": 1.0, "responses": 200},
        {"t": 1.0, "length": 1.0, "responses": 200},
        {"t": 2.0, "length": 0.002, "responses": 0},  # the drain: no rate to speak of
    ]
    assert [e["t"] for e in rate_intervals({"timeline": timeline})] == [0.0, 1.0]
    assert rate_intervals({}) == []
