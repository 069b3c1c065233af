"""The run summary: one plain dict, the `summary.json` contract.

Everything the terminal report, the HTML report and `loadgen compare` show
comes from this dict (plus the interval log), so a saved run renders the same
as a live one. Times are in milliseconds.

Generator health: the run is flagged `behind` when arrivals fell short of the
target (achieved < 99 % of it), were dispatched late (send-lag p99 > 1 ms) or
were never sent at all (`unsent`: due when the window ended); then the
latencies describe the generator as much as the server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from hdrh.histogram import HdrHistogram

from loadgen.core.results import RunResult
from loadgen.measure.histogram import Histogram, merged, min_ms, ms, percentiles, summary_ms
from loadgen.measure.recorder import CHECK, EXCEPTION, TaskStats
from loadgen.report.secrets import redact_url
from loadgen.report.slo import SLO, Outcome, PercentileOf, evaluate

SCHEMA = "loadgen.summary/1"
# The latency statistics of every latency block, in the order views show them.
LATENCY_STATS = ("p50", "p90", "p99", "p99.9", "max", "mean")
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


def build_summary(result: RunResult, meta: dict[str, Any]) -> dict[str, Any]:
    """The summary of a finished run; `meta` adds the run's other parameters."""
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
    return {
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
        # The tasks past the TOP_TASKS busiest, as one (only when there are more).
        **_others_entry(tasks, rec.tasks),
        "generator": {
            "send_lag_ms": {k: lag[k] for k in ("p50", "p99", "max")},
            # Opening each new connection, TCP and TLS handshakes (not by every client).
            "connect_ms": {k: connect[k] for k in ("p50", "p99", "max")},
            "max_in_flight": rec.max_in_flight,
            "connections_opened": result.connections_opened,
            # Requests that waited for a free connection, the pool at --connections.
            "connection_waits": rec.connection_waits,
            "unsent": result.unsent,
            "behind": bool(behind),
        },
        "run": {
            **{k: v for k, v in meta.items() if k not in ("target", "arrival")},
            "started_at": dt.datetime.fromtimestamp(result.started_at, dt.UTC).isoformat(),
            "started_at_epoch": round(result.started_at, 3),
            "planned_duration_s": result.config.duration,
            "interrupted": result.interrupted,
            "bytes_received": sum(s.bytes_received for s in rec.tasks.values()),
            "exception": rec.first_exception,
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


def _task_entry(stats: TaskStats) -> dict[str, Any]:
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


def task_groups(tasks: Mapping[str, Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """The tasks the per-task views show one by one, and the rest they show as one row.

    All of them when there are TOP_TASKS or fewer; else the TOP_TASKS with the
    most requests (of equal counts, the first in order), in their order, and
    the others. A --targets file of many paths is many tasks: the views then
    cost what TOP_TASKS + 1 rows cost, whatever the number of paths.
    """
    names = list(tasks)
    if len(names) <= TOP_TASKS:
        return names, []
    busiest = sorted(names, key=lambda n: -int(tasks[n]["requests"]))[:TOP_TASKS]
    shown = set(busiest)
    return [n for n in names if n in shown], [n for n in names if n not in shown]


def _others_entry(
    tasks: Mapping[str, Mapping[str, Any]], stats: Mapping[str, TaskStats]
) -> dict[str, Any]:
    """{"tasks_others": entry} for the tasks past the busiest (nothing when none are):
    a task entry of them all merged, and how many they are (`tasks`)."""
    _, rest = task_groups(tasks)
    if not rest:
        return {}
    total = TaskStats()
    for name in rest:
        total.add(stats[name])
    entry = _task_entry(total)
    del entry["service_min_ms"]  # the fastest of unlike tasks says nothing of any
    return {"tasks_others": {"tasks": len(rest), **entry}}


def _phase(h: HdrHistogram) -> dict[str, float | None]:
    stats = summary_ms(h)
    return {k: stats[k] for k in PHASE_STATS}


def error_rate(errors: int, requests: int) -> float:
    """Errors per request; a task that failed before its first request fails wholly."""
    if not requests:
        return 1.0 if errors else 0.0
    return round(errors / requests, 6)


def timed_responses(task: dict[str, Any]) -> int:
    """A summary task's responses that were timed: its requests but those that got
    no response (every error kind but `http_<code>`, `check` and the task's own
    `exception`)."""
    errors: dict[str, int] = task["errors_by_kind"]
    not_requests = (EXCEPTION, CHECK)  # errors of the task's own code, or of its verdict
    unanswered = sum(
        n for k, n in errors.items() if not k.startswith("http_") and k not in not_requests
    )
    return int(task["requests"]) - unanswered


def failed_checks(summary: dict[str, Any]) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """(task, failed checks, [(reason, count)] most frequent first) for each task that had any."""
    checks: dict[str, dict[str, int]] = summary["errors"].get("checks", {})
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
        reasons.append(f"{unsent} arrivals due were never sent")
    return reasons


def behind_reasons(summary: dict[str, Any]) -> list[str]:
    """Why a summary's generator fell behind, in words the reports show."""
    gen = summary["generator"]
    return _behind(
        summary["target_rps"],
        summary["achieved_rps"],
        gen["send_lag_ms"]["p99"],
        gen.get("unsent", 0),
    )


def asked_note(summary: dict[str, Any]) -> str | None:
    """With shards lost, what the whole run was asked and what went with them (None: none lost)."""
    run = summary.get("run", {})
    if not run.get("lost_rps"):
        return None
    return f"of {run['asked_rps']:.1f}/s asked: {run['lost_rps']:.1f}/s lost with shards"


def connect_note(summary: dict[str, Any]) -> str | None:
    """The time to open a connection, in words the reports show (None: none timed)."""
    connect = summary["generator"].get("connect_ms", {})
    if connect.get("max") is None:
        return None
    what = "TCP and TLS handshakes" if summary["target"].startswith("https:") else "TCP handshake"
    return (
        f"p50 {ms(connect['p50'], 3)} ms, p99 {ms(connect['p99'], 3)} ms, "
        f"max {ms(connect['max'], 3)} ms per new connection ({what})"
    )


def phases_note(summary: dict[str, Any]) -> str | None:
    """Time to first byte and body receive, in words the reports show (None: not timed)."""
    phases = summary.get("phases_ms", {})
    first, body = phases.get("first_byte", {}), phases.get("body", {})
    if first.get("p50") is None:
        return None
    return (
        f"time to first byte p50 {ms(first['p50'], 3)} ms, p99 {ms(first['p99'], 3)} ms; "
        f"body p50 {ms(body.get('p50'), 3)} ms, p99 {ms(body.get('p99'), 3)} ms"
    )


def retries_note(summary: dict[str, Any]) -> tuple[str, bool] | None:
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


def task_rows(summary: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(name, entry) for each task shown (`task_groups`), then one row "others (N
    tasks)" for the rest, if any, then the run's total as a last row named "total".

    A summary written before `tasks_others` was kept has the others' counts
    added up here, and no latency for them.
    """
    tasks = summary["tasks"]
    shown, rest = task_groups(tasks)
    rows = [(name, tasks[name]) for name in shown]
    if rest:
        others = summary.get("tasks_others") or {
            "requests": sum(tasks[n]["requests"] for n in rest),
            "errors": sum(tasks[n]["errors"] for n in rest),
            "latency_ms": dict.fromkeys(("response", "service"), dict.fromkeys(LATENCY_STATS)),
        }
        rows.append((others_label(len(rest)), others))
    total = {
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

    def percentile_of(task: str | None, kind: str, q: float) -> float:
        if task is None:
            h = merged(by_kind[kind] for by_kind in histograms.values())
        else:
            h = histograms[task][kind]
        return percentiles(h, [q])[q]

    return percentile_of


def judge_slos(
    slos: Sequence[SLO],
    summary: dict[str, Any],
    histograms: Mapping[str, Mapping[str, Histogram]],
) -> list[Outcome]:
    """Judge a run by its SLOs and keep the verdicts in its summary (`slo`).

    `histograms` (task → kind → histogram) answer percentiles the summary lacks.
    """
    outcomes = evaluate(slos, summary, percentile_lookup(histograms))
    if outcomes:
        summary["slo"] = [
            {"slo": o.slo.text, "measured": o.slo.show(o.measured), "passed": o.passed}
            for o in outcomes
        ]
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


# The summary.json contract's shape, as read back (`check_summary`): a type, a
# dict of required keys (more are allowed), {str: shape} for a dict of any
# keys, or [shape] for a list of them.
_NUMBER = (int, float)
_LATENCY = dict.fromkeys(LATENCY_STATS, (*_NUMBER, type(None)))
_SHAPE: Any = {
    "schema": str,
    "target": str,
    "arrival": str,
    "target_rps": _NUMBER,
    "duration_s": _NUMBER,
    "requests": int,
    "arrivals": int,
    "achieved_rps": _NUMBER,
    "throughput_rps": _NUMBER,
    "errors": {"total": int, "rate": _NUMBER, "by_kind": {str: int}},
    "latency_ms": {"response": _LATENCY, "service": _LATENCY},
    "tasks": {
        str: {
            "requests": int,
            "errors": int,
            "errors_by_kind": {str: int},
            "latency_ms": {"response": _LATENCY, "service": _LATENCY},
        }
    },
    "generator": {
        "send_lag_ms": {k: (*_NUMBER, type(None)) for k in ("p50", "p99", "max")},
        "max_in_flight": int,
        "connections_opened": int,
        "behind": bool,
    },
    "run": dict,
    "timeline": [{"t": _NUMBER, "length": _NUMBER, "arrivals": int, "responses": int}],
}


def check_summary(summary: Any) -> None:
    """Raise ValueError, naming the first key that is missing or of the wrong type,
    unless `summary` has the shape `build_summary` gives."""
    if not isinstance(summary, dict) or summary.get("schema") != SCHEMA:
        raise ValueError(f"not a loadgen summary (no schema {SCHEMA!r})")
    _check(summary, _SHAPE, "")


def _check(value: Any, shape: Any, where: str) -> None:
    if isinstance(shape, list):
        if not isinstance(value, list):
            raise ValueError(f"{where or 'it'} is not a list")
        for i, item in enumerate(value):
            _check(item, shape[0], f"{where}[{i}]")
    elif isinstance(shape, dict):
        if not isinstance(value, dict):
            raise ValueError(f"{where or 'it'} is not an object")
        if list(shape) == [str]:
            for key, item in value.items():
                _check(item, shape[str], f"{where}.{key}" if where else key)
            return
        for key, inner in shape.items():
            path = f"{where}.{key}" if where else key
            if key not in value:
                raise ValueError(f"{path} is missing")
            _check(value[key], inner, path)
    elif not isinstance(value, shape) or (shape is not bool and isinstance(value, bool)):
        raise ValueError(f"{where} has the wrong type ({type(value).__name__})")
