"""The command line end to end: the embedded server, the files, misuse, Ctrl-C."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

from loadgen.scenario.bundled.wagon import TASK_WEIGHTS
from server.launch import free_port
from tests.support.cli import GET_SCENARIO
from tests.support.cli import loadgen as run_cli
from tests.support.junit_schema import check_junit

RPS, SECONDS = 300, 3


def loadgen(*args, timeout=90, **kwargs):
    return run_cli(*args, timeout=timeout, **kwargs)


@pytest.fixture(scope="module")
def fixed_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fixed")
    proc = loadgen("--rps", str(RPS), "--duration", f"{SECONDS}s", "--seed", "3", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out, proc


@pytest.mark.slow
def test_run_against_the_embedded_server_sends_the_planned_requests(fixed_run):
    out, proc = fixed_run
    summary = json.loads((out / "summary.json").read_text())
    assert summary["requests"] == pytest.approx(RPS * SECONDS, rel=0.01)
    assert summary["achieved_rps"] == pytest.approx(RPS, rel=0.01)
    assert summary["errors"]["total"] == 0 and summary["errors"]["checks"] == {}  # all right
    tasks = summary["tasks"]
    assert set(tasks) == set(TASK_WEIGHTS)
    total_weight = sum(TASK_WEIGHTS.values())
    for name, weight in TASK_WEIGHTS.items():
        share = tasks[name]["requests"] / summary["requests"]
        assert share == pytest.approx(weight / total_weight, abs=0.06)
    # The terminal summary names every task and both latency kinds.
    for text in ("Response time", "Service time", *TASK_WEIGHTS):
        assert text in proc.stdout
    # Piped (not a terminal): long lines are not wrapped mid-phrase.
    generator = [ln for ln in proc.stdout.splitlines() if ln.startswith("generator:")]
    assert len(generator) == 1 and "connections opened" in generator[0]
    assert "\x1b[" not in proc.stdout  # nor coloured


@pytest.mark.slow
def test_summary_json_has_the_contract(fixed_run):
    s = json.loads((fixed_run[0] / "summary.json").read_text())
    assert s["schema"] == "loadgen.summary/1"
    assert s["target"].startswith("http://127.0.0.1:")
    assert s["arrival"] == "constant"
    for key in ("target_rps", "duration_s", "requests", "achieved_rps"):
        assert isinstance(s[key], int | float)
    assert set(s["errors"]) >= {"total", "by_kind"}
    keys = {"p50", "p90", "p99", "p99.9", "max", "mean"}
    for kind in ("response", "service"):
        assert set(s["latency_ms"][kind]) >= keys
        lat = s["latency_ms"][kind]
        assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99.9"] <= lat["max"]
        for task in s["tasks"].values():
            assert set(task["latency_ms"][kind]) >= keys
    # Response time includes everything service time does, and more.
    assert s["latency_ms"]["response"]["p50"] >= s["latency_ms"]["service"]["p50"]
    for task in s["tasks"].values():
        assert {"requests", "errors"} <= set(task)
    g = s["generator"]
    assert set(g["send_lag_ms"]) >= {"p50", "p99", "max"}
    assert g["max_in_flight"] >= 1
    assert g["connections_opened"] >= 1
    assert isinstance(g["behind"], bool)


@pytest.mark.slow
def test_interval_log_reads_back_with_hdrh(fixed_run):
    out = fixed_run[0]
    summary = json.loads((out / "summary.json").read_text())
    reader = HistogramLogReader(str(out / "intervals.hlog"), HdrHistogram(1, 3_600_000_000, 3))
    tags, total = set(), 0
    while (h := reader.get_next_interval_histogram()) is not None:
        tags.add(h.get_tag())
        if h.get_tag().startswith("response:"):
            total += h.get_total_count()
    assert tags == {f"{k}:{t}" for k in ("response", "service") for t in TASK_WEIGHTS}
    assert total == summary["requests"]
    assert reader.start_time_sec == pytest.approx(summary["run"]["started_at_epoch"], abs=0.01)


@pytest.mark.slow
def test_hgrm_files_parse(fixed_run):
    out = fixed_run[0]
    summary = json.loads((out / "summary.json").read_text())
    lines = (out / "response.hgrm").read_text().splitlines()
    assert lines[0].split() == ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]
    rows = [ln.split() for ln in lines[2:] if ln.strip() and not ln.startswith("#")]
    values = [float(r[0]) for r in rows]
    quantiles = [float(r[1]) for r in rows]
    assert values == sorted(values) and quantiles == sorted(quantiles)
    assert quantiles[-1] == 1.0
    assert int(rows[-1][2]) == summary["requests"]
    footer = "\n".join(ln for ln in lines if ln.startswith("#["))
    assert "Mean" in footer and "Max" in footer and "TotalCount" in footer
    for task in TASK_WEIGHTS:
        assert (out / f"service-{task}.hgrm").is_file()


@pytest.mark.slow
def test_legacy_mode_reproduces_the_bugs(tmp_path):
    proc = loadgen(
        "--rps", "100", "--duration", "2s", "--timeout", "2s", "--seed", "1",
        "--server-env", "LEGACY_BUGS=1", "--out", str(tmp_path), "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["run"]["embedded_server"]["env"] == {"LEGACY_BUGS": "1"}
    # Most random (a, b) pairs in [-150, 150] include a negative: uint16 overflow → 500.
    assert s["tasks"]["compute_addition"]["errors_by_kind"].get("http_500", 0) >= 50
    assert s["errors"]["total"] >= 50
    # A 500 is that error alone; the sums it does answer (both positive) are right, and
    # the slow Fibonacci numbers too: no check fails (server/legacy.py raises, never wraps).
    assert "check" not in s["errors"]["by_kind"] and s["errors"]["checks"] == {}
    assert (tmp_path / "server-logs" / "access.log").stat().st_size > 0


@pytest.mark.slow
def test_a_server_answering_wrong_numbers_fails_the_default_mix_s_checks(tmp_path):
    from tests.support.http_server import server_process

    with server_process(app="wrong-answers") as url:  # 200, and a + b + 1
        proc = loadgen("--host", url, "--rps", 60, "--duration", "1s", "--seed", 2,
                       "--out", tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    tasks = s["tasks"]
    assert tasks["index"]["errors"] == 0  # its answer is not checked
    for name in ("compute_addition", "compute_fib"):
        n = tasks[name]["requests"]
        assert n > 5 and tasks[name]["errors_by_kind"] == {"check": n}
        assert s["errors"]["checks"][name] == {"wrong result": n}
        assert tasks[name]["latency_ms"]["response"]["max"] > 0  # answered: timed all the same
    assert s["errors"]["by_kind"] == {"check": s["errors"]["total"]}
    n = tasks["compute_addition"]["requests"]
    assert f'failed checks: compute_addition {n}: {n}× "wrong result"' in proc.stdout
    assert "Failed checks" in (tmp_path / "report.html").read_text()
    report = loadgen("report", tmp_path, "--no-html")  # the saved run reads back whole
    assert report.returncode == 0, report.stderr
    assert f'failed checks: compute_addition {n}: {n}× "wrong result"' in report.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "--rps"),
        (("--rps", "0"), "positive rate"),
        (("--rps", "ten"), "positive rate"),
        (("--rps", "5", "--duration", "soon"), "invalid duration"),
        (("--rps", "5", "--arrival", "bursty"), "invalid choice"),
        (("--rps", "5", "--host", "ftp://x"), "http"),
        (("--rps", "5", "--scenario", "nope"), "module:Class"),
        (("--rps", "5", "--server-env", "NOEQUALS"), "KEY=VALUE"),
        (("--rps", "5", "--connections", "0"), "at least 1"),
        (("--rps", "5", "--bogus"), "unrecognized"),
        (("--rps", "5", "--stages", "1s:5"), "not allowed with"),
        (("--stages", "1s:0,2s:0"), "nothing would be sent"),
        (("--stages", "1s-5"), "duration:rate"),
        (("--rps", "10:"), "ramp"),
        (("--profile", "everest"), "invalid choice"),
        (("--rps", "5", "--server", "uvicorn", "--server-workers", "3"), "one process"),
    ],
)
def test_misuse_is_one_line_and_exit_2(args, message):
    proc = loadgen(*args, timeout=30)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("loadgen: error:") and message in lines[0]


@pytest.mark.slow
def test_out_must_not_be_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    proc = loadgen("--rps", "5", "--out", str(f), timeout=30)
    assert proc.returncode == 2 and "not a directory" in proc.stderr


@pytest.mark.slow
def test_help_explains_every_option():
    proc = loadgen("--help", timeout=30)
    assert proc.returncode == 0
    for option in ("--rps", "--duration", "--host", "--arrival", "--connections", "--timeout",
                   "--warmup", "--seed", "--client", "--scenario", "--out", "--quiet",
                   "--server-workers", "--server-env"):  # fmt: skip
        assert option in proc.stdout


def start_loaded_run(out, *more):
    """loadgen against the bundled server, once load is flowing (60 s planned)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadgen", "--rps", "50", "--duration", "60s", "--out", str(out),
         *more],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    log = out / "server-logs" / "access.log"
    deadline = time.monotonic() + 30
    while not (log.exists() and log.stat().st_size > 2000):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "load never started"
        time.sleep(0.1)
    return proc


