"""A shard: one share of a run, what it is asked (`ShardJob`), how it runs, what it reports.

A run split k ways (`--processes`, `--dask`, `--shard i/k`) is k shards, each
sending its share of the arrivals (see `core/pacer.py`). A shard's job and its
outcome (its *state*: the job, its timing, and its recorder with every HDR
histogram as its base64 payload) cross process and machine boundaries (a
pipe, a Dask result, a file written by a Kubernetes pod), so both are plain
JSON. `run_job` runs one shard in this process: a local worker process, a
Dask task and `loadgen run --shard i/N` all end up there. `merge.py` puts
states back together.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from loadgen.core import config as defaults
from loadgen.core import loop
from loadgen.core.config import RunConfig
from loadgen.core.engine import Engine
from loadgen.core.rates import profile_from_description
from loadgen.core.results import RunResult
from loadgen.measure.numbers import finite_numbers, json_text
from loadgen.measure.recorder_state import from_state, to_state
from loadgen.measure.tick import Tick, tick
from loadgen.scenario.base import Scenario
from loadgen.scenario.data import DataFile, load_data
from loadgen.scenario.loading import load_scenario
from loadgen.scenario.targets_file import TargetsScenario, from_plain
from loadgen.transports.base import ClientOptions

SCHEMA = "loadgen.state/1"
STATE_FILE = "shard-state.json"
# A shard still silent this long after its run should have drained is stuck.
EXIT_GRACE_S = 30.0
# How often a stop request from outside (another thread) is looked for.
_STOP_POLL_S = 0.2


# The job's fields that are the RunConfig's own, as they are (the rest travel
# as plain data: the profile as its description, the scenario as its name).
_AS_IN_CONFIG = (
    "target",
    "duration",
    "arrival",
    "warmup",
    "timeout",
    "connections",
    "client",
    "seed",
    "start_at",
)


@dataclass
class ShardJob:
    """Everything a worker anywhere needs to run shard `index` of `count`, as plain data."""

    index: int
    count: int
    target: str
    profile: dict[str, Any]  # the RateProfile's describe()
    duration: float
    scenario: str  # module:Class or file.py:Class
    arrival: str = defaults.ARRIVAL
    warmup: float = defaults.WARMUP_S
    timeout: float = defaults.TIMEOUT_S
    connections: int = defaults.CONNECTIONS
    client: str = defaults.CLIENT
    seed: int | None = None
    start_at: float | None = None
    # A file scenario's source, so that a worker on another machine needs no copy of it.
    scenario_source: str | None = None
    # Headers and TLS (ClientOptions as plain data; certificate files are paths,
    # which a worker on another machine needs at the same place).
    client_options: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # summary.json's run parameters
    # --data's file: each worker reads it and takes its shard's rows (a path, as
    # certificate files are: a worker on another machine needs it at the same place).
    data: str | None = None
    # --targets: the requests themselves (TargetsScenario.to_plain()), bodies
    # included: the file may have been standard input, or be on no other machine.
    targets: dict[str, Any] | None = None

    @classmethod
    def from_config(cls, config: RunConfig, scenario: str, meta: dict[str, Any]) -> ShardJob:
        """The job of `config`'s shard. `scenario` is as given on the command line
        (a file scenario's source, or a targets file's requests, travel with it);
        `meta` is summary.json's run parameters.
        """
        module, _, _ = scenario.rpartition(":")
        targets = None
        source = None
        if issubclass(config.scenario, TargetsScenario):
            targets = config.scenario.to_plain()
        elif module.endswith(".py"):
            source = Path(module).read_text()
        return cls(
            index=config.shard[0],
            count=config.shard[1],
            profile=config.profile.describe(),
            scenario=scenario,
            scenario_source=source,
            client_options=asdict(config.client_options),
            meta=meta,
            data=config.data.path if config.data is not None else None,
            targets=targets,
            **{name: getattr(config, name) for name in _AS_IN_CONFIG},
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ShardJob:
        """A job back from `to_dict`'s data."""
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        """As plain data, to cross a pipe, Dask or a file."""
        return asdict(self)

    def longest(self) -> float:
        """Seconds from its start by which a healthy shard has finished, drain included."""
        return self.warmup + self.duration + self.timeout + EXIT_GRACE_S

    def shard(self, index: int, count: int, start_at: float | None) -> ShardJob:
        """The same job as shard `index` of `count`, starting at `start_at`."""
        return replace(self, index=index, count=count, start_at=start_at)

    def config(self, scenario: type[Scenario] | None = None) -> RunConfig:
        """The engine's config, to run: the scenario and the data file are loaded here.

        Given a `scenario`, the config describes a run that is over (a merge),
        and no file is read.
        """
        data = None
        if scenario is None:
            data = self.load_data()
            scenario = self.load_scenario(data)
        return RunConfig(
            profile=profile_from_description(self.profile),
            scenario=scenario,
            shard=(self.index, self.count),
            client_options=_client_options(self.client_options),
            data=data,
            **{name: getattr(self, name) for name in _AS_IN_CONFIG},
        )

    def load_data(self) -> DataFile | None:
        """The data file's rows, checked to leave this shard some (ValueError if not)."""
        if self.data is None:
            return None
        data = load_data(self.data)
        if len(data.rows) < self.count:
            raise ValueError(data.too_few(self.count))
        return data

    def load_scenario(self, data: DataFile | None = None) -> type[Scenario]:
        """The scenario class: the targets file's, or imported from its module or
        file (from the source the job carries when the file here is missing or differs).
        """
        if self.targets is not None:
            return from_plain(self.targets)
        module, _, klass = self.scenario.rpartition(":")
        if self.scenario_source is None:
            return load_scenario(self.scenario, data)
        path = Path(module)
        # The user's own file when it is here and unchanged (it may import its
        # neighbours); otherwise the shipped source, written out privately.
        if path.is_file() and path.read_text() == self.scenario_source:
            return load_scenario(f"{path}:{klass}", data)
        # Imported from a private copy, removed once imported (the module lives on).
        with tempfile.TemporaryDirectory(prefix="loadgen-scenario-") as tmp:
            copy = Path(tmp) / path.name
            copy.write_text(self.scenario_source)
            return load_scenario(f"{copy}:{klass}", data)

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


