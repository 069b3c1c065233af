"""One finding of the diagnosis, and the words its texts share."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from loadgen.report.summary_contract import FindingEntry, ServerSecond, Summary


@dataclass
class Finding:
    """One finding: what stood out, its weight, its evidence and what to do about it."""

    finding: str  # one of diagnosis.FINDINGS
    weight: float  # how much of the outcome it explains, 0–1
    summary: str  # a short phrase: "both workers at 98 % CPU"
    evidence: str  # the numbers behind it
    advice: str  # what to do about it
    concurrency: float | None = None  # N, the requests the server handles at once
    # Whether the server's own signals back it (`measured`) or the client side
    # alone suggests it (`inferred`: the evidence says what was not seen).
    confidence: str = "measured"
    context: bool = False  # about the run's conditions, not the target: never replaces `none`

    def to_json(self) -> FindingEntry:
        """The finding as summary.json keeps it (no `concurrency` or `context` unless set)."""
        out: FindingEntry = {
            "finding": self.finding,
            "weight": round(self.weight, 3),
            "summary": self.summary,
            "evidence": self.evidence,
            "advice": self.advice,
            "confidence": self.confidence,
        }
        if self.concurrency is not None:
            out["concurrency"] = round(self.concurrency, 1)
        if self.context:
            out["context"] = True
        return out


def pct(share: float) -> str:
    """A share as a percentage: two decimals below 1 %, where a rounding to 0 would hide it."""
    return f"{100 * share:.0f} %" if share >= 0.01 else f"{100 * share:.2f} %"


def seconds_text(ms: float) -> str:
    """A duration as people read it: 0.032 ms, 523 ms, 1.43 s, 125 s."""
    if ms < 1000:
        return f"{ms:.3g} ms"
    return f"{ms / 1000:.3g} s" if ms < 100_000 else f"{ms / 1000:.0f} s"


def phases_text(summary: Summary) -> str:
    """Where a request's time went once sent: waiting for the first byte (the
    server's queue and processing) or receiving the body (transfer); "" when not timed."""
    phases = summary.get("phases_ms", {})
    first = phases["first_byte"]["p50"] if "first_byte" in phases else None
    body = phases["body"]["p50"] if "body" in phases else None
    if first is None or body is None:
        return ""
    where = (
        "most of it receiving the body: transfer, not processing"
        if body > first
        else "most of it before the first byte: the server's queue and work"
    )
    return (
        f"; time to first byte p50 {seconds_text(first)}, body p50 {seconds_text(body)} ({where})"
    )


def loaded_server_seconds(summary: Summary) -> list[ServerSecond]:
    """The timeline's sampled server seconds while load was being sent."""
    return [e["server"] for e in summary["timeline"] if e.get("target", 0) > 0 and "server" in e]


def worker_cpu_median(summary: Summary) -> float | None:
    """The server's workers' CPU together (% of one core), median loaded second;
    None when not sampled."""
    totals = []
    for s in loaded_server_seconds(summary):
        cpus = [c for w in s.get("workers", {}).values() if (c := w.get("cpu")) is not None]
        if cpus:
            totals.append(sum(cpus))
    if not totals:
        return None
    return float(statistics.median(totals))
