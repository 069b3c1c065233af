"""Where requests waited: in the server (its concurrency by Little's law), in
loadgen's pool, at the server's door, or for ever."""

from tests.support.diagnosis import diagnosed
from tests.support.summaries import run


def top(summary):
    return diagnosed(summary)[0]


def test_a_pool_of_8_with_idle_cpu_is_a_concurrency_limit_of_8():
    # 50 ms of waiting, 8 at a time: 160/s answered of 320/s offered, the rest queued.
    s = run(offered=320, answered=160, service_ms=600, unloaded_ms=50, connections=100, workers=[6])
    f = top(s)
    assert f["finding"] == "concurrency_limit"
    assert f["concurrency"] == 8.0
    assert f["summary"] == "the server handles about 8 requests at a time and its CPU is 6 % busy"
    assert "raise that pool (about 8 now)" in f["advice"]
    assert f["confidence"] == "measured"
    assert "connection_limit" not in [g["finding"] for g in diagnosed(s)]


def test_without_the_servers_cpu_it_says_what_it_could_not_see():
    f = top(run(offered=320, answered=160, service_ms=600, unloaded_ms=50, connections=100))
    assert f["finding"] == "concurrency_limit"
    assert f["confidence"] == "inferred"
    assert "its CPU was not sampled (--server-pid PID" in f["summary"]


def test_one_at_a_time_is_serialized():
    f = top(run(offered=100, answered=50, service_ms=2000, unloaded_ms=20, workers=[2]))
    assert f["finding"] == "serialized"
    assert f["concurrency"] == 1.0
    assert "blocking call on an event loop" in f["advice"]


def test_a_busy_cpu_explains_the_saturation_without_a_concurrency_finding():
    found = diagnosed(run(offered=500, answered=250, service_ms=400, unloaded_ms=4, workers=[99]))
    assert [f["finding"] for f in found] == ["server_cpu"]


def test_the_connection_cap_is_the_limit_only_when_the_server_had_room():
    # --connections 4, 50 ms each: 80/s at most, the server answering each in 50 ms.
    s = run(offered=200, answered=80, service_ms=50, unloaded_ms=49, connections=4, waits=1200)
    found = diagnosed(s)
    assert found[0]["finding"] == "connection_limit"
    assert "stayed near its unloaded one" in found[0]["evidence"]
    assert "concurrency_limit" not in [f["finding"] for f in found]
    # The server queueing (600 ms against 50 ms unloaded) fills any number of
    # connections: the finding is the server's, never loadgen's cap.
    s = run(offered=320, answered=160, service_ms=600, unloaded_ms=50, connections=100, waits=1200)
    assert [f["finding"] for f in diagnosed(s)][:1] == ["concurrency_limit"]
    assert "connection_limit" not in [f["finding"] for f in diagnosed(s)]


def test_a_healthy_run_has_no_queueing_finding():
    assert [f["finding"] for f in diagnosed(run(workers=[20]))] == ["none"]


def test_refused_connections_and_slow_connects_are_the_servers_door():
    s = run(errors={"connect": 300}, workers=[5])
    s["errors"]["first"] = {"connect": "[Errno 111] Connection refused"}
    f = top(s)
    assert f["finding"] == "connection_refused"
    assert "Connection refused" in f["evidence"]
    s = run(workers=[5])
    s["generator"]["connect_ms"]["p99"] = 1030.0  # a SYN retransmitted
    f = top(s)
    assert f["finding"] == "connection_refused"
    assert f["summary"] == "new connections took a second or more"


def test_a_worker_that_waited_for_the_cpu_is_cpu_bound_not_serialized():
    # One worker at 36 % of a core, waiting 60 % more on the run queue: CPU-bound
    # on a machine whose other processes had the core.
    s = run(offered=375, answered=79, service_ms=300, unloaded_ms=18, workers=[36], cpu_wait=60)
    f = top(s)
    assert f["finding"] == "server_cpu"
    assert f["summary"] == (
        "the server wanted 96 % of a core per worker and got 36 %: it is CPU-bound on a busy "
        "machine"
    )
    # Waiting on something else, with the CPU there for the taking: serialized.
    s = run(offered=375, answered=79, service_ms=300, unloaded_ms=18, workers=[36], cpu_wait=2)
    assert top(s)["finding"] == "serialized"


