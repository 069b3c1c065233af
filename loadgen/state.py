"""Shard state: what one shard of a run measured, as JSON, and the exact merge of shards.

A run split k ways (`--processes`, `--dask`, `--shard i/k`) is k shards, each
sending its share of the arrivals (see `pacer.py`). Each shard's outcome is a
*state*: the job it ran (`ShardJob`), its timing, and its recorder with every
HDR histogram as its base64 payload. States cross process and machine
boundaries (a pipe, a Dask result, a file written by a Kubernetes pod), so
they are plain JSON.

Merging is exact, not an approximation: HDR histograms of the same layout
add bucket by bucket (`decode_and_add`), so the merge of the shards'
histograms equals the histogram every request would have made in one
process, and the counters simply add. The merged `RunResult` feeds
`build_summary` and `write_run` like a single run's.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from loadgen.engine import RunConfig, RunResult
from loadgen.histogram import new_histogram
from loadgen.profile import ConstantRate, Piecewise, RateProfile, Segment
from loadgen.recorder import Interval, Recorder, TaskStats
from loadgen.scenario import Scenario, load_scenario

SCHEMA = "loadgen.state/1"
STATE_FILE = "shard-state.json"
# Shards of one run normally start within milliseconds of each other; past
# this they were not started together (e.g. pods without --start-at).
START_SPREAD_NOTE_S = 1.0


def profile_from_description(desc: dict[str, Any]) -> RateProfile:
    """The profile `describe()` described: profiles travel to workers as their description."""
    if "rps" in desc:
        return ConstantRate(float(desc["rps"]))
    if "segments" in desc:
        segments = [Segment(float(d), float(a), float(b)) for d, a, b in desc["segments"]]
        return Piecewise(segments, kind=str(desc.get("kind", "stages")))
    raise ValueError(f"cannot rebuild a rate profile from {desc!r}")


@dataclass
class ShardJob:
    """Everything a worker anywhere needs to run shard `index` of `count`, as plain data."""

    index: int
    count: int
    target: str
    profile: dict[str, Any]  # the RateProfile's describe()
    duration: float
    scenario: str  # module:Class or file.py:Class
    arrival: str = "constant"
    warmup: float = 0.0
    timeout: float = 10.0
    connections: int = 1000
    client: str = "fast"
    seed: int | None = None
    start_at: float | None = None
    # A file scenario's source, so that a worker on another machine needs no copy of it.
    scenario_source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # summary.json's run parameters

    @classmethod
    def from_config(cls, config: RunConfig, scenario: str, meta: dict[str, Any]) -> ShardJob:
        module, _, _ = scenario.rpartition(":")
        source = Path(module).read_text() if module.endswith(".py") else None
        return cls(
            index=config.shard[0],
            count=config.shard[1],
            target=config.target,
            profile=config.profile.describe(),
            duration=config.duration,
            scenario=scenario,
            arrival=config.arrival,
            warmup=config.warmup,
            timeout=config.timeout,
            connections=config.connections,
            client=config.client,
            seed=config.seed,
            start_at=config.start_at,
            scenario_source=source,
            meta=meta,
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ShardJob:
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def shard(self, index: int, count: int, start_at: float | None) -> ShardJob:
        return replace(self, index=index, count=count, start_at=start_at)

    def config(self, scenario: type[Scenario] | None = None) -> RunConfig:
        """The engine's config; the scenario is loaded here unless given."""
        return RunConfig(
            target=self.target,
            profile=profile_from_description(self.profile),
            duration=self.duration,
            scenario=scenario if scenario is not None else self.load_scenario(),
            arrival=self.arrival,
            warmup=self.warmup,
            timeout=self.timeout,
            connections=self.connections,
            client=self.client,
            seed=self.seed,
            shard=(self.index, self.count),
            start_at=self.start_at,
        )

    def load_scenario(self) -> type[Scenario]:
        module, _, klass = self.scenario.rpartition(":")
        if self.scenario_source is None:
            return load_scenario(self.scenario)
        path = Path(module)
        # The user's own file when it is here and unchanged (it may import its
        # neighbours); otherwise the shipped source, written out privately.
        if path.is_file() and path.read_text() == self.scenario_source:
            return load_scenario(f"{path}:{klass}")
        # Imported from a private copy, removed once imported (the module lives on).
        with tempfile.TemporaryDirectory(prefix="loadgen-scenario-") as tmp:
            copy = Path(tmp) / path.name
            copy.write_text(self.scenario_source)
            return load_scenario(f"{copy}:{klass}")

    def run_key(self) -> str:
        """What shards of one run share: everything but the shard, start and seed.

        (Pods started without --seed each draw their own, and without
        --start-at each starts when it is scheduled; both still make one run.)
        """
        same = {
            k: v
            for k, v in self.to_dict().items()
            if k not in ("index", "start_at", "seed", "meta", "scenario_source")
        }
        return hashlib.sha256(json.dumps(same, sort_keys=True).encode()).hexdigest()[:16]


