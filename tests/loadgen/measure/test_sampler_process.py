"""The sampling process beside a run: started and stopped with its block, sampling
each interval and when asked, never outliving loadgen, and off loadgen's cores."""

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from loadgen.measure.sampler_process import SamplerProcess
from server.launch import free_port
from tests.support.metrics import EXPOSITION, serving


def test_the_sampling_process_samples_each_interval_and_on_demand(tmp_path):
    with serving(200, EXPOSITION) as url:
        sampler = SamplerProcess(metrics_url=url, interval=0.2)
        began = time.monotonic()
        with sampler:
            # Unasked, samples keep coming, however long its interpreter took to start
            # (on a busy machine, more than a few intervals)...
            deadline = began + 20
            while len(sampler.samples) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            before = len(sampler.samples)
            # ...and no more often than each interval (the first at its start).
            assert 3 <= before <= (time.monotonic() - began) / 0.2 + 1
            sampler.sample_now()
            assert len(sampler.samples) >= before + 1  # it came before the answer
        assert len(sampler.samples) >= before + 2  # and the last one, on leaving the block
        assert all(s["loop_lag_max_ms"]["101"] == 1900.0 for s in sampler.samples)
        assert sampler.missing == {}
        assert sampler.sources == [url]


def test_a_metrics_url_that_fails_is_missing_not_an_error():
    url = f"http://127.0.0.1:{free_port()}/metrics"
    with SamplerProcess(metrics_url=url, interval=0.2) as sampler:
        time.sleep(0.3)
    assert sampler.samples and all("metrics" in s["missing"] for s in sampler.samples)
    assert "refused" in sampler.missing["metrics"]


def test_a_pid_that_does_not_exist_is_refused():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    with pytest.raises(ValueError, match="no process"):
        SamplerProcess(pid=proc.pid)


PARENT = """
import sys, time
from loadgen.measure.sampler_process import SamplerProcess
with SamplerProcess(pid=None, metrics_url=sys.argv[1]) as s:
    print(s._proc.pid, flush=True)
    time.sleep(60)
"""


def test_the_sampling_process_never_outlives_loadgen():
    url = f"http://127.0.0.1:{free_port()}/metrics"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, url], stdout=subprocess.PIPE, text=True
    )
    child = int(parent.stdout.readline())
    assert psutil.pid_exists(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if psutil.Process(child).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"sampling process {child} still runs after loadgen was killed")


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2, reason="two cores, Linux"
)
def test_the_sampling_process_keeps_off_the_cores_loadgen_is_pinned_to():
    url = f"http://127.0.0.1:{free_port()}/metrics"
    ours = os.sched_getaffinity(0)
    pinned = {min(ours)}
    os.sched_setaffinity(0, pinned)  # as `taskset -c 0 loadgen ...` does
    try:
        with SamplerProcess(metrics_url=url, interval=0.2) as sampler:
            sampler.sample_now()  # it is up and sampling
            theirs = os.sched_getaffinity(sampler._proc.pid)
            assert theirs and not theirs & pinned
            assert os.getpriority(os.PRIO_PROCESS, sampler._proc.pid) == 19
    finally:
        os.sched_setaffinity(0, ours)


@pytest.mark.slow
def test_with_no_source_the_sampling_process_still_samples_the_machine():
    with SamplerProcess(interval=0.2) as sampler:
        child = sampler._proc.pid
        sampler.sample_now()
        sampler.sample_now()
    assert sampler.sources == [] and sampler.missing == {}
    assert len(sampler.samples) >= 3  # the two asked for, and the last on "stop"
    for s in sampler.samples:
        assert set(s) == {"at", "generator_cpu", "generator_cpu_max", "machine"}
        assert set(s["machine"]) == {"cpu", "steal", "cores", "memory_limit_mb", "others"}
        assert s["machine"]["cores"] == psutil.cpu_count()
        assert s["machine"]["memory_limit_mb"] > 0
        assert 0 <= s["generator_cpu_max"] <= s["generator_cpu"] + 0.1
    # Neither loadgen (here, this process) nor the sampler is a rival of loadgen's.
    named = {o["pid"] for s in sampler.samples for o in s["machine"]["others"]}
    assert not named & {os.getpid(), child}
    assert not psutil.pid_exists(child)  # reaped, not a zombie


def test_what_is_sampled_is_said_in_words_and_nothing_runs_before_the_block(tmp_path):
    log = tmp_path / "error.log"
    sampler = SamplerProcess(pid=os.getpid(), metrics_url="http://127.0.0.1:1/m", error_log=log)
    assert sampler.sources == [
        f"process tree of pid {os.getpid()}",
        "http://127.0.0.1:1/m",
        str(log),
    ]
    sampler.sample_now()  # no process yet: nothing to ask, and no wait
    assert sampler.samples == [] and sampler.missing == {}


def test_a_server_that_goes_away_is_missing_from_then_on_and_sampling_goes_on():
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with SamplerProcess(pid=server.pid, interval=60) as sampler:
            sampler.sample_now()
            alive = sampler.samples[-1]
            server.kill()
            server.wait()
            sampler.sample_now()
            gone = sampler.samples[-1]
    finally:
        server.kill()
        server.wait()
    assert str(server.pid) in alive["workers"] and "missing" not in alive
    assert "workers" not in gone and "gone?" in gone["missing"]["process"]
    assert "machine" in gone  # the machine's side of the sample stands
    assert "gone?" in sampler.missing["process"]