def test_the_evidence_says_whether_the_time_went_before_the_first_byte_or_to_the_body():
    s = run(offered=320, answered=160, service_ms=600, unloaded_ms=50, connections=100)
    s["phases_ms"] = {"first_byte": {"p50": 590.0}, "body": {"p50": 0.05}}
    assert "before the first byte: the server's queue and work" in top(s)["evidence"]
    s["phases_ms"] = {"first_byte": {"p50": 2.0}, "body": {"p50": 580.0}}
    assert "receiving the body: transfer, not processing" in top(s)["evidence"]


def test_connections_closed_after_errors_are_not_the_door():
    # Every connect succeeded; the server closed some after its 500s (as uvicorn does).
    s = run(errors={"reset": 30, "http_500": 400}, workers=[5])
    found = diagnosed(s)
    assert found[0]["finding"] == "server_errors"
    closed = next(f for f in found if f["finding"] == "connection_refused")
    assert closed["summary"] == "the server closed 3 % of connections mid-request, beside its 5xx"
    assert "fix the errors first" in closed["advice"]


def test_a_timeout_with_its_body_still_arriving_is_the_transfer_not_a_stuck_server():
    s = run(errors={"timeout": 100})
    s["errors"]["first"] = {"timeout": "the body was still arriving (65536 bytes so far)"}
    f = next(f for f in diagnosed(s) if f["finding"] == "timeouts")
    # Only the first timeout's detail is known: the others are not said to be alike.
    assert f["summary"] == "10 % of requests timed out, the first while its body was still arriving"
    assert "not the server's processing" in f["advice"]


def test_waits_for_an_http2_stream_slot_with_a_server_that_had_room_are_the_stream_limit():
    # One HTTP/2 connection, the server allowing 4 streams on it, 50 ms each.
    s = run(offered=200, answered=80, service_ms=50, unloaded_ms=49, connections=1)
    s["generator"]["stream_waits"] = 1200
    found = diagnosed(s)
    assert found[0]["finding"] == "stream_limit"
    assert found[0]["summary"].endswith("waited for an HTTP/2 stream slot")
    assert "SETTINGS_MAX_CONCURRENT_STREAMS" in found[0]["evidence"]
    assert "raise --connections" in found[0]["advice"]
    assert {"concurrency_limit", "connection_limit"}.isdisjoint(f["finding"] for f in found)
    # A server that queues fills every stream it allows: its own finding.
    s = run(offered=320, answered=160, service_ms=600, unloaded_ms=50, connections=1)
    s["generator"]["stream_waits"] = 1200
    assert "stream_limit" not in [f["finding"] for f in diagnosed(s)]


def test_answers_lost_to_garbage_and_resets_are_no_shortfall_of_the_server_s_work():
    # A server that answers in a quarter of a millisecond, garbles 15 % of its
    # answers and resets 22 %: 12.5 good answers/s of 20/s, nothing queued, the
    # server idle nearly all the time. The lost answers are errors of their own
    # kinds, not requests it was too slow for: no 'one request at a time'.
    s = run(offered=20, answered=12.5, service_ms=0.9, unloaded_ms=0.25,
            errors={"protocol": 30, "reset": 45})  # fmt: skip
    s["requests"] = 200  # every arrival was sent; 75 of them got no HTTP answer
    assert "serialized" not in [f["finding"] for f in diagnosed(s)]
    # Timeouts are a shortfall still: requests the server never finished.
    s = run(offered=20, answered=12.5, service_ms=0.9, unloaded_ms=0.25, errors={"timeout": 75})
    s["requests"] = 200
    assert "serialized" in [f["finding"] for f in diagnosed(s)]
