"""Sampling a real process tree: workers' CPU and memory, and a worker replaced."""

import os
import signal
import subprocess
import sys
import time

import pytest

from loadgen.measure.process_tree import ProcessTree

# A master that keeps two children, one spinning and one asleep, and replaces
# any that dies (as gunicorn does with its workers). It names them once both
# are past their start-up (each says so on its stdout): an interpreter starting
# uses CPU, and on a busy machine its start-up may reach into a test's window.
MASTER = """
import subprocess, sys, time
spin = [sys.executable, "-c", "print('up', flush=True)\\nwhile True: pass"]
sleep = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
kids = [subprocess.Popen(argv, stdout=subprocess.PIPE) for argv in (spin, sleep)]
for k in kids:
    k.stdout.readline()
print(" ".join(str(k.pid) for k in kids), flush=True)
while True:
    for i, k in enumerate(kids):
        if k.poll() is not None:
            kids[i] = subprocess.Popen(sleep, stdout=subprocess.DEVNULL)
    time.sleep(0.05)
"""


@pytest.fixture
def master():
    proc = subprocess.Popen(
        [sys.executable, "-c", MASTER], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    spinning, sleeping = (int(p) for p in proc.stdout.readline().split())
    yield proc, spinning, sleeping
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_workers_are_the_children_with_their_cpu_and_memory(master):
    proc, spinning, sleeping = master
    tree = ProcessTree(proc.pid)
    first = tree.sample()
    assert set(first) == {spinning, sleeping}
    assert all(w.cpu is None for w in first.values())  # nothing to compare with yet
    time.sleep(0.5)
    second = tree.sample()
    spinner, sleeper = second[spinning], second[sleeping]
    # The spinner wanted a whole core: what it did not get (a busy machine's
    # other processes had it), it waited for.
    assert spinner.cpu > 0 and spinner.cpu_wait is not None
    assert spinner.cpu + spinner.cpu_wait > 80  # % of one core
    assert sleeper.cpu < 10 and sleeper.cpu < spinner.cpu
    assert second[sleeping].rss_mb > 1
    assert tree.restarts == 0
    assert {proc.pid, spinning, sleeping} <= tree.pids()


def test_a_worker_replaced_counts_as_a_restart(master):
    proc, spinning, _ = master
    tree = ProcessTree(proc.pid)
    tree.sample()
    os.kill(spinning, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while tree.restarts == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
        workers = tree.sample()
    assert tree.restarts == 1
    assert spinning not in workers and len(workers) == 2


def test_a_process_without_children_is_its_own_worker():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert set(ProcessTree(proc.pid).sample()) == {proc.pid}
    finally:
        proc.kill()
        proc.wait()


def test_a_root_that_is_gone_samples_as_nothing_and_a_bad_pid_is_refused():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    tree = ProcessTree(proc.pid)
    proc.wait()
    assert tree.sample() is None
    with pytest.raises(ValueError, match="cannot sample process"):
        ProcessTree(proc.pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="schedstat is Linux's")
def test_a_worker_sharing_its_core_with_a_hog_waits_for_the_cpu():
    # Two spinners on one core: each runs about half the time and waits the other half.
    core = min(os.sched_getaffinity(0))
    pin = f"import os; os.sched_setaffinity(0, {{{core}}})\nwhile True: pass"
    worker = subprocess.Popen([sys.executable, "-c", pin])
    hog = subprocess.Popen([sys.executable, "-c", pin])
    try:
        tree = ProcessTree(worker.pid)
        tree.sample()
        time.sleep(1.0)
        [sample] = tree.sample().values()
        assert sample.cpu_wait is not None and sample.cpu_wait > 25  # % of one core
        assert sample.cpu + sample.cpu_wait > 80  # it wanted the whole core
    finally:
        for p in (worker, hog):
            p.kill()
            p.wait()


def test_a_sleeping_worker_waits_for_nothing(master):
    _, _, sleeping = master
    tree = ProcessTree(sleeping)
    tree.sample()  # past its start-up (the fixture waited for it), which does run
    time.sleep(0.5)
    [sample] = tree.sample().values()
    assert sample.cpu_wait is not None and sample.cpu_wait < 5
