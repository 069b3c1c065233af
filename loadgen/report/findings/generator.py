"""Was it loadgen, or the machine it ran on? `generator_saturated` and `machine_busy`.

A run is late when it is flagged `behind` (report/summary.py: the rate not
sent, or send-lag p99 over 1 ms). Lateness has two causes this can tell
apart from the sampled seconds (`summary.machine`, every run):

- loadgen out of CPU: its busiest process used at least GENERATOR_BUSY of a
  core in the median second → generator_saturated. More processes
  (`--processes`) help only then, and only when there are cores to spare.
- loadgen sharing the machine with the server: the server's workers and
  loadgen together used SHARED_BUSY (85 %) of every core, the server at
  least SERVER_TOOK (half a core) → generator_saturated, said as sharing
  (how much CPU each had), whatever loadgen's own use: neither
  `--processes` nor a faster loadgen helps, a machine of its own does.
- the machine busy with other work: loadgen had CPU to spare, and other
  processes used at least OTHERS_BUSY of a core, or the hypervisor stole
  STEAL_BUSY → machine_busy, naming what took the CPU.

Weight, for both: 1 when the rate asked for was not sent (1 % or more of it:
what was measured is not what was asked), else the share of the response time's p99 that the
send-lag p99 makes up (2 ms late behind a 126 ms p99 explains little).
machine_busy is context: it never replaces `none`, and says the machine was
busy even when the run was not late. Late with CPU to spare on a quiet
machine is the timer's noise: said in `none`'s evidence, not a finding.
"""

from __future__ import annotations

from loadgen.report.findings.finding import Finding, worker_cpu_median
from loadgen.report.summary import BEHIND_ACHIEVED_RATIO, behind_reasons
from loadgen.report.summary_contract import Machine, Summary

GENERATOR_BUSY = 85.0  # % of one core
# The server and loadgen together using this share of every core: they shared it.
SHARED_BUSY = 0.85
SERVER_TOOK = 50.0  # % of one core
OTHERS_BUSY = 50.0  # % of one core
STEAL_BUSY = 10.0  # % of one core


def couldnt_send(summary: Summary) -> bool:
    """The rate asked for was not sent: arrivals short of the target by 1 % or more,
    or as many never sent (a few left unsent at the window's end measure the same load)."""
    short = summary["achieved_rps"] < BEHIND_ACHIEVED_RATIO * summary["target_rps"]
    unsent = summary["generator"].get("unsent", 0)
    asked = summary.get("arrivals", 0) + unsent
    return short or (asked > 0 and unsent / asked >= 1 - BEHIND_ACHIEVED_RATIO)


def _weight(summary: Summary) -> float:
    if couldnt_send(summary):
        return 1.0
    lag = summary["generator"]["send_lag_ms"]["p99"] or 0.0
    p99 = summary.get("latency_ms", {}).get("response", {}).get("p99")
    return 1.0 if not p99 else min(1.0, lag / p99)


# Below this weight a late send explains too little of the run to warn about.
LATE_MATTERS = 0.1


def lateness(summary: Summary) -> tuple[str, bool] | None:
    """What the reports say of a run flagged `behind` (None: it was not), and
    whether to warn: only when loadgen's lateness weighs in the run (it could
    not send the rate, or its lag is a tenth of the response p99 or more) —
    else the latencies stand, and crying wolf teaches users to skip warnings."""
    if not summary["generator"]["behind"]:
        return None
    why = "; ".join(behind_reasons(summary))
    weight = _weight(summary)
    if weight >= LATE_MATTERS:
        return (
            f"the generator fell behind ({why}): latencies describe this machine as much "
            "as the target",
            True,
        )
    return (
        f"some requests were sent late ({why}), {100 * weight:.1f} % of the response p99: "
        "the latencies stand",
        False,
    )


def loadgen_busiest(machine: Machine) -> float | None:
    """The CPU (% of a core) of loadgen's busiest process in the median second."""
    busiest = machine.get("generator_cpu_max_median", machine.get("generator_cpu_median"))
    return None if busiest is None else float(busiest)


