"""The run summary: building it, and reading it the way every view does.

`build_summary` makes a finished run's summary (its fields: `summary_contract.py`),
with the target's side beside it when it was sampled. Everything the terminal
report, the HTML report and `loadgen compare` show comes from it (plus the
interval log), so a saved run renders the same as a live one. Times are in
milliseconds.

Generator health: the run is flagged `behind` when arrivals fell short of the
target (achieved < 99 % of it), were dispatched late (send-lag p99 > 1 ms) or
were never sent at all (`unsent`: due when the window ended); then the
latencies describe the generator as much as the server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, cast

from loadgen.core.results import RunResult
from loadgen.measure.histogram import (
    LATENCY_KEYS,
    Histogram,
    LatencyMs,
    merged,
    min_ms,
    ms,
    no_latency,
    percentiles,
    summary_ms,
)
from loadgen.measure.recorder import CHECK, EXCEPTION, TaskStats
from loadgen.report.secrets import redact_url
from loadgen.report.server_signals import NO_SOURCES, ServerSignals, attach
from loadgen.report.slo import SLO, LatencyOf, Outcome, PercentileOf, evaluate
from loadgen.report.summary_contract import (
    SCHEMA,
    Latencies,
    OthersEntry,
    Phase,
    RunInfo,
    SLOVerdict,
    Spread,
    Summary,
    TaskEntry,
)

# The latency statistics of every latency block, in the order views show them.
LATENCY_STATS = LATENCY_KEYS
BEHIND_ACHIEVED_RATIO = 0.99
BEHIND_LAG_P99_MS = 1.0
# Past this share of requests sent twice, the retries are worth a warning.
RETRIES_WARN_RATIO = 0.01
# The statistics of each phase of a response (`phases_ms`).
PHASE_STATS = ("p50", "p99", "max", "mean")
# The per-task views (tables, spectra, .hgrm files) show this many tasks, the
# busiest, and the rest as one row named OTHERS; summary.json keeps every task.
TOP_TASKS = 20
OTHERS = "others"


def build_summary(
    result: RunResult,
    meta: dict[str, Any],
    server: ServerSignals | None = None,
    server_note: str = NO_SOURCES,
) -> Summary:
    """The summary of a finished run, `meta` its other parameters; with the target's
    side (`server`, per second and in total) beside it, else `server_note` saying why
    there is none. The diagnosis, read from all of it, is added by `publish`."""
    rec = result.recorder
    elapsed = result.elapsed
    target_rps, achieved = _rates(result)
    errors = rec.errors()
    requests = sum(s.requests for s in rec.tasks.values())
    lag = summary_ms(rec.send_lag)
    connect = summary_ms(rec.connect)
    behind = _behind(target_rps, achieved, lag["p99"], result.unsent)
    tasks = {
        name: _task_entry(rec.tasks[name])
        for name in sorted(rec.tasks, key=_task_order(result.task_names))
    }
    response, service = rec.total("response"), rec.total("service")
    summary: Summary = {
        "schema": SCHEMA,
        "target": redact_url(result.config.target),
        "arrival": result.config.arrival,
        "target_rps": round(target_rps, 3),
        "duration_s": round(elapsed, 3),
        "requests": requests,
        "retries": sum(s.retries for s in rec.tasks.values()),
        "arrivals": rec.arrivals,
        "achieved_rps": round(achieved, 3),
        "throughput_rps": round(response.get_total_count() / elapsed, 3) if elapsed else 0.0,
        "errors": {
            "first": dict(sorted(rec.error_details.items())),  # what the first of each kind said
            "total": sum(errors.values()),
            "rate": error_rate(sum(errors.values()), requests),
            "by_kind": dict(sorted(errors.items())),
            # task → reason → failed checks, the most frequent first (see `failed_checks`)
            "checks": {
                name: dict(_by_count(rec.tasks[name].checks))
                for name in tasks
                if rec.tasks[name].checks
            },
            # 429 and 503 answers that carried a Retry-After, and its values.
            "retry_after": {
                "responses": rec.retry_after_responses,
                "values": dict(_by_count(rec.retry_after)),
            },
        },
        "latency_ms": {"response": summary_ms(response), "service": summary_ms(service)},
        # Each response's phases (when the client times them): written → first
        # byte, and first byte → complete (a slow body on a fast first byte is
        # transfer, not processing).
        "phases_ms": {"first_byte": _phase(rec.first_byte), "body": _phase(rec.body)},
        "tasks": tasks,
        "generator": {
            "send_lag_ms": _spread(lag),
            # Opening each new connection, TCP and TLS handshakes (not by every client).
            "connect_ms": _spread(connect),
            "max_in_flight": rec.max_in_flight,
            "connections_opened": result.connections_opened,
            # Requests that waited for a free connection, the pool at --connections.
            "connection_waits": rec.connection_waits,
            # Requests that waited for an HTTP/2 stream slot: every connection at
            # the server's SETTINGS_MAX_CONCURRENT_STREAMS, the pool at --connections.
            "stream_waits": rec.stream_waits,
            "unsent": result.unsent,
            "behind": bool(behind),
        },
        "run": {
            **_run_meta(meta),
            "started_at": dt.datetime.fromtimestamp(result.started_at, dt.UTC).isoformat(),
            "started_at_epoch": round(result.started_at, 3),
            "planned_duration_s": result.config.duration,
            "interrupted": result.interrupted,
            "bytes_received": sum(s.bytes_received for s in rec.tasks.values()),
            "exception": rec.first_exception,
            "http_version": rec.http_version,
        },
        "timeline": [
            {
                "t": round(iv.start, 3),
                "length": round(iv.end - iv.start, 3),
                # Asked for only while issuing: the drain after the end has no target.
                "target": round(
                    result.expected_arrivals(min(iv.start, elapsed), min(iv.end, elapsed)), 3
                ),
                "arrivals": iv.arrivals,
                "responses": iv.responses,
                "errors": iv.errors,
                # Σ service time: busy_s / length is the mean number of requests
                # the server held at once in that interval (Little's law).
                "busy_s": round(iv.busy, 6),
            }
            for iv in rec.intervals
        ],
    }
    others = _others_entry(tasks, rec.tasks)
    if others is not None:  # the tasks past the TOP_TASKS busiest, as one
        summary["tasks_others"] = others
    attach(summary, server, server_note)
    return summary


def _run_meta(meta: dict[str, Any]) -> RunInfo:
    """The run's parameters as the commands gave them (`target` and `arrival`
    have their own keys). They are the commands' to name: `RunInfo` lists them.
    A dict here, not a RunInfo: they pass through the scale layer (a shard's
    job, as JSON), which may not import report's types; the commands' own part
    is a RunInfo (`LoadOptions.meta`), the scale layer's checked in its tests."""
    return cast(RunInfo, {k: v for k, v in meta.items() if k not in ("target", "arrival")})


