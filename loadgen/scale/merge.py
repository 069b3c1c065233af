"""The exact merge of shard states into one run.

Merging is exact, not an approximation: HDR histograms of the same layout
add bucket by bucket, so the merge of the shards' histograms equals the
histogram every request would have made in one process, and the counters
simply add (see `merge_recorders`). The merged `RunResult` feeds the reports
like a single run's. What cannot be merged cleanly (a shard missing, the same
shard twice, shards of different runs) is kept as warnings, never hidden.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from loadgen.core.results import MergedResult, RunResult
from loadgen.measure.recorder_state import from_state, merge_recorders
from loadgen.scale.shard import ShardJob
from loadgen.scenario import Scenario

# Shards of one run normally start within milliseconds of each other; past
# this they were not started together (e.g. pods without --start-at).
START_SPREAD_NOTE_S = 1.0


@dataclass
class Merged:
    """Shard states merged into one run: its result, and what each shard gave or
    why it is missing.
    """

    result: MergedResult
    count: int
    shards: list[dict[str, Any]]  # one per shard index, present or not
    warnings: list[str]  # the merge is incomplete or dubious
    notes: list[str]  # worth knowing, not wrong

    @property
    def missing(self) -> list[int]:
        """The indexes of the shards not in the merge."""
        return [s["index"] for s in self.shards if s["status"] != "ok"]

    def meta(self) -> dict[str, Any]:
        """What summary.json's `run` says about the shards.

        With shards missing, the summary's `target_rps` is what the merged
        shards planned (their share of the run); `asked_rps` is what the whole
        run was asked, and `lost_rps` the share of it that went with the
        missing shards (the headline says both).
        """
        missing = self.missing
        meta: dict[str, Any] = {
            "shard_count": self.count,
            "shards": self.shards,
            "missing_shards": missing,
            "missing_share": round(len(missing) / self.count, 6),
            "merge_warnings": self.warnings,
        }
        if missing:
            asked = self.asked_rps()
            meta["asked_rps"] = round(asked, 3)
            meta["lost_rps"] = round(asked * len(missing) / self.count, 3)
        return meta

    def asked_rps(self) -> float:
        """The rate the whole run was asked over its measured window: Λ(window)/window,
        every shard's share included (each shard planned 1/count of it)."""
        elapsed = self.result.elapsed
        if elapsed <= 0:
            return 0.0
        return RunResult.expected_arrivals(self.result, 0.0, elapsed) / elapsed


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
    labels = list(labels) if labels is not None else [f"state {i + 1}" for i in range(len(states))]
    jobs = [ShardJob.from_dict(s["job"]) for s in states]
    warnings: list[str] = []
    count = _check_one_run(jobs, labels, count, warnings)
    kept = _one_state_per_shard(jobs, labels, count, warnings)
    chosen = [states[kept[i]] for i in sorted(kept)]
    shards = _shard_table(states, kept, count, lost or {}, warnings)
    notes = _start_spread(chosen)
    lead = ShardJob.from_dict(chosen[0]["job"]) if chosen else jobs[0]
    merged = Merged(_merged_result(chosen, lead, count), count, shards, warnings, notes)
    if merged.missing:  # first of the warnings: what was asked, and what was lost of it
        meta = merged.meta()
        warnings.insert(
            0,
            f"asked {meta['asked_rps']:.1f}/s; {meta['lost_rps']:.1f}/s of it was lost with "
            f"{len(merged.missing)} of {count} shards: the report's target and counts are "
            "the rest's",
        )
    return merged


def _check_one_run(
    jobs: list[ShardJob], labels: list[str], count: int | None, warnings: list[str]
) -> int:
    """The run's shard count; warns about shards split differently or of other runs."""
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
    return count


def _one_state_per_shard(
    jobs: list[ShardJob], labels: list[str], count: int, warnings: list[str]
) -> dict[int, int]:
    """Shard index → position of the state kept for it (the first; duplicates are warned of)."""
    kept: dict[int, int] = {}
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
    return kept


def _shard_table(
    states: Sequence[dict[str, Any]],
    kept: dict[int, int],
    count: int,
    lost: dict[int, str],
    warnings: list[str],
) -> list[dict[str, Any]]:
    """One entry per shard index for `run.shards`; a missing one is warned of."""
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
    return shards


def _start_spread(chosen: list[dict[str, Any]]) -> list[str]:
    starts = [s["started_at"] for s in chosen]
    if not starts or max(starts) - min(starts) <= START_SPREAD_NOTE_S:
        return []
    return [
        f"shards started {max(starts) - min(starts):.1f} s apart (use --start-at for a "
        "common start); their one-second intervals are merged by position"
    ]


def _merged_result(chosen: list[dict[str, Any]], lead: ShardJob, count: int) -> MergedResult:
    starts = [s["started_at"] for s in chosen]
    config = lead.config(scenario=Scenario)  # the scenario class itself is never run again
    config.shard = (0, 1)
    config.start_at = min(starts, default=None)
    return MergedResult(
        config=config,
        recorder=merge_recorders(from_state(s["recorder"]) for s in chosen),
        started_at=min(starts, default=0.0),
        elapsed=max((s["elapsed"] for s in chosen), default=0.0),
        interrupted=any(s["interrupted"] for s in chosen),
        connections_opened=sum(s["connections_opened"] for s in chosen),
        task_names=_union(s["task_names"] for s in chosen),
        unsent=sum(s.get("unsent", 0) for s in chosen),
        stop_signal=next((s["stop_signal"] for s in chosen if s.get("stop_signal")), None),
        share=len(chosen) / count if count else 1.0,
    )


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
