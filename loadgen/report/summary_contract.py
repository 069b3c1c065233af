"""The `summary.json` contract: the summary's fields, typed, and its read-back check.

A summary stays a plain dict at run time (it is JSON, written and read back
as is); these TypedDicts give mypy its fields, so that a key misspelt or a
block misread in the reports fails `make lint`, not a user's run. Blocks a
summary has only sometimes are `NotRequired` (an older summary read back
may lack them: readers `.get` them). `check_summary` checks a file read back
against the keys every summary has.

Times are in milliseconds (`_ms`) or seconds (`_s`), rates per second.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, Required, TypedDict, cast

from loadgen.measure.histogram import LATENCY_KEYS, LatencyMs

SCHEMA = "loadgen.summary/1"

# Response time (from the intended send) or service time (from the actual send).
LatencyKind = Literal["response", "service"]
LATENCY_KINDS: tuple[LatencyKind, LatencyKind] = ("response", "service")


class Spread(TypedDict):
    """p50, p99 and max (ms; None when nothing was timed)."""

    p50: float | None
    p99: float | None
    max: float | None


class Phase(Spread):
    """A response's phase (first byte, body): p50, p99, max and mean (ms)."""

    mean: float | None


class Latencies(TypedDict):
    """Response time (from the intended send) and service time (from the actual send)."""

    response: LatencyMs
    service: LatencyMs


def latency_values(block: LatencyMs) -> Mapping[str, float | None]:
    """A latency block read by statistics named at run time (an SLO's, another
    tool's columns): the same dict, seen as a mapping."""
    return cast(Mapping[str, float | None], block)


def latency_stat(block: LatencyMs, stat: str) -> float | None:
    """A latency block's value of a statistic named at run time (an SLO's), None
    when it has none (a percentile the summary does not carry, or nothing timed)."""
    return latency_values(block).get(stat)


class RetryAfter(TypedDict):
    """The Retry-After values refusals carried (`errors.retry_after`)."""

    responses: int  # 429 and 503 answers that carried a Retry-After
    values: dict[str, int]  # its values (seconds or a date), the most frequent first


class Errors(TypedDict):
    """The run's errors (`errors`): counted by kind, what the first of each said."""

    total: int
    rate: float  # errors per request
    by_kind: dict[str, int]
    first: NotRequired[dict[str, str]]  # kind → what the first of its kind said
    checks: NotRequired[dict[str, dict[str, int]]]  # task → reason → failed checks
    retry_after: NotRequired[RetryAfter]


class TaskEntry(TypedDict):
    """One task's requests, errors and latencies (`tasks[name]`)."""

    requests: int
    errors: int
    errors_by_kind: dict[str, int]
    latency_ms: Latencies
    retries: NotRequired[int]
    bytes_received: NotRequired[int]
    # Its fastest answer: the service time unloaded, or nearly (None: none timed).
    service_min_ms: NotRequired[float | None]


class OthersEntry(TaskEntry):
    """The tasks past the busiest, merged (`tasks_others`)."""

    tasks: int  # how many they are


class Generator(TypedDict):
    """loadgen's own side (`generator`): how late it sent, and what its pool held."""

    send_lag_ms: Spread
    max_in_flight: int
    connections_opened: int
    behind: bool
    connect_ms: NotRequired[Spread]
    connection_waits: NotRequired[int]  # requests that waited for a free connection
    stream_waits: NotRequired[int]  # requests that waited for an HTTP/2 stream slot
    unsent: NotRequired[int]  # measured arrivals due and never sent


class Shard(TypedDict, total=False):
    """One shard of a spread run, as `run.shards` lists it."""

    index: int
    status: str  # "ok" or "missing"
    reason: str
    host: str
    pid: int | None
    worker: str | None
    arrivals: int
    requests: int
    errors: int
    elapsed_s: float
    started_at_epoch: float
    interrupted: bool
    start_lead_ms: float | None
    clock_skew_ms: float | None
    clock_rtt_ms: float | None


class EmbeddedServer(TypedDict):
    """The bundled server, when loadgen started it (`run.embedded_server`)."""

    server: str  # gunicorn or uvicorn
    workers: int
    env: dict[str, str]
    log_dir: str | None


class RateStep(TypedDict):
    """A change of rate made live from the dashboard."""

    at_s: float  # from the profile's start
    rps: float


class RateProfile(TypedDict, total=False):
    """The rate as asked (`run.rate_profile`, `RateProfile.describe()`), and the steps
    the live page made it take."""

    kind: Required[str]  # constant, ramp, stages, …
    rps: float  # constant
    segments: list[list[float]]  # the others: [duration, start, end] each
    steps: list[RateStep]