def server_pids(out):
    """The bundled gunicorn's master and workers, from its error.log."""
    text = (out / "server-logs" / "error.log").read_text()
    master = [int(p) for p in re.findall(r"Listening at: \S+ \((\d+)\)", text)]
    workers = [int(p) for p in re.findall(r"Booting worker with pid: (\d+)", text)]
    return master + workers


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signals", "status"),
    [
        ([signal.SIGINT], 130),
        ([signal.SIGTERM], 143),
        ([signal.SIGHUP], 129),  # the terminal or SSH session closed
        ([signal.SIGINT, 0.05, signal.SIGINT], 130),  # a second Ctrl-C, in the drain
        ([signal.SIGINT, 0.4, signal.SIGINT], 130),
        ([signal.SIGINT, 0.9, signal.SIGINT], 130),  # ... or while the files are written
    ],
    ids=["int", "term", "hup", "int-int-0.05s", "int-int-0.4s", "int-int-0.9s"],
)
def test_a_stop_signal_ends_the_run_and_still_writes_the_report(tmp_path, signals, status):
    junit = tmp_path / "junit.xml"
    proc = start_loaded_run(tmp_path, "--slo", "p99<10s", "--junit", junit)
    pids = server_pids(tmp_path)
    started = time.monotonic()
    try:
        for step in signals:
            if isinstance(step, float):
                time.sleep(step)
            elif proc.poll() is None:
                proc.send_signal(step)
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert time.monotonic() - started < 20
    assert proc.returncode == status, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["run"]["interrupted"] is True
    assert 0 < s["requests"] < 50 * 60
    if len(signals) == 1:
        assert s["errors"]["total"] == 0  # drained, not cut off
        assert "Response time" in stdout
        # For CI: the SLO judged on what was measured, the run itself an error, saying why.
        root = check_junit(junit.read_text())
        assert [c.get("name") for c in root.iter("testcase")] == ["p99<10s", "run"]
        error = root.find(".//testcase[@name='run']/error").get("message")
        assert error.startswith(f"exit {status}: stopped by SIG"), error
    assert pids and not any(alive(pid) for pid in pids)  # the server went with it


