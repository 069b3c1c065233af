"""build_summary on synthetic runs: the per-second timeline against the rate profile."""

import pytest

from loadgen.core.results import RunResult
from loadgen.report.summary import build_summary
from tests.support.shard_states import job, recorder


def test_timeline_target_is_the_profile_per_second_and_nothing_during_the_drain():
    # 100/s for 2 s, then a 3-second drain (requests stuck until their timeout):
    # the engine's closer of seconds keeps closing one-second intervals while they finish.
    rec = recorder([[0.001] * 100, [0.001] * 100, [], [], [2.5]])
    config = job(0, 1, profile={"kind": "constant", "rps": 100.0}, duration=2.0).config()
    result = RunResult(config, rec, 1000.0, 2.0, False, 1, ["get"])
    timeline = build_summary(result, {})["timeline"]
    assert [iv["t"] for iv in timeline] == [0, 1, 2, 3, 4]
    assert [iv["target"] for iv in timeline] == [100, 100, 0, 0, 0]
    assert [iv["arrivals"] for iv in timeline] == [100, 100, 0, 0, 1]


def test_timeline_target_of_a_shard_is_its_share():
    rec = recorder([[0.001] * 25, [0.001] * 25])
    config = job(1, 4, profile={"kind": "constant", "rps": 100.0}, duration=2.0).config()
    result = RunResult(config, rec, 1000.0, 2.0, False, 1, ["get"])
    assert [iv["target"] for iv in build_summary(result, {})["timeline"]] == [
        pytest.approx(25),
        pytest.approx(25),
    ]


def test_retries_are_said_and_warned_of_above_one_percent():
    from loadgen.report.summary import retries_note

    assert retries_note({"requests": 1000, "retries": 0}) is None
    text, warn = retries_note({"requests": 1000, "retries": 5})
    assert "5 requests (0.50%) were sent a second time" in text and not warn
    assert retries_note({"requests": 1000, "retries": 20})[1] is True


def test_failed_checks_by_task_and_reason_and_their_responses_still_timed():
    from loadgen.report.summary import failed_checks, timed_responses
    from loadgen.report.summary_contract import check_summary

    rec = recorder([[0.001] * 10], errors=["timeout"])
    for reason in ["wrong result"] * 3 + ["no token"] * 4 + ["a"]:
        rec.check_failed("get", reason)
    config = job(0, 1, duration=1.0).config()
    summary = build_summary(RunResult(config, rec, 1000.0, 1.0, False, 1, ["get"]), {})
    check_summary(summary)
    errors = summary["errors"]
    assert errors["by_kind"] == {"check": 8, "timeout": 1} and errors["total"] == 9
    assert errors["checks"] == {"get": {"no token": 4, "wrong result": 3, "a": 1}}
    assert list(errors["checks"]["get"]) == ["no token", "wrong result", "a"]  # most first
    task = summary["tasks"]["get"]
    assert task["requests"] == 11 and timed_responses(task) == 10  # the timeout alone untimed
    assert failed_checks(summary) == [("get", 8, [("no token", 4), ("wrong result", 3), ("a", 1)])]
    del errors["checks"]  # a summary from before checks existed reads the same
    check_summary(summary)
    assert failed_checks(summary) == []


def test_connect_time_names_the_handshakes_a_connection_took():
    from loadgen.report.summary import connect_note

    def summary(target, connect):
        return {"target": target, "generator": {"connect_ms": connect}}

    timed = {"p50": 0.2, "p99": 0.5, "max": 0.8}
    assert connect_note(summary("http://127.0.0.1:1", timed)).endswith("(TCP handshake)")
    https = connect_note(summary("https://example.org", timed))
    assert (
        https
        == "p50 0.200 ms, p99 0.500 ms, max 0.800 ms per new connection (TCP and TLS handshakes)"
    )
    assert connect_note(summary("http://x", {"p50": None, "p99": None, "max": None})) is None


def test_phases_unloaded_service_busy_seconds_and_retry_after_are_in_the_summary():
    from loadgen.report.summary import phases_note
    from loadgen.report.summary_contract import check_summary
    from loadgen.transports.models import Response

    rec = recorder([[0.004, 0.002, 0.010]])  # service = half of each: 1 to 5 ms
    head = b"HTTP/1.1 429 Slow down\r\nRetry-After: 3\r\n\r\n"
    rec.response("get", 0.0, Response(429, b"", 0.5, 0.503, 10, head, 0.502))
    rec.close_interval(2.0)
    config = job(0, 1, duration=2.0).config()
    summary = build_summary(RunResult(config, rec, 1000.0, 2.0, False, 1, ["get"]), {})
    check_summary(summary)
    assert summary["tasks"]["get"]["service_min_ms"] == 1.0
    first, body = summary["phases_ms"]["first_byte"], summary["phases_ms"]["body"]
    assert set(first) == set(body) == {"p50", "p99", "max", "mean"}
    assert first["max"] == pytest.approx(2.0, abs=0.01)
    assert body["max"] == pytest.approx(1.0, abs=0.01)
    assert summary["errors"]["retry_after"] == {"responses": 1, "values": {"3": 1}}
    assert [iv["busy_s"] for iv in summary["timeline"]] == [0.008, 0.003]
    assert phases_note(summary) == (
        "time to first byte p50 2.000 ms, p99 2.000 ms; body p50 1.000 ms, p99 1.000 ms"
    )


def test_nothing_timed_is_none_and_an_old_summary_has_no_phases_note():
    from loadgen.report.summary import phases_note

    rec = recorder([[]], errors=["timeout"])
    config = job(0, 1, duration=1.0).config()
    summary = build_summary(RunResult(config, rec, 1000.0, 1.0, False, 1, ["get"]), {})
    assert summary["tasks"]["get"]["service_min_ms"] is None
    assert summary["phases_ms"]["first_byte"]["p50"] is None
    assert summary["errors"]["retry_after"] == {"responses": 0, "values": {}}
    assert phases_note(summary) is None
    del summary["phases_ms"]
    assert phases_note(summary) is None
