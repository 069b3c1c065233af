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
    """One engine's run: its recorder, when measurement started and for how long,
    and what kept it short of what was asked (a stop, arrivals never sent).
    """

    config: RunConfig
    recorder: Recorder
    started_at: float  # wall-clock (epoch seconds) start of measurement
    elapsed: float  # seconds of measured issuing
    interrupted: bool
    connections_opened: int
    task_names: list[str] = field(default_factory=list)
    unsent: int = 0  # measured arrivals that were due and never sent
    stop_signal: int | None = None  # the signal that stopped the run early, if one did

    @property
    def target_arrivals(self) -> int:
        """The arrivals planned in the measured window: those sent and those never sent.

        A run that sent every one meets its target exactly.
        """
        return self.recorder.arrivals + self.unsent

    def expected_arrivals(self, start: float, end: float) -> float:
        """Arrivals the profile asked of this shard between two measurement times."""
        warmup, profile = self.config.warmup, self.config.profile
        whole = profile.arrivals(warmup + end) - profile.arrivals(warmup + start)
        return whole / self.config.shard[1]


@dataclass
class MergedResult(RunResult):
    """A run put back together from shards.

    Its target is what the merged shards planned. A missing shard's share is
    not asked of the others, so a lost shard shows up as missing data (said in
    `run.shards`), not as a generator that fell behind; the timeline's
    per-second target is scaled to the shards present (`share`).
    """

    share: float = 1.0  # the fraction of shards merged

    def expected_arrivals(self, start: float, end: float) -> float:
        """As one shard's, times `share`: what the merged shards were asked, not
        the lost ones.
        """
        return super().expected_arrivals(start, end) * self.share
