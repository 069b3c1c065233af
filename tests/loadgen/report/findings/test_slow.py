"""A task slower than its SLO even alone: slow_at_any_load, right or silent."""

import pytest

from loadgen.report.diagnosis import diagnose
from loadgen.report.findings.slow import slow_at_any_load
from loadgen.report.slo import parse_slo
from tests.support.summaries import run

DEFAULT = [parse_slo("p99<=100ms"), parse_slo("errors<1%")]
HOG = {"cpu": 180.0, "steal": 0.0, "cores": 2,
       "others": [{"pid": 7, "name": "python", "cpu": 100.0}]}  # fmt: skip


def two_tasks(slow_p50=295.0, slow_fastest=280.0, **kwargs):
    """Datasette at 2/s: a sorted page of 295 ms and a row of 2.5 ms, half each."""
    s = run(offered=2.0, service_ms=150.0, unloaded_ms=140.0, **kwargs)

    def task(p50, fastest):
        latency = {"p50": p50, "p90": p50, "p99": p50 * 1.1, "p99.9": p50 * 1.1,
                   "max": p50 * 1.1, "mean": p50}  # fmt: skip
        return {"requests": 10, "errors_by_kind": {}, "service_min_ms": fastest,
                "latency_ms": {"response": latency, "service": latency}}  # fmt: skip

    s["tasks"] = {"GET /real/t.json": task(slow_p50, slow_fastest),
                  "GET /real/t/5.json": task(2.5, 2.0)}  # fmt: skip
    return s


def test_a_task_slower_than_the_slo_alone_is_named_with_its_time_and_what_to_do():
    found = slow_at_any_load(two_tasks(workers=[15.0]), DEFAULT)
    assert found is not None and found.finding == "slow_at_any_load"
    assert found.summary == (
        "GET /real/t.json takes 295 ms even alone (p50 at 2/s): no rate meets p99 ≤ 100 ms"
    )
    assert found.advice.startswith("make that request faster, or give it its own SLO")
    assert "--slo 'GET /real/t.json: p99<…'" in found.advice
    assert "fastest 280 ms" in found.evidence and "GET /real/t/5.json" not in found.evidence
    top = diagnose(two_tasks(workers=[15.0]), DEFAULT)[0]
    assert top.finding == "slow_at_any_load"  # first, whatever else weighs


def test_its_own_slo_judges_it():
    own_met = [*DEFAULT, parse_slo("GET /real/t.json: p99<500ms")]
    assert slow_at_any_load(two_tasks(), own_met) is None
    own_broken = [*DEFAULT, parse_slo("GET /real/t.json: p99<200ms")]
    found = slow_at_any_load(two_tasks(), own_broken)
    assert found is not None and "p99 < 200 ms" in found.summary
    assert found.advice == "make that request faster, or loosen its own SLO"


@pytest.mark.parametrize(
    ("why", "summary"),
    [
        ("the server fell behind", two_tasks(answered=1.5)),
        ("its requests queued: p50 far above its fastest", two_tasks(slow_fastest=100.0)),
        ("a CPU hog, and the server's wait not sampled", two_tasks(machine=HOG)),
        ("the server's CPU saturated", two_tasks(workers=[97.0])),
        ("the server waited for the CPU longer than it ran", two_tasks(workers=[46.0],
         cpu_wait=54.0, machine=HOG)),
    ],
)  # fmt: skip
def test_silent_when_the_time_is_not_the_requests_alone(why, summary):
    assert slow_at_any_load(summary, DEFAULT) is None, why


def test_a_busy_machine_that_left_the_server_its_cpu_does_not_silence_it():
    """Its threads waited on the run queue for 1 % of the CPU they used: the hog
    ran on the other core, and the time measured is the request's own."""
    found = slow_at_any_load(two_tasks(workers=[46.0], cpu_wait=0.5, machine=HOG), DEFAULT)
    assert found is not None and found.finding == "slow_at_any_load"


@pytest.mark.parametrize("slo", ["p10<=100ms", "mean<100ms", "p99>100ms", "errors<1%"])
def test_only_a_bound_on_the_median_or_above_is_out_of_reach(slo):
    assert slow_at_any_load(two_tasks(), [parse_slo(slo)]) is None


def test_a_rare_slow_task_leaves_the_runs_p99_within_reach():
    """0.5 % of the requests slow: the run's p99 can be met; its p99.9 cannot."""
    s = two_tasks()
    s["tasks"]["GET /real/t.json"]["requests"] = 5
    s["tasks"]["GET /real/t/5.json"]["requests"] = 995
    s["latency_ms"]["service"]["mean"] = 0.005 * 295 + 0.995 * 2.5  # as its tasks' make it
    assert slow_at_any_load(s, DEFAULT) is None
    found = slow_at_any_load(s, [parse_slo("p99.9<100ms")])
    assert found is not None and "p99.9 < 100 ms" in found.summary


def test_a_server_that_waited_for_some_cpu_is_judged_on_the_time_surely_its_own():
    """It waited 40 % as long as it ran: of 295 ms, at least 177 ms its own — over
    100 ms, so said (with the wait), but not against an SLO of 200 ms."""
    s = two_tasks(workers=[50.0], cpu_wait=20.0, machine=HOG)
    found = slow_at_any_load(s, DEFAULT)
    assert found is not None and "at least 177 ms of GET /real/t.json's time is its own" in (
        found.evidence
    )
    assert slow_at_any_load(s, [parse_slo("p99<200ms")]) is None