def _rates(result: RunResult) -> tuple[float, float]:
    """The target and achieved arrival rates (per second) of the measured window.

    A whole window: planned (sent + unsent) and sent arrivals over its length.
    A window cut short by a stop holds one arrival more than its length times
    the rate (arrivals at 0, 1/r, ..., k/r, the one at 0 included: 36 in 0.35 s
    at 100/s), which over so short a length reads well above the rate. So then
    the target is what the profile asked for the window, Λ(elapsed)/elapsed,
    and the achieved rate is its share that was sent: target × sent/(sent + unsent).
    """
    elapsed = result.elapsed
    if elapsed <= 0:
        return 0.0, 0.0
    if not result.interrupted or not result.target_arrivals:
        return result.target_arrivals / elapsed, result.recorder.arrivals / elapsed
    target = result.expected_arrivals(0.0, elapsed) / elapsed
    return target, target * result.recorder.arrivals / result.target_arrivals


def _task_entry(stats: TaskStats) -> TaskEntry:
    return {
        "requests": stats.requests,
        "retries": stats.retries,
        "errors": sum(stats.errors.values()),
        "errors_by_kind": dict(sorted(stats.errors.items())),
        "bytes_received": stats.bytes_received,
        "latency_ms": {
            "response": summary_ms(stats.response),
            "service": summary_ms(stats.service),
        },
        # Its fastest answer: the service time unloaded, or nearly (None: none timed).
        "service_min_ms": min_ms(stats.service),
    }


def task_groups(tasks: Mapping[str, TaskEntry]) -> tuple[list[str], list[str]]:
    """The tasks the per-task views show one by one, and the rest they show as one row.

    All of them when there are TOP_TASKS or fewer; else the TOP_TASKS with the
    most requests (of equal counts, the first in order), in their order, and
    the others. A --targets file of many paths is many tasks: the views then
    cost what TOP_TASKS + 1 rows cost, whatever the number of paths.
    """
    names = list(tasks)
    if len(names) <= TOP_TASKS:
        return names, []
    busiest = sorted(names, key=lambda n: -tasks[n]["requests"])[:TOP_TASKS]
    shown = set(busiest)
    return [n for n in names if n in shown], [n for n in names if n not in shown]


