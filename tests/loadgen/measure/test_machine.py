"""The machine beside a run, on real processes: CPU machine-wide, who used it, memory limits."""

import contextlib
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from loadgen.measure.machine import (
    MachineCpu,
    ProcessTable,
    cgroup_memory_limit,
    memory_limit_mb,
    tree,
)
from loadgen.measure.sampler import ServerSampler

BURN_CODE = "import time\nend = time.time() + 20\nwhile time.time() < end: pass"
BURN = [sys.executable, "-c", BURN_CODE]
SLEEP = [sys.executable, "-c", "import time; print(1, flush=True); time.sleep(30)"]
# A stand-in for loadgen with --processes 2: a root that idles, two children that burn.
LOADGEN = f"""
import subprocess, sys, time
kids = [subprocess.Popen([sys.executable, "-c", {BURN_CODE!r}]) for _ in range(2)]
print(" ".join(str(k.pid) for k in kids), flush=True)
time.sleep(30)
"""


@pytest.fixture
def spawn():
    """Start processes in sessions of their own; each whole group is killed after the test."""
    started = []

    def start(argv, **kwargs):
        proc = subprocess.Popen(argv, start_new_session=True, **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.mark.slow
def test_a_stranger_burning_cpu_is_named_and_loadgen_and_the_server_are_not(spawn):
    loadgen = spawn([sys.executable, "-c", LOADGEN], stdout=subprocess.PIPE, text=True)
    engines = {int(p) for p in loadgen.stdout.readline().split()}
    server = spawn(BURN)
    stranger = spawn(BURN)
    sampler = ServerSampler(pid=server.pid, generator_pid=loadgen.pid)
    time.sleep(1.0)
    sample = sampler.sample()
    machine = sample["machine"]
    others = {o["pid"]: o for o in machine["others"]}
    assert stranger.pid in others, machine
    assert others[stranger.pid]["cpu"] >= 10 and others[stranger.pid]["name"].startswith("python")
    assert not others.keys() & {loadgen.pid, server.pid, os.getpid(), *engines}
    assert len(others) <= 3 and all(o["cpu"] >= 5 for o in others.values())
    # Four burners share the cores (and whatever else runs here): the machine was busy.
    assert machine["cpu"] >= 90 and 0 <= machine["steal"] <= machine["cpu"]
    assert machine["cpu"] <= 100 * machine["cores"] + 1
    # loadgen is the sum of its processes; the busiest one is one of them, not the sum.
    assert sample["generator_cpu"] >= 20
    assert 10 <= sample["generator_cpu_max"] <= sample["generator_cpu"] - 10


@pytest.mark.slow
def test_a_quiet_machine_names_nobody_idle(spawn):
    sleeper = spawn(SLEEP, stdout=subprocess.PIPE)
    sleeper.stdout.readline()  # up, its start-up's CPU spent: asleep from here on
    table = ProcessTable()
    time.sleep(0.3)
    cpu, parents = table.sample()
    assert cpu[sleeper.pid] < 5 and parents[sleeper.pid] == os.getpid()
    sampler = ServerSampler()
    time.sleep(0.3)
    others = sampler.sample()["machine"]["others"]
    assert sleeper.pid not in {o["pid"] for o in others}


@pytest.mark.slow
def test_a_process_that_ended_between_samples_is_skipped(spawn):
    gone = spawn(SLEEP, stdout=subprocess.PIPE)
    table = ProcessTable()
    assert gone.pid in table.sample()[1]
    gone.kill()
    gone.wait()
    cpu, parents = table.sample()
    assert gone.pid not in cpu and gone.pid not in parents
    assert table.name(gone.pid) is None


@pytest.mark.slow
def test_machine_cpu_counts_a_burning_core_in_percent_of_one_core(spawn):
    machine = MachineCpu()
    spawn(BURN)
    time.sleep(1.0)
    cpu, steal = machine.sample()
    assert machine.cores == psutil.cpu_count()
    assert 80 <= cpu <= 100 * machine.cores + 1  # one core's worth at least
    assert 0 <= steal <= cpu


def test_a_tree_is_its_root_and_everything_under_it():
    parents = {1: 0, 10: 1, 11: 10, 12: 11, 13: 10, 20: 1, 21: 20}
    assert tree(10, parents) == {10, 11, 12, 13}
    assert tree(21, parents) == {21}
    assert tree(99, parents) == {99}  # gone: only itself


@pytest.mark.slow
def test_the_memory_a_worker_holds_is_within_the_limit_it_may_grow_into(spawn):
    holder = spawn(
        [sys.executable, "-c", "import time; b = b'\\x01' * (200 << 20); print(1, flush=True); "
         "time.sleep(30)"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    holder.stdout.readline()
    sample = ServerSampler(pid=holder.pid).sample()
    rss = sample["workers"][str(holder.pid)]["rss_mb"]
    limit = sample["machine"]["memory_limit_mb"]
    assert rss >= 200
    assert rss < limit <= psutil.virtual_memory().total / 2**20 + 0.1
    assert limit == memory_limit_mb(holder.pid)


def _cgroup(root, rel, filename, value):
    d = root / rel
    d.mkdir(parents=True, exist_ok=True)
    (d / filename).write_text(value + "\n")


def test_cgroup_v2_the_tightest_limit_up_the_hierarchy_binds(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    _cgroup(tmp_path, "box", "memory.max", str(512 << 20))
    _cgroup(tmp_path, "box/app", "memory.max", "max")
    assert cgroup_memory_limit("0::/box/app\n", tmp_path) == 512 << 20
    _cgroup(tmp_path, "box/app", "memory.max", str(256 << 20))
    assert cgroup_memory_limit("0::/box/app\n", tmp_path) == 256 << 20
    _cgroup(tmp_path, "box", "memory.max", "max")
    _cgroup(tmp_path, "box/app", "memory.max", "max")
    assert cgroup_memory_limit("0::/box/app\n", tmp_path) is None


def test_cgroup_v2_inside_a_container_reads_its_root(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("memory\n")
    (tmp_path / "memory.max").write_text(f"{1 << 30}\n")  # the container's own cgroup
    assert cgroup_memory_limit("0::/\n", tmp_path) == 1 << 30
    # A path of the host's view, absent from the container's: its root still counts.
    assert cgroup_memory_limit("0::/docker/abc\n", tmp_path) == 1 << 30


def test_cgroup_v1_and_hybrid(tmp_path):
    unlimited = "9223372036854771712"
    _cgroup(tmp_path, "memory", "memory.limit_in_bytes", unlimited)
    _cgroup(tmp_path, "memory/jobs/7", "memory.limit_in_bytes", str(300 << 20))
    membership = "9:name=systemd:/\n4:memory:/jobs/7\n3:cpu,cpuacct:/\n0::/\n"
    assert cgroup_memory_limit(membership, tmp_path) == 300 << 20
    # Hybrid: v2 mounted at unified/ beside v1; a v2 limit there binds as well.
    _cgroup(tmp_path, "unified/jobs/7", "memory.max", str(100 << 20))
    assert cgroup_memory_limit(membership.replace("0::/", "0::/jobs/7"), tmp_path) == 100 << 20
    assert cgroup_memory_limit("", tmp_path) is None


def test_this_machine_s_memory_limit_is_at_most_its_ram():
    assert 0 < memory_limit_mb() <= psutil.virtual_memory().total / 2**20 + 0.1
