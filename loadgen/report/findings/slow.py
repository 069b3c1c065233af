"""A task slower than its SLO on its own: `slow_at_any_load`.

- slow_at_any_load: a task's median service time, with the server lightly
  loaded, already breaks a latency objective it is judged by (its own, or
  the run's when it has none) at the p50 or above: no rate can meet that
  objective, since a lower rate only takes the queueing away, and there was
  none to take. A run-wide objective only when half the task's answers are
  more than its percentile allows over its tasks (a task of 0.5 % of the
  requests, however slow, leaves the run's p99 within reach). The fix is
  that request (or an SLO of its own), not the rate, so it heads the
  findings.

  Said only when the level shows the task's service time alone, and nothing
  else slowed it:
  - the server kept up and did not queue (report/concurrency.py: not
    saturated, not queued);
  - the task's p50 service time is within ALONE_FACTOR (1.5) of its fastest:
    most of its requests took what one takes alone (a queue spreads them);
  - at least MIN_TIMED (5) of its responses were timed;
  - nothing took the CPU from it: the server's workers below CPU_BUSY of
    the CPU they could have; they waited on the run queue for at most
    MAX_WAITED (50 %) of the CPU they used (a server that waited for the
    CPU as long as it ran was slowed by the machine, not by its work), and
    the task's time less that share of it (what the wait may have added,
    were it all CPU) still breaks the objective; past WAITED_SAID (10 %) the
    evidence says how much of its time is at least its own;
    where that wait is not sampled (no --server-pid, not Linux), other
    processes below OTHERS_BUSY of a core; no STEAL_BUSY stolen; loadgen
    not behind for want of CPU.
  Weight 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from loadgen.report.concurrency import read
from loadgen.report.findings.finding import Finding, loaded_server_seconds, pct, seconds_text
from loadgen.report.findings.generator import (
    OTHERS_BUSY,
    STEAL_BUSY,
    generator_saturated,
)
from loadgen.report.findings.server import CPU_BUSY, cpu_share
from loadgen.report.slo import SLO, run_wide_scope
from loadgen.report.summary import timed_responses
from loadgen.report.summary_contract import Summary

ALONE_FACTOR = 1.5
MIN_TIMED = 5
MAX_WAITED = 0.5
WAITED_SAID = 0.1
_SIGNS = {"<": "<", "<=": "≤"}


def objective_text(slo: SLO) -> str:
    """A latency objective as people read it: `p99 ≤ 100 ms`, `service p90 < 1 s`."""
    kind = "service " if slo.kind == "service" else ""
    return f"{kind}{slo.stat} {_SIGNS.get(slo.op, slo.op)} {seconds_text(slo.threshold)}"


def judged_by(slos: Sequence[SLO], task: str) -> list[SLO]:
    """The latency objectives that judge `task`: its own, else the run's."""
    latency = [s for s in slos if s.metric == "latency"]
    own = [s for s in latency if s.task == task]
    return own or [s for s in latency if s.task is None]


def _bounds_the_median(slo: SLO) -> bool:
    """An upper bound on a statistic at or above the median: a p50 over it breaks it."""
    if slo.op not in _SIGNS:
        return False
    return slo.stat == "max" or (slo.stat.startswith("p") and float(slo.stat[1:]) >= 50)


def _breaks(slo: SLO, task: str, p50: float, summary: Summary, slos: Sequence[SLO]) -> bool:
    """Whether `task`'s p50 over `slo` breaks it at any rate: its own objective, or a
    run-wide one when half its answers alone are more than the objective allows
    over its scope (a rare slow task leaves the run's p99 within reach)."""
    if not _bounds_the_median(slo) or slo.passes(p50):
        return False
    if slo.task is not None or slo.stat == "max":
        return True
    tasks = summary["tasks"]
    scope = run_wide_scope(slos, tasks, slo.kind) or frozenset(tasks)
    timed = sum(timed_responses(tasks[t]) for t in scope)
    over_it = 0.5 * timed_responses(tasks[task]) / timed if timed else 0.0
    return over_it > 1 - float(slo.stat[1:]) / 100


