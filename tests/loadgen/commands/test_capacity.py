"""`loadgen capacity` against the real embedded server: legacy breaks far earlier."""

import json
import re
import time

import pytest

from loadgen.commands.capacity import DEFAULT_SLOS, first_failure, judge, with_defaults
from loadgen.commands.capacity_search import FAIL, PASS, SATURATED, Capacity, Level
from loadgen.report.slo import evaluate, parse_slo
from tests.support.cli import GET_SCENARIO
from tests.support.cli import loadgen as run_cli
from tests.support.junit_schema import check_junit, failing

# 1 s levels, however few responses they hold.
QUICK = ["--level", "1s", "--cooldown", "0.2s", "--start", "25", "--max-rps", "200",
         "--precision", "50%", "--seed", "4", "--min-responses", "0"]  # fmt: skip


# A search here takes seconds; two of them must fit in pytest's 120 s per test
# (pyproject's `timeout`), so that a stuck one fails with its output, not a kill.
SEARCH_TIMEOUT_S = 50


def capacity(*args):
    return run_cli("capacity", *args, timeout=SEARCH_TIMEOUT_S)


@pytest.mark.slow
def test_legacy_limit_is_clearly_below_the_fixed_one(tmp_path):
    fixed = capacity(*QUICK, "--out", str(tmp_path / "fixed"))
    legacy = capacity(*QUICK, "--server-env", "LEGACY_BUGS=1", "--min-rps", "25",
                      "--out", str(tmp_path / "legacy"))  # fmt: skip
    assert fixed.returncode == 4, fixed.stdout + fixed.stderr  # no limit up to --max-rps
    assert legacy.returncode == 99, legacy.stdout + legacy.stderr  # even the first level fails
    f = json.loads((tmp_path / "fixed" / "capacity.json").read_text())
    g = json.loads((tmp_path / "legacy" / "capacity.json").read_text())
    assert f["sustained_rps"] == 200 and [lv["verdict"] for lv in f["levels"]] == [PASS] * 4
    assert g["sustained_rps"] is None and g["levels"][0]["verdict"] == FAIL
    assert "below" in g["answer"] and "below" in legacy.stdout  # not searched down: --min-rps
    assert "fail FAIL" not in legacy.stdout  # one verdict, then its reasons
    # The verdict, then its reasons (a p99 missed on a busy machine may come first).
    assert re.search(
        r"fail  (p99<=100ms \(measured [\d.]+ms\); )?errors<1% \(measured", legacy.stdout
    )
    assert f["slo"] == ["p99<=100ms", "errors<1%", "achieved>=99%"]
    assert (tmp_path / "fixed" / "levels" / "200.0rps" / "summary.json").is_file()
    page = (tmp_path / "fixed" / "capacity.html").read_text()
    assert "Latency vs throughput" in page and page.count("<circle") >= 4 * 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--factor", "1"), "--factor"),
        (("--start", "50", "--max-rps", "10"), "--max-rps"),
        (("--start", "5", "--min-rps", "10"), "--min-rps"),
        (("--min-responses", "-1"), "--min-responses"),
        (("--precision", "zero"), "--precision"),
        (("--slo", "task:nope:p99<1s"), "no task 'nope'"),
        (("--slo", "GET /nope: p99<1s"), "no task 'GET /nope'"),
    ],
)
def test_misuse(args, message):
    proc = capacity(*args)
    assert proc.returncode == 2 and message in proc.stderr


def summary(p99=10.0, errors=0.0, achieved=100.0, target=100.0, lag_max=1.0):
    latency = {"p50": 1.0, "p90": 2.0, "p99": p99, "p99.9": p99, "max": p99, "mean": 1.0}
    return {
        "requests": 1000,
        "errors": {"total": int(errors * 1000), "rate": errors},
        "latency_ms": {"response": latency, "service": latency},
        "tasks": {},
        "generator": {"send_lag_ms": {"p99": lag_max / 2, "max": lag_max}},
        "achieved_rps": achieved,
        "target_rps": target,
    }


DEFAULT = [parse_slo(t) for t in DEFAULT_SLOS]


@pytest.mark.parametrize(
    ("kwargs", "slos", "verdict"),
    [
        ({}, DEFAULT, PASS),
        ({"errors": 0.02}, DEFAULT, FAIL),
        ({"p99": 500.0, "lag_max": 5.0}, DEFAULT, FAIL),  # slow beyond what lag explains
        ({"p99": 130.0, "lag_max": 50.0}, DEFAULT, SATURATED),  # the lag could explain it
        ({"achieved": 90.0}, DEFAULT, SATURATED),  # the target never saw the full rate
        ({"achieved": 90.0}, [parse_slo("p99<1s")], SATURATED),  # even without the objective
        ({"achieved": 90.0, "errors": 0.5}, DEFAULT, FAIL),  # failing at less load fails anyway
        ({"p99": 500.0}, [parse_slo("p99<1s"), parse_slo("errors<60%")], PASS),  # --slo overrides
        ({"errors": 0.5}, [parse_slo("errors<60%")], PASS),
    ],
)
def test_judge(kwargs, slos, verdict):
    s = summary(**kwargs)
    assert judge(s, evaluate(slos, s))[0] == verdict


