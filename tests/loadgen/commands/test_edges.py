"""The command line's edges: a dead or dying target, a closed stdout, absurd start
times, a run in which nothing was answered, a malformed --host, Ctrl-C at start-up."""

import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from loadgen.commands.main import main
from loadgen.commands.options.argtypes import start_time
from server.launch import free_port
from tests.support.cli import ROOT, as_in_a_terminal, loadgen

HTTP_SERVER = ROOT / "tests" / "support" / "http_server.py"


def _dead_host() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e20", "9999-12-31T00:00:00Z"])
def test_a_start_time_not_finite_or_absurdly_far_is_refused(text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        start_time(text)


@pytest.mark.slow
@pytest.mark.parametrize("text", ["nan", "1e20"])
def test_an_absurd_start_at_is_misuse(text):
    # Before: accepted, and waited for (a child process, so that a regression times out).
    proc = loadgen("--rps", 5, "--host", _dead_host(), "--start-at", text, timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "--start-at" in proc.stderr, proc.stderr


def test_a_start_time_within_the_year_is_taken():
    soon = time.time() + 3600
    assert start_time(f"{soon}") == pytest.approx(soon)


@pytest.mark.slow
def test_a_far_start_says_when_the_run_will_start(tmp_path):
    start = time.time() + 30
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadgen", "--host", _dead_host(), "--rps", "5", "--duration",
         "1s", "--start-at", f"{start}", "--out", str(tmp_path), "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stderr.readline()  # said before the wait, not after it
        assert re.search(r"starts at \S+Z \(in (29|30) s\)", line), line
        time.sleep(2)  # a person's Ctrl-C, once the engine waits for the start
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err


@pytest.mark.parametrize("host", ["http://[::1", "http://[zz]/x", "https://u:s3cr3t@[::1"])
def test_a_malformed_host_is_one_line_and_exit_2(host, capsys):
    assert main(["--rps", "5", "--host", host]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("loadgen: error: --host"), err
    assert "s3cr3t" not in err


@pytest.mark.slow
def test_a_run_in_which_every_task_raised_fails(tmp_path):
    mix = tmp_path / "raises.py"
    mix.write_text(
        "from loadgen import Scenario, task\n\n"
        "class Raises(Scenario):\n"
        "    @task(1)\n"
        "    async def boom(self, s):\n"
        "        raise RuntimeError('boom')\n"
    )
    proc = loadgen("--host", _dead_host(), "--rps", 20, "--duration", "1s", "--scenario",
                   f"{mix}:Raises", "--out", tmp_path / "out", "--quiet")  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "20 exception errors" in proc.stderr, proc.stderr
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["requests"] == 0


@pytest.mark.slow
def test_a_closed_stdout_costs_only_the_output(tmp_path):
    # `loadgen ... >&-`: no stdout at all, so Python's sys.stdout is None.
    cmd = [sys.executable, "-m", "loadgen", "--host", _dead_host(), "--rps", "10",
           "--duration", "1s", "--out", str(tmp_path)]  # fmt: skip
    proc = subprocess.run(
        ["sh", "-c", '"$@" >&-', "sh", *cmd], cwd=ROOT, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1  # nothing answered: the status is the run's
    assert json.loads((tmp_path / "summary.json").read_text())["requests"] == 10


@pytest.mark.slow
def test_ctrl_c_while_the_scenario_file_imports_is_one_line_and_130(tmp_path):
    slow = tmp_path / "slow_mix.py"
    ready = tmp_path / "importing"
    slow.write_text(f"import pathlib, time\npathlib.Path({str(ready)!r}).touch()\ntime.sleep(30)\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadgen", "--host", _dead_host(), "--rps", "5",
         "--scenario", f"{slow}:Mix"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=as_in_a_terminal,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.count("\n") == 1 and "interrupted" in err and "Traceback" not in err, err
    assert out == ""


@pytest.mark.slow
def test_capacity_against_a_dead_host_says_so_before_searching(tmp_path):
    started = time.monotonic()
    proc = loadgen("capacity", "--host", _dead_host(), "--level", "5s", "--start", "50",
                   "--out", tmp_path, timeout=60)  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and "is the target up?" in proc.stderr, proc.stderr
    assert time.monotonic() - started < 5  # not one level was run
    assert not (tmp_path / "levels").exists()


class _Server:
    """tests/support/http_server.py in a process of its own that the test can kill."""

    def __enter__(self) -> str:
        self._tmp = tempfile.TemporaryDirectory()
        port_file = Path(self._tmp.name) / "port"
        self.proc = subprocess.Popen([sys.executable, str(HTTP_SERVER), str(port_file)])
        deadline = time.monotonic() + 10
        while not port_file.exists():
            assert self.proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        return f"http://127.0.0.1:{port_file.read_text()}"

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def __exit__(self, *exc: object) -> None:
        self.kill()
        self._tmp.cleanup()


@pytest.mark.slow
def test_a_target_dying_mid_search_ends_the_search_saying_so(tmp_path):
    server = _Server()
    with server as url:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loadgen", "capacity", "--host", url, "--level", "1s",
             "--cooldown", "1s", "--start", "25", "--max-rps", "400", "--precision", "50%",
             "--min-responses", "0",
             "--scenario", "tests/support/scenarios.py:Get", "--out", str(tmp_path)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            first = ""
            while "/s" not in first or "p99" not in first:  # the first level's line
                first = proc.stdout.readline()
                assert first, proc.stderr.read()
            assert first.rstrip().endswith("pass"), first
            server.kill()
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
    assert proc.returncode == 1, out + err
    assert err.count("\n") == 1 and "is the target up?" in err, err
    report = json.loads((tmp_path / "capacity.json").read_text())
    assert report["found"] is False and report["sustained_rps"] == 25
    assert "answered nothing" in report["answer"], report["answer"]
    assert "is the target up?" in out
