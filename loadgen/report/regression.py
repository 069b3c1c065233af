"""The regression gate: `loadgen compare BASE NEW --fail-if 'p99>+10%'`, and the comparison's JSON.

A bound names a metric, the direction that is worse and how much worse fails:

    bound  := [ "response:" | "service:" ] metric op [ "+" | "-" ] NUMBER unit
    metric := "p50" | "p90" | "p99" | "max" | "mean"    latency (response time unless service:)
            | "rps"                                      achieved: requests sent per second
            | "throughput"                               responses per second
            | "errors"                                   errors per request
    op     := ">" | ">=" (a rise is worse) | "<" | "<=" (a fall is worse)
    unit   := "%"                   relative to the baseline (latencies, rps, throughput)
            | "ms" | "us" | "s"     absolute, for latencies
            | "/s"                  absolute, for rps and throughput
            | "pp"                  percentage points, for errors (0.5 % → 1.0 % is +0.5pp)

e.g. `p99>+10%`, `service:p90>+2ms`, `errors>+0.5pp`, `rps<-5%`. Each metric
is compared over the runs' intervals (their seconds: `series`), its change
given with a 95 % interval and a p-value (`significance.py`). A bound fails
the gate only when the change is past it *and* significant: beyond the
noise the two runs' own seconds show. `strict` drops the second condition.
A bound that cannot be judged (a run with too few seconds, or no timed
response) is said, and makes the comparison incomplete, never a pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loadgen.report.run_data import RunData, rate_intervals
from loadgen.report.significance import (
    CONFIDENCE,
    MIN_INTERVALS,
    RESAMPLES,
    Difference,
    Series,
    difference,
)

# The JSON's layout version: a change that could break a reader raises it.
FORMAT = 1
LATENCY_STATS = ("p50", "p90", "p99", "max", "mean")
RATES = ("rps", "throughput")  # arrivals and responses per second
METRICS = (*LATENCY_STATS, *RATES, "errors")
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_BOUND = re.compile(
    r"""^(?:(?P<kind>response|service):)?
        (?P<metric>[a-z][a-z0-9.]*)
        (?P<op>>=|<=|>|<)
        (?P<sign>[+-])?
        (?P<value>\d+(?:\.\d*)?|\.\d+)
        (?P<unit>%|pp|ms|us|s|/s)?$""",
    re.VERBOSE | re.IGNORECASE,
)
_EXAMPLES = "e.g. p99>+10%, service:p90>+2ms, errors>+0.5pp, rps<-5%"


class BoundError(ValueError):
    """A --fail-if that is not a bound; the message says why, in one line."""


@dataclass(frozen=True)
class Bound:
    """A --fail-if expression parsed: the metric, how it is compared, and its limit."""

    text: str
    metric: str  # one of METRICS
    kind: str  # "response" or "service" (latencies; "response" for the others)
    op: str
    limit: float  # in `unit`: a percentage, ms, per second, or percentage points
    unit: str  # "%", "ms", "/s" or "pp"

    @property
    def rise(self) -> bool:
        """Whether a rise is what is worse (else a fall)."""
        return self.op.startswith(">")

    def key(self) -> str:
        """The metric compared, as the comparison names it: `p99`, `service:p99`, `rps`."""
        return metric_key(self.metric, self.kind)

    def measure(self, d: Difference) -> float:
        """The change in the bound's unit (a rise from a baseline of 0, in %: ±inf)."""
        if self.unit == "%":
            if d.relative is None:
                return math.copysign(math.inf, d.change) if d.change else 0.0
            return 100 * d.relative
        if self.unit == "pp":
            return 100 * d.change
        return d.change

    def crossed(self, d: Difference) -> bool:
        """The change passes the limit (judged beyond the noise apart, see `gate`)."""
        value = self.measure(d)
        return {
            ">": value > self.limit,
            ">=": value >= self.limit,
            "<": value < self.limit,
            "<=": value <= self.limit,
        }[self.op]

    def show(self, value: float) -> str:
        """`value` in the bound's unit, signed: +12.5%, -3ms."""
        return signed(value) + self.unit


