"""Keeping a helper process out of the engine's way: off its cores, at the lowest priority.

loadgen's helper processes (the sampler, the live dashboard) do work that is
never urgent beside a request that is. Pinned to some cores (taskset, a
container's cpuset), loadgen pins its children there too, and a child sharing
the engine's core delays its sends even at the lowest priority; on another
core it costs the engine nothing. So a helper is moved to the cores loadgen
was not given, when there are any, and runs at nice 19 wherever it runs.
"""

from __future__ import annotations

import contextlib
import os
import subprocess


def move_off_our_cores(pid: int) -> None:
    """Run process `pid` on cores loadgen was not given, if it was confined (Linux).
    With every core loadgen's, or none left that we may use, it stays."""
    if not hasattr(os, "sched_getaffinity"):  # not Linux
        return
    others = set(range(os.cpu_count() or 1)) - os.sched_getaffinity(0)
    if others:
        with contextlib.suppress(OSError):  # none of them ours to use (a cpuset)
            os.sched_setaffinity(pid, others)


def end_child(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """End a helper fed on its stdin: close that pipe (its cue to finish), give it
    `timeout` seconds, then kill it: it never outlives the run."""
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def yield_the_cpu(whole_session: bool = False) -> None:
    """This process at the lowest priority: its work is never urgent, a request always is.

    A helper runs in a session of its own (a Ctrl-C is for loadgen), and where
    Linux groups each session's processes for the scheduler (autogroup), a
    process's nice weighs only against its own group's. `whole_session` lowers
    the group's too, so the helper yields to the target beside it as well: for
    the dashboard, whose page is no evidence. Not for the sampler: on a
    saturated machine its samples are the diagnosis's evidence, and starving
    it would lose exactly the seconds that matter.
    """
    with contextlib.suppress(OSError):
        os.nice(19)
    if whole_session and os.getsid(0) == os.getpid():  # its own group: no one else's
        # (OSError: not Linux, or no autogroup)
        with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as group:
            group.write("19")
