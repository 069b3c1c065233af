"""A finding's entry in summary.json, and the words and numbers findings share."""

from typing import Any

import pytest

from loadgen.report.findings.finding import (
    Finding,
    pct,
    phases_text,
    seconds_text,
    worker_cpu_median,
)
from loadgen.report.summary_contract import Summary
from tests.support import summaries


def test_the_entry_has_concurrency_and_context_only_when_set():
    plain = Finding("timeouts", 0.123456, "s", "e", "a").to_json()
    assert plain == {"finding": "timeouts", "weight": 0.123, "summary": "s", "evidence": "e",
                     "advice": "a", "confidence": "measured"}  # fmt: skip
    full = Finding("machine_busy", 1, "s", "e", "a", concurrency=3.26, context=True).to_json()
    assert (full["concurrency"], full["context"]) == (3.3, True)


@pytest.mark.parametrize(
    ("share", "said"),
    [(0.5, "50 %"), (0.01, "1 %"), (0.0099, "0.99 %"), (0.00004, "0.00 %"), (1.0, "100 %")],
)
def test_a_share_below_one_percent_keeps_two_decimals(share, said):
    assert pct(share) == said


@pytest.mark.parametrize(
    ("ms", "said"),
    [(0.0321, "0.0321 ms"), (523.4, "523 ms"), (999.0, "999 ms"), (1430.0, "1.43 s"),
     (99_400.0, "99.4 s"), (125_300.0, "125 s")],
)  # fmt: skip
def test_durations_read_in_the_unit_people_use(ms, said):
    assert seconds_text(ms) == said


def with_phases(first: float | None, body: float | None) -> Summary:
    summary: Any = summaries.run()
    if first is not None and body is not None:
        summary["phases_ms"] = {"first_byte": {"p50": first}, "body": {"p50": body}}
    return summary


def test_phases_say_where_the_time_went_or_nothing_when_not_timed():
    assert "before the first byte" in phases_text(with_phases(40.0, 2.0))
    assert "receiving the body" in phases_text(with_phases(2.0, 40.0))
    assert "first byte p50 40 ms, body p50 2 ms" in phases_text(with_phases(40.0, 2.0))
    assert phases_text(with_phases(None, None)) == ""


def test_the_workers_cpu_is_their_sum_in_the_median_loaded_second():
    summary: Any = summaries.run(seconds=3, workers=[30.0, 50.0])
    summary["timeline"][0]["server"]["workers"]["100"]["cpu"] = 90.0  # 140: above the median
    summary["timeline"][1]["server"]["workers"]["101"]["cpu"] = None  # not sampled: 30 alone
    idle = {"t": 3.0, "length": 1.0, "arrivals": 0, "responses": 0, "target": 0.0,
            "server": {"workers": {"100": {"cpu": 0.0}}}}  # fmt: skip
    summary["timeline"].append(idle)  # no load asked for: not counted
    assert worker_cpu_median(summary) == 80.0
    assert worker_cpu_median(summaries.run()) is None  # the server was not sampled