def signed(value: float) -> str:
    """A change as people read it: +2037, +33.3, -2.39, +0.052 (no exponent)."""
    if not math.isfinite(value):
        return "+inf" if value > 0 else "-inf"
    size = abs(value)
    digits = 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 0.1 or not size else 3
    return f"{value:+.{digits}f}"


def p_text(p: float | None) -> str:
    """The p-value to the resolution its resamples give (0 means below 2/B)."""
    if p is None:
        return "p n/a"
    return f"p<{2 / RESAMPLES:g}" if p == 0 else f"p={p:.2g}"


def metric_key(metric: str, kind: str = "response") -> str:
    """The key of a metric in a gate's differences: the service time's apart."""
    return f"service:{metric}" if kind == "service" else metric


def parse_bound(text: str) -> Bound:
    """A --fail-if expression (see the module docstring); BoundError says what is wrong."""
    m = _BOUND.match(text.replace(" ", ""))
    if m is None:
        raise BoundError(f"not a bound: {text!r} ({_EXAMPLES})")
    metric, unit = m["metric"].lower(), (m["unit"] or "").lower()
    kind = (m["kind"] or "response").lower()
    if metric not in METRICS:
        raise BoundError(f"{text!r}: no metric {metric!r} (metrics: {', '.join(METRICS)})")
    if m["kind"] and metric not in LATENCY_STATS:
        raise BoundError(f"{text!r}: response:/service: only go with latencies")
    rise = m["op"].startswith(">")
    if (m["sign"] == "-" and rise) or (m["sign"] == "+" and not rise):
        worse = "rise (>) takes a + change" if rise else "fall (<) takes a - change"
        raise BoundError(f"{text!r}: a {worse}")
    value = float(m["value"]) * (-1 if m["sign"] == "-" or (not m["sign"] and not rise) else 1)
    if metric == "errors":
        if unit != "pp":
            raise BoundError(
                f"{text!r}: errors change in percentage points: write {metric}{m['op']}"
                f"{'+' if rise else '-'}{m['value']}pp (0.5% → 1% is +0.5pp)"
            )
        return Bound(text, metric, kind, m["op"], value, "pp")
    if unit == "pp":
        raise BoundError(f"{text!r}: pp (percentage points) is for errors; write % or a unit")
    if unit == "%":
        return Bound(text, metric, kind, m["op"], value, "%")
    if metric in RATES:
        if unit not in ("/s", ""):
            raise BoundError(f"{text!r}: {metric} takes % or /s")
        return Bound(text, metric, kind, m["op"], value, "/s")
    if unit == "/s":
        raise BoundError(f"{text!r}: a latency takes %, us, ms or s")
    return Bound(text, metric, kind, m["op"], value * _UNITS_MS[unit or "ms"], "ms")


def series(run: RunData, metric: str, kind: str = "response") -> Series:
    """A run's metric per interval, (xᵢ, wᵢ) as `significance.Series` takes them:
    a latency statistic per second (the mean's weighted by its responses), a rate
    per timeline entry, errors per request sent. Seconds with no timed response
    have no latency; the drain after the last arrival is left out. (A run longer
    than MAX_POINTS seconds has its latencies in buckets of a few seconds, as its
    page plots them: `run_data.RunData.seconds`.)"""
    if metric in LATENCY_STATS:
        # The drain after the last arrival starts at the run's end: it is not a second of load.
        end = run.summary["duration_s"]
        timed = [s[kind] for t, s in run.seconds if s[kind]["count"] > 0 and t < end]
        if metric == "mean":
            return Series([s["mean"] * s["count"] for s in timed], [s["count"] for s in timed])
        return Series([s[metric] for s in timed], [1.0] * len(timed))
    entries = rate_intervals(run.summary)
    if metric in RATES:
        counts = [e["arrivals"] if metric == "rps" else e["responses"] for e in entries]
        return Series([float(n) for n in counts], [e["length"] for e in entries])
    return Series(
        [float(sum(e.get("errors", {}).values())) for e in entries],
        [float(e["arrivals"]) for e in entries],
    )


