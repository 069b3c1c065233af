"""A run's data as reports see it: the server's concurrency per second."""

from loadgen.report.run_data import concurrency


def test_concurrency_is_busy_time_over_the_interval_and_unknown_in_an_old_summary():
    assert concurrency({"t": 0, "length": 0.5, "busy_s": 4.0}) == 8.0
    assert concurrency({"t": 0, "length": 1.0}) is None  # written before busy_s
    assert concurrency({"t": 0, "length": 0.0, "busy_s": 0.0}) is None
