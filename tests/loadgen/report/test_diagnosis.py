"""The diagnosis: each finding from the numbers that trigger it, most explanatory first."""

import copy

from loadgen.report.diagnosis import (
    CPU_BUSY,
    FINDINGS,
    LOOP_BLOCKED_MS,
    headline,
)
from tests.support.diagnosis import diagnosed

BASE = {
    "target_rps": 100.0,
    "achieved_rps": 100.0,
    "requests": 1000,
    "errors": {"total": 0, "by_kind": {}},
    "latency_ms": {"service": {"p50": 2.0}},
    "tasks": {
        "index": {"requests": 500, "errors_by_kind": {}},
        "compute_addition": {"requests": 500, "errors_by_kind": {}},
    },
    "generator": {
        "behind": False,
        "send_lag_ms": {"p50": 0.01, "p99": 0.05, "max": 0.2},
        "unsent": 0,
        "connection_waits": 0,
    },
    "run": {"timeout_s": 10.0, "connections": 512, "embedded_server": None},
    "timeline": [],
    "server": {"sources": ["x"], "cores": 2},
}


def summary(seconds=(), **server):
    s = copy.deepcopy(BASE)
    s["timeline"] = [
        {
            "t": float(i),
            "length": 1.0,
            "target": 100.0,
            "arrivals": 100,
            "responses": 100,
            "server": sec,
        }
        for i, sec in enumerate(seconds)
    ]
    s["server"].update(server)
    return s


def second(cpus, generator=10.0, lag=None):
    entry = {
        "workers": {str(i): {"cpu": c, "rss_mb": 50.0} for i, c in enumerate(cpus)},
        "generator_cpu": generator,
    }
    if lag is not None:
        entry["loop_lag_max_ms"] = {"0": lag}
    return entry


def kinds(s):
    return [f["finding"] for f in diagnosed(s)]


def test_a_healthy_run_has_nothing_to_say():
    found = diagnosed(summary([second([20, 25])] * 3, workers={"0": {"cpu_peak": 25.0}}))
    assert [f["finding"] for f in found] == ["none"]
    assert "CPU peaked at 25 %" in found[0]["evidence"]
    assert all(f["finding"] in FINDINGS for f in found)


def test_both_workers_on_a_core_each_near_full_are_server_cpu():
    s = summary([second([97, 95])] * 5, generator_cpu_mean=10.0)
    [f] = diagnosed(s)
    assert f["finding"] == "server_cpu"
    assert f["summary"] == "both workers at 96 % CPU"
    assert f["advice"].startswith("add cores or machines")
    assert f["weight"] >= CPU_BUSY


def test_workers_sharing_the_cores_loadgen_left_are_server_cpu_too():
    # Two workers on the one core loadgen left them: half a core each is all there is.
    s = summary([second([48, 47], generator=100.0)] * 5, generator_cpu_mean=100.0)
    [f] = diagnosed(s)
    assert f["finding"] == "server_cpu"
    assert "of the CPU left to them" in f["summary"]
    assert "run it elsewhere" in f["advice"]
    # 1.5 cores left, two workers at 72 % each: they share them, no core each to speak of
    [f] = diagnosed(summary([second([72, 72], generator=50.0)] * 5, generator_cpu_mean=50.0))
    assert f["summary"] == "2 workers using 96 % of the CPU left to them"


def test_workers_with_idle_time_are_not_cpu_bound():
    assert kinds(summary([second([60, 55])] * 5)) == ["none"]


def test_a_blocked_loop_names_the_slowest_endpoint():
    endpoints = {
        "/": {"requests": 10, "errors_5xx": 0, "server_ms": 0.4},
        "/computeFib": {"requests": 10, "errors_5xx": 0, "server_ms": 640.0},
    }
    s = summary(
        [second([30, 30], lag=1900.0), second([30, 30], lag=2.0)],
        loop_lag_ms={"p99": 2500.0, "max": 1900.0},
        endpoints=endpoints,
    )
    [f] = diagnosed(s)
    assert f["finding"] == "event_loop_blocked"
    assert f["summary"] == "the event loop is blocked up to 1.9 s in /computeFib"
    assert f["weight"] == 0.5  # one second of two
    assert "/computeFib takes 640 ms on average" in f["evidence"]


