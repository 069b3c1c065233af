"""Why a run went as it did: findings from a fixed vocabulary, each with its evidence.

`diagnose(summary)` reads the summary (client side, and `server` when the
target's signals were sampled) and returns findings ordered by how much they
explain (`weight`, 0–1). The vocabulary and the
threshold behind each (docs/measuring.md explains the choices):

- generator_saturated: the run is flagged `behind` (achieved < 99 % of the
  target, send-lag p99 > 1 ms, or arrivals never sent). Weight 1 when it did
  not send what was asked (the rate the run measured is not the one asked
  for); when it sent it all, late, the share of the response time's p99 that
  its send-lag p99 makes up: 2 ms late behind a 126 ms p99 explains little.
- server_cpu: the server's workers used at least CPU_BUSY (85 %) of the CPU
  they could have, in the median sampled second. What they could have is a
  core each, but no more cores than the machine has left after loadgen's own
  use: two workers sharing one free core are as saturated as two on two.
  Below 85 % a worker had idle time, so CPU was not what held it back.
  Weight: that median share.
- event_loop_blocked: a worker's event loop ran a callback at least
  LOOP_BLOCKED_MS (50 ms) late, and either at least LOOP_BLOCKED_FACTOR (10)
  times the run's median service time or with one endpoint's mean server
  time LOOP_BLOCKED_FACTOR times every other's: one request held the loop,
  and every other request on that worker waited behind it. Names the
  endpoint with the highest mean server-side time. Weight: the share of sampled seconds with
  such a stall.
- server_errors: any 5xx answer (a server error is never normal load). By
  task (client side) and endpoint (server side), with the error log's count
  of ERROR lines. Weight: the share of requests answered 5xx.
- worker_restarts: a worker process was replaced while the run lasted
  (crashed, or killed for missing gunicorn's timeout). Weight: restarts per
  worker, at most 1.
- timeouts: requests without an answer within --timeout. Weight: their share.
- connection_limit: at least CONNECTION_WAIT_SHARE (1 %) of the requests
  waited for a free client connection because all --connections were busy:
  the cap, not the target, held them. Weight: their share.
- none: nothing above stood out.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any

from loadgen.report.summary import BEHIND_ACHIEVED_RATIO, behind_reasons

FINDINGS = (
    "generator_saturated",
    "server_cpu",
    "event_loop_blocked",
    "server_errors",
    "worker_restarts",
    "timeouts",
    "connection_limit",
    "none",
)
CPU_BUSY = 0.85
LOOP_BLOCKED_MS = 50.0
LOOP_BLOCKED_FACTOR = 10.0
CONNECTION_WAIT_SHARE = 0.01


@dataclass
class Finding:
    finding: str  # one of FINDINGS
    weight: float  # how much of the outcome it explains, 0–1
    summary: str  # a short phrase: "both workers at 98 % CPU"
    evidence: str  # the numbers behind it
    advice: str  # what to do about it

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "weight": round(self.weight, 3)}


def diagnose(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's findings, most explanatory first (see the module docstring)."""
    found = [
        f
        for f in (
            _server_cpu(summary),
            _loop_blocked(summary),
            _server_errors(summary),
            _restarts(summary),
            _timeouts(summary),
            _connection_limit(summary),
        )
        if f is not None
    ]
    generator = _generator(summary)
    if generator is not None:
        found.insert(0, generator)
    found.sort(key=lambda f: -f.weight)  # stable: in a tie, loadgen's own first
    if not found:
        found.append(_nothing(summary))
    return [f.to_dict() for f in found]


def sentence(findings: list[dict[str, Any]], limit: int = 2) -> str:
    """The first findings as one sentence a person can act on."""
    top = [f for f in findings if f["finding"] != "none"][:limit]
    if not top:
        return findings[0]["summary"] if findings else "no diagnosis"
    return "; ".join(f["summary"] for f in top) + f" — {top[0]['advice']}"


def _pct(share: float) -> str:
    return f"{100 * share:.0f} %" if share >= 0.01 else f"{100 * share:.2f} %"


def _generator(summary: dict[str, Any]) -> Finding | None:
    if not summary["generator"]["behind"]:
        return None
    why = "; ".join(behind_reasons(summary))
    unsent = summary["achieved_rps"] < BEHIND_ACHIEVED_RATIO * summary["target_rps"] or bool(
        summary["generator"].get("unsent")
    )
    lag = summary["generator"]["send_lag_ms"]["p99"] or 0.0
    p99 = summary.get("latency_ms", {}).get("response", {}).get("p99")
    return Finding(
        "generator_saturated",
        1.0 if unsent or not p99 else min(1.0, lag / p99),
        "loadgen itself fell behind",
        f"{why}: the latencies describe loadgen's machine as much as the target",
        "run loadgen on more cores (--processes) or another machine",
    )


