"""The diagnosis as it forms: the report's findings over the seconds a live run has closed.

The dashboard's process (never the engine's loop) runs it every few seconds:
it makes a summary of what it knows so far, the ticks (`measure/tick.py`: each
second's arrivals, responses, errors by kind, response and service times as
histogram buckets, time in service) and the sampler's samples, and runs
`diagnose` over it, the same rules the report applies at the end. The
samples go on the timeline by `server_signals.attach`, as the report's do.

What the ticks do not carry is left out, so that the rules needing it stay
silent rather than guess: the tasks are one ("all tasks"), as the ticks add
them up; no response phases, connection waits, Retry-After values or first
error texts; the send lag's p99 is unknown (a tick keeps its second's worst),
so "behind" rests on the rate achieved alone. The report at the end reads the
whole run and has the last word.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from typing import Any, cast

from loadgen.measure.histogram import Distribution, SparseHistogram, summary_ms
from loadgen.measure.tick import Tick, add_responses
from loadgen.report.diagnosis import diagnose
from loadgen.report.findings.finding import Finding
from loadgen.report.server_signals import ServerSignals, attach
from loadgen.report.summary import BEHIND_ACHIEVED_RATIO, error_rate
from loadgen.report.summary_contract import Summary

# The one task the ticks know: every task's requests together.
ALL_TASKS = "all tasks"


def histogram(counts: Counter[int], max_us: int = 0) -> SparseHistogram:
    """A histogram of these bucket counts (their max, if known: else the top bucket's)."""
    h = SparseHistogram()
    for index, n in counts.items():
        if n:
            h.counts[index] += n
            h.total_count += n
    if h.total_count:
        dist = Distribution(sorted(h.counts.items()), h.total_count)
        at = dist.percentiles_us((0.0, 100.0))
        h.min_value = at[0.0]
        h.max_value = max_us or at[100.0]
    return h


class LiveDiagnosis:
    """The run so far, as running totals of its ticks and its samples, and the
    findings they make.

    A tick is added to the totals as it comes and not kept: each reading costs
    the histogram buckets the run has used and a line per second, not every
    second's buckets again (an hour's soak is read every few seconds).
    """

    def __init__(self, meta: dict[str, Any] | None = None) -> None:
        self.meta = dict(meta or {})
        self.samples: list[dict[str, Any]] = []
        self.sources: list[str] = []
        self.missing: dict[str, str] = {}
        self.interval = 1.0
        self.cores = 1
        self.started_at: float | None = None  # epoch of the measured window's start
        self.seconds = 0  # ticks added
        self.elapsed = 0.0  # their length
        self._target = 0.0  # arrivals planned (Σ target rate × length)
        self._arrivals = 0
        self._requests = 0
        self._errors: Counter[str] = Counter()
        self._responses: Counter[int] = Counter()
        self._services: Counter[int] = Counter()
        self._max_us = 0
        self._max_in_flight = 0
        self._timeline: list[dict[str, Any]] = []

    def add_tick(self, t: Tick, now: float | None = None) -> None:
        """A second as it closed (`now`: when it came, to place the samples by)."""
        start = (time.time() if now is None else now) - t["end"]
        # The earliest estimate: a tick comes after its second, never before.
        self.started_at = start if self.started_at is None else min(self.started_at, start)
        target = (t.get("target") or 0.0) * t["length"]
        errors = dict(t.get("errors_by_kind", {}))
        self.seconds += 1
        self.elapsed += t["length"]
        self._target += target
        self._arrivals += t["arrivals"]
        self._requests += t["requests"] if "requests" in t else t["responses"]
        self._errors.update(errors)
        add_responses(self._responses, t)
        add_responses(self._services, t, "service_counts")
        self._max_us = max(self._max_us, t["max_us"])
        self._max_in_flight = max(self._max_in_flight, t["in_flight"])
        self._timeline.append(
            {
                "t": round(t["end"] - t["length"], 3),
                "length": round(t["length"], 3),
                "target": round(target, 3),
                "arrivals": t["arrivals"],
                "responses": t["responses"],
                "errors": errors,
                "busy_s": round(t.get("busy_s", 0.0), 6),
            }
        )

    def add_sample(self, sample: dict[str, Any]) -> None:
        """One sample of the sampler's, as it came."""
        self.samples.append(sample)
        for source, why in sample.get("missing", {}).items():
            self.missing.setdefault(source, why)

    def copy(self) -> LiveDiagnosis:
        """The same so far, apart: read while more comes (its cost: the buckets used
        and a line per second, copied)."""
        other = copy.copy(self)
        other.meta, other.samples = dict(self.meta), list(self.samples)
        other.sources, other.missing = list(self.sources), dict(self.missing)
        other._errors, other._responses = Counter(self._errors), Counter(self._responses)
        other._services, other._timeline = Counter(self._services), list(self._timeline)
        return other

    def summary(self) -> Summary | None:
        """What is known so far as a summary (see the module's doc); None before a second."""
        if not self.seconds or self.started_at is None:
            return None
        elapsed, arrivals, requests = self.elapsed, self._arrivals, self._requests
        errors = self._errors
        response = histogram(self._responses, self._max_us)
        service = histogram(self._services)
        target_rps = self._target / elapsed if elapsed else 0.0
        achieved = arrivals / elapsed if elapsed else 0.0
        latency = {"response": summary_ms(response), "service": summary_ms(service)}
        total = sum(errors.values())
        fastest = round(service.min_value / 1000, 3) if service.total_count else None
        summary = {
            "target": "",
            "arrival": self.meta.get("arrival", "constant"),
            "target_rps": round(target_rps, 3),
            "duration_s": round(elapsed, 3),
            "requests": requests,
            "retries": 0,
            "arrivals": arrivals,
            "achieved_rps": round(achieved, 3),
            "throughput_rps": round(response.total_count / elapsed, 3) if elapsed else 0.0,
            "errors": {
                "first": {},
                "total": total,
                "rate": error_rate(total, requests),
                "by_kind": dict(errors),
                "checks": {},
                "retry_after": {"responses": 0, "values": {}},
            },
            "latency_ms": latency,
            "phases_ms": {},
            "tasks": {
                ALL_TASKS: {
                    "requests": requests,
                    "errors": total,
                    "errors_by_kind": dict(errors),
                    "latency_ms": latency,
                    "service_min_ms": fastest,
                }
            },
            "generator": {
                "send_lag_ms": {"p50": None, "p99": None, "max": None},
                "max_in_flight": self._max_in_flight,
                "connections_opened": 0,
                "behind": target_rps > 0 and achieved < BEHIND_ACHIEVED_RATIO * target_rps,
            },
            "run": {
                **self.meta,
                "started_at_epoch": self.started_at,
                "interrupted": False,
            },
            "timeline": [dict(entry, errors=dict(entry["errors"])) for entry in self._timeline],
        }
        signals = ServerSignals(
            list(self.samples), self.sources, dict(self.missing), self.interval, self.cores
        )
        out = cast(Summary, summary)
        attach(out, signals if self.samples or self.sources else None)
        return out

    def findings(self) -> list[Finding]:
        """The findings so far, most explanatory first ([] before a second)."""
        summary = self.summary()
        return diagnose(summary) if summary is not None else []
