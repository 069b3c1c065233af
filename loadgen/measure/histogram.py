"""HDR histograms as loadgen uses them: microseconds, 1 µs to 1 h, 3 digits.

hdrh's `record_value` silently drops values outside the range, so `record`
clamps instead: a 2-hour stall is recorded as 1 h, never lost from the count.
hdrh's read-outs (`get_mean_value`, `get_percentile_to_value_dict`,
`output_percentile_distribution`) each walk all 23 552 buckets in Python, one
method call per bucket. Here the buckets that hold anything are found once, in
C (`buckets`), only between the least and the greatest value recorded; every
statistic then walks that short list (`Distribution`).
"""

from __future__ import annotations

import itertools
import math
import sys
import weakref
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypeAlias, TypedDict

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3

# The summary's percentile keys and the quantiles behind them.
SUMMARY_PERCENTILES: dict[str, float] = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99.9": 99.9}
# A latency block's keys (`summary_ms`), in the order views show them.
LatencyKey = Literal["p50", "p90", "p99", "p99.9", "max", "mean"]
LATENCY_KEYS: tuple[LatencyKey, ...] = ("p50", "p90", "p99", "p99.9", "max", "mean")
# A latency block of the summary (ms; None for each when nothing was timed).
LatencyMs = TypedDict(
    "LatencyMs",
    {
        "p50": float | None,
        "p90": float | None,
        "p99": float | None,
        "p99.9": float | None,
        "max": float | None,
        "mean": float | None,
    },
)


def new_histogram() -> HdrHistogram:
    """An empty dense histogram of the one layout all of loadgen's share (µs, 1 µs
    to 1 h, 3 significant digits), so that any two add exactly.
    """
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
_HALF_MAG: int = _LAYOUT.sub_bucket_half_count_magnitude
_HALF_COUNT: int = _LAYOUT.sub_bucket_half_count
_MASK: int = _LAYOUT.sub_bucket_mask
_SHIFT: int = _HALF_MAG + 1
_FIRST_BUCKET: int = _LAYOUT.sub_bucket_count  # 2^(m+1)
_BUCKET_COUNT: int = _LAYOUT.bucket_count
_SUB_BUCKET_COUNT: int = _LAYOUT.sub_bucket_count
del _LAYOUT


def record(h: Histogram, seconds: float) -> None:
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


class SparseHistogram:
    """A histogram of the same layout that holds only its non-empty buckets.

    A dense hdrh histogram holds all 23 552 counts (184 KiB) however few
    values it has, and a run keeps two per task (response and service time),
    for the run and for each second: a --targets file of many distinct paths
    would cost that per path it hit. This one holds a dict entry per bucket
    used, so its memory grows with what was recorded. `record` fills it as it
    fills a dense one (`counts[i] += 1`, on a defaultdict); every reader here
    (`buckets`, `merged`, `summary_ms` ...) takes either; `dense()` makes the
    hdrh histogram for what needs one (encoding).
    """

    __slots__ = ("counts", "max_value", "min_value", "total_count")
    significant_figures = SIGNIFICANT_DIGITS
    bucket_count = _BUCKET_COUNT
    sub_bucket_count = _SUB_BUCKET_COUNT

    def __init__(self) -> None:
        self.counts: defaultdict[int, int] = defaultdict(int)
        self.total_count = 0
        self.min_value = sys.maxsize  # as recorded (µs); hdrh's start values
        self.max_value = 0

    @classmethod
    def of(cls, h: HdrHistogram) -> SparseHistogram:
        """A dense histogram's buckets, kept sparse."""
        sparse = cls()
        sparse.add(h)
        return sparse

    def get_total_count(self) -> int:
        """hdrh's: how many values were recorded."""
        return self.total_count

    def get_max_value(self) -> int:
        """hdrh's: the highest value equivalent to the greatest recorded (0: none)."""
        if self.max_value == 0:
            return 0
        low, width = _span(_index(min(self.max_value, HIGHEST_US)))
        return low + width - 1

    def get_min_value(self) -> int:
        """hdrh's: the lowest value equivalent to the least recorded (0: none)."""
        if self.total_count == 0 or self.counts.get(0):
            return 0
        return _span(_index(min(self.min_value, HIGHEST_US)))[0]

    def add(self, other: Histogram) -> None:
        """Add another histogram of this layout, bucket by bucket."""
        counts = self.counts
        for index, n in buckets(other):
            counts[index] += n
        self.total_count += other.total_count
        self.min_value = min(self.min_value, other.min_value)
        self.max_value = max(self.max_value, other.max_value)

    def dense(self) -> HdrHistogram:
        """The same counts in an hdrh histogram (to encode, or for hdrh's readers)."""
        h = new_histogram()
        _add_sparse(h, self)
        return h

    def encode(self) -> bytes:
        """The HDR payload hdrh's `encode` gives for the same values."""
        payload: bytes = self.dense().encode()
        return payload


