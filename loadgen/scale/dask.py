"""Shards on a Dask distributed cluster: `loadgen --dask tcp://scheduler:8786`.

Users scale out on a cluster engine they already run (dask-scheduler and
dask-worker, dask-kubernetes, a LocalCluster) rather than one of ours. Each
shard is one Dask task pinned to one worker thread; it calls `dask_shard`,
which runs the engine in that worker process (on its own event loop, in the
task's thread) and returns the shard's state. Workers need loadgen installed.

Start: the client measures each worker's clock against its own (round trips
of `time.time()`, keeping the fastest, as NTP does: skew = worker's reading −
the round trip's midpoint, good to ± half the round trip), picks a start
instant `LEAD_S` ahead and gives each shard that instant *on the shard's
clock* (instant + skew), so shards start together even when the machines'
clocks disagree. Each shard's skew is in the report (`run.shards[i]`).

A task that begins more than `MAX_LATE_S` after its instant (queued behind
another, or retried after its worker died) refuses to run: it would send
its missed arrivals in one burst. A shard whose worker dies is lost; the
others' data is kept and the report says what is missing.

Ctrl-C sets a Dask `Event` that every shard watches: they stop issuing,
drain, and still return their states. The progress line is fed from a Dask
`Queue` that shards put their one-second ticks on.

`distributed` is imported only when `--dask` is used (the `[dask]` extra).
"""

from __future__ import annotations

import contextlib
import importlib
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from loadgen.measure.tick import Tick
from loadgen.scale.errors import ScaleError
from loadgen.scale.shard import ShardJob, ShardOutcome, run_job
from loadgen.scale.stops import CatchStops
from loadgen.scale.ticks import ShardTicks

# Time from submission to the common start: tasks must reach their workers.
LEAD_S = 3.0
MAX_LATE_S = 1.0
CLOCK_SAMPLES = 5
CONNECT_TIMEOUT_S = 10.0
_POLL_S = 0.25


def _distributed() -> Any:
    """The `distributed` package, imported on use (it is an optional extra).

    Typed Any: its API is only partly annotated, and it is used at arm's length.
    """
    return importlib.import_module("distributed")


class ShardLate(RuntimeError):
    """The task began too long after the shard's start instant to run it."""


def run_on_dask(
    address: str,
    template: ShardJob,
    count: int | None = None,
    on_tick: Callable[[Tick], None] | None = None,
    start_at: float | None = None,
) -> list[ShardOutcome]:
    """Run `template` as `count` shards (default: one per worker) on the cluster at `address`.

    They start at `start_at` (epoch, on this machine's clock) if given, else `LEAD_S` from now.
    """
    distributed = _distributed_or_explain()
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as e:
        raise ScaleError(f"cannot connect to the Dask scheduler at {address}: {e}") from None
    with client:
        placed = _place(client, address, count)
        clocks = {addr: _clock(client, addr) for addr in set(placed)}
        run = uuid.uuid4().hex[:12]
        stop = distributed.Event(f"loadgen-stop-{run}", client=client)
        ticks_q = distributed.Queue(f"loadgen-ticks-{run}", client=client)
        if start_at is None:
            start_at = time.time() + LEAD_S
        futures = [
            client.submit(
                dask_shard,
                template.shard(i, len(placed), start_at + clocks[addr]["skew_s"]).to_dict(),
                stop.name,
                ticks_q.name,
                key=f"loadgen-shard-{run}-{i}",
                workers=[addr],
                allow_other_workers=False,
                pure=False,
                retries=0,
            )
            for i, addr in enumerate(placed)
        ]
        ticks = ShardTicks(range(len(placed)), on_tick)
        lost = _follow(client, futures, placed, stop, ticks_q, ticks, start_at + template.longest())
        outcomes = []
        for i, (f, addr) in enumerate(zip(futures, placed, strict=True)):
            outcome = _outcome(i, f, lost.get(i))
            if outcome.state is not None:
                outcome.state["clock"] = clocks[addr]
            outcomes.append(outcome)
        with contextlib.suppress(Exception):
            ticks_q.close()
        return outcomes


def _distributed_or_explain() -> Any:
    try:
        return _distributed()
    except ImportError:
        raise ScaleError("--dask needs the dask extra: pip install 'wagon-loadkit[dask]'") from None


