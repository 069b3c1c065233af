"""Where requests waited: `concurrency_limit` and `serialized` (in the server),
`connection_limit` and `stream_limit` (in loadgen's pool), `connection_refused` (at the door),
`timeouts` (never answered). report/concurrency.py reads the run by Little's law.

- concurrency_limit: the run is saturated and requests queued in the server,
  and N = X · S₀ (report/concurrency.py) is how many it worked on at once:
  a pool of workers, threads or connections to a dependency. Only when
  neither its CPU (server_cpu) nor a blocked loop (event_loop_blocked)
  explains it better. Weight: the larger of the offered rate's share not
  answered and the service time's share spent waiting, at least
  SATURATED_WEIGHT: a saturated server explains the run.
- serialized: the same with N < SERIAL_N: one request at a time, a blocked
  event loop or a single-threaded worker.
- connection_limit: at least CONNECTION_WAIT_SHARE (1 %) of the requests
  waited for a free client connection because all --connections were busy,
  while the server's own service time stayed near its unloaded one (not
  queued): the cap, not the target, held them, and raising it would help. A
  server that queues fills any number of connections: then the finding is
  the server's. Weight: their share.
- stream_limit: the same for HTTP/2 (--http2): at least CONNECTION_WAIT_SHARE
  of the requests waited for a stream slot because every one of the
  --connections connections carried the server's
  SETTINGS_MAX_CONCURRENT_STREAMS, the server's service time near its
  unloaded one: the connection count (times the server's per-connection
  limit), not the server's work, held them. Weight: their share.
- connection_refused: connects refused, timed out (a full accept backlog
  drops SYNs) or reset, and connections closed by the server mid-request,
  for at least REFUSED_SHARE of the requests; or new connections taking a
  second or more at p99 (SYNs retransmitted: the backlog was full). Weight:
  their share, at least SATURATED_WEIGHT once a tenth are refused.
- timeouts: requests without an answer within --timeout. Weight: their share.
"""

from __future__ import annotations

from typing import Literal

from loadgen.report.concurrency import DOOR_KINDS, Concurrency
from loadgen.report.findings.finding import (
    Finding,
    pct,
    phases_text,
    seconds_text,
    worker_cpu_median,
)
from loadgen.report.summary_contract import Summary
from loadgen.report.usl import n_text

SATURATED_WEIGHT = 0.5
SERIAL_N = 1.5
CONNECTION_WAIT_SHARE = 0.01
REFUSED_SHARE = 0.01
SLOW_CONNECT_MS = 1000.0
DOOR_ONLY = ("connect", "connect_timeout")  # failed before a connection was had


# What loadgen's pool makes requests wait for: the counter in `generator`, and
# the words of its finding.
_POOL_WAITS: dict[str, tuple[Literal["connection_waits", "stream_waits"], str, str]] = {
    "connection_limit": ("connection_waits", "a free connection", "busy"),
    "stream_limit": (
        "stream_waits",
        "an HTTP/2 stream slot",
        "at the server's SETTINGS_MAX_CONCURRENT_STREAMS",
    ),
}


def waited_share(summary: Summary, finding: str | None = None) -> float:
    """The share of requests that waited in loadgen's pool: for `finding`'s
    resource, or for either (None)."""
    names = [finding] if finding else list(_POOL_WAITS)
    waits = sum(summary["generator"].get(_POOL_WAITS[n][0], 0) for n in names)
    return waits / (summary["requests"] or 1)


def server_queue(summary: Summary, c: Concurrency) -> Finding | None:
    """concurrency_limit or serialized (see the module docstring)."""
    if not c.saturated or c.server_n is None or c.unloaded_ms is None:
        return None
    if not c.queued and waited_share(summary) >= CONNECTION_WAIT_SHARE:
        return None  # loadgen's pool held them: connection_limit
    n = c.server_n
    cpu = worker_cpu_median(summary)
    workers = len(summary.get("server", {}).get("workers", {})) or None
    if cpu is None:
        busy = (
            "its CPU was not sampled (--server-pid PID tells a CPU-bound server from one "
            "that waits)"
        )
    else:
        busy = f"its CPU is {cpu / (workers or 1):.0f} % busy" + (
            f" per worker ({workers} workers)" if workers and workers > 1 else ""
        )
    unloaded = seconds_text(c.unloaded_ms)
    through = (
        f"{c.throughput_rps:.0f} answers/s of {c.offered_rps:.0f}/s offered × "
        f"{unloaded} unloaded service time = {n_text(n)} at once "
        f"(Little's law); mean service time {seconds_text(c.mean_service_ms)}"
        if c.mean_service_ms is not None
        else f"{c.throughput_rps:.0f} answers/s × {unloaded} = {n_text(n)} at once"
    )
    through += phases_text(summary)
    weight = max(c.shortfall, c.queueing, SATURATED_WEIGHT)
    confidence = "measured" if cpu is not None else "inferred"
    if n < SERIAL_N:
        return Finding(
            "serialized",
            weight,
            f"the server handles one request at a time; {busy}",
            f"{through}: requests wait for each other",
            "something serializes them: a blocking call on an event loop (time.sleep, sync "
            "I/O in an async handler) or a single-threaded worker — take it off the loop or "
            "add workers",
            concurrency=n,
            confidence=confidence,
        )
    return Finding(
        "concurrency_limit",
        weight,
        f"the server handles about {n:.0f} requests at a time and {busy}",
        f"{through}: requests wait on something — a pool of workers, threads or connections "
        "to a dependency",
        f"raise that pool (about {n:.0f} now) or make what it waits on faster",
        concurrency=n,
        confidence=confidence,
    )