class DataInfo(TypedDict):
    """The --data file (`run.data`)."""

    file: str
    rows: int


class TargetsInfo(TypedDict):
    """The --targets file the requests came from (`run.targets`)."""

    file: str
    targets: int


class Tls(TypedDict):
    """How an https:// target's certificate was checked (`run.tls`)."""

    verify: bool  # False: --insecure
    ca_cert: str | None
    client_cert: str | None


class RunInfo(TypedDict, total=False):
    """How the run was made: its options (what the commands put in), and when."""

    started_at: str  # ISO 8601, UTC
    started_at_epoch: float
    planned_duration_s: float
    interrupted: bool
    bytes_received: int
    exception: str | None  # what a task's own code raised first
    rate_profile: RateProfile
    scenario: str
    client: str
    connections: int
    http2: str | None  # --http2 as given: "on", "fallback" (None: not given)
    http_version: str  # what the client spoke: "1.1", "2" ("" when it cannot say)
    timeout_s: float
    warmup_s: float
    seed: int
    data: DataInfo | None
    targets: TargetsInfo | None
    headers: dict[str, str]
    max_body: int
    tls: Tls | None
    embedded_server: EmbeddedServer | None
    processes: int | None
    dask: str | None
    shard: dict[str, int]  # --shard I/N: {index, count}
    start_at_epoch: float
    shard_count: int
    shards: list[Shard]
    missing_shards: list[int]
    missing_share: float
    merge_warnings: list[str]
    merged_from: list[str]
    asked_rps: float  # with shards lost: what the whole run was asked
    lost_rps: float  # and the share of it that went with them
    files_not_written: list[str]


class OtherSecond(TypedDict):
    """A process beside the run in one second (`timeline[].machine.others[]`)."""

    name: str
    pid: int
    cpu: float  # % of one core


class MachineSecond(TypedDict, total=False):
    """The machine in one second (`timeline[].machine`): CPU in % of one core."""

    cpu: float
    steal: float
    cores: int
    memory_limit_mb: float | None
    others: list[OtherSecond]  # the processes other than loadgen and the server
    generator_cpu: float  # loadgen's processes, together
    generator_cpu_max: float  # loadgen's busiest process


class WorkerSecond(TypedDict, total=False):
    """One server worker in one second (`timeline[].server.workers[pid]`)."""

    cpu: float | None
    rss_mb: float
    cpu_wait: float | None  # % of a core spent waiting on the run queue


class ServerSecond(TypedDict, total=False):
    """The target's side of one second (`timeline[].server`), from the sampler."""

    workers: dict[str, WorkerSecond]
    restarts: int
    in_progress: float
    loop_lag_max_ms: dict[str, float]  # worker → the worst event-loop lag it reported
    loop_lag_buckets_ms: dict[str, float]  # `le` bound → cumulative count
    error_log_errors: int
    requests: dict[str, dict[str, float]]  # handler → status class → requests
    server_ms: dict[str, float]  # handler → mean time the server spent (ms)
    generator_cpu: float
    generator_cpu_max: float


class TimelineEntry(TypedDict):
    """One second of the run (`timeline[]`), the last one maybe shorter."""

    t: float  # its start, in seconds since the measured window began
    length: float
    arrivals: int
    responses: int
    target: NotRequired[float]  # arrivals asked for in it
    errors: NotRequired[dict[str, int]]
    busy_s: NotRequired[float]  # Σ service time: busy_s / length = requests held at once
    machine: NotRequired[MachineSecond]
    server: NotRequired[ServerSecond]


class OtherProcess(TypedDict):
    """A process that took the machine's CPU beside the run (`machine.top_others`)."""

    name: str
    pid: int
    cpu_mean: float


class Machine(TypedDict, total=False):
    """The machine over the run (`machine`): medians over its sampled seconds."""

    seconds_sampled: int
    cpu_median: float
    steal_median: float
    generator_cpu_median: float
    generator_cpu_max_median: float
    others_median: float
    cores: int
    memory_limit_mb: float | None
    top_others: list[OtherProcess]


class WorkerTotals(TypedDict):
    """One server worker over the run (`server.workers[pid]`)."""

    cpu_peak: float
    cpu_mean: float
    rss_peak_mb: float


class LoopLag(TypedDict):
    """The server's event-loop lag over the run, in ms (`server.loop_lag_ms`)."""

    p99: float | None  # a bucket's upper bound (≤)
    max: float | None


class Endpoint(TypedDict):
    """One of the server's handlers over the run (`server.endpoints[name]`)."""

    requests: int
    errors_5xx: int
    server_ms: float | None  # the mean time the server itself spent, per request


