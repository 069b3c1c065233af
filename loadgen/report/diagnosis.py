"""Why a run went as it did: findings from a fixed vocabulary, each with its evidence.

`diagnose(summary, slos)` reads the summary — the client side, which loadgen always
sees, and whatever it sampled: the machine (every run), the server's
processes (`--server-pid`) and metrics (`--server-metrics`) — and returns the
findings ordered by how much they explain (`weight`, 0–1). Each family has
its module in report/findings/, with its thresholds and why in its
docstring (docs/measuring.md has them all):

- findings/generator.py: generator_saturated (loadgen out of CPU),
  machine_busy (other work took the CPU: context, said after the target's
  findings or `none`, never instead of them)
- findings/server.py: server_cpu, event_loop_blocked, worker_restarts
- findings/queueing.py: concurrency_limit and serialized (by Little's law,
  report/concurrency.py), connection_limit, stream_limit (HTTP/2),
  connection_refused, timeouts
- findings/answers.py: server_errors, rate_limited, client_errors, wrong_answers
- findings/memory.py: memory_growth
- findings/slow.py: slow_at_any_load (a task slower than its SLO even alone:
  no rate meets it; needs the SLOs, and heads the findings)
- none: nothing above stood out.

A saturated server whose CPU (server_cpu) or blocked loop
(event_loop_blocked) is seen needs no concurrency_limit beside it: those say
why it stopped keeping up. Each finding says whether the server's own
signals back it (`confidence: measured`) or the client side alone suggests
it (`inferred`), and `none` says which signals were not there to see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from loadgen.report.concurrency import read
from loadgen.report.findings.answers import (
    client_errors,
    rate_limited,
    server_errors,
    wrong_answers,
)
from loadgen.report.findings.finding import Finding, seconds_text
from loadgen.report.findings.generator import generator_saturated, lateness, machine_busy
from loadgen.report.findings.memory import memory_growth
from loadgen.report.findings.queueing import (
    connection_limit,
    connection_refused,
    server_queue,
    stream_limit,
    timeouts,
)
from loadgen.report.findings.server import (
    CPU_BUSY,
    LOOP_BLOCKED_MS,
    event_loop_blocked,
    server_cpu,
    stalls_starved,
    worker_restarts,
)
from loadgen.report.findings.slow import slow_at_any_load
from loadgen.report.slo import SLO
from loadgen.report.summary_contract import FindingEntry, Summary
from loadgen.report.usl import n_text

__all__ = [
    "CPU_BUSY",
    "FINDINGS",
    "LOOP_BLOCKED_MS",
    "diagnose",
    "headline",
    "how_sure",
    "lateness",
]

FINDINGS = (
    "slow_at_any_load",
    "generator_saturated",
    "machine_busy",
    "server_cpu",
    "event_loop_blocked",
    "concurrency_limit",
    "serialized",
    "server_errors",
    "rate_limited",
    "client_errors",
    "wrong_answers",
    "memory_growth",
    "worker_restarts",
    "connection_refused",
    "timeouts",
    "connection_limit",
    "stream_limit",
    "none",
)
# Past this share of requests answered 4xx, or wrongly, that heads the findings.
WRONG_REQUESTS_FIRST = 0.5
# Findings that say why the server stopped keeping up, better than its concurrency.
_EXPLAINS_SATURATION = ("server_cpu", "event_loop_blocked")

_Rule = Callable[[Summary], Finding | None]
_SERVER_RULES: tuple[_Rule, ...] = (
    server_cpu,
    event_loop_blocked,
    server_errors,
    rate_limited,
    client_errors,
    wrong_answers,
    memory_growth,
    worker_restarts,
    connection_refused,
    timeouts,
)


def diagnose(summary: Summary, slos: Sequence[SLO] = ()) -> list[Finding]:
    """The run's findings, most explanatory first (see the module docstring);
    `slos`, the run's objectives, for what only they tell (slow_at_any_load)."""
    found = [f for rule in _SERVER_RULES if (f := rule(summary)) is not None]
    c = read(summary)
    if not any(f.finding in _EXPLAINS_SATURATION for f in found):
        queue = server_queue(summary, c)
        if queue is not None:
            found.append(queue)
    found += [f for rule in (connection_limit, stream_limit) if (f := rule(summary, c))]
    # loadgen's own first in a tie: the stable sort keeps them ahead.
    ours = [f for f in (generator_saturated(summary), machine_busy(summary)) if f is not None]
    found = sorted([*ours, *found], key=lambda f: -f.weight)
    # Most requests refused as wrong (4xx) or answered wrongly: the run measured
    # how fast the server says no, whoever was late; that is the first thing to fix.
    wrong = max(
        (f for f in found if f.finding in ("client_errors", "wrong_answers")),
        key=lambda f: f.weight,
        default=None,
    )
    # A task slower than its SLO alone: the fix is that request, not the rate.
    # Unless most requests were wrong: then what was timed is how fast it says no.
    lead = [f for f in (slow_at_any_load(summary, slos),) if f is not None]
    if wrong is not None and wrong.weight >= WRONG_REQUESTS_FIRST:
        lead.insert(0, wrong)
    found = [*lead, *(f for f in found if f not in lead)]
    # The run's conditions come after what the target showed, however much
    # they weigh: they say how far to trust it, not why the target broke.
    target = [f for f in found if not f.context] or [_nothing(summary)]
    return [*target, *(f for f in found if f.context)]