def _others_entry(
    tasks: Mapping[str, TaskEntry], stats: Mapping[str, TaskStats]
) -> OthersEntry | None:
    """The tasks past the busiest (None when none are): a task entry of them all
    merged, and how many they are (`tasks`)."""
    _, rest = task_groups(tasks)
    if not rest:
        return None
    total = TaskStats()
    for name in rest:
        total.add(stats[name])
    entry = _task_entry(total)
    return {
        "tasks": len(rest),
        "requests": entry["requests"],
        "retries": total.retries,
        "errors": entry["errors"],
        "errors_by_kind": entry["errors_by_kind"],
        "bytes_received": total.bytes_received,
        "latency_ms": entry["latency_ms"],
        # no service_min_ms: the fastest of unlike tasks says nothing of any
    }


def _spread(latency: LatencyMs) -> Spread:
    return {"p50": latency["p50"], "p99": latency["p99"], "max": latency["max"]}


def _phase(h: Histogram) -> Phase:
    stats = summary_ms(h)
    return {"p50": stats["p50"], "p99": stats["p99"], "max": stats["max"], "mean": stats["mean"]}


def error_rate(errors: int, requests: int) -> float:
    """Errors per request; a task that failed before its first request fails wholly."""
    if not requests:
        return 1.0 if errors else 0.0
    return round(errors / requests, 6)


def timed_responses(task: TaskEntry) -> int:
    """A summary task's responses that were timed: its requests but those that got
    no response (every error kind but `http_<code>`, `check` and the task's own
    `exception`)."""
    errors = task["errors_by_kind"]
    not_requests = (EXCEPTION, CHECK)  # errors of the task's own code, or of its verdict
    unanswered = sum(
        n for k, n in errors.items() if not k.startswith("http_") and k not in not_requests
    )
    return task["requests"] - unanswered


def failed_checks(summary: Summary) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """(task, failed checks, [(reason, count)] most frequent first) for each task that had any."""
    checks = summary["errors"].get("checks", {})
    return [(task, sum(reasons.values()), _by_count(reasons)) for task, reasons in checks.items()]


def _by_count(reasons: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))


def _behind(target_rps: float, achieved: float, lag_p99: float | None, unsent: int) -> list[str]:
    """Why the generator counts as fallen behind (nothing: it did not)."""
    reasons = []
    if target_rps > 0 and achieved < BEHIND_ACHIEVED_RATIO * target_rps:
        reasons.append(f"achieved {achieved:.1f}/s of {target_rps:.1f}/s")
    if lag_p99 is not None and lag_p99 > BEHIND_LAG_P99_MS:
        reasons.append(f"send-lag p99 {lag_p99:.3f} ms > {BEHIND_LAG_P99_MS:g} ms")
    if unsent:
        what = "arrival due was" if unsent == 1 else "arrivals due were"
        reasons.append(f"{unsent} {what} never sent")
    return reasons


def behind_reasons(summary: Summary) -> list[str]:
    """Why a summary's generator fell behind, in words the reports show."""
    gen = summary["generator"]
    return _behind(
        summary["target_rps"],
        summary["achieved_rps"],
        gen["send_lag_ms"]["p99"],
        gen.get("unsent", 0),
    )


def asked_note(summary: Summary) -> str | None:
    """With shards lost, what the whole run was asked and what went with them (None: none lost)."""
    run = summary.get("run", {})
    if not run.get("lost_rps"):
        return None
    return f"of {run['asked_rps']:.1f}/s asked: {run['lost_rps']:.1f}/s lost with shards"


def connect_note(summary: Summary) -> str | None:
    """The time to open a connection, in words the reports show (None: none timed)."""
    connect = summary["generator"].get("connect_ms", {})
    if connect.get("max") is None:
        return None
    what = "TCP and TLS handshakes" if summary["target"].startswith("https:") else "TCP handshake"
    return (
        f"p50 {ms(connect['p50'], 3)} ms, p99 {ms(connect['p99'], 3)} ms, "
        f"max {ms(connect['max'], 3)} ms per new connection ({what})"
    )


def phases_note(summary: Summary) -> str | None:
    """Time to first byte and body receive, in words the reports show (None: not timed)."""
    phases = summary.get("phases_ms", {})
    first, body = phases.get("first_byte"), phases.get("body")
    if first is None or body is None or first["p50"] is None:
        return None
    return (
        f"time to first byte p50 {ms(first['p50'], 3)} ms, p99 {ms(first['p99'], 3)} ms; "
        f"body p50 {ms(body['p50'], 3)} ms, p99 {ms(body['p99'], 3)} ms"
    )


