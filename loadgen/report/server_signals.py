"""The target's own signals in the summary: per second beside the load, and run totals.

`attach(summary, signals)` puts each sample of the sampler (see
measure/sampler.py) on the timeline second it describes, as
`timeline[i].server`, and sums them up as `summary.server`:

    workers      {pid: {cpu_peak, cpu_mean, rss_peak_mb}}   CPU in % of one core
    restarts     workers that appeared after the first sample
    loop_lag_ms  {p99, max}: p99 is a bucket's upper bound (≤), max the worst
                 the workers reported
    endpoints    {handler: {requests, errors_5xx, server_ms}}: server_ms the
                 mean time the server itself spent, per request
    error_log_errors, generator_cpu_mean, cores, sources, missing

and the machine's side of each sample, which the sampler takes on every run,
whether or not the target is sampled, as `timeline[i].machine`
({cpu, steal, cores, others, generator_cpu, generator_cpu_max}) and
`summary.machine` (see `machine_totals`): so a late send can be told to be
loadgen's own CPU, or another process's.

A sample taken at time `at` describes the interval before it, so it goes to
the second holding `at − interval/2` (the first or last second, for one
straddling the run's start or end). When no source was given, or every
sample of every source went missing, `summary.server.note` says so and the
run's other numbers stand as they are.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from loadgen.report.summary_contract import (
    Endpoint,
    LoopLag,
    Machine,
    MachineSecond,
    OtherSecond,
    Server,
    ServerSecond,
    Summary,
    WorkerTotals,
)

# One sample as the sampling process sent it (see measure/sampler.py): `at`,
# and the fields of `MachineSecond` and `ServerSecond`, as JSON gave them.
Sample = dict[str, Any]


@dataclass
class ServerSignals:
    """What the sampler gathered, as the report needs it (plain data)."""

    samples: list[Sample] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # source → first reason
    interval: float = 1.0
    cores: int = 1  # of the machine the sampled processes ran on (loadgen's)


NO_SOURCES = (
    "no server signals: the target was given by --host; pass --server-metrics URL "
    "(a Prometheus endpoint) and/or --server-pid PID (a local process) to sample it"
)


def attach(summary: Summary, signals: ServerSignals | None, note: str = NO_SOURCES) -> None:
    """Add `timeline[].server` and `server` to a summary (see the module docstring);
    without signals, `note` says why there are none."""
    timeline = summary["timeline"]
    for entry in timeline:
        entry.pop("server", None)
        entry.pop("machine", None)
    if signals is not None:
        _place(summary, signals)
        machine = machine_totals([e["machine"] for e in timeline if "machine" in e])
        if machine:
            summary["machine"] = machine
    if signals is None or not signals.sources:
        for entry in timeline:
            entry.pop("server", None)
        summary["server"] = {"sources": [], "note": note}
        return
    summary["server"] = totals([e["server"] for e in timeline if "server" in e], signals)


_MACHINE_KEYS = ("machine", "generator_cpu", "generator_cpu_max")


def _place(summary: Summary, signals: ServerSignals) -> None:
    """Each sample on the timeline second it describes: the machine's part as
    `machine`, the server's as `server`."""
    start = summary["run"]["started_at_epoch"]
    timeline = summary["timeline"]
    end = max((e["t"] + e["length"] for e in timeline), default=0.0)
    for sample in signals.samples:
        at = sample["at"] - start
        if at <= 0 or at - signals.interval >= end:
            continue  # all of it before the run, or after it
        # Its middle, kept inside the run: a sample straddling the start or the
        # end still counts what it saw (the errors of the first second too).
        t = min(max(at - signals.interval / 2, 0.0), end - 1e-9)
        entry = next((e for e in timeline if e["t"] <= t < e["t"] + e["length"]), None)
        if entry is None:
            continue
        if "machine" in sample:  # levels: the later sample of a second stands
            machine = {
                **sample["machine"],
                **{k: sample[k] for k in _MACHINE_KEYS[1:] if k in sample},
            }
            entry["machine"] = cast(MachineSecond, machine)  # the sampler's fields
        if set(sample) <= {"at", "missing", *_MACHINE_KEYS}:
            continue  # every server source missed: nothing of the server's
        previous = entry.get("server")
        server = cast(  # the sampler's fields (measure/sampler.py)
            ServerSecond, {k: v for k, v in sample.items() if k not in ("at", "missing", "machine")}
        )
        entry["server"] = server if previous is None else _fold(previous, server)


