"""A tick: one closed second of a run in a few plain numbers.

What the progress line shows, and what shards in other processes send
their parent each second (as JSON), so it is plain data: numbers, and the
second's response times as the non-empty buckets of their histogram, so that
a percentile of the run so far is exact however many shards sent them.
"""

from __future__ import annotations

from collections import Counter
from operator import itemgetter
from typing import Any

from loadgen.measure.histogram import Histogram, SparseHistogram, buckets, decode
from loadgen.measure.recorder import CHECK, EXCEPTION, Interval, Recorder

# Numbers by name, and "response_counts": [[bucket index, count], ...].
Tick = dict[str, Any]


def tick(iv: Interval, rec: Recorder) -> Tick:
    """The second `iv` that just closed, as a `Tick`; `rec` gives the run's totals so far."""
    worst = max((v for tag, v in iv.maxima.items() if tag.startswith("response:")), default=0)
    return {
        "second": round(iv.end),  # intervals close on the second: shards' ticks line up by it
        "end": iv.end,
        "length": iv.end - iv.start,
        "arrivals": iv.arrivals,
        "responses": iv.responses,
        "requests": iv.responses + unanswered(iv.errors),
        "errors": sum(iv.errors.values()),
        "errors_by_kind": dict(iv.errors),
        "max_lag_us": round(iv.max_lag * 1_000_000),
        "max_us": worst,
        "total_arrivals": rec.arrivals,
        "in_flight": rec.in_flight,
        "response_counts": response_counts(iv, rec),
        # The server's side of it, for a diagnosis as the run goes (the dashboard's):
        # service times (written → answered) and Σ of them, the requests it held.
        "service_counts": response_counts(iv, rec, "service:"),
        "busy_s": iv.busy,
    }


def unanswered(errors: dict[str, int]) -> int:
    """The requests among a second's errors that got no response (a timeout, a reset):
    with its responses, its requests as summary.json counts them. An `http_*` error
    was a response, a `check` one too; an `exception` was the task's code, not a request."""
    return sum(
        n
        for kind, n in errors.items()
        if not kind.startswith("http_") and kind not in (CHECK, EXCEPTION)
    )


def response_counts(iv: Interval, rec: Recorder, kind: str = "response:") -> list[list[int]]:
    """The response times of second `iv` (or its service times, `kind` "service:"),
    every task's together, as [bucket index, count] pairs in value order (JSON
    keeps lists of numbers as they are, not dict keys).

    Right after `close_interval` its histograms wait, sparse, in the recorder's
    `pending` (cheap to read: no dense histogram is made on the engine's loop);
    one settled already is decoded from its interval.
    """
    waiting: dict[str, Histogram] = {tag: h for i, tag, h in rec.pending if i is iv}
    hists = [
        waiting.get(tag) or decode(payload)
        for tag, payload in iv.histograms.items()
        if tag.startswith(kind)
    ]
    if len(hists) == 1 and isinstance(hists[0], SparseHistogram):
        # One task, sparse: its entries sorted in C (this runs on the engine's loop
        # each second a dashboard or a progress line follows the run).
        return list(map(list, sorted(filter(itemgetter(1), hists[0].counts.items()))))
    counts: Counter[int] = Counter()
    for h in hists:
        for index, n in buckets(h):
            counts[index] += n
    return count_pairs(counts)


def count_pairs(counts: Counter[int]) -> list[list[int]]:
    """Bucket counts as a tick holds them: [index, count] pairs in value order."""
    return [[index, counts[index]] for index in sorted(counts) if counts[index]]


def add_responses(counts: Counter[int], t: Tick, key: str = "response_counts") -> None:
    """Add tick `t`'s response times (or its `key`'s) to `counts` (bucket index → count)."""
    for index, n in t.get(key, ()):
        counts[index] += n