def headline(found: list[FindingEntry], advice: bool = True) -> str:
    """The top finding of the target in one line, `class (N ≈ n): summary — advice`
    (N where it measured the server's concurrency); else what `none` said: the
    run's conditions (machine_busy) are never the headline."""
    top = next((f for f in found if f["finding"] != "none" and not f.get("context")), None)
    if top is None:
        return found[0]["summary"] if found else "no diagnosis"
    n = top.get("concurrency")
    name = top["finding"] if n is None else f"{top['finding']} (N ≈ {n_text(n)})"
    said = f" — {top['advice']}" if advice and top.get("advice") else ""
    return f"{name}: {top['summary']}{said}"


def how_sure(finding: FindingEntry) -> str:
    """What a finding rests on, said where it is not the target's own signals."""
    if finding.get("context"):
        return " (the run's conditions, not the target)"
    if finding.get("confidence") == "inferred":
        return " (inferred from the client side)"
    return ""


def _nothing(summary: Summary) -> Finding:
    server = summary.get("server", {})
    seen = []
    workers = server.get("workers", {})
    if workers:
        seen.append(f"CPU peaked at {max(w['cpu_peak'] for w in workers.values()):.0f} % of a core")
    lag = server.get("loop_lag_ms", {}).get("max")
    if lag is not None:
        starved = stalls_starved(summary)
        seen.append(f"event-loop lag max {seconds_text(lag)}" + (f": {starved}" if starved else ""))
    errors = summary["errors"]
    kinds = sorted(errors["by_kind"].items(), key=lambda kv: -kv[1])
    # Which errors: 100 % http_400 is a wrong request, not a healthy run.
    seen.append(f"{errors['total']} errors" + "".join(f", {k} {n}" for k, n in kinds[:3]))
    if summary["generator"]["behind"] and not any(
        f.finding == "generator_saturated" for f in [generator_saturated(summary)] if f
    ):
        seen.append(
            f"send-lag p99 {summary['generator']['send_lag_ms']['p99']:.3g} ms while loadgen "
            "had CPU to spare: the machine's timers, not the target"
        )
    if "note" in server:
        seen.append(
            "the server's CPU, memory and event loop were not seen (--server-pid, --server-metrics)"
        )
    said = "nothing stood out but the errors" if errors["total"] else "nothing stood out"
    return Finding("none", 0.0, said, ", ".join(seen), "")
