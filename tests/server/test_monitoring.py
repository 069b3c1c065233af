"""Sentry: off without a DSN, once per worker with one, and real events end to end."""

import logging
import os
from collections.abc import Iterator

import httpx
import pytest
import sentry_sdk

from server import monitoring
from server.config import Settings
from tests.server.conftest import StartServer, worker_pids
from tests.server.sentry_receiver import SentryReceiver


@pytest.fixture
def fresh_sentry() -> Iterator[None]:
    """Leave no Sentry client behind in the test process."""
    monitoring._initialised_pid = None
    yield
    sentry_sdk.get_client().close(timeout=0)
    sentry_sdk.get_global_scope().set_client(None)
    monitoring._initialised_pid = None


def test_no_dsn_means_off_with_one_info_line(
    fresh_sentry: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gunicorn.error"):
        assert monitoring.init_monitoring(Settings.model_validate({})) is False
    lines = [r for r in caplog.records if "Sentry" in r.getMessage()]
    assert [(r.levelno, r.getMessage().split(":")[0]) for r in lines] == [
        (logging.INFO, "Sentry monitoring off")
    ]
    assert not sentry_sdk.is_initialized()


def test_init_once_per_process_with_pii_off(
    fresh_sentry: None, receiver: SentryReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.model_validate(
        {"SENTRY_DSN": receiver.dsn, "sentry_traces_sample_rate": 0.5}
    )
    with caplog.at_level(logging.INFO, logger="gunicorn.error"):
        assert monitoring.init_monitoring(settings) is True
        client = sentry_sdk.get_client()
        assert monitoring.init_monitoring(settings) is True
    assert sentry_sdk.get_client() is client  # the second call did not re-init
    assert client.options["traces_sample_rate"] == 0.5
    assert not client.should_send_default_pii()
    on = [r.getMessage() for r in caplog.records if "monitoring on" in r.getMessage()]
    assert on == [f"Sentry monitoring on (pid {os.getpid()}, traces_sample_rate=0.5)"]
    assert receiver.dsn not in caplog.text and "publickey" not in caplog.text


def _monitoring_pids(error_log: str) -> list[int]:
    marker = "Sentry monitoring on (pid "
    return [
        int(line.split(marker)[1].split(",")[0])
        for line in error_log.splitlines()
        if marker in line
    ]


@pytest.mark.slow
def test_round_trip_through_gunicorn(start_server: StartServer, receiver: SentryReceiver) -> None:
    server = start_server(
        {"SENTRY_DSN": receiver.dsn, "LEGACY_BUGS": "1", "SENTRY_TRACES_SAMPLE_RATE": "1.0"}
    )
    assert httpx.get(server.url + "/sentry").status_code == 500
    assert httpx.post(server.url + "/addNumbers", json={"a": -7, "b": 12}).status_code == 500
    assert httpx.post(server.url + "/addNumbers", json={"a": 7, "b": 12}).status_code == 200

    event = receiver.wait_for("event", lambda e: e.get("transaction") == "/sentry")
    exception = event["exception"]["values"][-1]
    assert (exception["type"], exception["value"]) == ("Exception", "Test sentry integration")

    add = receiver.wait_for("event", lambda e: e.get("transaction") == "/addNumbers")
    assert add["exception"]["values"][-1]["type"] == "OverflowError"
    assert add["tags"]["a"] == "-7" and add["tags"]["b"] == "12"
    assert add["contexts"]["addNumbers"] == {"a": -7, "b": 12}
    assert "ip_address" not in add.get("user", {})  # send_default_pii stays off

    # Tracing on: transactions arrive, the addition in its own span with a and b.
    transaction = receiver.wait_for(
        "transaction",
        lambda t: t.get("transaction") == "/addNumbers" and t["tags"].get("a") == "7",
    )
    spans = [s for s in transaction["spans"] if s.get("op") == "function"]
    assert [s["description"] for s in spans] == ["addNumbers.add"]
    assert (spans[0]["data"]["a"], spans[0]["data"]["b"]) == (7, 12)
    assert set(receiver.encodings) <= {"gzip", "br"}

    # One client per worker, started in the worker, none in the master.
    error_log = server.wait_for_error_log(lambda log: len(_monitoring_pids(log)) == 2)
    assert sorted(_monitoring_pids(error_log)) == sorted(worker_pids(error_log))
    assert server.proc.pid not in _monitoring_pids(error_log)
    assert receiver.dsn not in error_log + server.output


@pytest.mark.slow
def test_preloaded_app_still_starts_sentry_in_each_worker(
    start_server: StartServer, receiver: SentryReceiver
) -> None:
    # --preload imports the app in the master before forking (GUNICORN_CMD_ARGS
    # is gunicorn's own variable); Sentry must still start only in workers.
    server = start_server({"SENTRY_DSN": receiver.dsn, "GUNICORN_CMD_ARGS": "--preload"})
    assert httpx.get(server.url + "/sentry").status_code == 500
    receiver.wait_for("event", lambda e: e.get("transaction") == "/sentry")
    error_log = server.wait_for_error_log(lambda log: len(_monitoring_pids(log)) == 2)
    assert sorted(_monitoring_pids(error_log)) == sorted(worker_pids(error_log))
    assert len(worker_pids(error_log)) == 2


@pytest.mark.slow
def test_monitoring_off_under_gunicorn(start_server: StartServer) -> None:
    server = start_server()
    error_log = server.wait_for_error_log(
        lambda log: log.count("Application startup complete") == 2
    )
    off = [line for line in error_log.splitlines() if "Sentry monitoring off" in line]
    assert len(off) == 2  # one line per worker
    assert "monitoring on" not in error_log
