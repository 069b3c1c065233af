"""`--processes N`: one run over N local worker processes, merged exactly; and
`--shard I/N` runs put back together by `loadgen merge`. Real processes, loopback target."""

import signal
import subprocess
import sys
import time

import pytest

from tests.support.cli import (
    ROOT,
    RPS,
    SECONDS,
    loadgen,
    logged_responses,
    run_args,
    summary,
)
from tests.support.http_server import server_process


@pytest.fixture(scope="module")
def target():
    with server_process() as url:
        yield url


@pytest.fixture(scope="module")
def two_processes(target, tmp_path_factory):
    """A run over two processes that sent every arrival: the tests count exactly. On a
    busy machine a shard stalled across the window's end leaves its last arrivals
    unsent, and says so (`unsent`): such a run proves nothing of the counts, and
    is made again (3 runs at most)."""
    for _ in range(3):
        out = tmp_path_factory.mktemp("two")
        proc = loadgen(*run_args(target, "--processes", 2, "--out", out))
        assert proc.returncode == 0, proc.stderr
        if summary(out)["generator"]["unsent"] == 0:
            break
    return out, proc


@pytest.mark.slow
def test_two_processes_send_the_requested_total_rate(two_processes):
    out, proc = two_processes
    s = summary(out)
    assert s["requests"] == pytest.approx(RPS * SECONDS, rel=0.01)
    assert s["achieved_rps"] == pytest.approx(RPS, rel=0.01)
    assert s["target_rps"] == RPS  # every planned arrival sent: exactly
    assert s["errors"]["total"] == 0
    run = s["run"]
    assert run["processes"] == 2 and run["shard_count"] == 2 and run["missing_shards"] == []
    shards = run["shards"]
    assert [sh["status"] for sh in shards] == ["ok", "ok"]
    assert len({sh["pid"] for sh in shards}) == 2
    # Phase-offset constant schedules: the shards split the arrivals evenly.
    assert [sh["arrivals"] for sh in shards] == [RPS * SECONDS // 2] * 2
    assert all(sh["clock_skew_ms"] == 0.0 and sh["start_lead_ms"] > 0 for sh in shards)
    # The files are a single run's: the interval log holds every response once.
    assert logged_responses(out) == s["requests"]
    assert (out / "response.hgrm").is_file() and (out / "service-get.hgrm").is_file()
    assert "Response time" in proc.stdout


def start_shards_at_once(target, tmp_path):
    """Shards 0/2 and 1/2 as two commands given one --start-at; their --out folders.

    The start is 2 s ahead: both interpreters are up by then, unless the machine is
    too busy, and then a shard refuses a start in the past (exit 2, saying so). Both
    are started again, further ahead: a start missed is the machine's, not loadgen's;
    so is a run a stall left arrivals unsent of (the counts below are exact)."""
    for attempt, ahead in enumerate((2.0, 5.0, 10.0)):
        start_at = time.time() + ahead
        outs, procs = [tmp_path / f"try{attempt}" / f"shard-{i}" for i in range(2)], []
        for i, out in enumerate(outs):
            more = ("--shard", f"{i}/2", "--start-at", start_at, "--out", out)
            argv = [sys.executable, "-m", "loadgen", *map(str, run_args(target, *more, "--quiet"))]
            procs.append(subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True))
        ended = [(p.wait(60), p.stderr.read()) for p in procs]
        if all(status == 0 for status, _ in ended):
            # Every arrival sent (else a stall the shard said so: made again, as above).
            if all(summary(out)["generator"]["unsent"] == 0 for out in outs):
                return outs
            missed = ["a shard left arrivals unsent"]
            continue
        missed = [err for status, err in ended if status == 2 and "in the past" in err]
        assert missed and all(status in (0, 2) for status, _ in ended), ended
    raise AssertionError(f"the shards never ran undisturbed: {missed}")


@pytest.mark.slow
def test_shards_run_apart_and_merged_equal_the_multi_process_run(target, two_processes, tmp_path):
    shards = start_shards_at_once(target, tmp_path)
    one = summary(shards[1])
    assert one["run"]["shard"] == {"index": 1, "count": 2}
    assert one["requests"] == RPS * SECONDS // 2

    merged_out = tmp_path / "merged"
    proc = loadgen("merge", merged_out, *shards)
    assert proc.returncode == 0, proc.stderr
    assert "Response time" in proc.stdout
    merged, together = summary(merged_out), summary(two_processes[0])
    # Same seed, same shards: the same arrivals and the same task picks, counted the same.
    for key in ("requests", "arrivals"):
        assert merged[key] == together[key] == RPS * SECONDS
    assert merged["errors"] == together["errors"]
    assert {t: v["requests"] for t, v in merged["tasks"].items()} == {
        t: v["requests"] for t, v in together["tasks"].items()
    }
    assert merged["target_rps"] == pytest.approx(RPS, rel=0.01)
    assert merged["run"]["missing_shards"] == []
    assert logged_responses(merged_out) == merged["requests"]


@pytest.mark.slow
def test_a_shard_that_dies_is_reported_and_the_others_data_kept(target, tmp_path):
    proc = loadgen(
        "--host", target, "--rps", RPS, "--duration", f"{SECONDS}s", "--processes", 2,
        "--scenario", "tests/support/scenarios.py:ShardOneDies", "--out", tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "shard 1/2 is missing" in proc.stderr
    assert "exited with status 3" in proc.stderr
    assert "1/2 of the arrivals" in proc.stderr
    s = summary(tmp_path)  # written all the same
    assert s["run"]["missing_shards"] == [1]
    assert s["run"]["missing_share"] == 0.5
    assert s["run"]["shards"][1]["status"] == "missing"
    # Shard 0's share is all there: half of the run, and on target for that half
    # (sent, or left unsent by a stall at the window's end and said so).
    sent = s["requests"]
    assert sent + s["generator"]["unsent"] == RPS * SECONDS // 2
    assert s["target_rps"] == pytest.approx(RPS / 2, rel=0.01)
    assert s["achieved_rps"] == pytest.approx(sent / SECONDS, rel=0.01)
    # The headline says what the run was asked, and what of it was lost.
    run = s["run"]
    assert run["asked_rps"] == pytest.approx(RPS) and run["lost_rps"] == pytest.approx(RPS / 2)
    headline = proc.stdout.splitlines()[0]
    assert f"of {RPS:.1f}/s asked: {RPS / 2:.1f}/s lost with shards" in headline, headline
    page = (tmp_path / "report.html").read_text()
    assert f"(of {RPS:.1f}/s asked: {RPS / 2:.1f}/s lost with shards)" in page
    warned = " ".join(proc.stderr.split())
    assert f"warning: asked {RPS:.1f}/s; {RPS / 2:.1f}/s of it was lost" in warned


@pytest.mark.slow
def test_ctrl_c_stops_every_shard_and_keeps_what_they_measured(tmp_path):
    # The embedded server this time: started once by the parent, shared by the shards.
    proc = subprocess.Popen(
        [sys.executable, "-m", "loadgen", "--rps", "200", "--duration", "10s",
         "--processes", "2", "--out", str(tmp_path), "--quiet"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    log = tmp_path / "server-logs" / "access.log"
    while not (log.exists() and log.stat().st_size > 2000):  # load is flowing
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    s = summary(tmp_path)
    assert s["run"]["interrupted"] is True
    assert s["errors"]["total"] == 0
    assert 0 < s["requests"] < 200 * 10
    assert all(sh["status"] == "ok" and sh["arrivals"] > 0 for sh in s["run"]["shards"])