# Either kind of histogram: every reader below takes both.
Histogram: TypeAlias = HdrHistogram | SparseHistogram


def _add_sparse(h: HdrHistogram, sparse: SparseHistogram) -> None:
    counts = h.counts
    for index, n in sparse.counts.items():
        counts[index] += n
    h.total_count += sparse.total_count
    h.min_value = min(h.min_value, sparse.min_value)
    h.max_value = max(h.max_value, sparse.max_value)


def merged(histograms: Iterable[Histogram]) -> HdrHistogram:
    """One dense histogram of them all."""
    total = new_histogram()
    for h in histograms:
        if isinstance(h, SparseHistogram):
            _add_sparse(total, h)
        else:
            total.add(h)
    return total


def decode(payload: str | bytes) -> HdrHistogram:
    """A dense histogram from an HDR payload (what `encode` and the interval log hold)."""
    h = new_histogram()
    h.decode_and_add(payload)
    return h


def _index(v: int) -> int:
    """The counts index of a value in µs (the index math of `record`)."""
    if v < _FIRST_BUCKET:
        return max(v, 0)
    b = (v | _MASK).bit_length() - _SHIFT
    return ((b + 1) << _HALF_MAG) + (v >> b) - _HALF_COUNT


def _span(i: int) -> tuple[int, int]:
    """The values a counts index stands for: (lowest, width) in µs.

    The inverse of `_index`: index i is bucket b = i // 2^m − 1 (the first
    bucket, b < 0 here, is b = 0 with sub-buckets from 0), sub-bucket
    s = i mod 2^m + 2^m; it holds the 2^b values from s·2^b.
    """
    b = (i >> _HALF_MAG) - 1
    sub = (i & (_HALF_COUNT - 1)) + _HALF_COUNT
    if b < 0:
        sub -= _HALF_COUNT
        b = 0
    return sub << b, 1 << b


def buckets(h: Histogram) -> list[tuple[int, int]]:
    """(counts index, count) of each bucket holding a value, in value order.

    A sparse histogram's are its entries, sorted. For a dense one, only the
    indices between the least and the greatest value recorded are
    read, as one C-level pass (`itertools.compress` over the counts' memory);
    when the counts do not add up to the total there (min/max not kept up by
    whoever filled it), the whole array is.
    """
    total = h.get_total_count()
    if total == 0:
        return []
    if isinstance(h, SparseHistogram):
        return sorted(item for item in h.counts.items() if item[1])
    counts = memoryview(h.counts).cast("B").cast("Q")
    lo = _index(min(h.min_value, HIGHEST_US))
    hi = min(_index(min(h.max_value, HIGHEST_US)), len(counts) - 1)
    if lo > hi or sum(counts[lo : hi + 1]) != total:
        lo, hi = 0, len(counts) - 1
    window = counts[lo : hi + 1]
    return [(lo + i, window[i]) for i in itertools.compress(range(len(window)), window)]


@dataclass(frozen=True)
class Distribution:
    """A histogram's non-empty buckets, read once; every statistic from them.

    Values are in µs, as hdrh gives them: a percentile is the highest value
    equivalent to its bucket (the lowest for the 0th), the mean weighs each
    bucket by its middle value (lowest + width/2), as hdrh's `get_mean_value`.
    """

    counts: list[tuple[int, int]]
    total: int

    @classmethod
    def of(cls, h: Histogram) -> Distribution:
        """`h`'s buckets, read once."""
        return cls(buckets(h), h.get_total_count())

    def percentiles_us(self, quantiles: Iterable[float]) -> dict[float, int]:
        """hdrh's `get_percentile_to_value_dict`: q's value is that of the first
        bucket where the running count reaches max(1, ⌊q·total/100 + 0.5⌋)."""
        out: dict[float, int] = {}
        if not self.total:
            return out
        wanted = sorted(set(quantiles))
        it = iter(self.counts)
        running, index = 0, 0
        for q in wanted:
            if q > 100:
                break
            target = max(int(min(q, 100.0) * self.total / 100 + 0.5), 1)
            while running < target:
                index, n = next(it)
                running += n
            low, width = _span(index)
            out[q] = low + width - 1 if q else low
        return out

    def mean_us(self) -> float:
        """Σ count × (lowest + width/2) / total, hdrh's `get_mean_value`."""
        if not self.total:
            return 0.0
        total = 0
        for index, n in self.counts:
            low, width = _span(index)
            total += n * (low + (width >> 1))
        return float(total) / self.total

    def stddev_us(self) -> float:
        """√(Σ count × (middle − mean)² / total), over the same middles as `mean_us`."""
        if not self.total:
            return 0.0
        mean = self.mean_us()
        dev_total = 0.0
        for index, n in self.counts:
            low, width = _span(index)
            dev = float(low + (width >> 1)) - mean
            dev_total += dev * dev * n
        return math.sqrt(dev_total / self.total)


