import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadgen.report.slo import SLOError, check_tasks, evaluate, parse_slo

SUMMARY = {
    "requests": 1000,
    "achieved_rps": 99.5,
    "target_rps": 100.0,
    "errors": {"total": 5, "by_kind": {"http_500": 5}},
    "latency_ms": {
        "response": {
            "p50": 2.0,
            "p90": 9.0,
            "p99": 40.0,
            "p99.9": 120.0,
            "max": 300.0,
            "mean": 4.0,
        },
        "service": {"p50": 1.0, "p90": 3.0, "p99": 10.0, "p99.9": 20.0, "max": 30.0, "mean": 1.5},
    },
    "tasks": {
        "compute_fib": {
            "requests": 300,
            "errors": 3,
            "latency_ms": {
                "response": {"p50": 5, "p90": 50, "p99": 190, "p99.9": 250, "max": 260, "mean": 20},
                "service": {"p50": 4, "p90": 40, "p99": 150, "p99.9": 240, "max": 250, "mean": 15},
            },
        }
    },
}


@pytest.mark.parametrize(
    ("text", "passed", "shown"),
    [
        ("p99<50ms", True, "40.000ms"),
        ("p99.9<=120ms", True, "120.000ms"),
        ("p99.9<120ms", False, "120.000ms"),
        ("max<0.2s", False, "300.000ms"),
        ("service:p99<15", True, "10.000ms"),
        ("task:compute_fib:p99.9<=200ms", False, "250.000ms"),
        ("task:compute_fib:service:p99<200ms", True, "150.000ms"),
        ("errors<1%", True, "0.50%"),
        ("errors<5", False, "5"),
        ("task:compute_fib:errors<=1%", True, "1.00%"),
        ("achieved>=99%", True, "99.50%"),
        ("achieved>=100/s", False, "99.5/s"),
        ("mean<5000us", True, "4.000ms"),
        (" P99 < 50 MS ", True, "40.000ms"),
    ],
)
def test_judged_against_a_summary(text, passed, shown):
    (outcome,) = evaluate([parse_slo(text)], SUMMARY)
    assert outcome.passed is passed
    assert outcome.slo.show(outcome.measured) == shown
    assert ("pass" if passed else "FAIL") in outcome.line()


def test_other_percentiles_come_from_the_histograms():
    asked = []

    def percentile_of(task, kind, q):
        asked.append((task, kind, q))
        return 33.0

    (outcome,) = evaluate(
        [parse_slo("task:index:service:p95<50ms")],
        {"tasks": {"index": {"requests": 9, "latency_ms": {"service": {"max": 60.0}}}}},
        percentile_of,
    )
    assert asked == [("index", "service", 95.0)] and outcome.passed
    with pytest.raises(SLOError, match="histograms"):
        evaluate([parse_slo("p95<50ms")], SUMMARY)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p99", "not an SLO"),
        ("p99<", "not an SLO"),
        ("p99=50ms", "not an SLO"),
        ("latency<5ms", "not an SLO"),
        ("p99<50%", "us, ms or s"),
        ("errors<5ms", "% or a plain number"),
        ("errors<5/s", "% or a plain number"),
        ("service:errors<1%", "only go with latency"),
        ("task:x:achieved>=99%", "whole run"),
        ("p0<5ms", r"\(0, 100\]"),
        ("p101<5ms", r"\(0, 100\]"),
    ],
)
def test_malformed_expressions_say_why(text, message):
    with pytest.raises(SLOError, match=message):
        parse_slo(text)


@pytest.mark.parametrize(
    ("text", "task", "kind", "stat", "threshold"),
    [
        ("GET /real/t.json: p99<500ms", "GET /real/t.json", "response", "p99", 500.0),
        ("GET /real/t.json:p99<0.5s", "GET /real/t.json", "response", "p99", 500.0),
        ("GET /a:b: service: p90 <= 20", "GET /a:b", "service", "p90", 20.0),
        ("compute_fib: errors<1%", "compute_fib", "response", "", 0.01),
    ],
)
def test_a_task_named_before_a_colon(text, task, kind, stat, threshold):
    slo = parse_slo(text)
    assert (slo.task, slo.kind, slo.stat, slo.threshold) == (task, kind, stat, threshold)
    assert slo.text == text.strip()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("GET /x: achieved>=99%", "whole run"),
        ("GET /x: p99<5%", r"'GET /x: p99<5%': a latency takes us, ms or s"),
        ("GET /x p99<5ms", "not an SLO"),
        (": p99<5ms", "not an SLO"),
    ],
)
def test_a_task_named_before_a_colon_misused(text, message):
    with pytest.raises(SLOError, match=message):
        parse_slo(text)


TWO_TASKS = {
    **SUMMARY,
    "tasks": {
        "slow": {"requests": 10, "errors": 0, "latency_ms": {
            "response": {**SUMMARY["latency_ms"]["response"], "p99": 400.0},
            "service": SUMMARY["latency_ms"]["service"]}},
        "fast": {"requests": 990, "errors": 0, "latency_ms": {
            "response": {**SUMMARY["latency_ms"]["response"], "p99": 3.0},
            "service": SUMMARY["latency_ms"]["service"]}},
    },
}  # fmt: skip


