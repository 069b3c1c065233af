"""HDR histograms as loadgen uses them: microseconds, 1 µs to 1 h, 3 digits.

hdrh's `record_value` silently drops values outside the range, so `record`
clamps instead: a 2-hour stall is recorded as 1 h, never lost from the count.
Each percentile look-up walks the whole counts array, so `percentiles` asks
for all of them in one pass.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3

# The summary's percentile keys and the quantiles behind them.
SUMMARY_PERCENTILES: dict[str, float] = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}


def new_histogram() -> HdrHistogram:
    h = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
    # hdrh's histogram and its encoder refer to each other: a cycle, which only
    # the cycle collector frees, and the engine runs it rarely. The encoder's
    # way back is made weak, so a dropped histogram goes at once.
    h.encoder.histogram = weakref.proxy(h)
    return h


# hdrh's record_value spends most of its time in method calls; `record` inlines
# its index math for our fixed layout. With unit magnitude u = 0 and sub-bucket half-count
# magnitude m (2^(m+1) sub-buckets), a value v lands in bucket
#     b = bitlen(v | (2^(m+1) − 1)) − (m + 1)
# at counts index ((b + 1) << m) + (v >> b) − 2^m. Below 2^(m+1) (the first
# bucket, b = 0) that index is v itself: most latencies on a fast target are
# there (under 2 ms), and skip the arithmetic.
_LAYOUT = new_histogram()
assert _LAYOUT.unit_magnitude == 0
_HALF_MAG = _LAYOUT.sub_bucket_half_count_magnitude
_HALF_COUNT = _LAYOUT.sub_bucket_half_count
_MASK = _LAYOUT.sub_bucket_mask
_SHIFT = _HALF_MAG + 1
_FIRST_BUCKET = _LAYOUT.sub_bucket_count  # 2^(m+1)
del _LAYOUT


def record(h: HdrHistogram, seconds: float) -> None:
    """Record a duration given in seconds, clamped into the histogram's range.

    Same result as `h.record_value(µs)`, which silently drops out-of-range values.
    """
    v = int(seconds * 1_000_000 + 0.5)  # to the nearest µs
    if v < _FIRST_BUCKET:
        if v < LOWEST_US:
            v = LOWEST_US
        h.counts[v] += 1
    else:
        if v > HIGHEST_US:
            v = HIGHEST_US
        b = (v | _MASK).bit_length() - _SHIFT
        h.counts[((b + 1) << _HALF_MAG) + (v >> b) - _HALF_COUNT] += 1
    h.total_count += 1
    if v > h.max_value:
        h.max_value = v
    if v < h.min_value:
        h.min_value = v


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


def summary_ms(h: HdrHistogram) -> dict[str, float | None]:
    """p50/p90/p99/p99.9/max/mean in milliseconds, the summary.json latency block.

    None for each (null in JSON, "n/a" on screen) when nothing was timed: a
    run whose every request failed has no latency, not a latency of 0.
    """
    keys = [*SUMMARY_PERCENTILES, "max", "mean"]
    if h.get_total_count() == 0:
        return dict.fromkeys(keys)
    values = percentiles(h, SUMMARY_PERCENTILES.values())
    out: dict[str, float | None] = {
        key: round(values[q], 3) for key, q in SUMMARY_PERCENTILES.items()
    }
    out["max"] = round(h.get_max_value() / 1000.0, 3)
    out["mean"] = round(h.get_mean_value() / 1000.0, 3)
    return out


def min_ms(h: HdrHistogram) -> float | None:
    """The least value recorded, in milliseconds, to the histogram's precision
    (None when nothing was)."""
    if h.get_total_count() == 0:
        return None
    least: int = h.get_min_value()
    return round(least / 1000.0, 3)


def ms(value: float | None, digits: int = 2) -> str:
    """A latency for people: "1.23", or "n/a" when nothing was timed."""
    return "n/a" if value is None else f"{value:.{digits}f}"
