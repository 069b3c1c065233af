"""What the server's own sampled signals say: `server_cpu`, `event_loop_blocked`,
`worker_restarts`.

- server_cpu: the server's workers used at least CPU_BUSY (85 %) of the CPU
  they could have, in the median sampled second. What they could have is a
  core each, but no more cores than the machine has left after loadgen's own
  use: two workers sharing one free core are as saturated as two on two.
  A worker seen using above THREADED_PEAK (105 %) of a core, or using and
  waiting for above THREADED_WANT (150 %), runs threads on several cores:
  it could have every core left, and is said as one process using so many
  cores (threads), not as a worker at 182 %.
  Below 85 % a worker had idle time, so CPU was not what held it back —
  unless it spent the rest waiting for a CPU it was not given (the run
  queue, `cpu_wait`, sampled on Linux): a saturated server whose workers
  used and waited for at least 85 % of a core each wanted the CPU, and
  other processes had it. Then, when the server fell short or requests
  queued inside it, the finding says so and who took it.
  Weight: that median share; for a starved server, the saturation's
  (report/findings/queueing.py).
- event_loop_blocked: a worker's event loop ran a callback at least
  LOOP_BLOCKED_MS (50 ms) late, and one endpoint's mean server time is
  LOOP_BLOCKED_FACTOR (10) times every other's: one kind of request held the
  loop, and every other request on that worker waited behind it. Named only
  then, so the same run twice names the same endpoint. Without an endpoint
  standing apart, a late loop is a blocking call only when nothing else
  explains it: the lag is 10 times the median service time and neither the
  workers nor the machine were out of CPU (a loop not given the CPU is late
  too, and then every endpoint slows alike; and a loop is late at the moment
  its worker waited on the run queue as long, when another process's burst
  took the CPU: `stalls_starved`). Weight: the share of sampled seconds with
  such a stall.
- worker_restarts: a worker process was replaced while the run lasted
  (crashed, or killed for missing gunicorn's timeout). Weight: restarts per
  worker, at most 1.
"""

from __future__ import annotations

import statistics

from loadgen.report.concurrency import read
from loadgen.report.findings.finding import (
    Finding,
    loaded_server_seconds,
    pct,
    seconds_text,
    worker_cpu_median,
)
from loadgen.report.findings.generator import OTHERS_BUSY, STEAL_BUSY
from loadgen.report.summary_contract import Server, Summary

CPU_BUSY = 0.85
# A worker seen above this (% of one core) runs threads on several cores at once.
THREADED_PEAK = 105.0
# ... or used and waited for more than this: one thread cannot want 150 % of a core.
THREADED_WANT = 150.0
LOOP_BLOCKED_MS = 50.0
LOOP_BLOCKED_FACTOR = 10.0


def threaded(summary: Summary) -> set[str]:
    """The workers seen using more than a core (THREADED_PEAK), or using and waiting
    for a core and a half (THREADED_WANT), in a second: a process whose threads run
    on several cores at once, which one core does not bound."""
    workers = summary.get("server", {}).get("workers", {})
    many = {pid for pid, w in workers.items() if w.get("cpu_peak", 0.0) > THREADED_PEAK}
    for s in loaded_server_seconds(summary):
        for pid, w in s.get("workers", {}).items():
            if (w.get("cpu") or 0.0) + (w.get("cpu_wait") or 0.0) > THREADED_WANT:
                many.add(pid)
    return many


def cpu_share(summary: Summary) -> float | None:
    """The median second's share of the CPU the workers could have used (None: not
    sampled): a core each, or every core left for a threaded one."""
    cores = summary.get("server", {}).get("cores", 1)
    many = threaded(summary)
    shares = []
    for s in loaded_server_seconds(summary):
        workers = {pid: w["cpu"] for pid, w in s.get("workers", {}).items() if w["cpu"] is not None}
        if workers:
            free = max(cores - s.get("generator_cpu", 0.0) / 100, 0.1)
            could = sum(free if pid in many else 1.0 for pid in workers)
            shares.append(sum(workers.values()) / (100 * min(could, free)))
    return statistics.median(shares) if shares else None


def demand_share(summary: Summary) -> float | None:
    """The median second's CPU the workers used or waited for, per worker, in cores
    (None: the wait was not sampled)."""
    shares = []
    for s in loaded_server_seconds(summary):
        wanted = [
            cpu + wait
            for w in s.get("workers", {}).values()
            if (cpu := w.get("cpu")) is not None and (wait := w.get("cpu_wait")) is not None
        ]
        if wanted:
            shares.append(sum(wanted) / (100 * len(wanted)))
    return statistics.median(shares) if shares else None