def test_a_task_with_its_own_objective_is_judged_apart():
    """The run's p99 (40 ms here) would fail p99<10ms; over the fast task alone it
    passes, and the slow task meets its own."""
    run_wide, own = parse_slo("p99<10ms"), parse_slo("slow: p99<500ms")
    (alone,) = evaluate([run_wide], TWO_TASKS)
    assert not alone.passed and alone.over is None
    both = evaluate([run_wide, own], TWO_TASKS)
    assert [o.passed for o in both] == [True, True]
    assert both[0].over == {"fast"} and both[0].measured == 3.0
    assert "measured 3.000ms over fast" in both[0].line()
    # Every task with its own: the run-wide objective judges them all still.
    everyone = evaluate([run_wide, own, parse_slo("fast: p99<5ms")], TWO_TASKS)
    assert everyone[0].over is None and not everyone[0].passed
    # A task's own service-time objective leaves it in the run's response-time one.
    service_only = evaluate([run_wide, parse_slo("slow: service:p99<500ms")], TWO_TASKS)
    assert service_only[0].over is None and not service_only[0].passed


def test_judged_over_several_tasks_merges_their_histograms():
    three = {**TWO_TASKS, "tasks": {**TWO_TASKS["tasks"], "other": TWO_TASKS["tasks"]["fast"]}}
    asked = []

    def latency_of(tasks, kind):
        asked.append((tasks, kind))
        return {**SUMMARY["latency_ms"]["response"], "p99": 7.0}

    run_wide = parse_slo("p99<10ms")
    outcomes = evaluate([run_wide, parse_slo("slow: p99<1s")], three, None, latency_of)
    assert asked == [(frozenset({"fast", "other"}), "response")] and outcomes[0].passed
    with pytest.raises(SLOError, match="histograms"):
        evaluate([run_wide, parse_slo("slow: p99<1s")], three)


def test_unknown_task_names_the_known_ones():
    check_tasks([parse_slo("task:compute_fib:p99<1ms"), parse_slo("p99<1ms")], SUMMARY["tasks"])
    with pytest.raises(SLOError, match=r"no task 'nope' .*tasks: compute_fib"):
        check_tasks([parse_slo("task:nope:p99<1ms")], SUMMARY["tasks"])
    with pytest.raises(SLOError, match=r"no task 'GET /nope' .*tasks: compute_fib"):
        check_tasks([parse_slo("GET /nope: p99<1ms")], SUMMARY["tasks"])


def _scoped(task: dict) -> dict:
    return {**SUMMARY, "tasks": {**SUMMARY["tasks"], "quiet": task}}


@pytest.mark.parametrize(
    "text",
    ["p99<9s", "max<9s", "service:p95<9s", "mean>=0ms", "errors<=100%", "errors<1000"],
)
def test_nothing_passes_vacuously(text):
    """No requests in scope, or none timed (all connect errors): n/a, and a failure."""
    no_latency = {"p50": 0.0, "p90": 0.0, "p99": 0.0, "p99.9": 0.0, "max": 0.0, "mean": 0.0}
    untimed = {"requests": 7, "errors": 7, "latency_ms": {"response": no_latency,
               "service": no_latency}}  # fmt: skip
    idle = {**untimed, "requests": 0, "errors": 0}

    def no_histograms(task, kind, q):
        raise AssertionError("nothing to look up")

    for task in (untimed, idle):
        (outcome,) = evaluate([parse_slo(f"task:quiet:{text}")], _scoped(task), no_histograms)
        if task is untimed and text.startswith("errors"):
            assert outcome.passed  # errors are counted whether or not anything was timed
            continue
        assert not outcome.passed and outcome.slo.show(outcome.measured) == "n/a"
        assert "FAIL" in outcome.line() and "n/a" in outcome.line()
    # A task the scenario has but that got no requests is not in the summary at all.
    (outcome,) = evaluate([parse_slo(f"task:absent:{text}")], SUMMARY, no_histograms)
    assert not outcome.passed and "n/a" in outcome.line()


ops = st.sampled_from(["<", "<=", ">", ">="])
numbers = st.decimals(min_value=0, max_value=10**6, places=3, allow_nan=False, allow_infinity=False)


@given(
    st.sampled_from(["p50", "p99", "p99.9", "max", "mean", "p95", "p99.99"]),
    ops,
    numbers,
    st.sampled_from(["", "us", "ms", "s"]),
    st.sampled_from(["", "service:", "response:", "task:compute_fib:", "task:a_b:service:"]),
)
def test_every_well_formed_latency_slo_parses(stat, op, value, unit, prefix):
    slo = parse_slo(f"{prefix}{stat}{op}{value}{unit}")
    scale = {"": 1.0, "ms": 1.0, "us": 0.001, "s": 1000.0}[unit]
    assert slo.metric == "latency" and slo.op == op
    assert slo.threshold == pytest.approx(float(value) * scale)
    assert slo.kind == ("service" if "service" in prefix else "response")


@given(st.text(max_size=30))
def test_arbitrary_text_parses_or_raises_slo_error(text):
    try:
        parse_slo(text)
    except SLOError as e:
        assert str(e)  # a message, never another exception


def test_a_task_name_keeps_its_spaces():
    """--targets tasks are named `METHOD /path`; spaces elsewhere are still ignored."""
    slo = parse_slo(" task: POST /addNumbers :service: p99 < 20 ms ")
    assert (slo.task, slo.kind, slo.threshold) == ("POST /addNumbers", "service", 20.0)
    check_tasks([slo], {"POST /addNumbers": {}, "GET /": {}})
    with pytest.raises(SLOError, match="no task 'POST/addNumbers'"):
        check_tasks([parse_slo("task:POST/addNumbers:p99<1s")], {"POST /addNumbers": {}})
