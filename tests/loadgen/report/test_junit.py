"""JUnit XML of a run's and a capacity search's verdicts, checked against the schema's rules."""

import pytest

from loadgen.report.junit import capacity_suites, junit_xml, run_suite, write_junit
from tests.support.junit_schema import check_junit, failing


def summary(*verdicts, target="http://127.0.0.1:8000", seconds=10.0):
    return {
        "target": target,
        "duration_s": seconds,
        "target_rps": 100.0,
        "achieved_rps": 99.9,
        "requests": 999,
        "errors": {"total": 3},
        "latency_ms": {"response": {"p99": 73.2}},
        "run": {"started_at_epoch": 1_800_000_000.25},
        "slo": [{"slo": s, "measured": m, "passed": p} for s, m, p in verdicts],
    }


RUN = summary(
    ("p99<50ms", "73.200ms", False),
    ("task:compute_fib:p99.9<=200ms", "120.000ms", True),
    ("errors<1%", "0.30%", True),
)


def test_a_run_is_one_suite_with_a_case_per_slo_and_only_the_missed_one_failing():
    root = check_junit(junit_xml([run_suite(RUN, None)], "loadgen run"))
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == ["p99<50ms", "task:compute_fib:p99.9<=200ms", "errors<1%", "run"]
    assert failing(root) == ["p99<50ms"]
    assert root.get("tests") == "4" and root.get("failures") == "1" and root.get("errors") == "0"
    suite = root.find("testsuite")
    assert suite.get("time") == "10.000" and suite.get("timestamp") == "2027-01-15T08:00:00"
    failure = root.find(".//failure")
    # The measured value, the threshold and the task, in the message CI shows first.
    assert failure.get("message") == (
        "p99<50ms missed: measured 73.200ms, threshold < 50ms (all tasks)"
    )
    assert "threshold: < 50ms" in failure.text and "where: http://127.0.0.1:8000" in failure.text


def test_a_failing_task_objective_names_its_task_and_its_threshold_unit():
    s = summary(("task:GET /items:errors<=0.5%", "2.00%", False), ("achieved>=99/s", "80/s", False))
    root = check_junit(junit_xml([run_suite(s, None)], "loadgen run"))
    messages = [f.get("message") for f in root.iter("failure")]
    assert messages == [
        "task:GET /items:errors<=0.5% missed: measured 2.00%, threshold <= 0.5% (task GET /items)",
        "achieved>=99/s missed: measured 80/s, threshold >= 99/s (all tasks)",
    ]


def test_a_run_not_completed_as_asked_is_an_error_case_not_a_failure():
    root = check_junit(junit_xml([run_suite(summary(), "exit 1: no request got a response")], "r"))
    error = root.find(".//testcase[@name='run']/error")
    assert error.get("message") == "exit 1: no request got a response"
    assert root.get("errors") == "1" and failing(root) == []


def test_text_xml_cannot_carry_is_replaced_and_markup_is_escaped(tmp_path):
    s = summary(("task:a\x01<b>&:p99<1ms", "2.000ms", False))
    path = tmp_path / "deep" / "junit.xml"
    write_junit(path, [run_suite(s, None)], "loadgen run")
    root = check_junit(path.read_text())
    assert failing(root) == ["task:a\ufffd<b>&:p99<1ms"]
    assert not list(tmp_path.glob("deep/*.tmp"))


def level(rps, verdict, *verdicts):
    return (rps, verdict, [] if verdict == "pass" else ["p99<=100ms (measured 340ms)"],
            summary(*verdicts, seconds=5.0))  # fmt: skip


@pytest.mark.parametrize(("problem", "failures"), [(None, 2), ("exit 4: no limit found", 3)])
def test_a_capacity_search_is_its_answer_then_a_suite_per_level(problem, failures):
    report = {"answer": "sustains 100/s; fails at 200/s", "sustained_rps": 100.0,
              "failed_rps": 200.0, "why": "fails at 200/s: CPU"}  # fmt: skip
    levels = [
        level(100.0, "pass", ("p99<=100ms", "20.000ms", True)),
        level(200.0, "fail", ("p99<=100ms", "340.000ms", False)),
        level(150.0, "saturated", ("p99<=100ms", "90.000ms", True)),
    ]
    root = check_junit(junit_xml(capacity_suites(report, levels, problem), "loadgen capacity"))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "loadgen capacity", "level 1: 100/s", "level 2: 200/s", "level 3: 150/s"
    ]  # fmt: skip
    assert [c.get("name") for c in suites[2]][1:3] == ["p99<=100ms", "verdict"]
    # The failed level's SLO and its verdict; the search's own case only when it found no limit.
    assert int(root.get("failures")) == failures
    assert root.get("errors") == "1"  # the saturated level: the generator's limit, not the target's
    verdict = suites[2].find("testcase[@name='verdict']/failure")
    assert verdict.get("message") == "200/s: fail: p99<=100ms (measured 340ms)"
    assert suites[0].get("time") == "15.000"
    answer = suites[0].find("testcase/failure")
    assert (answer is None) == (problem is None)