def waited_share(summary: Summary) -> float | None:
    """The CPU the server's workers waited for on the run queue, as a share of the
    CPU they used, over the loaded seconds (None: not sampled, or no CPU used)."""
    used = waited = 0.0
    for s in loaded_server_seconds(summary):
        for w in s.get("workers", {}).values():
            cpu, wait = w.get("cpu"), w.get("cpu_wait")
            if cpu is not None and wait is not None:
                used, waited = used + cpu, waited + wait
    return waited / used if used > 0 else None


def _quiet(summary: Summary) -> bool:
    """Nothing took the CPU from the target's requests (see the module docstring)."""
    machine = summary.get("machine", {})
    if machine.get("steal_median", 0.0) >= STEAL_BUSY:
        return False
    waited = waited_share(summary)
    if waited is not None:  # the server's own: did it get the CPU when it wanted it?
        if waited > MAX_WAITED:
            return False
    elif machine.get("others_median", 0.0) >= OTHERS_BUSY:
        return False
    share = cpu_share(summary)
    if share is not None and share >= CPU_BUSY:
        return False
    return generator_saturated(summary) is None


def slow_at_any_load(summary: Summary, slos: Sequence[SLO]) -> Finding | None:
    """A task that breaks its latency objective even unloaded: no rate can meet it, or None."""
    if not any(s.metric == "latency" for s in slos):
        return None
    c = read(summary)
    if c.saturated or c.queued or not _quiet(summary):
        return None
    waited = waited_share(summary) or 0.0
    slow: list[tuple[str, float, float, SLO]] = []  # task, p50, fastest, objective broken
    for name, task in summary["tasks"].items():
        p50 = task["latency_ms"]["service"]["p50"]
        fastest = task.get("service_min_ms")
        if p50 is None or not fastest or timed_responses(task) < MIN_TIMED:
            continue
        if p50 > ALONE_FACTOR * fastest:  # its requests waited: not its time alone
            continue
        own = p50 * (1 - waited)  # at least its own, whatever the CPU's wait added
        broken = [s for s in judged_by(slos, name) if _breaks(s, name, own, summary, slos)]
        if broken:
            slow.append((name, p50, fastest, min(broken, key=lambda s: s.threshold)))
    if not slow:
        return None
    slow.sort(key=lambda t: -t[1] / t[3].threshold)
    rate = f"{summary['achieved_rps']:.3g}/s"
    name, p50, _, slo = slow[0]
    also = f" ({len(slow) - 1} more task(s) too)" if len(slow) > 1 else ""
    short = (
        f"{name} takes {seconds_text(p50)} even alone (p50 at {rate}): no rate meets "
        f"{objective_text(slo)}{also}"
    )
    n = c.mean_service_ms and c.throughput_rps * c.mean_service_ms / 1000
    held = f"the server held {n:.2g} requests at a time on average" if n else "it kept up"
    evidence = "; ".join(
        f"{task}: service time p50 {seconds_text(p)}, fastest {seconds_text(f)}, against "
        f"{objective_text(s)}"
        for task, p, f, s in slow
    )
    evidence += (
        f" (at {rate}, {held}, without queueing: lower rates only take queueing away, "
        "and there was none)"
    )
    if waited > WAITED_SAID:
        evidence += (
            f"; the server waited for the CPU {pct(waited)} as long as it used it (a busy "
            f"machine): at least {seconds_text(p50 * (1 - waited))} of {name}'s time is its own"
        )
    own = all(s.task is not None for _, _, _, s in slow)
    advice = (
        "make that request faster, or loosen its own SLO"
        if own
        else f"make that request faster, or give it its own SLO (--slo '{name}: {slo.stat}<…')"
    )
    return Finding("slow_at_any_load", 1.0, short, evidence, advice)