def connection_limit(summary: Summary, c: Concurrency) -> Finding | None:
    """Requests held by loadgen's --connections, not by the server, or None."""
    return _pool_limit("connection_limit", summary, c)


def stream_limit(summary: Summary, c: Concurrency) -> Finding | None:
    """Requests held by HTTP/2 stream slots (--connections × the server's limit), or None."""
    return _pool_limit("stream_limit", summary, c)


def _pool_limit(finding: str, summary: Summary, c: Concurrency) -> Finding | None:
    """connection_limit or stream_limit (see the module docstring)."""
    share = waited_share(summary, finding)
    if share < CONNECTION_WAIT_SHARE or c.queued:
        return None
    _, resource, full = _POOL_WAITS[finding]
    waits = round(share * (summary["requests"] or 1))
    cap = summary["run"].get("connections")
    cap_text = f"all --connections {cap}" if cap else "every connection"
    unloaded = (
        f"; the server's service time stayed near its unloaded one "
        f"({seconds_text(c.mean_service_ms)} mean, {seconds_text(c.unloaded_ms)} fastest), "
        "so it had room for more"
        if c.unloaded_ms is not None and c.mean_service_ms is not None
        else ""
    )
    return Finding(
        finding,
        min(share, 1.0),
        f"{pct(share)} of requests waited for {resource}",
        f"{waits} requests ({pct(share)}) found {cap_text} {full} and waited: their "
        f"latency includes the wait (it counts from the intended send time){unloaded}",
        "raise --connections, unless the target is meant to see at most that many",
    )


def connection_refused(summary: Summary) -> Finding | None:
    """Connections refused, reset or slow to open (a full accept backlog), or None."""
    by_kind = summary["errors"]["by_kind"]
    counts = {k: by_kind[k] for k in DOOR_KINDS if by_kind.get(k)}
    share = sum(counts.values()) / (summary["requests"] or 1)
    slow = summary["generator"].get("connect_ms", {}).get("p99")
    slow_connects = slow is not None and slow >= SLOW_CONNECT_MS
    if share < REFUSED_SHARE and not slow_connects:
        return None
    parts = [f"{k} {n}" for k, n in counts.items()]
    first = summary["errors"].get("first", {})
    said = next((first[k] for k in counts if first.get(k)), None)
    if said:
        parts.append(f"first: {said}")
    if slow_connects:
        parts.append(f"connect p99 {slow:.0f} ms (SYNs retransmitted: its accept backlog full)")
    short = (
        f"the server refused or dropped {pct(share)} of connections"
        if share >= REFUSED_SHARE
        else "new connections took a second or more"
    )
    advice = (
        "the server accepts too few connections (its listen backlog, a connection cap, or "
        "nothing listening): raise its backlog or connection limit, or keep connections alive"
    )
    at_the_door = any(k in counts for k in DOOR_ONLY) or slow_connects
    errors_5xx = sum(n for k, n in by_kind.items() if k.startswith("http_5"))
    if not at_the_door and errors_5xx:
        # Every connect succeeded: the server closed connections it had taken,
        # as servers do after an error, losing what was sent on them.
        short = f"the server closed {pct(share)} of connections mid-request, beside its 5xx"
        advice = "it closes a connection after an error: fix the errors first (server_errors)"
        return Finding("connection_refused", min(share, 1.0), short, "; ".join(parts), advice)
    weight = max(share, SATURATED_WEIGHT if share >= 0.1 or slow_connects else 0.0)
    return Finding("connection_refused", min(weight, 1.0), short, "; ".join(parts), advice)


def timeouts(summary: Summary) -> Finding | None:
    """Requests not answered within --timeout, with what the first said, or None."""
    n = summary["errors"]["by_kind"].get("timeout", 0)
    if not n:
        return None
    share = n / (summary["requests"] or 1)
    timeout = summary["run"].get("timeout_s")
    within = f" within --timeout {timeout:g} s" if timeout else ""
    said = summary["errors"].get("first", {}).get("timeout", "")
    if "still arriving" in said:  # the server answered; its body did not end in time
        # Only the first timeout's detail is kept: what it says is not claimed of
        # the others, which may have waited for their heads.
        return Finding(
            "timeouts",
            share,
            f"{pct(share)} of requests timed out, the first while its body was still arriving",
            f"{n} requests ({pct(share)}) had no complete answer{within}; the first: {said}",
            "the server answered it but its body was slow or endless: the transfer, not "
            "the server's processing — raise --timeout, or look at what it streams",
        )
    return Finding(
        "timeouts",
        share,
        f"{pct(share)} of requests timed out",
        f"{n} requests ({pct(share)}) got no answer{within}",
        "the server is stuck or far past its capacity: lower the rate, or look at what it waits on",
    )
