"""Running one shard in this process: the plain function every way of scaling out calls.

A local worker process, a Dask task and `loadgen run --shard i/N` all end up
here: build the engine from the job, run it on its own event loop (uvloop
where available), and return the shard's state (see `state.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from loadgen.engine import Engine, RunConfig, RunResult
from loadgen.progress import Tick, tick
from loadgen.state import ShardJob, shard_state

# How often a stop request from outside (another thread) is looked for.
_STOP_POLL_S = 0.2


def run_job(
    job: ShardJob,
    config: RunConfig | None = None,
    on_tick: Callable[[Tick], None] | None = None,
    stop: threading.Event | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Run the shard; return its state. `extra` is added to the state.

    `config` is the job's, already built (loading the scenario first keeps
    that out of the time between "ready" and the start instant). Setting
    `stop` ends issuing as Ctrl-C would; in-flight requests still drain.
    """
    if config is None:
        config = job.config()
    on_interval = None if on_tick is None else (lambda iv, rec: on_tick(tick(iv, rec)))
    engine = Engine(config, on_interval)
    ready = time.time()
    result = _run_loop(_run(engine, stop))
    lead = None if config.start_at is None else config.start_at - ready
    return shard_state(job, result, start_lead_s=lead, **extra)


async def _run(engine: Engine, stop: threading.Event | None) -> RunResult:
    loop = asyncio.get_running_loop()
    run = loop.create_task(engine.run())
    # One turn of the loop: run() has started and installed its signal handling
    # and its issuer, so a stop from now on reaches it.
    await asyncio.sleep(0)
    if stop is not None:
        threading.Thread(target=_watch, args=(stop, loop, engine, run), daemon=True).start()
    return await run


def _watch(
    stop: threading.Event,
    loop: asyncio.AbstractEventLoop,
    engine: Engine,
    run: asyncio.Task[RunResult],
) -> None:
    while not run.done():
        if stop.wait(_STOP_POLL_S):
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(engine.stop)
            return


def _run_loop(coro: Coroutine[Any, Any, RunResult]) -> RunResult:
    """On uvloop where available (the fast client was tuned on it), in any thread."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.run(coro)
    result: RunResult = uvloop.run(coro)
    return result
