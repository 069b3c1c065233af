"""One run, here or scaled out: `--processes`, `--dask`, `--shard` and `--start-at`.

The commands ask `run_scaled` for a run's result; what comes back is a
`RunResult` whichever way it was produced (one engine here, shards in local
processes or on Dask merged exactly), so the summary, the terminal report and
the files are the same code as for a single process. What is specific to
shards (which ran where, which are missing) is added to summary.json's `run`
and said after the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadgen.core import loop
from loadgen.core.config import RunConfig
from loadgen.core.engine import Engine
from loadgen.core.results import RunResult
from loadgen.measure.tick import Tick, tick
from loadgen.scale.errors import ShardsLost
from loadgen.scale.merge import Merged, merge_states
from loadgen.scale.shard import ShardJob, shard_state, write_state


@dataclass
class Scale:
    """How a run is split: over local processes or a Dask cluster, this process's
    shard of it, and the wall-clock time its shards start at.
    """

    processes: int | None
    dask: str | None
    shard: tuple[int, int]
    start_at: float | None

    @property
    def spread(self) -> bool:
        """Shards run elsewhere and are merged here (local processes or Dask)."""
        return self.dask is not None or (self.processes or 1) > 1

    def meta(self) -> dict[str, Any]:
        """summary.json `run` keys saying how the run was split."""
        meta: dict[str, Any] = {}
        if self.dask is not None:
            meta["dask"] = self.dask
        elif self.processes is not None:
            meta["processes"] = self.processes
        if self.shard[1] > 1:
            meta["shard"] = {"index": self.shard[0], "count": self.shard[1]}
        if self.start_at is not None:
            meta["start_at_epoch"] = self.start_at
        return meta


@dataclass
class ScaledRun:
    """A run's result however it ran, with the merge when shards ran elsewhere, or
    the job when this process ran one shard of several.
    """

    result: RunResult
    merged: Merged | None = None  # when shards ran elsewhere
    job: ShardJob | None = None  # when this process ran one shard of several

    def meta(self) -> dict[str, Any]:
        """What summary.json's `run` says about the shards (nothing for a run here)."""
        return self.merged.meta() if self.merged is not None else {}

    @property
    def notes(self) -> list[str]:
        """Worth knowing about the shards (they started apart, ...)."""
        return self.merged.notes if self.merged is not None else []

    @property
    def warnings(self) -> list[str]:
        """What is missing or odd about the shards: the report is incomplete or dubious."""
        return self.merged.warnings if self.merged is not None else []

    @property
    def shards_lost(self) -> bool:
        """Some shard of a spread run did not come back."""
        return self.merged is not None and bool(self.merged.missing)

    def write(self, out: Path) -> None:
        """The shard state beside the run's files, for `loadgen merge`."""
        if self.job is not None:
            write_state(out, shard_state(self.job, self.result))


def run_scaled(
    scale: Scale,
    config: RunConfig,
    scenario: str,
    meta: dict[str, Any],
    on_tick: Callable[[Tick], None] | None = None,
    stopped_before: Callable[[], int | None] | None = None,
) -> ScaledRun:
    """Run `config` here, as one shard of several, or spread over processes or Dask.

    `on_tick` gets each second of the whole run as it closes (the progress line);
    `stopped_before`, a stop signal the caller caught while the run was being set
    up (see `Engine`).
    """
    config.shard = scale.shard
    if scale.start_at is not None:
        config.start_at = scale.start_at
    if not scale.spread:
        on_interval = None if on_tick is None else (lambda iv, rec: on_tick(tick(iv, rec)))
        result = loop.run(Engine(config, on_interval, stopped_before=stopped_before).run())
        job = ShardJob.from_config(config, scenario, meta) if scale.shard[1] > 1 else None
        return ScaledRun(result, job=job)

    template = ShardJob.from_config(config, scenario, meta)
    if scale.dask is not None:
        from loadgen.scale.dask import run_on_dask  # keeps Dask out of every other run

        outcomes = run_on_dask(scale.dask, template, scale.processes, on_tick, scale.start_at)
    else:
        from loadgen.scale.processes import run_local

        assert scale.processes is not None
        outcomes = run_local(template, scale.processes, on_tick, scale.start_at)
    states = [o.state for o in outcomes if o.state is not None]
    lost = {o.index: o.reason or "lost" for o in outcomes if o.state is None}
    if not states:
        reasons = "; ".join(f"shard {i}: {why}" for i, why in sorted(lost.items()))
        raise ShardsLost(f"every shard was lost, nothing to report ({reasons})")
    merged = merge_states(states, count=len(outcomes), lost=lost)
    return ScaledRun(merged.result, merged=merged)
