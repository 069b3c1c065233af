"""The engine: pacer → scenario → client → recorder, on one event loop.

The issuer walks the pacer's intended offsets and, at each one, starts the
arrival without waiting for earlier ones (an open model): a slow server makes
requests pile up in flight, it never slows the arrivals. Late dispatch (the
generator itself falling behind) is measured as send lag.

An arrival of a one-request task that returns its `Request` is a one-shot
(`oneshot.py`: submitted with no coroutine at all, the fastest way). Any other
arrival runs as a flight (`flight.py`: its coroutine driven by hand) when both
the client and the scenario allow it, else as an asyncio Task.

Stopping: at the end of the window, or on the first SIGINT, SIGTERM or
SIGHUP, issuing stops and in-flight requests drain, each bounded by its own
timeout; a second signal cancels them. Either way the recorder holds
everything measured, and arrivals that were due but never sent are counted
(`unsent`, see issuer.py): a run lasts at most warm-up + duration + timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import random
import signal
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Protocol

from loadgen.core.config import RunConfig
from loadgen.core.deadlines import Deadlines
from loadgen.core.flight import Flight, Runner
from loadgen.core.issuer import Issuer
from loadgen.core.oneshot import OneShot
from loadgen.core.pacer import make_pacer, shard_seed
from loadgen.core.results import RunResult
from loadgen.core.session import Session
from loadgen.measure.recorder import Interval, Recorder
from loadgen.scenario.base import new_scenario
from loadgen.scenario.picker import TaskPicker
from loadgen.transports.base import Client
from loadgen.transports.factory import make_client
from loadgen.transports.models import ClientError, Request

# How long after start() the first arrival is due: time to get the loop going.
_LEAD = 0.05
# What stops a run: Ctrl-C, a kill, and the terminal (or SSH session) closing.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _quiet_gc() -> Iterator[None]:
    """Keep the cyclic garbage collector from stalling the issuer.

    A full collection walks every tracked object: milliseconds in which, at
    high rates, hundreds of arrivals fall late. Objects alive at the start (modules, the
    scenario, histograms) are frozen out of collections, and the young
    generation is collected less often; per-request objects are freed by
    reference counting anyway.
    """
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class _Arrival(Protocol):
    """What the engine needs to know of an arrival when it ends (a session or a one-shot)."""

    name: str
    measured: bool


class Engine:
    """One run: `await Engine(config).run()` sends it and returns what it measured.

    `client` is the transport to send through (default: the one the config
    names, see `transports/factory.py`); the engine closes it when the run ends.
    `on_interval` is called with each closed one-second interval.
    `stopped_before` tells a stop signal its caller caught before the engine
    installed its own handlers (the run's set-up may take seconds: a scenario
    of many targets, a far --start-at): then nothing is sent.
    """

    def __init__(
        self,
        config: RunConfig,
        on_interval: Callable[[Interval, Recorder], None] | None = None,
        client: Client | None = None,
        stopped_before: Callable[[], int | None] | None = None,
    ) -> None:
        self.config = config
        self.on_interval = on_interval
        self.client = client
        self.stopped_before = stopped_before
        self._running: set[Runner] = set()  # arrivals in flight, as flights or Tasks
        self._drained: asyncio.Future[None] | None = None
        self._issuer: Issuer | None = None
        self._recorder = Recorder(0.0)  # the run's, once it starts
        self._next_close = 1.0  # perf_counter() time the open interval ends
        self._interrupted = False
        self._signal: int | None = None
        self._settling = False  # a _settle step is scheduled

    async def run(self) -> RunResult:
        """Send the load until its window ends or a stop comes, let what is in flight
        finish, and return what was measured.
        """
        cfg = self.config
        loop = asyncio.get_running_loop()
        client = self.client or make_client(
            cfg.client,
            cfg.target,
            cfg.connections,
            cfg.client_options,
            on_connect=lambda seconds: self._recorder.connected(seconds),
            on_wait=lambda: self._recorder.waited_for_connection(),
            on_stream_wait=lambda: self._recorder.waited_for_stream(),
        )
        rng = random.Random(shard_seed(cfg.seed, cfg.shard[0]))
        data = cfg.data.view(cfg.shard, cfg.seed) if cfg.data is not None else None
        picker = TaskPicker(new_scenario(cfg.scenario, rng, data))
        pacer = make_pacer(cfg.arrival, cfg.profile, cfg.seed, cfg.shard)
        # Shards agree on a wall-clock start; each maps it onto its own monotonic clock.
        start_at = time.time() + _LEAD if cfg.start_at is None else cfg.start_at
        t0 = time.perf_counter() + (start_at - time.time())
        origin = t0 + cfg.warmup
        recorder = self._recorder = Recorder(origin)
        self._next_close = origin + 1.0
        started_at = start_at + cfg.warmup

        deadlines = Deadlines(time.perf_counter())
        dispatch = self._dispatcher(loop, client, picker, rng, recorder, deadlines)
        end = cfg.warmup + cfg.duration
        issuer = self._issuer = Issuer(pacer, t0, cfg.warmup, end, dispatch)
        if cfg.rate_control is not None:
            cfg.rate_control.attach(loop, issuer, t0)
        closer = loop.create_task(self._close_seconds())
        expirer = loop.create_task(deadlines.check())  # until the run is over
        signals = self._install_signals(loop)
        early = self.stopped_before() if self.stopped_before is not None else None
        if early is not None:
            self.stop(early)
        try:
            with _quiet_gc():
                if not self._interrupted:
                    issuer.start()
                await issuer.done
                issued_until = time.perf_counter()
                while self._running:
                    self._drained = loop.create_future()
                    await self._drained
        finally:
            issuer.stop()
            if cfg.rate_control is not None:
                cfg.rate_control.detach()
            closer.cancel()
            expirer.cancel()
            for sig, previous in signals.items():
                loop.remove_signal_handler(sig)
                if previous is not None:
                    signal.signal(sig, previous)  # the caller's, not the default
            await client.aclose()
        recorder.http_version = client.http_version
        recorder.close_interval(time.perf_counter())
        recorder.settle_all()
        # The measured window: all of it, unless a stop cut it short.
        elapsed = cfg.duration
        if self._interrupted:
            elapsed = min(max(issued_until - origin, 0.0), cfg.duration)
        return RunResult(
            config=cfg,
            recorder=recorder,
            started_at=started_at,
            elapsed=elapsed,
            interrupted=self._interrupted,
            connections_opened=client.connections_opened,
            task_names=picker.names,
            unsent=issuer.unsent,
            stop_signal=self._signal,
        )

    def stop(self, sig: int | None = None) -> None:
        """Stop issuing (first call) or cancel in-flight requests (later calls).

        `sig` is the signal that asked for it, if one did (the first one is kept).
        """
        if not self._interrupted:
            self._interrupted = True
            self._signal = sig
            if self._issuer is not None:
                self._issuer.stop()
        else:
            for runner in list(self._running):
                runner.cancel()

    # -- arrivals ----------------------------------------------------------
    def _dispatcher(
        self,
        loop: asyncio.AbstractEventLoop,
        client: Client,
        picker: TaskPicker,
        rng: random.Random,
        recorder: Recorder,
        deadlines: Deadlines,
    ) -> Callable[[float, bool], None]:
        """The issuer's callback: start one arrival, intended at `intended`."""
        timeout = self.config.timeout
        running = self._running
        perf_counter = time.perf_counter
        landed = self._landed
        pick = picker.pick
        eager = client.eager and self.config.scenario.eager

        def run(session: Session, coro: Coroutine[Any, Any, Any]) -> None:
            if eager:
                flight = Flight(coro, landed, session, loop)
                running.add(flight)
                flight.start()
            else:
                task = loop.create_task(_contained(coro))
                running.add(task)
                task.add_done_callback(functools.partial(self._task_landed, session))

        def shot_over(shot: OneShot) -> None:
            self._arrival_over(shot, shot, None)

        def session(name: str, start: float, measured: bool) -> Session:
            return Session(client, recorder, name, start, timeout, measured, deadlines)

        def dispatch(intended: float, measured: bool) -> None:
            if intended >= self._next_close:
                self._roll(intended)
            name, fn, oneshot = pick(rng)
            recorder.arrival(perf_counter() - intended, measured)
            if not oneshot:
                s = session(name, intended, measured)
                run(s, fn(s))
                return
            shot = None
            try:
                request = fn()
                if not isinstance(request, Request):
                    raise TypeError(f"a one-shot task returns a Request, not {request!r}")
                shot = OneShot(name, request, intended, measured, recorder, shot_over)
                running.add(shot)  # before sending: it may be over at once (too late)
                submitted = shot.send(client, deadlines, timeout)  # ValueError: not writable
            except (Exception, SystemExit) as e:
                if shot is not None:
                    running.discard(shot)
                if measured:
                    recorder.exception(name, _task_error(e))
                recorder.departure()
                return
            if not submitted:  # a client that takes no submissions (httpx): the general way
                running.discard(shot)
                s = session(name, intended, measured)
                run(s, s.send(request))

        return dispatch

    def _landed(self, flight: Flight, exc: BaseException | None) -> None:
        self._arrival_over(flight, flight.context, exc)

    def _task_landed(self, session: Session, task: asyncio.Task[None]) -> None:
        exc = None if task.cancelled() else task.exception()
        self._arrival_over(task, session, exc)

    def _arrival_over(self, runner: Runner, arrival: _Arrival, exc: BaseException | None) -> None:
        self._running.discard(runner)
        # A ClientError is already recorded by the session; a cancelled arrival
        # (second Ctrl-C) is not an error of the target's.
        exc = _task_error(exc) if exc is not None else None
        if isinstance(exc, Exception) and not isinstance(exc, ClientError) and arrival.measured:
            self._recorder.exception(arrival.name, exc)
        self._recorder.departure()
        drained = self._drained
        if not self._running and drained is not None and not drained.done():
            drained.set_result(None)

    async def _close_seconds(self) -> None:
        """Close an interval every second of measurement, when no arrival did first."""
        while True:
            await asyncio.sleep(max(self._next_close - time.perf_counter(), 0))
            self._roll(time.perf_counter())

    def _roll(self, now: float) -> None:
        """Close every interval that ends at or before `now`, each on its exact second.

        Called by `_close_seconds` and, with its intended time, by each arrival: loop
        timers fire up to a millisecond late, and an arrival due on the second
        belongs to the interval it starts, whichever of the two runs first.
        """
        recorder = self._recorder
        while now >= self._next_close:
            interval = recorder.close_interval(self._next_close)
            self._next_close += 1.0
            if self.on_interval is not None:
                self.on_interval(interval, recorder)
        if recorder.pending and not self._settling:
            self._settling = True
            asyncio.get_running_loop().call_soon(self._settle)

    def _settle(self) -> None:
        """One closed histogram per loop step (see Recorder.close_interval)."""
        if self._recorder.settle():
            asyncio.get_running_loop().call_soon(self._settle)
        else:
            self._settling = False

    # -- signals -----------------------------------------------------------
    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> dict[signal.Signals, Any]:
        """The engine's handlers for the run; returns the ones they replace, to put back."""
        replaced = {}
        for sig in STOP_SIGNALS:
            previous = signal.getsignal(sig)
            try:
                loop.add_signal_handler(sig, self.stop, sig)
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # not the main thread, or no signal support
            replaced[sig] = previous
        return replaced


def _task_error(exc: BaseException) -> BaseException:
    """What a task raised, as its error: sys.exit() in a task ends that task, not the run."""
    if isinstance(exc, SystemExit):
        return RuntimeError(f"the task called sys.exit({exc.code!r})")
    return exc


async def _contained(coro: Coroutine[Any, Any, Any]) -> Any:
    """A task's coroutine in an asyncio Task, which would stop the loop for a SystemExit."""
    try:
        return await coro
    except SystemExit as e:
        raise _task_error(e) from e
