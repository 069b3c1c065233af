"""A recorder as a shard's state, and the exact merge of shards' recorders.

A shard (a process, a Dask task, a `--shard I/N` run) writes what it
measured with `to_state`: JSON-able, HDR payloads as base64 text. Another
process reads it back with `from_state`, and `merge_recorders` adds shards'
recorders up, histogram by histogram, into one: exact, nothing sampled. Kept
apart from the recorder's hot path, as hdrh keeps its log format apart from
its histogram.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from loadgen.measure.histogram import SparseHistogram, decode
from loadgen.measure.recorder import Interval, Recorder, TaskStats, tally_retry_after


def to_state(rec: Recorder) -> dict[str, Any]:
    """Everything `rec` measured, JSON-able: HDR payloads as their base64 text, counters as-is.

    Meant for a finished run (the engine closes the last interval), so
    the open interval and the live in-flight count are not part of it.
    """
    rec.settle_all()
    return {
        "arrivals": rec.arrivals,
        "max_in_flight": rec.max_in_flight,
        "first_exception": rec.first_exception,
        "error_details": rec.error_details,
        "send_lag": rec.send_lag.encode().decode("ascii"),
        "connect": rec.connect.encode().decode("ascii"),
        "phases": {
            "first_byte": rec.first_byte.encode().decode("ascii"),
            "body": rec.body.encode().decode("ascii"),
        },
        "retry_after": {
            "responses": rec.retry_after_responses,
            "values": dict(rec.retry_after),
        },
        "connection_waits": rec.connection_waits,
        "stream_waits": rec.stream_waits,
        "http_version": rec.http_version,
        "tasks": {
            name: {
                "requests": s.requests,
                "retries": s.retries,
                "bytes_received": s.bytes_received,
                "errors": dict(s.errors),
                "checks": dict(s.checks),
                "response": s.response.encode().decode("ascii"),
                "service": s.service.encode().decode("ascii"),
            }
            for name, s in rec.tasks.items()
        },
        "intervals": [
            {
                "start": iv.start,
                "end": iv.end,
                "arrivals": iv.arrivals,
                "responses": iv.responses,
                "errors": iv.errors,
                "histograms": {t: p.decode("ascii") for t, p in iv.histograms.items()},
                "maxima": iv.maxima,
                "busy": iv.busy,
            }
            for iv in rec.intervals
        ],
    }


def from_state(state: dict[str, Any]) -> Recorder:
    """The recorder `to_state` described (its origin is meaningless: the run is over)."""
    rec = Recorder(0.0)
    rec.arrivals = state["arrivals"]
    rec.max_in_flight = state["max_in_flight"]
    rec.first_exception = state["first_exception"]
    rec.error_details = dict(state.get("error_details", {}))
    rec.send_lag = decode(state["send_lag"])
    if "connect" in state:
        rec.connect = decode(state["connect"])
    if "phases" in state:
        rec.first_byte = decode(state["phases"]["first_byte"])
        rec.body = decode(state["phases"]["body"])
    retry_after = state.get("retry_after", {})
    rec.retry_after_responses = retry_after.get("responses", 0)
    rec.retry_after = Counter(retry_after.get("values", {}))
    rec.connection_waits = state.get("connection_waits", 0)
    rec.stream_waits = state.get("stream_waits", 0)
    rec.http_version = state.get("http_version", "")
    for name, t in state["tasks"].items():
        rec.tasks[name] = TaskStats(
            response=SparseHistogram.of(decode(t["response"])),
            service=SparseHistogram.of(decode(t["service"])),
            requests=t["requests"],
            errors=Counter(t["errors"]),
            bytes_received=t["bytes_received"],
            retries=t.get("retries", 0),
            checks=Counter(t.get("checks", {})),
        )
    for iv in state["intervals"]:
        histograms = {tag: p.encode("ascii") for tag, p in iv["histograms"].items()}
        rec.intervals.append(
            Interval(
                iv["start"],
                iv["end"],
                iv["arrivals"],
                iv["responses"],
                dict(iv["errors"]),
                histograms,
                dict(iv["maxima"]),
                iv.get("busy", 0.0),
            )
        )
    return rec


def merge_recorders(recorders: Iterable[Recorder]) -> Recorder:
    """One recorder holding the sum of others (shards of one run): exact, histogram by histogram.

    Interval k of every shard covers the same second (shards share a start
    instant and close intervals on the second), so intervals merge by position.
    `max_in_flight` is the sum of the shards' maxima: an upper bound on the
    generator's concurrent total, which no shard saw.
    """
    merged = Recorder(0.0)
    intervals: list[_IntervalSum] = []
    for rec in recorders:
        merged.arrivals += rec.arrivals
        merged.max_in_flight += rec.max_in_flight
        merged.first_exception = merged.first_exception or rec.first_exception
        merged.error_details = {**rec.error_details, **merged.error_details}
        merged.send_lag.add(rec.send_lag)
        merged.connect.add(rec.connect)
        merged.first_byte.add(rec.first_byte)
        merged.body.add(rec.body)
        merged.retry_after_responses += rec.retry_after_responses
        for value, count in rec.retry_after.most_common():
            tally_retry_after(merged.retry_after, value, count)
        merged.connection_waits += rec.connection_waits
        merged.stream_waits += rec.stream_waits
        versions = {merged.http_version, rec.http_version} - {""}
        merged.http_version = ", ".join(sorted(versions))
        for name, stats in rec.tasks.items():
            merged.task(name).add(stats)
        for k, iv in enumerate(rec.intervals):
            if k == len(intervals):
                intervals.append(_IntervalSum(iv.start, iv.end))
            intervals[k].add(iv)
    merged.intervals = [iv.close() for iv in intervals]
    return merged


class _IntervalSum:
    """Interval k of several recorders, being added up."""

    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, end
        self.arrivals = self.responses = 0
        self.busy = 0.0
        self.errors: Counter[str] = Counter()
        self.histograms: dict[str, SparseHistogram] = {}
        self.maxima: dict[str, int] = {}

    def add(self, iv: Interval) -> None:
        self.start = min(self.start, iv.start)
        self.end = max(self.end, iv.end)
        self.arrivals += iv.arrivals
        self.responses += iv.responses
        self.busy += iv.busy
        self.errors.update(iv.errors)
        for tag, payload in iv.histograms.items():
            h = self.histograms.get(tag)
            if h is None:
                h = self.histograms[tag] = SparseHistogram()
            h.add(decode(payload))
            self.maxima[tag] = max(self.maxima.get(tag, 0), iv.maxima[tag])

    def close(self) -> Interval:
        return Interval(
            self.start,
            self.end,
            self.arrivals,
            self.responses,
            dict(self.errors),
            {tag: h.encode() for tag, h in self.histograms.items()},
            self.maxima,
            self.busy,
        )