def percentiles(h: Histogram, quantiles: Iterable[float]) -> dict[float, float]:
    """Values in milliseconds at the given percentiles (0–100), one pass over the counts."""
    qs = list(quantiles)
    if h.get_total_count() == 0:
        return dict.fromkeys(qs, 0.0)
    raw = Distribution.of(h).percentiles_us(qs)
    return {q: raw[q] / 1000.0 for q in qs}


def summary_ms(h: Histogram) -> LatencyMs:
    """p50/p90/p99/p99.9/max/mean in milliseconds, the summary.json latency block.

    None for each (null in JSON, "n/a" on screen) when nothing was timed: a
    run whose every request failed has no latency, not a latency of 0. All of
    them from one read of the counts (`Distribution`).
    """
    if h.get_total_count() == 0:
        return no_latency()
    dist = Distribution.of(h)
    at = dist.percentiles_us(SUMMARY_PERCENTILES.values())
    return {
        "p50": round(at[50.0] / 1000.0, 3),
        "p90": round(at[90.0] / 1000.0, 3),
        "p99": round(at[99.0] / 1000.0, 3),
        "p99.9": round(at[99.9] / 1000.0, 3),
        "max": round(h.get_max_value() / 1000.0, 3),
        "mean": round(dist.mean_us() / 1000.0, 3),
    }


def no_latency() -> LatencyMs:
    """The latency block of nothing timed: None for each."""
    return {"p50": None, "p90": None, "p99": None, "p99.9": None, "max": None, "mean": None}


def percentile_distribution(h: Histogram, scale: float = 1000.0, ticks: int = 5) -> bytes:
    """The .hgrm text hdrh's `output_percentile_distribution(out, scale, ticks)`
    writes, line for line, but from the non-empty buckets alone (values ÷ `scale`).

    Its percentile levels: from 0, each step is 100 / (ticks · 2^(log2(100/gap) + 1))
    with gap = 100 − level, so each halving of the gap gets `ticks` lines; a
    bucket that reaches several levels gives one line each, and the last
    bucket gives one line and then the 100 % line. One change: hdrh writes the
    standard deviation unscaled (µs beside ms values); here it is scaled like
    every other value.
    """
    digits = h.significant_figures
    dist = Distribution.of(h)
    lines = [
        b"%12s %14s %10s %14s\n\n" % (b"Value", b"Percentile", b"TotalCount", b"1/(1-Percentile)")
    ]
    line = f"%12.{digits}f %2.12f %10d %14.2f\n".encode()
    last_line = f"%12.{digits}f %2.12f %10d\n".encode()
    level, running = 0.0, 0
    for position, (index, n) in enumerate(dist.counts):
        running += n
        low, width = _span(index)
        value = (low + width - 1) / scale
        if running == dist.total and position == len(dist.counts) - 1:
            lines.append(line % (value, level / 100, running, 1 / (1 - level / 100)))
            lines.append(last_line % (value, 1.0, running))
            break
        while 100.0 * running / dist.total >= level:
            lines.append(line % (value, level / 100, running, 1 / (1 - level / 100)))
            gap = 100.0 - level
            level += 100.0 / (ticks * math.pow(2, math.log(100 / gap) / math.log(2) + 1))
    footer = f"#[Mean    = %12.{digits}f, StdDeviation   = %12.{digits}f]\n".encode()
    lines.append(footer % (dist.mean_us() / scale, dist.stddev_us() / scale))
    footer = f"#[Max     = %12.{digits}f, TotalCount     = %12.{digits}f]\n".encode()
    lines.append(footer % (h.get_max_value() / scale, dist.total))
    lines.append(
        b"#[Buckets = %12d, SubBuckets     = %12d]\n" % (h.bucket_count, h.sub_bucket_count)
    )
    return b"".join(lines)


def min_ms(h: Histogram) -> float | None:
    """The least value recorded, in milliseconds, to the histogram's precision
    (None when nothing was)."""
    if h.get_total_count() == 0:
        return None
    least: int = h.get_min_value()
    return round(least / 1000.0, 3)


def ms(value: float | None, digits: int = 2) -> str:
    """A latency for people: "1.23", or "n/a" when nothing was timed."""
    return "n/a" if value is None else f"{value:.{digits}f}"