def machine_busy(summary: Summary) -> Finding | None:
    """Other processes or the hypervisor took the CPU, named; said even when the run
    kept its schedule (context), or None."""
    machine = summary.get("machine", {})
    others = machine.get("others_median", 0.0)
    steal = machine.get("steal_median", 0.0)
    if others < OTHERS_BUSY and steal < STEAL_BUSY:
        return None
    named = ", ".join(
        f"{o['name']} (pid {o['pid']}, {o['cpu_mean']:.0f} %)"
        for o in machine.get("top_others", [])
    )
    parts = []
    if others >= OTHERS_BUSY:
        said = f": {named}" if named else ""
        parts.append(f"other processes used {others:.0f} % of a core{said}")
    if steal >= STEAL_BUSY:
        parts.append(f"the hypervisor stole {steal:.0f} % of a core")
    late = summary["generator"]["behind"]
    busiest = loadgen_busiest(machine)
    # Late and short of CPU itself is generator_saturated's to say, not "to spare".
    spare = (
        "with CPU to spare"
        if busiest is None or busiest < GENERATOR_BUSY
        else (f"and short of CPU itself (its busiest process at {busiest:.0f} % of a core)")
    )
    effect = (
        f"loadgen was late ({'; '.join(behind_reasons(summary))}) {spare}"
        if late
        else "loadgen kept its schedule"
    )
    return Finding(
        "machine_busy",
        _weight(summary) if late else 0.0,
        "the machine was busy with other work",
        f"{'; '.join(parts)} (median second, of {machine.get('cores', '?')} cores); {effect}",
        "measure on a quieter machine, or leave loadgen and the target cores of their own",
        context=True,
    )


def shared_with_server(summary: Summary) -> tuple[float, float, int] | None:
    """The server's and loadgen's CPU (cores, median second) and the machine's cores,
    when together they took SHARED_BUSY of every core and the server at least
    SERVER_TOOK of one (None: not so, or not sampled)."""
    server = worker_cpu_median(summary)
    machine = summary.get("machine", {})
    ours = machine.get("generator_cpu_median")
    cores = machine.get("cores") or summary.get("server", {}).get("cores")
    if server is None or ours is None or not cores:
        return None
    if server < SERVER_TOOK or server + ours < SHARED_BUSY * 100 * cores:
        return None
    return server / 100, ours / 100, int(cores)


def generator_saturated(summary: Summary) -> Finding | None:
    """loadgen late for want of CPU, its own or the machine's shared with the server
    (see the module docstring), or None."""
    if not summary["generator"]["behind"]:
        return None
    shared = shared_with_server(summary)
    if shared is not None and (couldnt_send(summary) or _weight(summary) >= LATE_MATTERS):
        return _sharing(summary, *shared)
    machine = summary.get("machine", {})
    busiest = loadgen_busiest(machine)
    busy_machine = (
        machine.get("others_median", 0.0) >= OTHERS_BUSY
        or machine.get("steal_median", 0.0) >= STEAL_BUSY
    )
    spare = busiest is not None and busiest < GENERATOR_BUSY
    if spare and (busy_machine or not couldnt_send(summary)):
        return None  # the machine's (machine_busy), or the timer's noise
    why = "; ".join(behind_reasons(summary))
    cpu = f"; loadgen's busiest process at {busiest:.0f} % of a core" if busiest is not None else ""
    return Finding(
        "generator_saturated",
        _weight(summary),
        "loadgen itself fell behind",
        f"{why}{cpu}: the latencies describe loadgen's machine as much as the target",
        _advice(summary, busiest),
    )


def _advice(summary: Summary, busiest: float | None) -> str:
    processes = summary["run"].get("processes") or 1
    cores = summary.get("machine", {}).get("cores") or summary.get("server", {}).get("cores", 1)
    if busiest is not None and busiest >= GENERATOR_BUSY and processes < cores:
        more = min(cores, 2 * processes)
        return f"run loadgen on more cores (--processes {more}) or another machine"
    if busiest is not None and busiest < GENERATOR_BUSY:
        return "loadgen had CPU to spare: look at what else held it up (the machine, the network)"
    return "run loadgen on another machine, or with more cores"


def _sharing(summary: Summary, server: float, ours: float, cores: int) -> Finding:
    """loadgen late on a machine the server's load filled: neither --processes nor a
    faster loadgen helps, a machine of its own does."""
    why = "; ".join(behind_reasons(summary))
    return Finding(
        "generator_saturated",
        _weight(summary),
        "loadgen shared the machine with the server, and fell behind",
        f"{why}: the server used {server:.1f} cores and loadgen {ours:.1f}, of this "
        f"machine's {cores} (median second): loadgen did not get the CPU it needed",
        "run loadgen on another machine, or give each cores of its own (taskset): the "
        "load sent then does not depend on the load served",
    )