@pytest.mark.slow
def test_levels_can_be_generated_by_several_processes(tmp_path):
    from tests.support.http_server import server_process

    with server_process() as url:  # a loopback target: no bundled server to boot
        proc = capacity(
            "--host", url, "--scenario", GET_SCENARIO, "--level", "1s", "--cooldown", "0.2s",
            "--start", "50", "--max-rps", "100", "--processes", "2", "--out", str(tmp_path),
        )  # fmt: skip
    assert proc.returncode == 4, proc.stdout + proc.stderr  # no limit up to --max-rps
    report = json.loads((tmp_path / "capacity.json").read_text())
    assert [lv["verdict"] for lv in report["levels"]] == [PASS, PASS]
    level = json.loads((tmp_path / "levels" / "100.0rps" / "summary.json").read_text())
    assert level["run"]["processes"] == 2 and level["requests"] == 100


@pytest.mark.slow
def test_inconclusive_searches_have_their_own_exit_status(tmp_path):
    # Against a static loopback target, one 1 s level each.
    from tests.support.http_server import server_process

    # (A static target has no Wagon answers for the default mix to check: a GET each.)
    quick = ("--level", "1s", "--cooldown", "0.1s", "--start", "20", "--quiet",
             "--scenario", GET_SCENARIO, "--min-responses", "0")  # fmt: skip
    with server_process() as url:
        # Every level passes up to --max-rps: no limit was found.
        no_limit = capacity("--host", url, *quick, "--max-rps", "20", "--slo", "errors<1%",
                            "--out", tmp_path / "no-limit",
                            "--junit", tmp_path / "j.xml")  # fmt: skip
        # An objective the generator can never meet: it saturates before the target fails.
        saturated = capacity("--host", url, *quick, "--slo", "achieved>=101%",
                             "--out", tmp_path / "saturated")  # fmt: skip
    assert no_limit.returncode == 4, no_limit.stdout + no_limit.stderr
    # In JUnit: the search's answer fails (no limit found), its one level passed.
    junit = check_junit((tmp_path / "j.xml").read_text())
    assert failing(junit) == ["capacity"]
    assert "exit 4: no limit found up to 20/s" in junit.find(".//failure").get("message")
    level = junit.findall("testsuite")[1]
    assert [c.get("name") for c in level.iter("testcase")] == ["errors<1%", "verdict"]
    assert saturated.returncode == 3, saturated.stdout + saturated.stderr


@pytest.mark.slow
def test_ctrl_c_ends_the_search_with_what_was_measured(tmp_path):
    import signal
    import subprocess
    import sys

    from tests.support.http_server import server_process

    with server_process() as url:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loadgen", "capacity", "--host", url, "--start", "20",
             "--level", "1s", "--cooldown", "0.1s", "--max-rps", "100000", "--min-responses", "0",
             "--slo", "errors<1%", "--scenario", GET_SCENARIO, "--out", str(tmp_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        levels = tmp_path / "levels"
        deadline = time.monotonic() + 30
        while not (levels.is_dir() and len(list(levels.iterdir())) >= 2):  # two levels done
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err
    report = json.loads((tmp_path / "capacity.json").read_text())
    assert report["sustained_rps"] >= 20 and report["found"] is False
    assert "interrupted after" in report["answer"] and "interrupted after" in out


def test_why_is_the_limit_s_failure_not_the_overshoot_s():
    def level(rps, verdict, finding):
        diagnosis = [{"finding": finding, "summary": f"{finding} seen", "advice": "act"}]
        return Level(rps, verdict, summary={"diagnosis": diagnosis})

    levels = [level(1600, PASS, "none"), level(3200, FAIL, "overshoot"),
              level(2400, PASS, "none"), level(2800, FAIL, "limit")]  # fmt: skip
    assert first_failure(Capacity(levels, 2400, 2800)) == "fails at 2800/s: limit: limit seen — act"
    assert first_failure(Capacity(levels[:1], 1600, None)) is None


def test_why_names_the_top_finding_s_class_and_its_concurrency():
    pool = {"finding": "concurrency_limit", "weight": 0.9, "concurrency": 7.96,
            "summary": "the server handles about 8 requests at a time and its CPU is 6 % busy",
            "evidence": [], "advice": "raise the pool or make what it waits on faster"}  # fmt: skip
    timeouts = {"finding": "timeouts", "weight": 0.3, "summary": "4 % timed out", "advice": "x"}
    found = [{"finding": "none", "summary": "nothing stood out"}, pool, timeouts]
    levels = [Level(100, PASS), Level(200, FAIL, summary={"diagnosis": found})]
    assert first_failure(Capacity(levels, 100, 200)) == (
        "fails at 200/s: concurrency_limit (N ≈ 8.0): the server handles about 8 requests at "
        "a time and its CPU is 6 % busy — raise the pool or make what it waits on faster"
    )
    quiet = [Level(100, PASS), Level(200, FAIL, summary={"diagnosis": found[:1]})]
    assert first_failure(Capacity(quiet, 100, 200)) == "fails at 200/s: nothing stood out"


def test_a_tasks_own_slo_comes_beside_the_defaults():
    own = parse_slo("GET /slow: p99<500ms")
    assert [s.text for s in with_defaults([own])] == [*DEFAULT_SLOS, own.text]
    run_wide = parse_slo("p99<1s")
    assert with_defaults([run_wide, own]) == [run_wide, own]
    assert [s.text for s in with_defaults([])] == list(DEFAULT_SLOS)
