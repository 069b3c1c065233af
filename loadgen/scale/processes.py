"""Local shards: one run split over N worker processes on this machine.

Each worker is a fresh interpreter (`python -m loadgen.scale.processes`): nothing
is forked from a process that may hold an event loop, sockets or threads, and
each worker runs its shard on its own uvloop. Workers run in their own
session, so a Ctrl-C typed at the terminal reaches only the parent, which
forwards exactly one stop per Ctrl-C (a second stop makes a worker cancel
its in-flight requests, as in a single-process run).

Protocol, one JSON object per line:

    parent → worker (stdin):   the job; then {"start_at": epoch}
    worker → parent (stdout):  {"ready": pid}; {"tick": {...}} every second;
                               {"state": {...}} at the end, or {"error": "..."}

The start instant is chosen once every worker is ready (interpreter up,
scenario imported), `START_DELAY_S` ahead, so a slow start-up on a busy
machine cannot make one shard late. A worker that ends without sending its
state is lost: the others go on, and the report says which one is missing.
User code printing to stdout in a worker goes to stderr (the protocol keeps
the real stdout).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import IO, Any

from loadgen.core.engine import STOP_SIGNALS
from loadgen.measure.tick import Tick
from loadgen.scale.shard import ShardJob, ShardOutcome, run_job
from loadgen.scale.stops import CatchStops
from loadgen.scale.ticks import ShardTicks

# Each worker's environment says which shard it is, e.g. LOADGEN_SHARD=1/4.
SHARD_ENV = "LOADGEN_SHARD"
START_DELAY_S = 0.25
READY_TIMEOUT_S = 60.0


Message = tuple[int, dict[str, Any] | None]  # (shard index, message or None at EOF)


class _Worker:
    def __init__(self, job: ShardJob, messages: queue.Queue[Message]) -> None:
        self.index = job.index
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "loadgen.scale.processes"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
            env={**os.environ, SHARD_ENV: f"{job.index}/{job.count}"},
        )
        self.ready = self.ended = False
        self.state: dict[str, Any] | None = None
        self.error: str | None = None
        self._messages = messages
        self.send(job.to_dict())
        threading.Thread(target=self._read, daemon=True).start()

    def send(self, msg: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):  # it died: its EOF reports that
            self.proc.stdin.write(json.dumps(msg).encode() + b"\n")
            self.proc.stdin.flush()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, sig)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError):
                self._messages.put((self.index, json.loads(line)))
        self._messages.put((self.index, None))

    def lost_reason(self) -> str:
        if self.error:
            return f"worker failed: {self.error}"
        code = self.proc.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        return f"worker process {self.proc.pid} {how} before sending its state"


class _Forwarder(CatchStops):
    """SIGINT/SIGTERM to the parent become one stop per signal to each worker.

    Workers that are not ready yet get theirs when they are (before then
    their own handler may not be installed, and the signal would kill them).
    """

    def __init__(self, workers: list[_Worker]) -> None:
        super().__init__()
        self.workers = workers

    def on_signal(self, sig: int) -> None:
        for w in self.workers:
            if w.ready:
                w.signal(sig)

    def now_ready(self, w: _Worker) -> None:
        for sig in self.received:
            w.signal(sig)


def run_local(
    template: ShardJob,
    count: int,
    on_tick: Callable[[Tick], None] | None = None,
    start_at: float | None = None,
) -> list[ShardOutcome]:
    """Run `template` as `count` shards in local worker processes; their outcomes by index.

    They start at `start_at` (epoch) if given, else just after all are ready.
    """
    messages: queue.Queue[Message] = queue.Queue()
    workers = [_Worker(template.shard(i, count, None), messages) for i in range(count)]
    ticks = ShardTicks(range(count), on_tick)
    try:
        with _Forwarder(workers) as forwarder:

            def pump(done: Callable[[], bool], deadline: float) -> None:
                while not done() and time.monotonic() < deadline:
                    try:
                        index, msg = messages.get(timeout=min(0.5, deadline - time.monotonic()))
                    except (queue.Empty, ValueError):
                        continue
                    w = workers[index]
                    if msg is None:
                        w.ended = True
                        w.proc.wait()
                        ticks.lose(index)
                    elif "tick" in msg:
                        ticks.add(index, msg["tick"])
                    elif "ready" in msg:
                        w.ready = True
                        forwarder.now_ready(w)
                    elif "state" in msg:
                        w.state = msg["state"]
                    elif "error" in msg:
                        w.error = str(msg["error"])

            pump(
                lambda: all(w.ready or w.ended for w in workers),
                time.monotonic() + READY_TIMEOUT_S,
            )
            start = start_at if start_at is not None else time.time() + START_DELAY_S
            for w in workers:
                if w.ready:
                    w.send({"start_at": start})
                w.close_stdin()
            pump(
                lambda: all(w.ended for w in workers),
                time.monotonic() + (start - time.time()) + template.longest(),
            )
    finally:
        for w in workers:
            if w.proc.poll() is None:  # stuck, or we are bailing out
                w.proc.kill()
                w.proc.wait()
    outcomes = []
    for w in workers:
        if w.state is not None:
            w.state["clock"] = {"skew_s": 0.0}  # one machine, one clock
            outcomes.append(ShardOutcome(w.index, state=w.state))
        else:
            outcomes.append(ShardOutcome(w.index, reason=w.lost_reason()))
    return outcomes


# -- the worker side -----------------------------------------------------------


def _worker_main() -> int:
    stop = threading.Event()

    def on_signal(sig: int, frame: FrameType | None) -> None:
        stop.set()  # before the engine runs; then its own handlers take over

    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)
    out: IO[str] = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything else written to stdout would corrupt the protocol

    def send(msg: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):  # the parent is gone: nobody to tell
            out.write(json.dumps(msg) + "\n")

    job = ShardJob.from_dict(json.loads(sys.stdin.readline()))
    try:
        config = job.config()
    except Exception as e:
        send({"error": f"{type(e).__name__}: {e}"})
        return 1
    send({"ready": os.getpid()})
    line = sys.stdin.readline()
    if not line:
        return 1  # the parent gave up before the start
    start_at = float(json.loads(line)["start_at"])
    job = job.shard(job.index, job.count, start_at)
    config.start_at = start_at
    state = run_job(job, config, on_tick=lambda t: send({"tick": t}), stop=stop)
    # Measuring is over: a late signal must not lose the state on its way out.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    send({"state": state})
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main())