def _client_options(d: dict[str, Any]) -> ClientOptions:
    headers = tuple((str(name), str(value)) for name, value in d.get("headers", ()))
    return ClientOptions(**{**d, "headers": headers})


@dataclass
class ShardOutcome:
    """What came back of shard `index`: its state, or why there is none."""

    index: int
    state: dict[str, Any] | None = None
    reason: str | None = None


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
        "unsent": result.unsent,
        "stop_signal": result.stop_signal,
        "recorder": to_state(result.recorder),
        **extra,
    }


def write_state(out: Path, state: dict[str, Any]) -> Path:
    """`state` as `out`/shard-state.json, what `loadgen merge` reads; returns its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / STATE_FILE
    path.write_text(json_text(state) + "\n")
    return path


def read_state(path: Path) -> dict[str, Any]:
    """A shard state from its file, or from the run directory holding it, checked:
    a ValueError names the file and what is wrong with it."""
    if path.is_dir():
        path = path / STATE_FILE
    try:
        state = json.loads(path.read_text())
        check_state(state)
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        raise ValueError(f"{path}: {e}") from None
    return cast(dict[str, Any], state)


_NUMBER = (int, float)
_STATE_KEYS: dict[str, Any] = {
    "job": dict,
    "started_at": _NUMBER,
    "elapsed": _NUMBER,
    "interrupted": bool,
    "connections_opened": int,
    "task_names": list,
    "recorder": dict,
}
# What may be negative in a shard state: a clock's skew, how early the shard was
# ready (late: negative), a seed, and the run's parameters as the user gave them.
_SIGNED = ("skew_s", "start_lead_s", "seed", "meta")


def check_state(state: Any) -> None:
    """Raise ValueError unless `state` is a whole shard state that `merge` can use."""
    if not isinstance(state, dict) or state.get("schema") != SCHEMA:
        raise ValueError(f"not a loadgen shard state (no schema {SCHEMA!r})")
    for key, kind in _STATE_KEYS.items():
        if not isinstance(state.get(key), kind):
            raise ValueError(f"{key} is missing or of the wrong type")
    finite_numbers(state, signed=_SIGNED)  # JSON's NaN, Infinity, or a negative count
    try:
        job = ShardJob.from_dict(state["job"])
    except TypeError as e:
        raise ValueError(f"job: {e}") from None
    if not (isinstance(job.count, int) and job.count >= 1 and 0 <= job.index < job.count):
        raise ValueError(f"job: shard {job.index}/{job.count} does not exist")
    if not isinstance(job.meta, dict):
        raise ValueError("job: meta is not an object")
    try:
        from_state(state["recorder"])  # every histogram decodes
    except Exception as e:  # a key, a type, or a histogram that is not one
        raise ValueError(f"recorder: {type(e).__name__}: {e}") from None


def run_job(
    job: ShardJob,
    config: RunConfig | None = None,
    on_tick: Callable[[Tick], None] | None = None,
    stop: threading.Event | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Run the shard here, on its own event loop; return its state. `extra` is added to it.

    `config` is the job's, already built (loading the scenario first keeps
    that out of the time between "ready" and the start instant). Setting
    `stop` ends issuing as Ctrl-C would; in-flight requests still drain.
    """
    if config is None:
        config = job.config()
    on_interval = None if on_tick is None else (lambda iv, rec: on_tick(tick(iv, rec)))
    engine = Engine(config, on_interval)
    ready = time.time()
    result = loop.run(_run(engine, stop))
    lead = None if config.start_at is None else config.start_at - ready
    return shard_state(job, result, start_lead_s=lead, **extra)


async def _run(engine: Engine, stop: threading.Event | None) -> RunResult:
    running = asyncio.get_running_loop()
    run = running.create_task(engine.run())
    # One turn of the loop: run() has started and installed its signal handling
    # and its issuer, so a stop from now on reaches it.
    await asyncio.sleep(0)
    if stop is not None:
        threading.Thread(target=_watch, args=(stop, running, engine, run), daemon=True).start()
    return await run


def _watch(
    stop: threading.Event,
    running: asyncio.AbstractEventLoop,
    engine: Engine,
    run: asyncio.Task[RunResult],
) -> None:
    while not run.done():
        if stop.wait(_STOP_POLL_S):
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                running.call_soon_threadsafe(engine.stop)
            return
