"""Synthetic shard states for merge tests: recorders filled with known latencies."""

import json
import random

from loadgen.core.results import RunResult
from loadgen.measure.recorder import Recorder
from loadgen.scale.shard import ShardJob, shard_state
from loadgen.transports.models import Response

SCENARIO = "tests.support.scenarios:Get"


def latencies(n, seed):
    """Long-tailed latencies in seconds: most near 1 ms, some up to seconds."""
    rng = random.Random(seed)
    return [rng.lognormvariate(-7, 1.5) for _ in range(n)]


def fill(rec, values, task="get", second=0, errors=()):
    for v in values:
        rec.arrival(v / 10, measured=True)
        rec.response(task, second, Response(200, b"", second + v / 2, second + v, 7))
        rec.departure()
    for kind in errors:
        rec.error(task, kind)


def recorder(values_per_second, errors=()):
    """Each list of values in its own one-second interval; the errors in the first."""
    rec = Recorder(origin=0.0)
    for second, values in enumerate(values_per_second):
        fill(rec, values, second=second, errors=errors if second == 0 else ())
        rec.close_interval(second + 1.0)
    rec.settle_all()  # as the engine does at the end of a run
    return rec


def job(index, count, **kw):
    base = dict(
        index=index,
        count=count,
        target="http://127.0.0.1:1",
        profile={"kind": "constant", "rps": 100.0},
        duration=2.0,
        scenario=SCENARIO,
        start_at=1000.0,
        seed=7,
    )
    return ShardJob(**{**base, **kw})


def state(shard_job, rec, elapsed=2.0, started_at=1000.0, unsent=0):
    config = shard_job.config()
    result = RunResult(
        config, rec, started_at, elapsed, False, connections_opened=3, task_names=["get"],
        unsent=unsent,
    )  # fmt: skip
    return json.loads(json.dumps(shard_state(shard_job, result)))