def machine_totals(seconds: list[MachineSecond]) -> Machine | None:
    """The run's machine block: medians over its sampled seconds (a level, not a peak:
    one busy second is not a busy machine), and who else used the CPU.

        cpu_median, steal_median   CPU used machine-wide, stolen by the hypervisor
        others_median              used by neither loadgen nor the sampled server:
                                   cpu − generator_cpu − the server's workers
        generator_cpu_median       loadgen's processes together
        generator_cpu_max_median   the busiest single loadgen process
        cores, memory_limit_mb, top_others [{name, pid, cpu_mean}]
    All CPU figures in % of one core.
    """
    if not seconds:
        return None
    others = [sum(o["cpu"] for o in s.get("others", [])) for s in seconds]
    out: Machine = {
        "seconds_sampled": len(seconds),
        "others_median": round(statistics.median(others), 1),
    }
    if (cpu := _median(s.get("cpu") for s in seconds)) is not None:
        out["cpu_median"] = cpu
    if (steal := _median(s.get("steal") for s in seconds)) is not None:
        out["steal_median"] = steal
    if (ours := _median(s.get("generator_cpu") for s in seconds)) is not None:
        out["generator_cpu_median"] = ours
    if (busiest := _median(s.get("generator_cpu_max") for s in seconds)) is not None:
        out["generator_cpu_max_median"] = busiest
    if cores := [c for s in seconds if (c := s.get("cores"))]:
        out["cores"] = cores[-1]
    if limits := [m for s in seconds if (m := s.get("memory_limit_mb"))]:
        out["memory_limit_mb"] = limits[-1]
    by_pid: dict[int, OtherSecond] = {}
    for s in seconds:
        for o in s.get("others", []):
            seen = by_pid.setdefault(o["pid"], {"name": o["name"], "pid": o["pid"], "cpu": 0.0})
            seen["cpu"] += o["cpu"]
    top = sorted(by_pid.values(), key=lambda o: -o["cpu"])[:3]
    out["top_others"] = [
        {"name": o["name"], "pid": o["pid"], "cpu_mean": round(o["cpu"] / len(seconds), 1)}
        for o in top
    ]
    return out


def _median(values: Iterable[float | None]) -> float | None:
    """The median of the values given (None: none was), to one decimal."""
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 1) if known else None


def _fold(a: ServerSecond, b: ServerSecond) -> ServerSecond:
    """Two samples of one second as one: counts add, peaks keep the larger, levels the later."""
    out: ServerSecond = {**a, **b}
    if "error_log_errors" in a and "error_log_errors" in b:
        out["error_log_errors"] = a["error_log_errors"] + b["error_log_errors"]
    if "requests" in a and "requests" in b:
        requests: dict[str, dict[str, float]] = defaultdict(dict)
        for part in (a["requests"], b["requests"]):
            for handler, by_status in part.items():
                for status, n in by_status.items():
                    requests[handler][status] = requests[handler].get(status, 0) + n
        out["requests"] = dict(requests)
    if "loop_lag_max_ms" in a and "loop_lag_max_ms" in b:
        lag = dict(a["loop_lag_max_ms"])
        for worker, ms in b["loop_lag_max_ms"].items():
            lag[worker] = max(ms, lag.get(worker, 0.0))
        out["loop_lag_max_ms"] = lag
    if "loop_lag_buckets_ms" in a and "loop_lag_buckets_ms" in b:
        buckets = dict(a["loop_lag_buckets_ms"])
        for bound, n in b["loop_lag_buckets_ms"].items():
            buckets[bound] = buckets.get(bound, 0) + n
        out["loop_lag_buckets_ms"] = buckets
    return out


def totals(seconds: list[ServerSecond], signals: ServerSignals) -> Server:
    """The run's server block from its per-second entries."""
    out: Server = {
        "sources": signals.sources,
        "missing": dict(signals.missing),
        "seconds_sampled": len(seconds),
        "cores": signals.cores,
    }
    if not seconds:
        reasons = "; ".join(signals.missing.values()) or "no sample fell in the measured window"
        out["note"] = f"no server signals were available ({reasons})"
        return out
    generator = [s["generator_cpu"] for s in seconds if "generator_cpu" in s]
    if generator:
        out["generator_cpu_mean"] = round(sum(generator) / len(generator), 1)
    workers = _workers(seconds)
    if workers:
        out["workers"] = workers
        out["restarts"] = max(s.get("restarts", 0) for s in seconds)
    lag = _loop_lag(seconds)
    if lag:
        out["loop_lag_ms"] = lag
    endpoints = _endpoints(seconds)
    if endpoints:
        out["endpoints"] = endpoints
    if any("error_log_errors" in s for s in seconds):
        out["error_log_errors"] = sum(s.get("error_log_errors", 0) for s in seconds)
    return out