def _loaded_seconds(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The timeline's sampled seconds while load was being sent."""
    return [e["server"] for e in summary["timeline"] if e.get("target", 0) > 0 and "server" in e]


def _server_cpu(summary: dict[str, Any]) -> Finding | None:
    server = summary.get("server", {})
    cores = server.get("cores", 1)
    shares, per_worker = [], []
    for s in _loaded_seconds(summary):
        cpus = [w["cpu"] for w in s.get("workers", {}).values() if w["cpu"] is not None]
        if not cpus:
            continue
        free = max(cores - s.get("generator_cpu", 0.0) / 100, 0.1)
        shares.append(sum(cpus) / (100 * min(len(cpus), free)))
        per_worker.append(sorted(cpus, reverse=True))
    if not shares:
        return None
    share = statistics.median(shares)
    if share < CPU_BUSY:
        return None
    workers = len(per_worker[len(per_worker) // 2])
    typical = statistics.median(sum(c) / len(c) for c in per_worker)
    generator = server.get("generator_cpu_mean", 0.0) / 100
    free = cores - generator
    if workers <= free + 0.5 and typical >= 100 * CPU_BUSY:  # a core each, and used
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
        short = f"{workers} workers using {_pct(min(share, 1.0))} of the CPU left to them"
        evidence = (
            f"{workers} workers at {typical:.0f} % of a core each: {_pct(min(share, 1.0))} of the "
            f"{free:.1f} cores left by loadgen ({generator:.1f} of {cores}) (median second)"
        )
    advice = "add workers or cores" if workers < cores else "add cores or machines"
    alone = _slow_alone(_endpoint_times(server))
    if alone is not None:  # the CPU goes to one endpoint's work: cheaper work beats more cores
        advice = f"make the work in {alone} cheaper, or {advice}"
    if generator >= 0.5:
        advice += (
            f" (loadgen took {generator:.1f} of this machine's {cores} cores: run it elsewhere)"
        )
    return Finding("server_cpu", min(share, 1.0), short, evidence, advice)


def _loop_blocked(summary: dict[str, Any]) -> Finding | None:
    server = summary.get("server", {})
    lag = server.get("loop_lag_ms", {})
    worst = lag.get("max")
    if worst is None:
        return None
    service_p50 = summary["latency_ms"]["service"]["p50"] or 0.0
    endpoints = _endpoint_times(server)
    alone = _slow_alone(endpoints)
    if worst < LOOP_BLOCKED_MS or (worst < LOOP_BLOCKED_FACTOR * service_p50 and alone is None):
        return None
    seconds = _loaded_seconds(summary) or [
        e["server"] for e in summary["timeline"] if "server" in e
    ]
    stalled = sum(
        1
        for s in seconds
        if max(s.get("loop_lag_max_ms", {}).values(), default=0.0) >= LOOP_BLOCKED_MS
    )
    weight = stalled / len(seconds) if seconds else 0.0
    slowest = alone or max(endpoints, key=lambda h: endpoints[h]["server_ms"], default=None)
    where = f" in {slowest}" if slowest else ""
    short = f"the event loop is blocked up to {_seconds(worst)}{where}"
    evidence = f"event-loop lag max {_seconds(worst)}"
    if lag.get("p99") is not None:
        evidence += f", p99 ≤ {_seconds(lag['p99'])}"
    evidence += f", against a median service time of {service_p50:.3g} ms"
    if slowest:
        evidence += (
            f"; {slowest} takes {endpoints[slowest]['server_ms']:.3g} ms on average in the server"
        )
    advice = (
        f"take the slow work in {slowest} off the event loop (a thread or process pool, or a "
        "cheaper algorithm)"
        if slowest
        else "find the blocking call and take it off the event loop"
    )
    return Finding("event_loop_blocked", weight, short, evidence, advice)


def _endpoint_times(server: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The server's endpoints whose mean server time was measured."""
    return {h: e for h, e in server.get("endpoints", {}).items() if e.get("server_ms") is not None}


def _slow_alone(endpoints: dict[str, dict[str, Any]]) -> str | None:
    """The endpoint whose mean server time is LOOP_BLOCKED_FACTOR times every other's,
    if one is: a server merely overloaded slows its endpoints alike, one doing slow
    work on its loop stands out, however slow the queue made every request."""
    if len(endpoints) < 2:
        return None
    times = sorted(endpoints.items(), key=lambda kv: -kv[1]["server_ms"])
    (slowest, top), (_, second) = times[0], times[1]
    return slowest if top["server_ms"] >= LOOP_BLOCKED_FACTOR * second["server_ms"] else None


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.2g} s" if ms >= 1000 else f"{ms:.3g} ms"


def _server_errors(summary: dict[str, Any]) -> Finding | None:
    by_task = {
        name: {k: n for k, n in t["errors_by_kind"].items() if k.startswith("http_5")}
        for name, t in summary["tasks"].items()
    }
    by_task = {name: codes for name, codes in by_task.items() if codes}
    total = sum(sum(codes.values()) for codes in by_task.values())
    server = summary.get("server", {})
    endpoints = {h: e for h, e in server.get("endpoints", {}).items() if e.get("errors_5xx")}
    if not total and not endpoints:
        return None
    requests = summary["requests"] or 1
    parts = []
    for name, codes in sorted(by_task.items(), key=lambda kv: -sum(kv[1].values())):
        n, asked = sum(codes.values()), summary["tasks"][name]["requests"] or 1
        statuses = "/".join(k.removeprefix("http_") for k in sorted(codes))
        parts.append(f"task {name}: {statuses} for {_pct(n / asked)} of its requests ({n})")
    for handler, e in sorted(endpoints.items(), key=lambda kv: -kv[1]["errors_5xx"]):
        parts.append(f"server: {handler} answered {e['errors_5xx']} with 5xx")
    if "error_log_errors" in server:
        parts.append(f"{server['error_log_errors']} ERROR lines in the error log")
    if endpoints:
        handler, e = max(endpoints.items(), key=lambda kv: kv[1]["errors_5xx"])
        share = e["errors_5xx"] / max(e["requests"], 1)
        code = _single_code(by_task)
        short = f"{handler} returns {code or '5xx'} for {_pct(share)} of its requests"
    else:
        name, codes = max(by_task.items(), key=lambda kv: sum(kv[1].values()))
        share = sum(codes.values()) / (summary["tasks"][name]["requests"] or 1)
        short = (
            f"task {name} gets {_single_code(by_task) or '5xx'} for {_pct(share)} of its requests"
        )
    advice = "fix the exception behind them (the server's error log has it)"
    embedded = summary["run"].get("embedded_server") or {}
    if embedded.get("log_dir"):
        # One uvicorn logs its errors to its console; gunicorn to error.log.
        log = "console.log" if embedded.get("server") == "uvicorn" else "error.log"
        short += f" (see {embedded['log_dir']}/{log})"
        advice = "fix the exception behind them"
    weight = (total or sum(e["errors_5xx"] for e in endpoints.values())) / requests
    return Finding("server_errors", min(weight, 1.0), short, "; ".join(parts), advice)


def _single_code(by_task: dict[str, dict[str, int]]) -> str | None:
    codes = {k.removeprefix("http_") for codes in by_task.values() for k in codes}
    return codes.pop() if len(codes) == 1 else None


def _restarts(summary: dict[str, Any]) -> Finding | None:
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


def _timeouts(summary: dict[str, Any]) -> Finding | None:
    n = summary["errors"]["by_kind"].get("timeout", 0)
    if not n:
        return None
    share = n / (summary["requests"] or 1)
    timeout = summary["run"].get("timeout_s")
    within = f" within --timeout {timeout:g} s" if timeout else ""
    return Finding(
        "timeouts",
        share,
        f"{_pct(share)} of requests timed out",
        f"{n} requests ({_pct(share)}) got no answer{within}",
        "the server is stuck or far past its capacity: lower the rate, or look at what it waits on",
    )


def _connection_limit(summary: dict[str, Any]) -> Finding | None:
    waits = summary["generator"].get("connection_waits", 0)
    share = waits / (summary["requests"] or 1)
    if share < CONNECTION_WAIT_SHARE:
        return None
    cap = summary["run"].get("connections")
    cap_text = f"all --connections {cap}" if cap else "every connection"
    return Finding(
        "connection_limit",
        min(share, 1.0),
        f"{_pct(share)} of requests waited for a free connection",
        f"{waits} requests ({_pct(share)}) found {cap_text} busy and waited: their "
        "latency includes the wait (it counts from the intended send time)",
        "raise --connections, unless the target is meant to see at most that many",
    )


def _nothing(summary: dict[str, Any]) -> Finding:
    server = summary.get("server", {})
    seen = []
    workers = server.get("workers", {})
    if workers:
        seen.append(f"CPU peaked at {max(w['cpu_peak'] for w in workers.values()):.0f} % of a core")
    lag = server.get("loop_lag_ms", {}).get("max")
    if lag is not None:
        seen.append(f"event-loop lag max {_seconds(lag)}")
    errors = summary["errors"]
    kinds = sorted(errors["by_kind"].items(), key=lambda kv: -kv[1])
    # Which errors: 100 % http_400 is a wrong request, not a healthy run.
    seen.append(f"{errors['total']} errors" + "".join(f", {k} {n}" for k, n in kinds[:3]))
    if "note" in server:
        seen.append("no server signals")
    said = "nothing stood out but the errors" if errors["total"] else "nothing stood out"
    return Finding("none", 0.0, said, ", ".join(seen), "")
