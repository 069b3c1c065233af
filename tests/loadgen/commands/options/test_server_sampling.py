"""The target's own signals and the diagnosis, end to end on real servers."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from server.launch import free_port, start_gunicorn, stop_gunicorn, wait_until_serving
from tests.support.cli import GET_SCENARIO, ROOT, loadgen, summary


def findings(s):
    return {f["finding"]: f for f in s["diagnosis"]}


@pytest.mark.slow
@pytest.mark.alone
def test_legacy_uvicorn_at_a_modest_rate_shows_its_errors_and_its_blocked_loop(tmp_path):
    # Seed 3 asks for Fibonacci numbers up to 30 within the first seconds: the
    # legacy recursion then holds the event loop for a few hundred ms.
    proc = loadgen(
        "--rps", 20, "--duration", "4s", "--timeout", "5s", "--seed", 3, "--server", "uvicorn",
        "--server-env", "LEGACY_BUGS=1", "--out", tmp_path, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = summary(tmp_path)
    found = findings(s)
    assert "compute_addition" in found["server_errors"]["evidence"]
    assert "/addNumbers returns 500" in found["server_errors"]["summary"]
    assert found["event_loop_blocked"]["summary"].endswith("in /computeFib")
    # The server's side, second by second, beside the load.
    assert len(s["server"]["workers"]) == 1
    assert sum("server" in e for e in s["timeline"]) >= 3
    assert s["server"]["endpoints"]["/addNumbers"]["errors_5xx"] > 0
    assert s["server"]["loop_lag_ms"]["max"] >= 50
    assert "diagnosis: event_loop_blocked" in proc.stdout
    assert "diagnosis: server_errors" in proc.stdout


@pytest.mark.slow
@pytest.mark.alone
def test_the_fixed_server_pushed_past_its_capacity_is_short_of_cpu(tmp_path):
    proc = loadgen(
        "--rps", 6000, "--duration", "4s", "--timeout", "2s", "--seed", 2,
        "--server-workers", 2, "--out", tmp_path, "--quiet", timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = summary(tmp_path)
    assert "server_cpu" in findings(s), s["diagnosis"]
    assert len(s["server"]["workers"]) == 2
    assert "event_loop_blocked" not in findings(s) or s["server"]["loop_lag_ms"]["max"] >= 100


@pytest.fixture(scope="module")
def static_url():
    from tests.support.http_server import server_process

    with server_process() as url:
        yield url


@pytest.mark.slow
def test_a_target_without_signals_runs_as_before_and_says_so(static_url, tmp_path):
    plain, scraped = tmp_path / "plain", tmp_path / "scraped"
    base = ("--host", static_url, "--rps", 100, "--duration", "2s", "--seed", 4,
            "--scenario", GET_SCENARIO)  # fmt: skip
    assert loadgen(*base, "--out", plain, "--quiet").returncode == 0
    proc = loadgen(*base, "--out", scraped, "--server-metrics", f"{static_url}/metrics")
    assert proc.returncode == 0, proc.stderr
    a, b = summary(plain), summary(scraped)
    assert a["errors"]["total"] == b["errors"]["total"] == 0
    assert a["requests"] == b["requests"] == 200
    assert "--server-metrics URL" in a["server"]["note"]
    assert b["server"]["note"].startswith("no server signals were available (")
    assert "not Prometheus text" in b["server"]["note"]
    # Nothing of the server's is claimed (the generator, or the machine, may be busy: shared).
    assert {f["finding"] for f in b["diagnosis"]} <= {"none", "generator_saturated", "machine_busy"}
    assert "no server signals were available" in proc.stdout


@pytest.mark.slow
def test_a_local_server_named_by_pid_and_metrics_url_is_sampled(tmp_path):
    port = free_port()
    server = start_gunicorn(f"127.0.0.1:{port}", 2, tmp_path / "logs")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, server)
        proc = loadgen(
            "--host", url, "--rps", 100, "--duration", "3s", "--server-pid", server.pid,
            "--server-metrics", f"{url}/metrics", "--out", tmp_path / "run", "--quiet",
        )  # fmt: skip
    finally:
        stop_gunicorn(server)
    assert proc.returncode == 0, proc.stderr
    s = summary(tmp_path / "run")
    assert len(s["server"]["workers"]) == 2 and s["server"]["restarts"] == 0
    assert set(s["server"]["endpoints"]) == {"/", "/addNumbers", "/computeFib"}
    assert s["server"]["sources"] == [f"process tree of pid {server.pid}", f"{url}/metrics"]
    assert s["server"]["missing"] == {}


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--server-pid", "1"), "is for a --host target"),
        (("--host", "http://127.0.0.1:9", "--server-pid", _dead_pid()), "no such process"),
        (("--host", "http://127.0.0.1:9", "--server-metrics", "ftp://x/m"), "http://"),
        (("--host", "http://127.0.0.1:9", "--server-pid", "x"), "not a whole number"),
    ],
)
def test_misuse_of_the_signal_options_is_one_line_and_exit_2(args, message):
    proc = loadgen("--rps", 5, *args, timeout=30)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


@pytest.mark.slow
@pytest.mark.alone
def test_capacity_says_why_its_first_failing_level_failed(tmp_path):
    proc = loadgen(
        "capacity", "--server", "uvicorn", "--server-env", "LEGACY_BUGS=1", "--start", 20,
        "--max-rps", 20, "--min-rps", 20, "--level", "3s", "--min-responses", 0,
        "--cooldown", "0.1s", "--timeout", "5s",
        "--out", tmp_path, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 99, proc.stdout + proc.stderr  # even the first level failed
    why = [line for line in proc.stdout.splitlines() if line.startswith("why:")]
    assert len(why) == 1, proc.stdout
    assert why[0].startswith("why: fails at the first level (20/s): ")
    assert "/addNumbers returns 500" in why[0] or "event loop is blocked" in why[0]
    report = json.loads((tmp_path / "capacity.json").read_text())
    assert {f["finding"] for f in report["levels"][0]["diagnosis"]} >= {"server_errors"}


def _sampler_of(pid, deadline_s=30.0):
    """The sampling process loadgen `pid` started (waited for: it starts with the run)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        for child in psutil.Process(pid).children():
            with contextlib.suppress(psutil.Error):
                if "loadgen.measure.sampler" in child.cmdline():
                    return child.pid
        time.sleep(0.05)
    pytest.fail("loadgen started no sampling process")