def _workers(seconds: list[ServerSecond]) -> dict[str, WorkerTotals]:
    cpu: dict[str, list[float]] = defaultdict(list)
    rss: dict[str, float] = {}
    for s in seconds:
        for pid, w in s.get("workers", {}).items():
            if (used := w.get("cpu")) is not None:
                cpu[pid].append(used)
            rss[pid] = max(rss.get(pid, 0.0), w.get("rss_mb", 0.0))
    return {
        pid: {
            "cpu_peak": max(cpu[pid], default=0.0),
            "cpu_mean": round(sum(cpu[pid]) / len(cpu[pid]), 1) if cpu[pid] else 0.0,
            "rss_peak_mb": rss[pid],
        }
        for pid in rss
    }


def _loop_lag(seconds: list[ServerSecond]) -> LoopLag | None:
    worst = [ms for s in seconds for ms in s.get("loop_lag_max_ms", {}).values()]
    buckets: dict[str, float] = defaultdict(float)
    for s in seconds:
        for bound, n in s.get("loop_lag_buckets_ms", {}).items():
            buckets[bound] += n
    if not worst and not buckets:
        return None
    p99 = lag_percentile(buckets, 99.0)
    highest = max(worst, default=None)
    if p99 is not None and highest is not None and p99 > highest:
        # The bucket's bound is above every lag measured (past the last bound,
        # or a coarse bucket): the p99 is at most the worst seen, which says more.
        p99 = highest
    elif p99 is not None and math.isinf(p99):
        p99 = None  # past the last bound and no worst measured: unknown
    return {"p99": p99, "max": highest}


def lag_percentile(buckets: dict[str, float], q: float) -> float | None:
    """The upper bound (ms) of the bucket holding the q-th percentile of cumulative
    `le` buckets; None without observations, inf when it is past the last bound."""
    ordered = sorted(
        ((math.inf if b == "+Inf" else float(b), n) for b, n in buckets.items()),
        key=lambda bn: bn[0],
    )
    total = max((n for _, n in ordered), default=0.0)  # +Inf holds every observation
    if total <= 0:
        return None
    for bound, n in ordered:
        if n >= total * q / 100:
            return bound
    return math.inf


def _endpoints(seconds: list[ServerSecond]) -> dict[str, Endpoint]:
    requests: dict[str, float] = defaultdict(float)
    errors: dict[str, float] = defaultdict(float)
    weighted: dict[str, float] = defaultdict(float)
    timed: dict[str, float] = defaultdict(float)
    for s in seconds:
        counts = s.get("requests", {})
        for handler, by_status in counts.items():
            n = sum(by_status.values())
            requests[handler] += n
            errors[handler] += sum(v for k, v in by_status.items() if k.startswith("5"))
            server_ms = s.get("server_ms", {})
            if handler in server_ms:
                weighted[handler] += server_ms[handler] * n
                timed[handler] += n
    return {
        handler: {
            "requests": int(requests[handler]),
            "errors_5xx": int(errors[handler]),
            "server_ms": round(weighted[handler] / timed[handler], 3) if timed[handler] else None,
        }
        for handler in sorted(requests)
    }


def describe(server: Server) -> list[str]:
    """The server block in a few lines of text, for the terminal and the HTML report."""
    if "note" in server:
        return [server["note"]]
    lines = []
    workers = server.get("workers", {})
    if workers:
        peaks = ", ".join(f"{w['cpu_peak']:.0f} %" for w in workers.values())
        means = ", ".join(f"{w['cpu_mean']:.0f} %" for w in workers.values())
        rss = max(w["rss_peak_mb"] for w in workers.values())
        n = len(workers)
        lines.append(
            f"server: {n} worker{'s' if n > 1 else ''}, CPU peak {peaks} (mean {means}) of a "
            f"core; RSS peak {rss:.0f} MB; restarts {server.get('restarts', 0)}"
        )
    lag = server.get("loop_lag_ms")
    if lag:
        p99 = f"p99 ≤ {lag['p99']:g} ms, " if lag["p99"] is not None else ""
        worst = f"max {lag['max']:g} ms" if lag["max"] is not None else "max unknown"
        lines.append(f"event-loop lag {p99}{worst}")
    endpoints = server.get("endpoints")
    if endpoints:
        parts = []
        for handler, e in endpoints.items():
            time = f" {e['server_ms']:.3g} ms" if e["server_ms"] is not None else ""
            errors = f" ({e['errors_5xx']} 5xx)" if e["errors_5xx"] else ""
            parts.append(f"{handler}{time}{errors}")
        lines.append("server time per request (mean): " + ", ".join(parts))
    if "error_log_errors" in server:
        lines.append(f"error log: {server['error_log_errors']} ERROR lines")
    if "generator_cpu_mean" in server:
        lines.append(
            f"loadgen CPU: mean {server['generator_cpu_mean']:.0f} % of a core "
            f"({server.get('cores', 1)} cores here)"
        )
    for source, reason in server.get("missing", {}).items():
        lines.append(f"samples missing ({source}): {reason}")
    return lines
