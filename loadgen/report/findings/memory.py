"""`memory_growth`: a worker's memory growing toward the machine's limit.

For each sampled worker, the least-squares line through its RSS over the
loaded seconds: slope b = Σ(t − t̄)(m − m̄) / Σ(t − t̄)², and how straight
the growth is, R² = b² Σ(t − t̄)² / Σ(m − m̄)². All the growing workers
together reach the limit (the machine's memory, or the cgroup's) after

    T = (limit − Σ RSS now) / Σ slopes

A finding when T is at most HORIZON_S (an hour at this rate), the growth is
steady (R² ≥ STEADY_R2: not a one-off allocation) and at least MIN_GROWTH_MB
over the run (not the allocator's noise). Whether it tracks requests or time
is told only when the request rate varied enough (a coefficient of variation
of RATE_VARIED) to set the two apart: the line through RSS against the
cumulative responses then fits better (R²) than the one against time, or
worse. Weight: 1 − T / HORIZON_S, at least WEIGHT_FLOOR: a leak that kills
the service within the hour matters whatever else the run showed.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from itertools import accumulate

from loadgen.report.findings.finding import Finding
from loadgen.report.summary_contract import Summary, TimelineEntry

HORIZON_S = 3600.0
STEADY_R2 = 0.8
MIN_GROWTH_MB = 20.0
MIN_POINTS = 3
RATE_VARIED = 0.2
WEIGHT_FLOOR = 0.3


@dataclass(frozen=True)
class Line:
    """A least-squares line: its slope, and how straight the points are (R²)."""

    slope: float
    r2: float


def fit(xs: list[float], ys: list[float]) -> Line:
    """The least-squares line's slope and R² (see the module docstring)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0:
        return Line(0.0, 0.0)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return Line(slope, slope * slope * sxx / syy if syy else 0.0)


def memory_growth(summary: Summary) -> Finding | None:
    """The workers' memory growing steadily toward the limit within the hour, or None."""
    seconds = [e for e in summary["timeline"] if e.get("target", 0) > 0 and "server" in e]
    series: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    served = list(accumulate(e["responses"] for e in seconds))
    for e, done in zip(seconds, served, strict=True):
        for pid, w in e["server"].get("workers", {}).items():
            series[pid].append((e["t"] + e["length"], float(done), w["rss_mb"]))
    growing = {}
    for pid, points in series.items():
        if len(points) < MIN_POINTS:
            continue
        line = fit([p[0] for p in points], [p[2] for p in points])
        grown = points[-1][2] - points[0][2]
        if line.slope > 0 and line.r2 >= STEADY_R2 and grown >= MIN_GROWTH_MB:
            growing[pid] = (line, points)
    limit = summary.get("machine", {}).get("memory_limit_mb")
    if not growing or not limit:
        return None
    now = sum(points[-1][2] for points in series.values() if points)
    rate = sum(line.slope for line, _ in growing.values())
    to_limit = max(limit - now, 0.0) / rate
    if to_limit > HORIZON_S:
        return None
    pid, (line, points) = max(growing.items(), key=lambda kv: kv[1][0].slope)
    per_request = _per_request(points)
    how = _tracks(seconds, points, line)
    who = f"worker {pid}" if len(series) > 1 else f"the server (pid {pid})"
    short = f"{who}'s memory grows {line.slope:.3g} MB/s"
    evidence = (
        f"{who}: RSS {points[0][2]:.0f} → {points[-1][2]:.0f} MB in {len(points)} s "
        f"(R² {line.r2:.2f}); {len(growing)} worker{'s' if len(growing) > 1 else ''} growing "
        f"{rate:.3g} MB/s together reach the {limit:.0f} MB limit in about "
        f"{_duration(to_limit)}; {how}"
    )
    if per_request is not None:
        evidence += f" (≈ {per_request:.3g} KB per request)"
    return Finding(
        "memory_growth",
        max(1.0 - to_limit / HORIZON_S, WEIGHT_FLOOR),
        short,
        evidence,
        "find what each request keeps (a cache without a bound, a list that only grows, "
        "references held by a global) — a heap profiler (tracemalloc, memray) will show it",
    )


def _per_request(points: list[tuple[float, float, float]]) -> float | None:
    served = points[-1][1] - points[0][1]
    return (points[-1][2] - points[0][2]) * 1024 / served if served > 0 else None


def _tracks(
    seconds: list[TimelineEntry], points: list[tuple[float, float, float]], line: Line
) -> str:
    rates = [e["responses"] / e["length"] for e in seconds if e["length"] > 0]
    mean = statistics.fmean(rates) if rates else 0.0
    if not mean or statistics.pstdev(rates) / mean < RATE_VARIED:
        return "at a steady rate a leak per request and one per second look alike"
    by_requests = fit([p[1] for p in points], [p[2] for p in points])
    if by_requests.r2 > line.r2:
        return "it tracks the request count (a leak per request)"
    return "it tracks time rather than requests"


def _duration(s: float) -> str:
    return f"{s / 60:.0f} min" if s >= 120 else f"{s:.0f} s"