@dataclass(frozen=True)
class Check:
    """A bound judged: `failed` makes the gate fail; `unjudged` says why it could not be."""

    bound: Bound
    difference: Difference | None
    crossed: bool
    failed: bool
    unjudged: str | None = None

    def line(self, strict: bool) -> str:
        """The check in one line for the terminal: pass, FAIL, or ? when not judged."""
        b, d = self.bound, self.difference
        if d is None or self.unjudged:
            return f"?     {b.text}: not judged: {self.unjudged}"
        said = f"{b.text}: {b.show(b.measure(d))}{_interval(b, d)}"
        if self.failed:
            why = "--strict" if strict else f"beyond the noise, {p_text(d.p)}"
            return f"FAIL  {said} is past {b.show(b.limit)} ({why})"
        if self.crossed:
            return (
                f"pass  {said} is past {b.show(b.limit)} but within the noise "
                f"({p_text(d.p)}): not failed (--strict would fail it)"
            )
        return f"pass  {said}"


def _interval(b: Bound, d: Difference) -> str:
    """` [low, high]` in the bound's unit (none when there is no interval)."""
    if d.p is None:
        return ""
    if b.unit == "%":
        if d.relative_interval is None:
            return ""
        low, high = (100 * v for v in d.relative_interval)
    else:
        scale = 100.0 if b.unit == "pp" else 1.0
        low, high = (scale * v for v in d.interval)
    return f" [{b.show(low)}, {b.show(high)}]"


def check(
    bound: Bound,
    d: Difference | None,
    strict: bool,
    labels: tuple[str, str],
    sizes: tuple[int, int],
) -> Check:
    """Judge one bound: past it and significant (or `strict`) fails; a bound past
    which nothing can be told (no data, too few intervals) is not judged."""
    if d is None:
        return Check(bound, None, False, False, f"no {bound.key()} in one of the runs")
    crossed = bound.crossed(d)
    if crossed and d.significant is None and not strict:
        few = ", ".join(f"{label} has {n}" for label, n in zip(labels, sizes, strict=True))
        return Check(
            bound,
            d,
            True,
            False,
            f"{bound.show(bound.measure(d))} is past {bound.show(bound.limit)}, but there are "
            f"too few intervals to tell it from noise ({few}; at least {MIN_INTERVALS} each; "
            "--strict judges the change alone)",
        )
    return Check(bound, d, crossed, crossed and (strict or bool(d.significant)))


@dataclass
class Gate:
    """One run against the baseline: every metric's difference and each bound's check."""

    base: str
    new: str
    differences: dict[str, Difference | None]
    sizes: dict[str, tuple[int, int]]  # metric → intervals in (base, new)
    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        """The checks that fail the gate."""
        return [c for c in self.checks if c.failed]

    @property
    def unjudged(self) -> list[Check]:
        """The checks that could not be judged (and why, in each)."""
        return [c for c in self.checks if c.unjudged]


def gate(
    base: RunData,
    new: RunData,
    labels: tuple[str, str],
    bounds: Sequence[Bound],
    strict: bool = False,
    seed: int = 0,
) -> Gate:
    """Compare `new` with `base`: every metric (and any a bound names), then each bound."""
    keys = {metric_key(m): (m, "response") for m in METRICS}
    keys |= {metric_key(m, "service"): (m, "service") for m in LATENCY_STATS}
    differences, sizes = {}, {}
    for key, (metric, kind) in keys.items():
        a, b = series(base, metric, kind), series(new, metric, kind)
        differences[key] = difference(a, b, seed=seed)
        sizes[key] = (len(a), len(b))
    checks = [
        check(bound, differences[bound.key()], strict, labels, sizes[bound.key()])
        for bound in bounds
    ]
    return Gate(labels[0], labels[1], differences, sizes, checks)