@pytest.mark.slow
def test_the_bundled_server_never_outlives_a_killed_loadgen(tmp_path):
    proc = start_loaded_run(tmp_path)
    pids = server_pids(tmp_path)
    proc.kill()  # SIGKILL: no handler runs
    proc.wait()
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in pids):
        assert time.monotonic() < deadline, "the bundled server outlived loadgen"
        time.sleep(0.1)


@pytest.mark.slow
def test_httpx_client_through_the_same_seam(static_url, tmp_path):
    proc = loadgen("--host", static_url, "--scenario", GET_SCENARIO, "--rps", "40", "--duration",
                   "1s", "--client", "httpx", "--out", str(tmp_path), "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["run"]["client"] == "httpx"
    # On a busy machine the slower client may leave a few due at the end unsent: said, not lost.
    assert s["requests"] + s["generator"]["unsent"] == 40 and s["requests"] >= 20
    assert s["errors"]["total"] == 0


@pytest.mark.slow
def test_stages_profile_drives_the_arrivals(static_url, tmp_path):
    proc = loadgen("--host", static_url, "--scenario", GET_SCENARIO,
                   "--stages", "1s:40,1s:0,1s:80", "--out", str(tmp_path), "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["requests"] == pytest.approx(120, abs=1)
    assert s["duration_s"] == pytest.approx(3, abs=0.1)
    assert s["run"]["rate_profile"]["kind"] == "stages"
    per_second = [iv["arrivals"] for iv in s["timeline"]]
    # (an arrival may fall exactly on a stage boundary: ±1 per second)
    assert per_second[:3] == [
        pytest.approx(40, abs=1),
        pytest.approx(0, abs=1),
        pytest.approx(80, abs=1),
    ]


@pytest.mark.slow
def test_single_uvicorn_process_as_in_task_1(tmp_path):
    proc = loadgen(
        "--rps", "30", "--duration", "1s", "--server", "uvicorn", "--out", str(tmp_path), "--quiet"
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["run"]["embedded_server"]["server"] == "uvicorn"
    assert s["run"]["embedded_server"]["workers"] == 1
    assert s["requests"] == 30 and s["errors"]["total"] == 0
    assert "uvicorn" in (tmp_path / "server-logs" / "console.log").read_text().lower()


@pytest.mark.slow
def test_slos_judge_the_run_after_the_files_are_written(static_url, tmp_path):
    args = ("--host", static_url, "--scenario", GET_SCENARIO, "--rps", "30", "--duration", "1s",
            "--slo", "errors<1%", "--slo", "service:p95<10s")  # fmt: skip
    passing = loadgen(*args, "--out", str(tmp_path / "a"))
    assert passing.returncode == 0, passing.stderr
    assert "pass  errors<1%" in passing.stdout and "pass  service:p95<10s" in passing.stdout
    failing = loadgen(*args, "--slo", "p50<1us", "--out", str(tmp_path / "b"))
    assert failing.returncode == 99, failing.stderr
    assert "FAIL  p50<1us" in failing.stdout
    s = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert [r["passed"] for r in s["slo"]] == [True, True, False]
    assert (tmp_path / "b" / "intervals.hlog").is_file()


@pytest.mark.slow
def test_a_malformed_slo_stops_before_any_load(tmp_path):
    proc = loadgen("--rps", "5", "--slo", "p99<<5", "--out", str(tmp_path / "x"))
    assert proc.returncode == 2 and "not an SLO" in proc.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_an_slo_on_a_task_the_scenario_lacks_stops_before_any_load(tmp_path):
    proc = loadgen("--rps", "5", "--slo", "task:compute_fibb:p99<1s", "--out", str(tmp_path / "x"))
    assert proc.returncode == 2, proc.stderr
    assert "no task 'compute_fibb'" in proc.stderr and "compute_fib" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "x").exists()


@pytest.mark.slow
def test_latency_slos_fail_when_nothing_was_timed(tmp_path):
    """Against a refused port every request is a connect error: no latency to pass."""
    refused = f"http://127.0.0.1:{free_port()}"
    slos = ("--slo", "p99<50ms", "--slo", "task:index:service:p95<1s")
    args = ("--rps", "20", "--duration", "1s", "--host", refused, "--out", str(tmp_path))
    proc = loadgen(*args, *slos, "--quiet")
    assert proc.returncode == 99, proc.stderr
    # --quiet drops the summary, never the verdicts (they explain the exit status).
    assert "FAIL  p99<50ms  (measured n/a)" in proc.stdout and "Response time" not in proc.stdout
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["errors"]["by_kind"].get("connect") == s["requests"] > 0
    assert [(r["measured"], r["passed"]) for r in s["slo"]] == [("n/a", False)] * 2


@pytest.fixture(scope="module")
def static_url():
    from tests.support.http_server import server_process

    with server_process() as url:
        yield url


@pytest.mark.slow
@pytest.mark.parametrize(
    "rate", [("--rps", "1e12"), ("--stages", "30s:1e12")], ids=["rps", "stages"]
)
def test_a_rate_beyond_the_generator_ends_on_time_and_counts_what_it_never_sent(
    static_url, tmp_path, rate
):
    started = time.monotonic()
    proc = loadgen("--host", static_url, *rate, "--duration", "0.5s", "--timeout", "1s",
                   "--out", tmp_path, "--quiet", timeout=60)  # fmt: skip
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    # warm-up 0 + duration 0.5 s + timeout 1 s, and the interpreter's start and the files.
    assert took < 0.5 + 1.0 + 4.0
    gen = s["generator"]
    assert gen["unsent"] > 10**9 and gen["behind"]
    assert s["target_rps"] == pytest.approx((s["arrivals"] + gen["unsent"]) / 0.5)


@pytest.mark.slow
def test_a_run_that_sent_every_arrival_meets_its_target_exactly(static_url, tmp_path):
    slos = ("--slo", "achieved>=500/s", "--slo", "achieved>=100%")
    proc = loadgen("--host", static_url, "--rps", 500, "--duration", "2s", *slos, "--out", tmp_path)
    s = json.loads((tmp_path / "summary.json").read_text())
    unsent = s["generator"]["unsent"]
    # No arrival lost in the counting: the target is what was planned, the
    # achieved rate what went. On a busy machine a stall at the window's end
    # may leave a few due arrivals unsent; then both SLOs fail, and say why.
    assert s["target_rps"] == 500.0
    assert s["achieved_rps"] == (1000 - unsent) / 2 == s["requests"] / 2
    if unsent == 0:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    else:
        assert proc.returncode == 99, proc.stdout + proc.stderr
        assert re.search(rf"{unsent} arrivals? due (was|were) never sent", proc.stdout)


@pytest.mark.slow
def test_a_closed_stdout_loses_no_file(static_url, tmp_path):
    # `loadgen ... --out DIR | head -1`
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadgen", "--host", static_url, "--rps", "50", "--duration", "1s",
         "--out", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(30) == 0, err
    assert err == ""
    assert json.loads((tmp_path / "summary.json").read_text())["requests"] == 50


@pytest.mark.slow
def test_a_run_in_which_nothing_answered_says_so_and_fails(tmp_path):
    refused = f"http://127.0.0.1:{free_port()}"
    proc = loadgen("--rps", 20, "--duration", "1s", "--host", refused, "--out", tmp_path,
                   "--quiet")  # fmt: skip
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        "loadgen: error: no request got a response (20 connect errors): is the target up?\n"
    )
    s = json.loads((tmp_path / "summary.json").read_text())  # written all the same
    assert s["latency_ms"]["response"]["p99"] is None
    report = loadgen("report", tmp_path, "--no-html")
    total = next(ln for ln in report.stdout.splitlines() if ln.startswith("total"))
    assert total.split()[3:] == ["n/a"] * 5  # p50 ... max: not 0.00


@pytest.mark.slow
def test_a_scenario_file_that_fails_to_load_is_misuse_before_any_load(tmp_path):
    bad = tmp_path / "bad_mix.py"
    bad.write_text("import sys\nsys.exit('bye')\n")
    proc = loadgen("--rps", 5, "--scenario", f"{bad}:Mix", "--out", tmp_path / "x", timeout=30)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and str(bad) in proc.stderr, proc.stderr
    assert "it called sys.exit('bye')" in proc.stderr
    assert not (tmp_path / "x").exists()


def test_a_duration_other_than_the_profile_s_own_is_said():
    from loadgen.commands.run import duration_mismatch
    from loadgen.core.rates import ConstantRate, stages, wagon_ladder

    assert duration_mismatch(wagon_ladder(), 10.0) == (
        "--duration 10 s cuts the wagon-ladder profile (2 min 27 s) short: "
        "only its first 10 s are sent"
    )
    assert "nothing is sent in its last 1 min" in duration_mismatch(stages([(60, 5)]), 120.0)
    assert duration_mismatch(stages([(60, 5)]), 60.0) is None
    assert duration_mismatch(stages([(60, 5)]), None) is None
    assert duration_mismatch(ConstantRate(5), 10.0) is None  # no length of its own


@pytest.mark.slow
def test_secrets_given_on_the_command_line_are_never_written_or_printed(tmp_path):
    run = loadgen("--rps", 20, "--duration", "1s", "--server-env", "API_TOKEN=s3cr3t-value",
                  "--out", tmp_path / "a")  # fmt: skip
    assert run.returncode == 0, run.stderr
    with_host = loadgen("--rps", 20, "--duration", "1s", "--out", tmp_path / "b",
                        "--host", f"http://ann:hunter2@127.0.0.1:{free_port()}")  # fmt: skip
    for proc, out, secret in ((run, "a", "s3cr3t-value"), (with_host, "b", "hunter2")):
        for name in ("summary.json", "report.html"):
            assert secret not in (tmp_path / out / name).read_text()
        assert secret not in proc.stdout + proc.stderr
    s = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert s["run"]["embedded_server"]["env"] == {"API_TOKEN": "***"}
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["target"].startswith(
        "http://ann:***@127.0.0.1:"
    )


@pytest.mark.parametrize("host", ["http://127.0.0.1:8000/?x=1", "http://127.0.0.1:8000/#top"])
def test_a_query_or_fragment_in_the_host_is_refused(host, capsys):
    from loadgen.commands.main import main

    assert main(["--rps", "5", "--host", host]) == 2
    assert "takes no query string or fragment" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """The bundled app under gunicorn over TLS, with a test CA's certificate."""
    import ssl

    from server.launch import start_gunicorn, stop_gunicorn, wait_until_serving
    from tests.support.certs import make_certs

    tmp = tmp_path_factory.mktemp("tls")
    certs = make_certs(tmp)
    port = free_port()
    tls_args = ["--certfile", str(certs.server_pem), "--keyfile", str(certs.server_key)]
    proc = start_gunicorn(f"127.0.0.1:{port}", 2, tmp / "logs", extra_args=tls_args)
    url = f"https://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc, tls=ssl.create_default_context(cafile=str(certs.ca_pem)))
        yield url, certs
    finally:
        stop_gunicorn(proc)


@pytest.mark.slow
def test_https_with_the_private_ca_has_no_errors_and_times_the_handshakes(tls_server, tmp_path):
    url, certs = tls_server
    proc = loadgen("--host", url, "--ca-cert", certs.ca_pem, "--rps", 200, "--duration", "2s",
                   "--out", tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["errors"]["total"] == 0 and s["requests"] == 400
    connect = s["generator"]["connect_ms"]
    assert 0 < connect["p50"] <= connect["max"] < 5000
    assert s["run"]["tls"] == {"verify": True, "ca_cert": str(certs.ca_pem), "client_cert": None}
    assert "connect: p50" in proc.stdout


@pytest.mark.slow
def test_https_without_the_ca_is_all_tls_errors_said_once(tls_server, tmp_path):
    url, _ = tls_server
    proc = loadgen("--host", url, "--rps", 20, "--duration", "1s", "--out", tmp_path)
    assert proc.returncode == 1  # nothing answered
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["errors"]["by_kind"] == {"tls": 20}
    assert proc.stdout.count("certificate verify failed") == 1
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_insecure_is_said_in_the_report_and_summary(tls_server, tmp_path):
    url, _ = tls_server
    proc = loadgen("--host", url, "--insecure", "--rps", 20, "--duration", "1s", "--out", tmp_path)
    assert proc.returncode == 0, proc.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["errors"]["total"] == 0 and s["run"]["tls"]["verify"] is False
    assert "TLS certificates were not verified (--insecure)" in proc.stdout
    assert "not verified" in (tmp_path / "report.html").read_text()


@pytest.mark.slow
def test_headers_given_on_the_command_line_arrive_on_every_request(tmp_path):
    from tests.support.http_server import server_process

    heads = tmp_path / "heads"
    with server_process(record=heads) as url:
        headers = ("--header", "Authorization: Bearer t0k3n", "--header", "X-Env:staging")
        proc = loadgen("--host", url, "--rps", 30, "--duration", "1s", "--quiet", *headers,
                       "--out", tmp_path / "run")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    requests = heads.read_bytes().split(b"\r\n\r\n")[:-1]
    assert len(requests) == 30
    assert all(b"\r\nAuthorization: Bearer t0k3n\r\n" in r and b"\r\nX-Env: staging" in r
               for r in requests)  # fmt: skip
    assert "t0k3n" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--header", "NoColon"), "expected 'Name: value'"),
        (("--header", "X-A: 1\r\nInjected: yes"), "CR, LF or NUL"),
        (("--header", "Bad Name: v"), "not an HTTP token"),
        (("--ca-cert", "ca.pem"), "--ca-cert is for an https:// --host"),
        (("--host", "https://127.0.0.1:9", "--ca-cert", "/nonexistent.pem"), "/nonexistent.pem"),
        (("--host", "https://127.0.0.1:9", "--client-key", "k.pem"), "goes with --client-cert"),
    ],
)
def test_header_and_tls_misuse_is_one_line_and_exit_2(args, says, capsys):
    from loadgen.commands.main import main

    argv = ["--rps", "5", *args]
    if "--host" not in args:
        argv += ["--host", "http://127.0.0.1:9"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1, err


def test_nothing_sent_says_whether_none_was_due_or_all_were_left_unsent():
    from loadgen.commands.run import nothing_answered

    def ran(unsent):
        return {"latency_ms": {"response": {"max": None}}, "errors": {"by_kind": {}},
                "generator": {"unsent": unsent}}  # fmt: skip

    assert "asked for none" in nothing_answered(ran(0))
    said = nothing_answered(ran(3000))
    assert "all 3000 due were left unsent" in said and "asked for none" not in said


@pytest.mark.parametrize(
    ("by_kind", "up"),
    [
        ({"connect": 20}, True),
        ({"connect_timeout": 3, "reset": 2}, True),  # some connections never opened
        ({"protocol": 40}, False),  # garbage from a listening server
        ({"body_too_large": 1}, False),
        ({"timeout": 5}, False),
        ({"reset": 40}, False),
    ],
)
def test_is_the_target_up_is_asked_only_when_no_connection_opened(by_kind, up):
    from loadgen.commands.run import nothing_answered

    said = nothing_answered({"latency_ms": {"response": {"max": None}},
                             "errors": {"by_kind": by_kind}, "generator": {}})  # fmt: skip
    assert said.startswith("no request got a response (")
    assert ("is the target up?" in said) is up, said
    assert up or "took the connections but gave no complete answer" in said