def server_cpu(summary: Summary) -> Finding | None:
    """The server's workers out of CPU, or starved of it by other processes, or None."""
    server = summary.get("server", {})
    share = cpu_share(summary)
    if share is None:
        return None
    if share < CPU_BUSY:
        return _starved_of_cpu(summary)
    cores = server.get("cores", 1)
    per_worker = [
        sorted((w["cpu"] for w in s["workers"].values() if w["cpu"] is not None), reverse=True)
        for s in loaded_server_seconds(summary)
        if s.get("workers")
    ]
    per_worker = [c for c in per_worker if c]
    workers = len(per_worker[len(per_worker) // 2])
    typical = statistics.median(sum(c) / len(c) for c in per_worker)
    generator = server.get("generator_cpu_mean", 0.0) / 100
    free = cores - generator
    many = threaded(summary)
    if many:  # processes with threads: say the cores they used, not a % of one
        used = statistics.median(sum(c) for c in per_worker) / 100
        who = "one process" if workers == 1 else f"{workers} processes"
        short = f"{who} using {used:.1f} cores (threads)"
        evidence = (
            f"{short}: {pct(min(share, 1.0))} of the {free:.1f} cores left by loadgen "
            f"({generator:.1f} of {cores}) (median second)"
        )
    elif workers <= free + 0.5 and typical >= 100 * CPU_BUSY:  # a core each, and used
        who = (
            "the worker"
            if workers == 1
            else "both workers"
            if workers == 2
            else f"all {workers} workers"
        )
        short = f"{who} at {typical:.0f} % CPU"
        evidence = (
            f"{short} of a core each (median second; {cores} cores, loadgen using {generator:.1f})"
        )
    else:
        short = f"{workers} workers using {pct(min(share, 1.0))} of the CPU left to them"
        evidence = (
            f"{workers} workers at {typical:.0f} % of a core each: {pct(min(share, 1.0))} of the "
            f"{free:.1f} cores left by loadgen ({generator:.1f} of {cores}) (median second)"
        )
    advice = "add workers or cores" if workers < cores and not many else "add cores or machines"
    alone = slow_alone(endpoint_times(server))
    if alone is not None:  # the CPU goes to one endpoint's work: cheaper work beats more cores
        advice = f"make the work in {alone} cheaper, or {advice}"
    if generator >= 0.5:
        advice += (
            f" (loadgen took {generator:.1f} of this machine's {cores} cores: run it elsewhere)"
        )
    return Finding("server_cpu", min(share, 1.0), short, evidence, advice)


def _starved_of_cpu(summary: Summary) -> Finding | None:
    """CPU work that did not get the CPU (see the module docstring)."""
    c = read(summary)
    wanted = demand_share(summary)
    if not (c.saturated or c.queued) or wanted is None or wanted < CPU_BUSY:
        return None
    got = cpu_share(summary) or 0.0
    machine = summary.get("machine", {})
    named = ", ".join(f"{o['name']} (pid {o['pid']})" for o in machine.get("top_others", []))
    who = f": {named}" if named else ""
    came = (
        f"while {c.throughput_rps:.0f} answers/s of {c.offered_rps:.0f}/s offered came back; "
        f"other processes took the CPU{who}"
    )
    workers = len(summary.get("server", {}).get("workers", {})) or 1
    if threaded(summary):  # in cores: a process of threads wants more than one
        used = (worker_cpu_median(summary) or 0.0) / 100
        want = wanted * workers
        procs = "one process" if workers == 1 else f"{workers} processes"
        short = f"the server ({procs}, threads) wanted {want:.1f} cores and got {used:.1f}"
        evidence = (
            f"{procs} used {used:.1f} cores and waited on the run queue for "
            f"{max(want - used, 0.0):.1f} more (median second), {came}"
        )
    else:
        short = f"the server wanted {pct(min(wanted, 1.0))} of a core per worker and got {pct(got)}"
        evidence = (
            f"its workers used {pct(got)} of a core each and waited on the run queue for "
            f"{pct(max(wanted - got, 0.0))} more (median second), {came}"
        )
    return Finding(
        "server_cpu",
        max(c.shortfall, c.queueing, 0.5),
        f"{short}: it is CPU-bound on a busy machine",
        evidence,
        "give the server CPU of its own (fewer other processes, its own cores or machine), "
        "or make its work cheaper",
    )


def endpoint_times(server: Server) -> dict[str, float]:
    """Each endpoint's mean server time (ms), for those where it was measured."""
    endpoints = server.get("endpoints", {})
    return {h: ms for h, e in endpoints.items() if (ms := e["server_ms"]) is not None}


def slow_alone(endpoints: dict[str, float]) -> str | None:
    """The endpoint whose mean server time is LOOP_BLOCKED_FACTOR times every other's,
    if one is: a server merely overloaded slows its endpoints alike, one doing slow
    work on its loop stands out, however slow the queue made every request."""
    if len(endpoints) < 2:
        return None
    times = sorted(endpoints.items(), key=lambda kv: -kv[1])
    (slowest, top), (_, second) = times[0], times[1]
    return slowest if top >= LOOP_BLOCKED_FACTOR * second else None


def _starved(summary: Summary) -> bool:
    """Were the workers or the machine out of CPU (a late loop's other cause)?"""
    share = cpu_share(summary)
    wanted = demand_share(summary)
    machine = summary.get("machine", {})
    return (
        (share is not None and share >= CPU_BUSY)
        or (wanted is not None and wanted >= CPU_BUSY)
        or machine.get("others_median", 0.0) >= OTHERS_BUSY
        or machine.get("steal_median", 0.0) >= STEAL_BUSY
    )


def stalls_starved(summary: Summary) -> str | None:
    """Why every loop stall of the run was the CPU's, in words, or None (none was, or
    one was not).

    A loop is late too when its worker is not given the CPU: another process's
    burst (a browser starting, a build) leaves the median second quiet, and
    `_starved` with it. A stall is the CPU's when, in the second a worker's loop
    lag reached LOOP_BLOCKED_MS or the one before (a lag is reported once its
    callback has run), that worker waited on the run queue at least as long as
    its loop was late.
    """
    timeline = summary["timeline"]
    stalls = 0
    busy: dict[str, float] = {}  # the other processes at those moments, by name: worst CPU
    for i, entry in enumerate(timeline):
        lags = entry.get("server", {}).get("loop_lag_max_ms", {})
        for pid, lag in lags.items():
            if lag < LOOP_BLOCKED_MS:
                continue
            stalls += 1
            waited = 0.0
            for e in timeline[max(i - 1, 0) : i + 1]:
                worker = e.get("server", {}).get("workers", {}).get(pid, {})
                waited = max(waited, (worker.get("cpu_wait") or 0.0) * 10 * e["length"])
                for other in e.get("machine", {}).get("others", []):
                    busy[other["name"]] = max(busy.get(other["name"], 0.0), other["cpu"])
            if waited < lag:
                return None
    if not stalls:
        return None
    named = ", ".join(
        f"{name} {cpu:.0f} %" for name, cpu in sorted(busy.items(), key=lambda kv: -kv[1])[:3]
    )
    return "its workers waited on the run queue as long, for a CPU " + (
        f"other processes had ({named} of a core)" if named else "others had"
    )


def event_loop_blocked(summary: Summary) -> Finding | None:
    """A worker's event loop held by one kind of request (or a blocking call), or None."""
    server = summary.get("server", {})
    lag = server.get("loop_lag_ms", {})
    worst = lag.get("max")
    if worst is None or worst < LOOP_BLOCKED_MS:
        return None
    service_p50 = summary["latency_ms"]["service"]["p50"] or 0.0
    endpoints = endpoint_times(server)
    alone = slow_alone(endpoints)
    if alone is None and (
        _starved(summary)
        or worst < LOOP_BLOCKED_FACTOR * service_p50
        or stalls_starved(summary) is not None
    ):
        return None
    seconds = loaded_server_seconds(summary) or [
        e["server"] for e in summary["timeline"] if "server" in e
    ]
    stalled = sum(
        1
        for s in seconds
        if max(s.get("loop_lag_max_ms", {}).values(), default=0.0) >= LOOP_BLOCKED_MS
    )
    weight = stalled / len(seconds) if seconds else 0.0
    where = f" in {alone}" if alone else ""
    short = f"the event loop is blocked up to {seconds_text(worst)}{where}"
    evidence = f"event-loop lag max {seconds_text(worst)}"
    p99 = lag.get("p99")
    if p99 is not None:
        evidence += f", p99 ≤ {seconds_text(p99)}"
    evidence += f", against a median service time of {seconds_text(service_p50)}"
    if alone:
        others = max(ms for h, ms in endpoints.items() if h != alone)
        evidence += (
            f"; {alone} takes {seconds_text(endpoints[alone])} on average in the "
            f"server, every other endpoint at most {seconds_text(others)}"
        )
    advice = (
        f"take the slow work in {alone} off the event loop (a thread or process pool, or a "
        "cheaper algorithm)"
        if alone
        else "find the blocking call and take it off the event loop"
    )
    return Finding("event_loop_blocked", weight, short, evidence, advice)


def worker_restarts(summary: Summary) -> Finding | None:
    """Worker processes replaced while the run lasted, or None."""
    server = summary.get("server", {})
    restarts = server.get("restarts", 0)
    if not restarts:
        return None
    workers = max(len(server.get("workers", {})) - restarts, 1)
    short = f"{restarts} worker restart{'s' if restarts > 1 else ''}"
    return Finding(
        "worker_restarts",
        min(restarts / workers, 1.0),
        short,
        f"{short} while the run lasted: a worker crashed or was killed for missing "
        "gunicorn's timeout, and its requests in flight were lost",
        "read the error log for WORKER TIMEOUT or the crash",
    )
