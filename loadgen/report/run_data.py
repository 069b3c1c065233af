"""A run as reports see it: its summary plus the histograms behind it.

Built either from a live run's recorder or from a run directory
(`summary.json` + `intervals.hlog`, see `run_dir.py`); both go through the
one-second interval histograms, so a saved run renders exactly like the live
one. Run totals are the sum of the intervals (every response lands in
exactly one).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

from loadgen.measure.histogram import Histogram, SparseHistogram, merged, new_histogram, percentiles
from loadgen.measure.recorder import Recorder
from loadgen.report.summary_contract import LATENCY_KINDS, Summary, TimelineEntry

KINDS: tuple[str, ...] = LATENCY_KINDS  # histogram kinds, keys of RunData.histograms
# Per-second plots are bucketed to at most this many points (long runs).
MAX_POINTS = 600
SECOND_STATS = (50.0, 90.0, 99.0)
# Rate plots leave out intervals shorter than this: a run's last interval is
# often a few milliseconds of drain, and a rate over it says nothing.
MIN_RATE_INTERVAL_S = 0.5


@dataclass
class RunData:
    """A run read back from its folder: the summary, the histograms by task and kind,
    and the percentiles of each interval of intervals.hlog."""

    summary: Summary
    histograms: dict[str, dict[str, Histogram]]  # task → kind → run total
    # (start s, kind → {"p50", "p90", "p99", "max", "mean"} ms and "count"), one per
    # second or bucket
    seconds: list[tuple[float, dict[str, dict[str, float]]]]

    def total(self, kind: str) -> HdrHistogram:
        """The run's histogram of `kind` over every task."""
        return merged(by_kind[kind] for by_kind in self.histograms.values())


def rate_intervals(summary: Summary) -> list[TimelineEntry]:
    """The timeline's entries long enough to plot as per-second rates."""
    return [e for e in summary.get("timeline", []) if e["length"] >= MIN_RATE_INTERVAL_S]


def concurrency(entry: TimelineEntry) -> float | None:
    """The mean number of requests the server held at once over a timeline entry.

    Little's law, L = λ·W: with λ = responses / length and W their mean service
    time, L = Σ service / length = `busy_s / length`. None for a summary
    written before `busy_s` was kept, or an entry of no length.
    """
    busy = entry.get("busy_s")
    if busy is None or entry["length"] <= 0:
        return None
    return float(busy) / float(entry["length"])


def from_intervals(
    summary: Summary, intervals: Iterable[tuple[str, float, HdrHistogram]]
) -> RunData:
    """From (tag "kind:task", start s, histogram) triples."""
    totals: dict[str, dict[str, Histogram]] = defaultdict(
        lambda: {k: SparseHistogram() for k in KINDS}
    )
    per_start: dict[float, dict[str, HdrHistogram]] = defaultdict(
        lambda: {k: new_histogram() for k in KINDS}
    )
    for tag, start, h in intervals:
        kind, _, task = tag.partition(":")
        totals[task][kind].add(h)
        per_start[round(start, 3)][kind].add(h)
    return RunData(summary, dict(totals), _seconds(per_start))


def _seconds(
    per_start: dict[float, dict[str, HdrHistogram]],
) -> list[tuple[float, dict[str, dict[str, float]]]]:
    """Each second's (or bucket of seconds') percentiles, all tasks together."""
    starts = sorted(per_start)
    width = max(1, -(-len(starts) // MAX_POINTS))  # ceil: seconds per point
    seconds = []
    for i in range(0, len(starts), width):
        group = starts[i : i + width]
        stats = {}
        for kind in KINDS:
            h = merged(per_start[s][kind] for s in group)
            values = percentiles(h, SECOND_STATS)
            stats[kind] = {f"p{q:g}": values[q] for q in SECOND_STATS}
            stats[kind]["max"] = h.get_max_value() / 1000.0
            stats[kind]["mean"] = h.get_mean_value() / 1000.0
            stats[kind]["count"] = float(h.get_total_count())
        seconds.append((group[0], stats))
    return seconds


def from_recorder(summary: Summary, recorder: Recorder) -> RunData:
    """The same as `from_intervals` of the recorder's intervals, with the task
    totals the recorder already holds (the sums of its intervals: `settle`
    folds each one in) rather than copies of them, one per task."""
    per_start: dict[float, dict[str, HdrHistogram]] = defaultdict(
        lambda: {k: new_histogram() for k in KINDS}
    )
    for iv in recorder.intervals:
        for tag, payload in iv.histograms.items():
            per_start[round(iv.start, 3)][tag.partition(":")[0]].decode_and_add(payload)
    return RunData(summary, recorder.histograms(), _seconds(per_start))
