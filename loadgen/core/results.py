"""What a run produced: its recorder and the facts needed to read it.

A `RunResult` comes from one engine; a `MergedResult` from shards put back
together (see `loadgen/scale/merge.py`). Reports take either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loadgen.core.config import RunConfig
from loadgen.measure.recorder import Recorder


@dataclass
class RunResult:
    config: RunConfig
    recorder: Recorder
    started_at: float  # wall-clock (epoch seconds) start of measurement
    elapsed: float  # seconds of measured issuing
    interrupted: bool
    connections_opened: int
    task_names: list[str] = field(default_factory=list)

    @property
    def target_arrivals(self) -> float:
        """Arrivals the profile asked of this shard in the measured window (after warm-up)."""
        return self.expected_arrivals(0.0, self.elapsed)

    def expected_arrivals(self, start: float, end: float) -> float:
        """Arrivals the profile asked of this shard between two measurement times."""
        warmup, profile = self.config.warmup, self.config.profile
        whole = profile.arrivals(warmup + end) - profile.arrivals(warmup + start)
        return whole / self.config.shard[1]


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