def retries_note(summary: Summary) -> tuple[str, bool] | None:
    """What the reports say of retries (None: there were none), and whether to warn."""
    retries, requests = summary.get("retries", 0), summary["requests"]
    if not retries:
        return None
    share = retries / requests if requests else 1.0
    text = (
        f"{retries} requests ({100 * share:.2f}%) were sent a second time: the server had "
        "closed their keep-alive connection before answering (only idempotent methods are "
        "retried, once)"
    )
    return text, share > RETRIES_WARN_RATIO


class Row(TypedDict):
    """A row of the per-task tables: a task, the others together, or the total."""

    requests: int
    errors: int
    latency_ms: Latencies


def task_rows(summary: Summary) -> list[tuple[str, Row]]:
    """(name, entry) for each task shown (`task_groups`), then one row "others (N
    tasks)" for the rest, if any, then the run's total as a last row named "total".

    A summary written before `tasks_others` was kept has the others' counts
    added up here, and no latency for them.
    """
    tasks = summary["tasks"]
    shown, rest = task_groups(tasks)
    rows: list[tuple[str, Row]] = [(name, tasks[name]) for name in shown]
    if rest:
        others: Row = summary.get("tasks_others") or {
            "requests": sum(tasks[n]["requests"] for n in rest),
            "errors": sum(tasks[n]["errors"] for n in rest),
            "latency_ms": {"response": no_latency(), "service": no_latency()},
        }
        rows.append((others_label(len(rest)), others))
    total: Row = {
        "requests": summary["requests"],
        "errors": summary["errors"]["total"],
        "latency_ms": summary["latency_ms"],
    }
    return [*rows, ("total", total)]


def others_label(count: int) -> str:
    """The name of the row that stands for the tasks not shown one by one."""
    return f"{OTHERS} ({count} tasks)"


def _task_order(names: list[str]) -> Any:
    order = {n: i for i, n in enumerate(names)}
    return lambda name: (order.get(name, len(order)), name)


def percentile_lookup(histograms: Mapping[str, Mapping[str, Histogram]]) -> PercentileOf:
    """Percentiles the summary does not carry, read from task → kind → histogram."""

    def percentile_of(task: str | frozenset[str] | None, kind: str, q: float) -> float:
        if task is None:
            h = merged(by_kind[kind] for by_kind in histograms.values())
        elif isinstance(task, frozenset):
            h = merged(histograms[t][kind] for t in task if t in histograms)
        else:
            h = histograms[task][kind]
        return percentiles(h, [q])[q]

    return percentile_of


def latency_lookup(histograms: Mapping[str, Mapping[str, Histogram]]) -> LatencyOf:
    """The latency block of several tasks together, read from task → kind → histogram."""

    def latency_of(tasks: frozenset[str], kind: str) -> LatencyMs:
        return summary_ms(merged(histograms[t][kind] for t in tasks if t in histograms))

    return latency_of


def judge_slos(
    slos: Sequence[SLO],
    summary: Summary,
    histograms: Mapping[str, Mapping[str, Histogram]],
) -> list[Outcome]:
    """Judge a run by its SLOs and keep the verdicts in its summary (`slo`).

    `histograms` (task → kind → histogram) answer percentiles the summary lacks.
    """
    outcomes = evaluate(slos, summary, percentile_lookup(histograms), latency_lookup(histograms))
    if outcomes:
        summary["slo"] = []
        for o in outcomes:
            verdict: SLOVerdict = {
                "slo": o.slo.text,
                "measured": o.slo.show(o.measured),
                "passed": o.passed,
            }
            if o.over is not None:
                verdict["over"] = sorted(o.over)
            summary["slo"].append(verdict)
    return outcomes


def spectrum(h: Histogram, points: int = 50) -> list[tuple[float, float]]:
    """(percentile, ms) pairs evenly spaced on the 1/(1−q) log axis, up to the data's tail.

    q_i = 1 − 10^(−i/10): ten points per decade (p90, p99, p99.9 …), stopping
    at the decade the sample size still resolves (1/(1−q) ≤ count), then max.
    """
    count = h.get_total_count()
    if count == 0:
        return []
    qs = [100.0 * (1.0 - 10.0 ** (-i / 10.0)) for i in range(points)]
    qs = [q for q in qs if 1.0 / (1.0 - q / 100.0) <= count]
    values = percentiles(h, qs)
    pairs = [(q, values[q]) for q in qs]
    pairs.append((100.0 * (1.0 - 1.0 / (10 * count)), h.get_max_value() / 1000.0))
    return pairs