def test_loop_lag_near_the_service_time_is_not_a_block():
    s = summary([second([30, 30], lag=LOOP_BLOCKED_MS + 20)], loop_lag_ms={"max": 120.0})
    s["latency_ms"]["service"]["p50"] = 50.0  # lag under 10 × service time
    assert kinds(s) == ["none"]
    # An overloaded server: every endpoint slowed alike, no one of them holding the loop.
    s["server"]["endpoints"] = {
        "/": {"requests": 10, "errors_5xx": 0, "server_ms": 0.24},
        "/addNumbers": {"requests": 10, "errors_5xx": 0, "server_ms": 0.40},
    }
    assert kinds(s) == ["none"]


def test_a_stall_while_its_worker_waited_for_the_cpu_is_no_blocking_call():
    # Another process's burst (a browser starting, seen on this machine): the median
    # second stays quiet, but in the stalled one the workers waited on the run
    # queue longer than their loops were late, and the lag shows the second after.
    quiet = second([15, 2], lag=2.0)
    burst = second([13, 5], lag=170.0)
    for w, waited in zip(burst["workers"].values(), (48.3, 41.3), strict=True):
        w["cpu_wait"] = waited
    after = second([0, 15], lag=170.0)
    s = summary([quiet, quiet, burst, after, quiet], loop_lag_ms={"p99": 50.0, "max": 170.0})
    s["latency_ms"]["service"]["p50"] = 0.76
    s["timeline"][2]["machine"] = {"cpu": 191.9, "others": [
        {"pid": 9, "name": "chromium", "cpu": 61.3}
    ]}  # fmt: skip
    [f] = diagnosed(s)
    assert f["finding"] == "none"
    assert (
        "event-loop lag max 170 ms: its workers waited on the run queue as long, for a CPU "
        "other processes had (chromium 61 % of a core)" in f["evidence"]
    )
    # A loop late for longer than its worker waited: its own work held it.
    burst["workers"]["0"]["cpu_wait"] = 5.0  # 50 ms of a 170 ms stall
    assert kinds(s)[0] == "event_loop_blocked"


def test_one_endpoint_slow_alone_is_a_block_however_slow_the_queue_made_every_request():
    # The legacy server at its limit: requests queue behind the Fibonacci on the loop,
    # so the median service time is high too, but /computeFib alone does the slow work.
    s = summary([second([30, 30], lag=268.0)] * 2, loop_lag_ms={"p99": 500.0, "max": 268.0})
    s["latency_ms"]["service"]["p50"] = 67.0
    s["server"]["endpoints"] = {
        "/": {"requests": 284, "errors_5xx": 0, "server_ms": 0.21},
        "/addNumbers": {"requests": 712, "errors_5xx": 0, "server_ms": 0.23},
        "/computeFib": {"requests": 492, "errors_5xx": 0, "server_ms": 10.4},
    }
    [f] = diagnosed(s)
    assert f["summary"] == "the event loop is blocked up to 268 ms in /computeFib"
    # Its worker out of CPU too: the CPU goes to that endpoint's work, said in the advice.
    s["timeline"] = [
        {
            "t": 0.0,
            "length": 1.0,
            "target": 100.0,
            "arrivals": 100,
            "responses": 100,
            "server": second([97, 96]),
        }
    ] * 3
    cpu = next(f for f in diagnosed(s) if f["finding"] == "server_cpu")
    assert cpu["advice"] == "make the work in /computeFib cheaper, or add cores or machines"


def test_server_errors_by_task_and_endpoint_with_the_error_log():
    s = summary(
        endpoints={"/addNumbers": {"requests": 500, "errors_5xx": 195, "server_ms": 0.5}},
        error_log_errors=195,
    )
    s["tasks"]["compute_addition"]["errors_by_kind"] = {"http_500": 195}
    s["errors"] = {"total": 195, "by_kind": {"http_500": 195}}
    s["run"]["embedded_server"] = {"log_dir": "out/server-logs"}
    [f] = diagnosed(s)
    assert f["finding"] == "server_errors"
    assert f["summary"] == (
        "/addNumbers returns 500 for 39 % of its requests (see out/server-logs/error.log)"
    )
    assert "task compute_addition: 500 for 39 % of its requests (195)" in f["evidence"]
    assert "195 ERROR lines in the error log" in f["evidence"]
    assert round(f["weight"], 3) == 0.195
    s["run"]["embedded_server"]["server"] = "uvicorn"  # one uvicorn logs errors to its console
    assert diagnosed(s)[0]["summary"].endswith("(see out/server-logs/console.log)")


