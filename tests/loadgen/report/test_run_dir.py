"""saved_run: what the reports plot from a run."""

from loadgen.report.run_data import rate_intervals
from loadgen.report.run_dir import file_names


def test_rate_plots_leave_out_a_last_interval_of_a_few_milliseconds():
    timeline = [
        {"t": 0.0, "length": 1.0, "responses": 200},
        {"t": 1.0, "length": 1.0, "responses": 200},
        {"t": 2.0, "length": 0.002, "responses": 0},  # the drain: no rate to speak of
    ]
    assert [e["t"] for e in rate_intervals({"timeline": timeline})] == [0.0, 1.0]
    assert rate_intervals({}) == []


def test_task_names_become_file_names_without_slashes_or_spaces():
    names = ["compute_fib", "GET /", "GET /items", "POST /a/b", "POST /a_b", "GET /x.json"]
    assert file_names(names) == {
        "compute_fib": "compute_fib",  # a method's name as it is
        "GET /": "GET_",
        "GET /items": "GET_items",
        "POST /a/b": "POST_a_b",
        "POST /a_b": "POST_a_b-2",  # never two tasks in one file
        "GET /x.json": "GET_x.json",
    }
