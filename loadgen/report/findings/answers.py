"""What the answers say: `server_errors`, `rate_limited`, `client_errors`, `wrong_answers`.

- server_errors: any 5xx answer (a server error is never normal load), but a
  503 that carries Retry-After (that is a refusal: rate_limited). By task
  (client side) and endpoint (server side), with the error log's count of
  ERROR lines. Weight: the share of requests answered 5xx. The advice is
  the status's: an exception to fix for a 500, a refusal or overload for a
  503 without Retry-After, the service behind a proxy for a 502 or 504.
- rate_limited: 429, and 503 with Retry-After: the server refusing load on
  purpose. Said with the rate at which refusals began (the first second that
  had one), the rate it let through, and the Retry-After values it sent.
  Weight: the share of requests refused.
- client_errors: any other 4xx for at least CLIENT_ERROR_SHARE of the
  requests: the requests are wrong (a path, a body, credentials), and what
  was measured is how fast the server says no. Weight: their share.
- wrong_answers: answers the scenario's checks found wrong (`check` errors)
  for at least CLIENT_ERROR_SHARE of the requests: the target answers, but
  not what the scenario expects (another service at that address). Weight:
  their share. Either of these at half the requests or more heads the findings.
"""

from __future__ import annotations

import statistics

from loadgen.report.findings.finding import Finding, pct
from loadgen.report.summary_contract import Summary, TimelineEntry

CLIENT_ERROR_SHARE = 0.01
REFUSALS = ("http_429",)


def _refused_503(summary: Summary) -> int:
    """The 503 answers that carried Retry-After (those beyond the 429s that did)."""
    by_kind = summary["errors"]["by_kind"]
    carried = int(summary["errors"].get("retry_after", {}).get("responses", 0))
    return min(int(by_kind.get("http_503", 0)), max(carried - int(by_kind.get("http_429", 0)), 0))


def rate_limited(summary: Summary) -> Finding | None:
    """The server refusing load on purpose (429, 503 with Retry-After), or None."""
    by_kind = summary["errors"]["by_kind"]
    refused = by_kind.get("http_429", 0) + _refused_503(summary)
    if not refused:
        return None
    share = refused / (summary["requests"] or 1)
    seconds = [e for e in summary["timeline"] if e.get("target", 0) > 0 and e["length"] > 0]
    refusing = [e for e in seconds if _refusals(e) > 0]
    parts = [f"{refused} of {summary['requests']} requests refused ({pct(share)})"]
    if refusing:
        first = refusing[0]
        parts.append(
            f"refusals began at {first['arrivals'] / first['length']:.0f} requests/s "
            f"(second {first['t']:.0f})"
        )
        through = statistics.median((e["responses"] - _refusals(e)) / e["length"] for e in refusing)
        parts.append(f"it let about {through:.0f}/s through while refusing")
    values = summary["errors"].get("retry_after", {}).get("values", {})
    if values:
        shown = ", ".join(f"{v} s" if v.isdigit() else v for v in list(values)[:4])
        parts.append(f"Retry-After: {shown}")
    codes = "429" if by_kind.get("http_429") else "503 with Retry-After"
    return Finding(
        "rate_limited",
        min(share, 1.0),
        f"the server refused {pct(share)} of requests with {codes}: a rate limit",
        "; ".join(parts),
        "this is the server's limit on purpose: raise it, or test below it (or with the "
        "credentials it limits per)",
    )


def _refusals(second: TimelineEntry) -> int:
    return sum(second.get("errors", {}).get(k, 0) for k in REFUSALS)


def wrong_answers(summary: Summary) -> Finding | None:
    """Answers the scenario's checks found wrong (`check` errors) for at least
    CLIENT_ERROR_SHARE of requests: the target answers, but not what the scenario
    expects of it — another service at that address, or another version of it."""
    checks = summary["errors"].get("checks", {})
    total = summary["errors"]["by_kind"].get("check", 0)
    share = total / (summary["requests"] or 1)
    if share < CLIENT_ERROR_SHARE:
        return None
    reasons = sorted(
        ((task, reason, n) for task, by in checks.items() for reason, n in by.items()),
        key=lambda t: -t[2],
    )
    said = "; ".join(f"task {task}: {reason} ({n})" for task, reason, n in reasons[:3])
    top = f" ({reasons[0][1]})" if reasons else ""
    return Finding(
        "wrong_answers",
        min(share, 1.0),
        f"{pct(share)} of the answers failed the scenario's checks{top}",
        said or f"{total} answers failed their checks",
        "the target answers, but not as the scenario expects: is --host the service the "
        "scenario was written for (its paths, its version)? The latencies time wrong answers",
    )


