"""Which task breaks first: each task against its objective, level by level."""

from loadgen.commands.capacity import capacity_json
from loadgen.commands.capacity_search import FAIL, PASS, Capacity, Level
from loadgen.commands.capacity_tasks import limits_text, task_limits
from loadgen.report.html import render_capacity
from loadgen.report.slo import parse_slo

SLOW, ROW = "GET /real/t.json", "GET /real/t/5.json"


def level(rps, verdict, slow_p99, row_p99):
    def task(p99):
        latency = {"p50": p99 / 2, "p90": p99, "p99": p99, "p99.9": p99, "max": p99,
                   "mean": p99 / 2}  # fmt: skip
        return {"requests": 200, "errors": 0, "errors_by_kind": {},
                "latency_ms": {"response": latency, "service": latency}}  # fmt: skip

    summary = {
        "tasks": {SLOW: task(slow_p99), ROW: task(row_p99)},
        "duration_s": 10.0,
        "timeline": [],
        "achieved_rps": rps,
        "throughput_rps": rps,
        "errors": {"total": 0, "rate": 0.0, "by_kind": {}},
        "latency_ms": {
            "response": task(row_p99)["latency_ms"]["response"],
            "service": task(row_p99)["latency_ms"]["service"],
        },
        "generator": {},
    }
    return Level(rps, verdict, [], summary)


SLOS = [parse_slo("p99<=100ms"), parse_slo(f"{SLOW}: p99<500ms")]
# The sorted page breaks its own 500 ms at 8/s; the row its 100 ms only at 16/s.
LEVELS = [level(4, PASS, 350, 3), level(16, FAIL, 2000, 150), level(8, FAIL, 612, 40),
          level(6, PASS, 420, 5)]  # fmt: skip


def test_the_task_that_failed_first_and_where_each_fails():
    limits = task_limits(LEVELS, SLOS)
    assert [(lim["task"], lim["holds_up_to_rps"], lim["fails_from_rps"]) for lim in limits] == [
        (SLOW, 6, 8),
        (ROW, 8, 16),
    ]
    assert limits[0]["objective"] == "p99 < 500 ms"  # its own, not the run's
    assert limits_text(limits) == (
        f"{SLOW} first: holds up to 6/s, fails from 8/s (612 ms against p99 < 500 ms); "
        f"{ROW}: holds up to 8/s, fails from 16/s (150 ms against p99 ≤ 100 ms)"
    )


def test_a_task_that_never_failed_says_how_far_it_was_tried():
    limits = task_limits(LEVELS[:1] + LEVELS[2:], SLOS)
    assert limits_text(limits).endswith(f"{ROW} met p99 ≤ 100 ms at every level (up to 8/s)")
    assert limits_text(task_limits(LEVELS[:1], SLOS)) is None  # none failed


def test_capacity_json_and_its_page_show_each_task_by_level():
    report = capacity_json(Capacity(LEVELS, 6, 8), [s.text for s in SLOS], min_responses=0)
    assert report["first_to_fail"].startswith(f"{SLOW} first: holds up to 6/s")
    by_level = {lv["target_rps"]: lv["tasks"] for lv in report["levels"]}
    assert {(r["task"], r["measured_ms"], r["passed"]) for r in by_level[8]} == {
        (SLOW, 612, False),
        (ROW, 40, True),
    }
    page = render_capacity(report)
    assert "Each task against its objective" in page and f"Tasks: {SLOW} first" in page
    assert '<span class="fail">612</span>' in page and '<span class="pass">40</span>' in page


def test_at_one_rate_the_task_furthest_over_its_objective_failed_first():
    """Both fail from 16/s: the row at 150 ms against 100 ms is further over its
    objective than the sorted page at 600 ms against 500 ms."""
    levels = [level(4, PASS, 350, 3), level(16, FAIL, 600, 150)]
    assert [lim["task"] for lim in task_limits(levels, SLOS)] == [ROW, SLOW]
