"""A helper process kept out of the engine's way: off loadgen's cores, at the lowest priority."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import ROOT

CHILD = """
import os, subprocess, sys, time
from loadgen.measure.aside import move_off_our_cores, yield_the_cpu
os.sched_setaffinity(0, {0})            # loadgen pinned to core 0, as by taskset
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
move_off_our_cores(child.pid)
print(sorted(os.sched_getaffinity(child.pid)))
child.kill()
yield_the_cpu()
print(os.nice(0))
"""


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or (os.cpu_count() or 1) < 2, reason="needs 2 cores"
)
def test_a_helper_leaves_the_cores_loadgen_was_pinned_to_and_yields_the_cpu():
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stderr
    cores, niceness = proc.stdout.splitlines()
    moved = ast.literal_eval(cores)
    assert moved and 0 not in moved  # every core but loadgen's
    assert int(niceness) == 19


AUTOGROUP = Path("/proc/self/autogroup")


@pytest.mark.skipif(not AUTOGROUP.exists(), reason="no scheduler autogroups here")
def test_a_helper_in_a_session_of_its_own_lowers_its_session_s_group_too():
    """With autogroups, nice weighs only inside a session's group: the group's counts."""
    code = "from loadgen.measure.aside import yield_the_cpu; yield_the_cpu(True); " + (
        "print(open('/proc/self/autogroup').read())"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=30, start_new_session=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-2:] == ["nice", "19"], proc.stdout
    # Without asking, or in loadgen's own session, it leaves the group alone.
    mine_alone = subprocess.run([sys.executable, "-c", code.replace("(True)", "()")], cwd=ROOT,
                                capture_output=True, text=True, timeout=30,
                                start_new_session=True)  # fmt: skip
    assert mine_alone.stdout.split()[-2:] == ["nice", "0"], mine_alone.stdout
    mine = AUTOGROUP.read_text()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=30, capture_output=True)
    assert AUTOGROUP.read_text() == mine