class Server(TypedDict, total=False):
    """The target's side over the run (`server`); `note` when there was none."""

    sources: list[str]
    note: str
    missing: dict[str, str]  # source → why it went missing
    seconds_sampled: int
    cores: int
    generator_cpu_mean: float
    workers: dict[str, WorkerTotals]
    restarts: int
    loop_lag_ms: LoopLag
    endpoints: dict[str, Endpoint]
    error_log_errors: int


class FindingEntry(TypedDict):
    """One finding of the diagnosis, as summary.json keeps it (see findings/finding.py)."""

    finding: str
    weight: float
    summary: str
    evidence: str
    advice: str
    confidence: NotRequired[str]  # measured or inferred
    context: NotRequired[bool]  # the run's conditions, never the headline
    concurrency: NotRequired[float]


class SLOVerdict(TypedDict):
    """One objective judged (`slo[]`)."""

    slo: str
    measured: str
    passed: bool
    # A run-wide latency objective judged over these tasks (the others have their own).
    over: NotRequired[list[str]]


class Summary(TypedDict):
    """A run's summary: everything the reports show comes from it (and the interval log)."""

    schema: str
    target: str
    arrival: str
    target_rps: float
    duration_s: float
    requests: int
    arrivals: int
    achieved_rps: float
    throughput_rps: float
    errors: Errors
    latency_ms: Latencies
    tasks: dict[str, TaskEntry]
    generator: Generator
    run: RunInfo
    timeline: list[TimelineEntry]
    retries: NotRequired[int]
    phases_ms: NotRequired[dict[str, Phase]]  # first_byte, body
    tasks_others: NotRequired[OthersEntry]
    machine: NotRequired[Machine]
    server: NotRequired[Server]
    diagnosis: NotRequired[list[FindingEntry]]
    slo: NotRequired[list[SLOVerdict]]


# The contract's shape, as read back (`check_summary`): a type, a dict of
# required keys (more are allowed), {str: shape} for a dict of any keys, or
# [shape] for a list of them. The keys every summary has (`Summary`'s required).
_NUMBER = (int, float)
_LATENCY = dict.fromkeys(LATENCY_KEYS, (*_NUMBER, type(None)))
_SHAPE: Any = {
    "schema": str,
    "target": str,
    "arrival": str,
    "target_rps": _NUMBER,
    "duration_s": _NUMBER,
    "requests": int,
    "arrivals": int,
    "achieved_rps": _NUMBER,
    "throughput_rps": _NUMBER,
    "errors": {"total": int, "rate": _NUMBER, "by_kind": {str: int}},
    "latency_ms": {"response": _LATENCY, "service": _LATENCY},
    "tasks": {
        str: {
            "requests": int,
            "errors": int,
            "errors_by_kind": {str: int},
            "latency_ms": {"response": _LATENCY, "service": _LATENCY},
        }
    },
    "generator": {
        "send_lag_ms": {k: (*_NUMBER, type(None)) for k in ("p50", "p99", "max")},
        "max_in_flight": int,
        "connections_opened": int,
        "behind": bool,
    },
    "run": dict,
    "timeline": [{"t": _NUMBER, "length": _NUMBER, "arrivals": int, "responses": int}],
}


def check_summary(summary: Any) -> Summary:
    """`summary` as a Summary, or ValueError naming the first key that is missing
    or of the wrong type (a file read back: not ours, or damaged)."""
    if not isinstance(summary, dict) or summary.get("schema") != SCHEMA:
        raise ValueError(f"not a loadgen summary (no schema {SCHEMA!r})")
    _check(summary, _SHAPE, "")
    checked: Summary = summary  # type: ignore[assignment]  # its keys are checked above
    return checked


def _check(value: Any, shape: Any, where: str) -> None:
    if isinstance(shape, list):
        if not isinstance(value, list):
            raise ValueError(f"{where or 'it'} is not a list")
        for i, item in enumerate(value):
            _check(item, shape[0], f"{where}[{i}]")
    elif isinstance(shape, dict):
        if not isinstance(value, dict):
            raise ValueError(f"{where or 'it'} is not an object")
        if list(shape) == [str]:
            for key, item in value.items():
                _check(item, shape[str], f"{where}.{key}" if where else key)
            return
        for key, inner in shape.items():
            path = f"{where}.{key}" if where else key
            if key not in value:
                raise ValueError(f"{path} is missing")
            _check(value[key], inner, path)
    elif not isinstance(value, shape) or (shape is not bool and isinstance(value, bool)):
        raise ValueError(f"{where} has the wrong type ({type(value).__name__})")