def test_one_fact_one_percentage_when_the_server_counted_fewer_of_them():
    # The client asked 500; 50 never reached the server (connections torn down), so
    # its /metrics say 150 of 450 where the client saw 150 of 500. Before: a headline
    # of 33 % above a detail of 30 %.
    s = summary(endpoints={"/addNumbers": {"requests": 450, "errors_5xx": 150, "server_ms": 0.5}})
    s["tasks"]["compute_addition"]["errors_by_kind"] = {"http_500": 150, "reset": 50}
    s["errors"] = {"total": 200, "by_kind": {"http_500": 150, "reset": 50}}
    found = next(f for f in diagnosed(s) if f["finding"] == "server_errors")
    assert found["summary"] == "/addNumbers returns 500 for 30 % of its requests"
    assert "task compute_addition: 500 for 30 % of its requests (150)" in found["evidence"]
    assert "33 %" not in found["summary"] + found["evidence"]


def test_every_request_answered_404_is_the_top_finding_whatever_the_generator_did():
    s = summary()
    for task in s["tasks"].values():
        task["errors_by_kind"] = {"http_404": task["requests"]}
    s["errors"] = {"total": 1000, "by_kind": {"http_404": 1000}}
    s["generator"]["behind"] = True  # late, but with CPU to spare
    s["generator"]["send_lag_ms"]["p99"] = 3.0
    found = diagnosed(s)
    assert found[0]["finding"] == "client_errors", found
    assert headline(found).startswith("client_errors")


def test_findings_are_ordered_by_how_much_they_explain():
    s = summary([second([30, 30])] * 4, restarts=1, workers={"0": {}, "1": {}, "2": {}})
    s["tasks"]["index"]["errors_by_kind"] = {"http_502": 10}
    s["errors"] = {"total": 300, "by_kind": {"http_502": 10, "timeout": 290}}
    # timeouts 29 %, restarts 1 of 2 workers (50 %), 5xx 1 %
    assert kinds(s) == ["worker_restarts", "timeouts", "server_errors"]


def test_a_generator_that_could_not_send_comes_first_whatever_else():
    s = summary([second([97, 95])] * 3)
    s["generator"]["behind"] = True
    s["achieved_rps"] = 90.0
    s["generator"]["send_lag_ms"]["p99"] = 30.0
    found = diagnosed(s)
    assert [f["finding"] for f in found] == ["generator_saturated", "server_cpu"]
    assert found[0]["weight"] == 1.0
    assert "send-lag p99 30.000 ms > 1 ms" in found[0]["evidence"]


def test_a_generator_that_sent_it_all_a_little_late_explains_its_share_of_the_p99():
    s = summary([second([97, 95])] * 3)
    s["generator"]["behind"] = True
    s["generator"]["send_lag_ms"]["p99"] = 2.0
    s["latency_ms"]["response"] = {"p99": 126.0}  # 2 ms of it loadgen's
    found = diagnosed(s)
    assert [f["finding"] for f in found] == ["server_cpu", "generator_saturated"]
    assert found[1]["weight"] == round(2.0 / 126.0, 3)
    s["latency_ms"]["response"] = {"p99": 2.0}  # all of it loadgen's
    assert kinds(s) == ["generator_saturated", "server_cpu"]


def test_waits_for_a_connection_past_one_percent_are_the_connection_limit():
    s = summary()
    s["generator"]["connection_waits"] = 9
    assert kinds(s) == ["none"]
    s["generator"]["connection_waits"] = 150
    [f] = diagnosed(s)
    assert f["finding"] == "connection_limit"
    assert "all --connections 512 busy" in f["evidence"]


def test_the_headline_a_person_can_act_on():
    s = summary([second([99, 98])] * 5, generator_cpu_mean=5.0)
    assert headline(diagnosed(s)) == "server_cpu: both workers at 98 % CPU — add cores or machines"
    assert headline(diagnosed(summary())) == "nothing stood out"
    s = summary()
    s["errors"] = {"total": 10, "by_kind": {"check": 2, "http_400": 8}}
    [f] = diagnosed(s)
    assert f["finding"] == "none" and f["evidence"].endswith("10 errors, http_400 8, check 2")
    assert headline([f]) == "nothing stood out but the errors"  # never a plain all-clear