def client_errors(summary: Summary) -> Finding | None:
    """Requests the server found wrong (4xx but refusals), or None."""
    by_task = {
        name: {
            k: n
            for k, n in t["errors_by_kind"].items()
            if k.startswith("http_4") and k not in REFUSALS
        }
        for name, t in summary["tasks"].items()
    }
    by_task = {name: codes for name, codes in by_task.items() if codes}
    total = sum(sum(codes.values()) for codes in by_task.values())
    share = total / (summary["requests"] or 1)
    if share < CLIENT_ERROR_SHARE:
        return None
    name, codes = max(by_task.items(), key=lambda kv: sum(kv[1].values()))
    asked = summary["tasks"][name]["requests"] or 1
    statuses = "/".join(k.removeprefix("http_") for k in sorted(codes))
    return Finding(
        "client_errors",
        min(share, 1.0),
        f"task {name} gets {statuses} for {pct(sum(codes.values()) / asked)} of its requests",
        "; ".join(
            f"task {n}: {'/'.join(k.removeprefix('http_') for k in sorted(c))} "
            f"{sum(c.values())} times"
            for n, c in sorted(by_task.items(), key=lambda kv: -sum(kv[1].values()))
        ),
        "the requests are wrong for this server (a path, a body, credentials: --header): "
        "the latencies measure how fast it says no",
    )


def server_errors(summary: Summary) -> Finding | None:
    """5xx answers (but refusals), by task and endpoint, or None."""
    excused = _refused_503(summary)  # refusals, said by rate_limited
    by_task = {
        name: {k: n for k, n in t["errors_by_kind"].items() if k.startswith("http_5")}
        for name, t in summary["tasks"].items()
    }
    by_task = {name: codes for name, codes in by_task.items() if codes}
    total = sum(sum(codes.values()) for codes in by_task.values()) - excused
    server = summary.get("server", {})
    endpoints = {h: e for h, e in server.get("endpoints", {}).items() if e.get("errors_5xx")}
    if total <= 0 and not endpoints:
        return None
    requests = summary["requests"] or 1
    parts = []
    for name, codes in sorted(by_task.items(), key=lambda kv: -sum(kv[1].values())):
        n, asked = sum(codes.values()), summary["tasks"][name]["requests"] or 1
        statuses = "/".join(k.removeprefix("http_") for k in sorted(codes))
        parts.append(f"task {name}: {statuses} for {pct(n / asked)} of its requests ({n})")
    for handler, e in sorted(endpoints.items(), key=lambda kv: -kv[1]["errors_5xx"]):
        parts.append(f"server: {handler} answered {e['errors_5xx']} with 5xx")
    if "error_log_errors" in server:
        parts.append(f"{server['error_log_errors']} ERROR lines in the error log")
    # One percentage per fact: the client's share of the busiest task's requests,
    # as its evidence says it (the server counts only what reached it, so its
    # share of the same failures differs when connections were torn down too).
    code = _single_code(by_task) or "5xx"
    if by_task:
        name, codes = max(by_task.items(), key=lambda kv: sum(kv[1].values()))
        share = sum(codes.values()) / (summary["tasks"][name]["requests"] or 1)
        short = f"task {name} gets {code} for {pct(share)} of its requests"
    if endpoints:
        handler, e = max(endpoints.items(), key=lambda kv: kv[1]["errors_5xx"])
        if not by_task:
            share = e["errors_5xx"] / max(e["requests"], 1)
        short = f"{handler} returns {code} for {pct(share)} of its requests"
    advice = _CODE_ADVICE.get(code, "fix the exception behind them (the server's error log has it)")
    embedded = summary["run"].get("embedded_server")
    if embedded is not None and embedded.get("log_dir"):
        # One uvicorn logs its errors to its console; gunicorn to error.log.
        log = "console.log" if embedded.get("server") == "uvicorn" else "error.log"
        short += f" (see {embedded['log_dir']}/{log})"
        advice = _CODE_ADVICE.get(code, "fix the exception behind them")
    weight = (total if total > 0 else sum(e["errors_5xx"] for e in endpoints.values())) / requests
    return Finding("server_errors", min(weight, 1.0), short, "; ".join(parts), advice)


# Statuses that are no exception of the server's own: told for what they are.
_CODE_ADVICE = {
    "502": "a proxy got no valid answer from the service behind the proxy (down, or "
    "closing connections): look there, and at the proxy's error log",
    "503": "503 without Retry-After is the server (or a proxy in front of it) turning "
    "requests away, not a crash: a rate limit (nginx's limit_req answers 503), an "
    "overload or a backend marked down; its error log says which",
    "504": "a proxy timed out waiting for the service behind the proxy: that service is "
    "too slow or stuck at this load",
}


def _single_code(by_task: dict[str, dict[str, int]]) -> str | None:
    codes = {k.removeprefix("http_") for codes in by_task.values() for k in codes}
    return codes.pop() if len(codes) == 1 else None