@pytest.mark.slow
@pytest.mark.parametrize("processes", [1, 2])
def test_with_no_server_source_the_machine_is_sampled_and_a_stop_reaps_the_sampler(
    static_url, tmp_path, processes
):
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadgen", "--host", static_url, "--rps", "50", "--duration", "20s",
         "--scenario", GET_SCENARIO, "--processes", str(processes), "--out", tmp_path, "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        sampler = _sampler_of(proc.pid)
        time.sleep(2.5)  # a few samples into the run
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert not psutil.pid_exists(sampler)  # ended and reaped with loadgen
    s = summary(tmp_path)
    assert s["run"]["interrupted"] is True and s["requests"] > 0
    assert s["server"]["sources"] == []  # nothing of the target's was sampled, and it says so
    assert "--server-pid PID" in s["server"]["note"]


@contextlib.contextmanager
def child(code):
    """A Python child process running `code`, killed at the end."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        yield proc
    finally:
        proc.kill()
        proc.wait()


LISTENING = ("import socket, time; s = socket.create_server(('127.0.0.1', 0)); "
             "print('ready', flush=True); time.sleep(60)")  # fmt: skip
IDLE = "import time; print('ready', flush=True); time.sleep(60)"


@pytest.mark.slow
def test_a_server_pid_that_listens_on_no_port_or_is_init_is_doubted():
    from loadgen.commands.options.server_sampling import not_a_server

    assert "PID 1" in not_a_server(1)
    with child(IDLE) as idle:
        assert "listens on no TCP port" in not_a_server(idle.pid)
    with child(LISTENING) as server:
        assert not_a_server(server.pid) is None
        assert not_a_server(os.getpid()) is None  # its child listens: a master and its worker


@pytest.mark.slow
def test_server_pid_1_is_warned_of_in_one_line_and_the_run_goes_on(static_url, tmp_path):
    proc = loadgen(
        "--host", static_url, "--rps", 20, "--duration", "1s", "--scenario", GET_SCENARIO,
        "--server-pid", 1, "--out", tmp_path, "--quiet", timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warned = [ln for ln in proc.stderr.splitlines() if "--server-pid 1" in ln]
    assert len(warned) == 1 and "warning" in warned[0] and "PID 1" in warned[0], proc.stderr
    assert summary(tmp_path)["requests"] == 20