def shard_state(job: ShardJob, result: RunResult, **extra: Any) -> dict[str, Any]:
    """One shard's outcome, JSON-able; `extra` adds facts about where it ran."""
    return {
        "schema": SCHEMA,
        "job": job.to_dict(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started_at": result.started_at,
        "elapsed": result.elapsed,
        "interrupted": result.interrupted,
        "connections_opened": result.connections_opened,
        "task_names": result.task_names,
        "target_arrivals": result.target_arrivals,
        "recorder": result.recorder.to_state(),
        **extra,
    }


def write_state(out: Path, state: dict[str, Any]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / STATE_FILE
    path.write_text(json.dumps(state) + "\n")
    return path


def read_state(path: Path) -> dict[str, Any]:
    """A shard state from its file, or from the run directory holding it."""
    if path.is_dir():
        path = path / STATE_FILE
    state: dict[str, Any] = json.loads(path.read_text())
    if state.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a loadgen shard state ({SCHEMA})")
    return state


@dataclass
class MergedResult(RunResult):
    """A run put back together from shards.

    Its target is what the merged shards were asked for: each shard's share
    of the profile over its own measured window, summed. A missing shard's
    share is not asked of the others, so a lost shard shows up as missing
    data (said in `run.shards`), not as a generator that fell behind.
    """

    shard_target_arrivals: float = 0.0
    share: float = 1.0  # the fraction of shards merged

    @property
    def target_arrivals(self) -> float:
        return self.shard_target_arrivals

    def expected_arrivals(self, start: float, end: float) -> float:
        return super().expected_arrivals(start, end) * self.share


@dataclass
class Merged:
    result: MergedResult
    count: int
    shards: list[dict[str, Any]]  # one per shard index, present or not
    warnings: list[str]  # the merge is incomplete or dubious
    notes: list[str]  # worth knowing, not wrong

    @property
    def missing(self) -> list[int]:
        return [s["index"] for s in self.shards if s["status"] != "ok"]

    def meta(self) -> dict[str, Any]:
        """What summary.json's `run` says about the shards."""
        missing = self.missing
        return {
            "shard_count": self.count,
            "shards": self.shards,
            "missing_shards": missing,
            "missing_share": round(len(missing) / self.count, 6),
            "merge_warnings": self.warnings,
        }


def merge_states(
    states: Sequence[dict[str, Any]],
    count: int | None = None,
    lost: dict[int, str] | None = None,
    labels: Sequence[str] | None = None,
) -> Merged:
    """Merge shard states into one run.

    `count` is the number of shards the run had (default: what the states
    say); `lost` gives the reason for shards known to have failed; `labels`
    name where each state came from, for the warnings.
    """
    if not states:
        raise ValueError("no shard states to merge")
    lost = dict(lost or {})
    labels = list(labels) if labels is not None else [f"state {i + 1}" for i in range(len(states))]
    warnings: list[str] = []
    notes: list[str] = []
    jobs = [ShardJob.from_dict(s["job"]) for s in states]

    counts = sorted({j.count for j in jobs})
    if count is None:
        count = counts[-1]
    if counts != [count]:
        warnings.append(
            f"shards of runs split different ways ({' vs '.join(map(str, counts))} shards)"
        )
    keys = Counter(j.run_key() for j in jobs)
    if len(keys) > 1:
        main_key = keys.most_common(1)[0][0]
        odd = [lab for lab, j in zip(labels, jobs, strict=True) if j.run_key() != main_key]
        warnings.append(
            "shards from different runs (target, rate, duration, arrival or scenario differ): "
            + ", ".join(odd)
        )

    kept: dict[int, int] = {}  # shard index → position in `states`
    for pos, job in enumerate(jobs):
        if job.index in kept:
            first = labels[kept[job.index]]
            warnings.append(
                f"shard {job.index}/{count} appears twice ({first} and {labels[pos]}): "
                f"kept {first} only, so no arrival is counted twice"
            )
            continue
        if not 0 <= job.index < count:
            warnings.append(f"{labels[pos]} is shard {job.index}, outside 0..{count - 1}: skipped")
            continue
        kept[job.index] = pos
    chosen = [states[kept[i]] for i in sorted(kept)]

    shards: list[dict[str, Any]] = []
    for i in range(count):
        if i in kept:
            shards.append(_shard_info(states[kept[i]]))
            continue
        reason = lost.get(i, "no state for it")
        shards.append({"index": i, "status": "missing", "reason": reason})
        warnings.append(
            f"shard {i}/{count} is missing ({reason}): its share, 1/{count} of the "
            "arrivals, is not in this report (targets and counts cover the other shards)"
        )

    starts = [s["started_at"] for s in chosen]
    if chosen and max(starts) - min(starts) > START_SPREAD_NOTE_S:
        notes.append(
            f"shards started {max(starts) - min(starts):.1f} s apart (use --start-at for a "
            "common start); their one-second intervals are merged by position"
        )

    lead = ShardJob.from_dict(chosen[0]["job"]) if chosen else jobs[0]
    config = lead.config(scenario=Scenario)  # the scenario class itself is never run again
    config.shard = (0, 1)
    config.start_at = min(starts) if starts else None
    result = MergedResult(
        config=config,
        recorder=merge_recorders(s["recorder"] for s in chosen),
        started_at=min(starts) if starts else 0.0,
        elapsed=max((s["elapsed"] for s in chosen), default=0.0),
        interrupted=any(s["interrupted"] for s in chosen),
        connections_opened=sum(s["connections_opened"] for s in chosen),
        task_names=_union(s["task_names"] for s in chosen),
        shard_target_arrivals=sum(s["target_arrivals"] for s in chosen),
        share=len(chosen) / count if count else 1.0,
    )
    return Merged(result, count, shards, warnings, notes)


def _shard_info(state: dict[str, Any]) -> dict[str, Any]:
    rec = state["recorder"]
    tasks = rec["tasks"].values()
    clock = state.get("clock", {})
    return {
        "index": state["job"]["index"],
        "status": "ok",
        "host": state.get("host"),
        "pid": state.get("pid"),
        "worker": state.get("worker"),
        "arrivals": rec["arrivals"],
        "requests": sum(t["requests"] for t in tasks),
        "errors": sum(sum(t["errors"].values()) for t in tasks),
        "elapsed_s": round(state["elapsed"], 3),
        "started_at_epoch": round(state["started_at"], 3),
        "interrupted": state["interrupted"],
        # Positive: the shard was ready that long before its start instant.
        "start_lead_ms": _ms(state.get("start_lead_s")),
        # This shard's clock minus the coordinator's (None: not measured).
        "clock_skew_ms": _ms(clock.get("skew_s")),
        "clock_rtt_ms": _ms(clock.get("rtt_s")),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)


def _union(lists: Iterable[list[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for names in lists:
        seen.update(dict.fromkeys(names))
    return list(seen)


def merge_recorders(states: Iterable[dict[str, Any]]) -> Recorder:
    """One recorder holding the sum of the recorder states: exact, histogram by histogram.

    Interval k of every shard covers the same second (shards share a start
    instant and close intervals on the second), so intervals merge by position.
    `max_in_flight` is the sum of the shards' maxima: an upper bound on the
    generator's concurrent total, which no shard saw.
    """
    rec = Recorder(0.0)
    intervals: list[_IntervalSum] = []
    for s in states:
        rec.arrivals += s["arrivals"]
        rec.max_in_flight += s["max_in_flight"]
        if rec.first_exception is None:
            rec.first_exception = s["first_exception"]
        rec.send_lag.decode_and_add(s["send_lag"])
        for name, t in s["tasks"].items():
            stats = rec.tasks.setdefault(name, TaskStats())
            stats.requests += t["requests"]
            stats.bytes_received += t["bytes_received"]
            stats.errors.update(t["errors"])
            stats.response.decode_and_add(t["response"])
            stats.service.decode_and_add(t["service"])
        for k, iv in enumerate(s["intervals"]):
            if k == len(intervals):
                intervals.append(_IntervalSum(iv["start"], iv["end"]))
            intervals[k].add(iv)
    rec.intervals = [iv.close() for iv in intervals]
    return rec


class _IntervalSum:
    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, end
        self.arrivals = self.responses = 0
        self.errors: Counter[str] = Counter()
        self.histograms: dict[str, HdrHistogram] = {}
        self.maxima: dict[str, int] = {}

    def add(self, iv: dict[str, Any]) -> None:
        self.start = min(self.start, iv["start"])
        self.end = max(self.end, iv["end"])
        self.arrivals += iv["arrivals"]
        self.responses += iv["responses"]
        self.errors.update(iv["errors"])
        for tag, payload in iv["histograms"].items():
            h = self.histograms.get(tag)
            if h is None:
                h = self.histograms[tag] = new_histogram()
            h.decode_and_add(payload)
            self.maxima[tag] = max(self.maxima.get(tag, 0), iv["maxima"][tag])

    def close(self) -> Interval:
        return Interval(
            self.start,
            self.end,
            self.arrivals,
            self.responses,
            dict(self.errors),
            {tag: h.encode() for tag, h in self.histograms.items()},
            self.maxima,
        )
