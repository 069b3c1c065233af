"""infra/gunicorn_conf.py: the tiangolo-image variables, and gunicorn running with it."""

import multiprocessing
import os
import runpy
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.launch import APP, GUNICORN_CONF, gunicorn_env
from tests.server.conftest import StartServer, pid_alive, worker_pids

VARIABLES = [
    "BIND",
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
    "WORKERS_PER_CORE",
    "MAX_WORKERS",
    "LOG_LEVEL",
    "ACCESS_LOG",
    "ERROR_LOG",
    "TIMEOUT",
    "GRACEFUL_TIMEOUT",
    "KEEP_ALIVE",
]


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load(monkeypatch)
    assert conf["worker_class"] == "uvicorn_worker.UvicornWorker"
    assert conf["workers"] == max(multiprocessing.cpu_count(), 2)
    assert conf["bind"] == "0.0.0.0:8000"
    assert conf["loglevel"] == "info"
    assert (conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (120, 120, 5)
    assert (conf["accesslog"], conf["errorlog"]) == ("-", "-")
    assert conf["preload_app"] is False


def test_listen_address(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load(monkeypatch, PORT="9000")["bind"] == "0.0.0.0:9000"
    assert load(monkeypatch, HOST="127.0.0.1", PORT="9000")["bind"] == "127.0.0.1:9000"
    assert load(monkeypatch, BIND="127.0.0.1:7000", PORT="9000")["bind"] == "127.0.0.1:7000"


def test_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    cores = multiprocessing.cpu_count()
    assert load(monkeypatch, WEB_CONCURRENCY="5")["workers"] == 5
    assert load(monkeypatch, WEB_CONCURRENCY="1")["workers"] == 1  # explicit wins
    assert load(monkeypatch, WORKERS_PER_CORE="3")["workers"] == max(3 * cores, 2)
    assert load(monkeypatch, WORKERS_PER_CORE="0.1")["workers"] == 2  # at least 2
    assert load(monkeypatch, WORKERS_PER_CORE="8", MAX_WORKERS="3")["workers"] == 3


def test_timeouts_and_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load(
        monkeypatch,
        TIMEOUT="30",
        GRACEFUL_TIMEOUT="10",
        KEEP_ALIVE="2",
        LOG_LEVEL="debug",
        ACCESS_LOG="",
        ERROR_LOG="/tmp/error.log",
    )
    assert (conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (30, 10, 2)
    assert conf["loglevel"] == "debug"
    assert conf["accesslog"] is None  # empty disables, as in the tiangolo image
    assert conf["errorlog"] == "/tmp/error.log"


@pytest.mark.slow
def test_gunicorn_cmd_args_override_the_file(tmp_path: os.PathLike[str]) -> None:
    env = gunicorn_env(settings={"GUNICORN_CMD_ARGS": "--timeout 7 --workers 3", "TIMEOUT": "30"})
    argv = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF), "--print-config", APP]
    done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    printed = {
        key.strip(): value.strip()
        for key, _, value in (line.partition("=") for line in done.stdout.splitlines())
    }
    assert printed["timeout"] == "7"
    assert printed["workers"] == "3"
    assert printed["worker_class"] == "uvicorn_worker.UvicornWorker"


@pytest.mark.slow
def test_crashed_worker_is_replaced_and_log_level_is_honoured(start_server: StartServer) -> None:
    server = start_server({"LOG_LEVEL": "debug"})
    first = worker_pids(server.wait_for_error_log(lambda log: len(worker_pids(log)) == 2))
    assert len(first) == 2
    os.kill(first[0], signal.SIGKILL)

    deadline = time.monotonic() + 20
    while len(worker_pids(server.error_log)) < 3:
        assert time.monotonic() < deadline, server.error_log
        time.sleep(0.1)
    replacement = worker_pids(server.error_log)[2]
    assert replacement not in first
    assert not pid_alive(first[0]) and pid_alive(replacement)
    for _ in range(20):  # whichever worker answers, it answers
        assert httpx.get(server.url + "/").status_code == 200
    # --log-config would have reset gunicorn.error to the file's INFO.
    assert "[DEBUG]" in server.error_log


@pytest.mark.slow
def test_worker_stuck_on_legacy_fibonacci_is_replaced_after_timeout(
    start_server: StartServer,
) -> None:
    # The exercise's failure mode: the slow Fibonacci blocks the event loop, the
    # worker stops checking in, and gunicorn kills it after TIMEOUT seconds.
    server = start_server({"LEGACY_BUGS": "1", "TIMEOUT": "2"}, workers=1)
    with pytest.raises(httpx.RemoteProtocolError):  # the connection dies with the worker
        httpx.post(server.url + "/computeFib", json={"iteration": 40}, timeout=15)
    error_log = server.wait_for_error_log(lambda log: len(worker_pids(log)) == 2)
    assert "WORKER TIMEOUT" in error_log
    assert httpx.get(server.url + "/").status_code == 200


@pytest.mark.slow
def test_metrics_dir_is_made_for_the_run_and_removed_after_it(
    start_server: StartServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    server = start_server({"TMPDIR": str(tmp)})
    assert httpx.get(server.url + "/metrics").status_code == 200
    (made,) = tmp.glob("wagon-metrics-*")
    assert list(made.glob("counter_*.db"))  # the workers write their samples there
    assert server.stop() == 0
    assert not made.exists()


@pytest.mark.slow
def test_a_given_metrics_dir_loses_stale_samples_and_stays(
    start_server: StartServer, tmp_path: Path
) -> None:
    given, tmp = tmp_path / "metrics", tmp_path / "tmp"
    given.mkdir()
    tmp.mkdir()
    # Not a valid samples file: /metrics would fail to read it were it left there.
    (given / "counter_1.db").write_bytes(b"left by an earlier run")
    (given / "notes.txt").write_text("not ours")
    server = start_server({"PROMETHEUS_MULTIPROC_DIR": str(given), "TMPDIR": str(tmp)})
    assert httpx.get(server.url + "/metrics").status_code == 200
    assert not (given / "counter_1.db").exists()
    assert list(given.glob("counter_*.db"))
    assert server.stop() == 0
    assert (given / "notes.txt").exists()
    assert list(tmp.iterdir()) == []  # no directory of its own