def _place(client: Any, address: str, count: int | None) -> list[str]:
    """The worker address of each shard (default: one shard per worker)."""
    slots = _slots(client.nthreads())
    n = count if count is not None else len(client.nthreads())
    if n > len(slots) or n < 1:
        raise ScaleError(
            f"{n} shards need as many worker threads, and the cluster at {address} has {len(slots)}"
        )
    return slots[:n]


def _follow(
    client: Any,
    futures: list[Any],
    placed: list[str],
    stop: Any,
    ticks_q: Any,
    ticks: ShardTicks,
    deadline: float,
) -> dict[int, str]:
    """Until every shard is done (or `deadline`): pass on ticks and Ctrl-C, notice
    workers that leave. Returns why each lost shard was lost."""
    lost: dict[int, str] = {}
    with CatchStops() as caught:
        stopped = False
        while not all(f.done() for f in futures) and time.time() < deadline:
            time.sleep(_POLL_S)
            if caught.received and not stopped:
                stop.set()
                stopped = True
            for index, t in ticks_q.get(batch=True):
                ticks.add(index, t)
            present = client.nthreads()
            for i, (f, addr) in enumerate(zip(futures, placed, strict=True)):
                if i in lost:
                    continue
                if not f.done() and addr not in present:
                    lost[i] = f"its worker {addr} left the cluster"
                    f.cancel()
                if f.done() or i in lost:
                    ticks.lose(i)  # stop waiting for its ticks
    return lost


def _outcome(index: int, future: Any, lost: str | None) -> ShardOutcome:
    if lost is not None:
        return ShardOutcome(index, reason=lost)
    if not future.done():
        future.cancel()
        return ShardOutcome(index, reason="its task did not finish in time")
    if future.status == "finished":
        return ShardOutcome(index, state=future.result())
    if future.status == "error":
        exc = future.exception()
        return ShardOutcome(index, reason=f"its task failed: {type(exc).__name__}: {exc}")
    return ShardOutcome(index, reason=f"its task was {future.status}")


def _slots(nthreads: dict[str, int]) -> list[str]:
    """Worker addresses, one per thread, spread: every worker's first thread before any second."""
    slots = []
    for t in range(max(nthreads.values(), default=0)):
        slots += [addr for addr in sorted(nthreads) if nthreads[addr] > t]
    return slots


def _clock(client: Any, addr: str) -> dict[str, float]:
    """The worker's clock minus ours, from the fastest of a few round trips."""
    best: dict[str, float] | None = None
    for _ in range(CLOCK_SAMPLES):
        before = time.time()
        theirs = client.run(time.time, workers=[addr])[addr]
        after = time.time()
        sample = {"skew_s": theirs - (before + after) / 2, "rtt_s": after - before}
        if best is None or sample["rtt_s"] < best["rtt_s"]:
            best = sample
    assert best is not None
    return best


# -- in the Dask worker ----------------------------------------------------------


def dask_shard(job_dict: dict[str, Any], stop_name: str, ticks_name: str) -> dict[str, Any]:
    """The Dask task: run one shard in this worker process, return its state."""
    distributed = _distributed()

    job = ShardJob.from_dict(job_dict)
    config = job.config()
    assert job.start_at is not None
    late = time.time() - job.start_at
    if late > MAX_LATE_S:
        raise ShardLate(f"shard {job.index} began {late:.1f} s after its start instant")
    stop, done = threading.Event(), threading.Event()
    stop_event = distributed.Event(stop_name)
    ticks_q = distributed.Queue(ticks_name)
    local: queue.Queue[Tick | None] = queue.Queue()

    def watch_stop() -> None:
        while not done.is_set():
            if stop_event.wait(timeout=0.5):
                stop.set()
                return

    def forward_ticks() -> None:
        # Puts are network calls: kept off the engine's event loop.
        while (t := local.get()) is not None:
            with contextlib.suppress(Exception):
                ticks_q.put((job.index, t))

    threading.Thread(target=watch_stop, daemon=True).start()
    threading.Thread(target=forward_ticks, daemon=True).start()
    try:
        return run_job(
            job, config, on_tick=local.put, stop=stop, worker=distributed.get_worker().address
        )
    finally:
        done.set()
        local.put(None)