def metric_lines(g: Gate) -> list[str]:
    """The compared metrics, one line each: values, change, interval, verdict on noise."""
    lines = []
    for key, d in g.differences.items():
        if d is None:
            continue
        metric = key.rpartition(":")[2]
        unit = {"errors": "%", "rps": "/s", "throughput": "/s"}.get(metric, " ms")
        scale = 100.0 if metric == "errors" else 1.0
        change = scale * d.change
        low, high = (scale * v for v in d.interval)
        delta_unit = "pp" if metric == "errors" else unit.strip()
        said = f"{key:<12} {scale * d.base:9.3f} → {scale * d.new:9.3f}{unit}  "
        said += f"{signed(change)}{delta_unit}"
        if d.p is not None:
            said += f" [{signed(low)}, {signed(high)}]"
        if d.relative is not None and metric != "errors":
            said += f" ({signed(100 * d.relative)}%"
            if d.relative_interval is not None:
                rel_low, rel_high = (signed(100 * v) for v in d.relative_interval)
                said += f" [{rel_low}, {rel_high}]"
            said += ")"
        if d.p is None:
            lines.append(f"{said}  too few intervals to tell from noise")
            continue
        noise = "significant" if d.significant else "within the noise"
        lines.append(f"{said}  {noise}, {p_text(d.p)}")
    return lines


def comparison_json(
    runs: Sequence[Mapping[str, Any]], gates: Sequence[Gate], strict: bool, status: int
) -> dict[str, Any]:
    """The comparison as `loadgen compare --json` writes it (docs/ci.md documents it).

    `runs` are each run's facts (label, path, …), the first the baseline; `gates`
    each later run against it; `status` the command's exit status."""
    return {
        "format": FORMAT,
        "method": {
            "intervals": "seconds (the timeline's, and intervals.hlog's)",
            "test": "circular block bootstrap of each run's intervals, both runs apart",
            "resamples": RESAMPLES,
            "confidence": CONFIDENCE,
            "seed": 0,
            "strict": strict,
        },
        "baseline": runs[0],
        "runs": list(runs[1:]),
        "comparisons": [
            {
                "baseline": g.base,
                "run": g.new,
                "metrics": {
                    key: _difference_json(key, d, g.sizes[key]) for key, d in g.differences.items()
                },
                "bounds": [_check_json(c) for c in g.checks],
                "failed": [c.bound.text for c in g.failed],
            }
            for g in gates
        ],
        "failed": sorted({c.bound.text for g in gates for c in g.failed}),
        "exit_status": status,
    }


def _difference_json(key: str, d: Difference | None, sizes: tuple[int, int]) -> dict[str, Any]:
    metric = key.rpartition(":")[2]
    unit = {"errors": "%", "rps": "/s", "throughput": "/s"}.get(metric, "ms")
    out: dict[str, Any] = {"unit": unit, "intervals": list(sizes)}
    if d is None:
        return {**out, "base": None, "new": None}
    scale = 100.0 if metric == "errors" else 1.0
    return {
        **out,
        "base": scale * d.base,
        "new": scale * d.new,
        "change": scale * d.change,  # errors: percentage points
        "interval": None if d.p is None else [scale * v for v in d.interval],
        "relative": d.relative,
        "relative_interval": None if d.relative_interval is None else list(d.relative_interval),
        "p": d.p,
        "significant": d.significant,
    }


def _check_json(c: Check) -> dict[str, Any]:
    d = c.difference
    return {
        "bound": c.bound.text,
        "metric": c.bound.key(),
        "limit": c.bound.limit,
        "unit": c.bound.unit,
        "change": None if d is None else c.bound.measure(d),
        "crossed": c.crossed,
        "significant": None if d is None else d.significant,
        "failed": c.failed,
        "not_judged": c.unjudged,
    }
