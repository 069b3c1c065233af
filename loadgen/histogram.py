"""HDR histograms as loadgen uses them: microseconds, 1 µs to 1 h, 3 digits.

hdrh's `record_value` silently drops values outside the range, so `record`
clamps instead: a 2-hour stall is recorded as 1 h, never lost from the count.
Percentile look-ups walk the whole counts array (~1 ms each), so `percentiles`
asks for all of them in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3

# The summary's percentile keys and the quantiles behind them.
SUMMARY_PERCENTILES: dict[str, float] = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def record(h: HdrHistogram, seconds: float) -> None:
    """Record a duration given in seconds, clamped into the histogram's range."""
    us = int(seconds * 1_000_000)
    if us < LOWEST_US:
        us = LOWEST_US
    elif us > HIGHEST_US:
        us = HIGHEST_US
    h.record_value(us)


def merged(histograms: Iterable[HdrHistogram]) -> HdrHistogram:
    total = new_histogram()
    for h in histograms:
        total.add(h)
    return total


def decode(payload: str | bytes) -> HdrHistogram:
    h = new_histogram()
    h.decode_and_add(payload)
    return h


def percentiles(h: HdrHistogram, quantiles: Iterable[float]) -> dict[float, float]:
    """Values in milliseconds at the given percentiles (0–100), one pass over the counts."""
    qs = list(quantiles)
    if h.get_total_count() == 0:
        return dict.fromkeys(qs, 0.0)
    raw = h.get_percentile_to_value_dict(qs)
    return {q: raw[q] / 1000.0 for q in qs}


def summary_ms(h: HdrHistogram) -> dict[str, float]:
    """p50/p90/p99/p99.9/max/mean in milliseconds, the summary.json latency block."""
    values = percentiles(h, SUMMARY_PERCENTILES.values())
    out = {key: round(values[q], 3) for key, q in SUMMARY_PERCENTILES.items()}
    empty = h.get_total_count() == 0
    out["max"] = 0.0 if empty else round(h.get_max_value() / 1000.0, 3)
    out["mean"] = 0.0 if empty else round(h.get_mean_value() / 1000.0, 3)
    return out
