"""How many requests the server held at once, read from the client side alone.

Little's law: in any stable stretch, the mean number of requests in a system
equals its throughput times the mean time each spends in it, L = X · W. Two
readings of it, per steady second of a run:

- `in_service`, L = Σ service times / second's length (`timeline[i].busy_s`):
  the requests the target held, as the client saw them, its own queue
  included. When the target queues, L fills whatever the client offers
  (every connection busy).
- `server_n`, N = X · S₀, with S₀ the unloaded service time (each task's
  fastest answer, weighted by its share of the timed responses): how many requests the
  server must have been *working on* at once to answer X per second when
  each takes S₀. When the server stops keeping up and N sits on a plateau,
  N is its concurrency: a pool of workers, threads or connections to a
  dependency (N ≈ 1: one at a time).

The run counts as saturated when its throughput fell short of the offered
rate (X < SHORTFALL · offered; offered without the requests that ended in an
error other than a timeout, as a reset or garbled bytes: those the server did
not fall behind on), or requests waited inside the target (mean
service time QUEUED_FACTOR × S₀ and QUEUED_MS over it) while every
connection loadgen allowed was in use, or requests timed out.

A capacity level is read the same way, once per level rather than per
second; these are the points the USL is fitted to (`usl.py`).

**Throughput while loaded.** A level's `throughput_rps` counts every response,
the drain after its last arrival too, over the level's length: past the limit
the backlog still comes back, and it equals the offered rate. What the server
could do is X = the responses of the timeline's seconds inside the level,
over their length (`served_rps`); the summary's figure where there is no
such second (a level under 1 s, an older summary).

**Concurrency.** Little's law, L = X · W: the requests a server holds at once
is its throughput X times the mean time W each spends there. From the client,
W is the service time (written to the socket → response read), so per level

    N  = X × mean service time                                  (`concurrency`)
    N₀ = X × Σ_tasks share_task × fastest service time_task     (`unloaded_concurrency`)

share_task being the task's part of the timed responses. N counts requests
queued inside the server as well as those being worked on; N₀ prices each
response at its task's fastest (unloaded) service time, so it counts only the
work. Past the limit of a server that handles P requests at a time (a pool of
workers, threads, dependency connections), throughput stops following the
offered rate and N₀ sits on a plateau near P while N keeps climbing with the
queue. (The timeline's `busy_s`, service times summed by the second a response
came back in, is not used: while a queue grows, the responses back within the
level are the early, short ones, and it undercounts.)
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from loadgen.report.summary import timed_responses
from loadgen.report.summary_contract import Summary, TimelineEntry

SHORTFALL = 0.9
QUEUED_FACTOR = 3.0
QUEUED_MS = 10.0
TIMEOUT_SHARE = 0.01
DOOR_KINDS = ("connect", "connect_timeout", "reset", "server_closed")
# Requests that ended, without a timeout, in no answer: turned away at the door,
# or answered with what is no answer (garbled bytes, a failed handshake, a
# refused stream, a body past --max-body). The server did not fall behind on
# them: they are errors of their own kinds, not a shortfall of its work.
NO_ANSWER_KINDS = (*DOOR_KINDS, "protocol", "tls", "body_too_large", "rst_stream", "goaway")
# A connection pool this full (in use / --connections) is all in use.
FULL_POOL = 0.9


@dataclass(frozen=True)
class Concurrency:
    """A run (or a capacity level) read by Little's law over its steady seconds
    (see the module docstring): what the findings judge saturation and queueing by."""

    offered_rps: float  # arrivals sent per second (median steady second) but those turned away
    throughput_rps: float  # responses per second (median steady second)
    in_service: float | None  # L: requests held at once, client side (median steady second)
    unloaded_ms: float | None  # S₀
    mean_service_ms: float | None
    server_n: float | None  # N = X · S₀
    saturated: bool
    queued: bool  # requests waited inside the target, not on loadgen's side

    @property
    def shortfall(self) -> float:
        """The share of the offered rate the target did not answer, 0–1."""
        if self.offered_rps <= 0:
            return 0.0
        return max(0.0, 1.0 - self.throughput_rps / self.offered_rps)

    @property
    def queueing(self) -> float:
        """The share of the mean service time spent waiting, 0–1."""
        if not self.unloaded_ms or not self.mean_service_ms:
            return 0.0
        return max(0.0, 1.0 - self.unloaded_ms / self.mean_service_ms)


def steady_seconds(summary: Summary) -> list[TimelineEntry]:
    """The seconds under load but the first (the pool opening, the queue building)
    and a last partial one; all loaded seconds when fewer than three would be left."""
    loaded = [e for e in summary["timeline"] if e.get("target", 0) > 0]
    steady = [e for e in loaded[1:] if e["length"] >= 0.5]
    return steady if len(steady) >= 3 else loaded


def unloaded_ms(summary: Summary) -> float | None:
    """S₀: each task's fastest service time, weighted by its share of the timed
    responses; None where the summary has none (an older one, or nothing timed)."""
    tasks = summary["tasks"]
    if not tasks or not all("service_min_ms" in t for t in tasks.values()):
        return None
    timed = [
        (timed_responses(t), fastest)
        for t in tasks.values()
        if (fastest := t.get("service_min_ms")) is not None
    ]
    total = sum(n for n, _ in timed)
    return sum(n * fastest for n, fastest in timed) / total if total > 0 else None


def read(summary: Summary) -> Concurrency:
    """The run's concurrency (see the module docstring)."""
    seconds = steady_seconds(summary)
    # Requests turned away at the door (refused, reset) never reached the
    # server's queue: they are connection_refused's, not a shortfall of its work;
    # nor are answers that were no answers (NO_ANSWER_KINDS).
    by_kind = summary["errors"]["by_kind"]
    lost = sum(by_kind.get(k, 0) for k in NO_ANSWER_KINDS) / (summary["requests"] or 1)
    offered = _median([e["arrivals"] / e["length"] for e in seconds]) * (1 - min(lost, 1.0))
    throughput = _median([e["responses"] / e["length"] for e in seconds])
    mean = summary["latency_ms"]["service"].get("mean")
    busy = [e["busy_s"] / e["length"] for e in seconds if "busy_s" in e]
    if busy:
        in_service: float | None = statistics.median(busy)
    else:  # an older summary: the run's mean service time stands for each second's
        in_service = throughput * mean / 1000 if mean is not None else None
    s0 = unloaded_ms(summary)
    server_n = throughput * s0 / 1000 if s0 is not None else None
    queued = (
        s0 is not None
        and mean is not None
        and mean >= QUEUED_FACTOR * s0
        and mean - s0 >= QUEUED_MS
    )
    cap = summary["run"].get("connections") or 0
    full = cap > 0 and in_service is not None and in_service >= FULL_POOL * cap
    timeouts = summary["errors"]["by_kind"].get("timeout", 0) / (summary["requests"] or 1)
    saturated = (
        (offered > 0 and throughput < SHORTFALL * offered)
        or (queued and full)
        or timeouts >= TIMEOUT_SHARE
    )
    return Concurrency(offered, throughput, in_service, s0, mean, server_n, saturated, queued)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def served_rps(summary: Summary) -> float:
    """Responses per second while the load was on (the module's docstring)."""
    end = summary["duration_s"]
    inside = [s for s in summary["timeline"] if s["t"] + s["length"] <= end + 1e-3]
    length = sum(s["length"] for s in inside)
    if length <= 0:
        return float(summary["throughput_rps"])
    return round(sum(s["responses"] for s in inside) / length, 3)


def concurrency(summary: Summary) -> float | None:
    """N = X × mean service time (Little's law); None: nothing timed."""
    mean = summary["latency_ms"]["service"]["mean"]
    if mean is None:
        return None
    return round(served_rps(summary) * mean / 1000, 3)


def unloaded_concurrency(summary: Summary) -> float | None:
    """N₀ = X × S₀ (`unloaded_ms`); None where the summary has no per-task fastest
    time (an older one) or nothing was timed."""
    s0 = unloaded_ms(summary)
    return None if s0 is None else round(served_rps(summary) * s0 / 1000, 3)
