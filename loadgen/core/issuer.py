"""The issuer: calls `dispatch` at each intended time the pacer gives, on time.

It is a loop callback that re-arms itself, not a Task: arrivals are dispatched
from plain callbacks, so flights (see `flight.py`) start outside any Task.

Waking on time: event-loop timers count in whole milliseconds (libuv and epoll
alike), which alone would make every arrival up to 1 ms late. So the issuer
sleeps on a timer until `SPIN` before the next arrival, then re-runs on every
loop iteration (serving I/O in between) until it is due. When behind schedule
it dispatches at most `BURST` arrivals before letting the loop serve I/O.

Never late past the window: once its end has come, arrivals still due are not
sent (a generator that fell behind would otherwise keep sending long after the
run should have ended, load the target never asked for in that window). They
are counted as `unsent`, as are those due but not yet sent when `stop()`
comes; only measured ones (after the warm-up) count.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

from loadgen.core.pacer import Pacer

# The last stretch before an arrival that is waited for by polling, not a timer.
SPIN = 0.0015
# Arrivals dispatched back to back (when behind schedule) before yielding.
BURST = 64


class Issuer:
    """The arrival timer: dispatches the pacer's arrivals at their intended times
    (see the module's doc); `done` resolves when the window is over or it is stopped.
    """

    def __init__(
        self,
        pacer: Pacer,
        t0: float,
        warmup: float,
        end: float,
        dispatch: Callable[[float, bool], None],
    ) -> None:
        """Dispatch the pacer's arrivals at perf_counter() times t0 + offset, offsets below `end`.

        `dispatch(intended, measured)` gets the arrival's intended time and
        whether it falls after the warm-up.
        """
        self._loop = asyncio.get_running_loop()
        self._pacer = pacer
        self._offsets = offsets = pacer.offsets()
        self._t0 = t0
        self._warmup = warmup
        self._end = end
        self._dispatch = dispatch
        self._next = next(offsets, math.inf)
        self._handle: asyncio.Handle | None = None
        # Resolved at the end of the window (t0 + end), or at once by stop().
        self.done: asyncio.Future[None] = self._loop.create_future()
        self.unsent = 0  # measured arrivals due and never sent (see the module's doc)

    def start(self) -> None:
        """Start dispatching, from the loop's next iteration."""
        self._handle = self._loop.call_soon(self._issue_due)

    def redraw(self, after: float) -> None:
        """The profile changed from offset `after` (now) on: the arrival drawn ahead
        and those after it are drawn again from the pacer, and it is armed for them."""
        if self.done.done():
            return
        self._offsets = self._pacer.offsets(after)
        self._next = next(self._offsets, math.inf)
        if self._handle is not None:  # started: re-armed for the new next arrival
            self._handle.cancel()
            self._handle = self._loop.call_soon(self._issue_due)

    def stop(self) -> None:
        """Issue nothing more; `done` resolves now. What was due and unsent is counted."""
        if self.done.done():
            return
        if self._handle is not None:
            self._handle.cancel()  # the pending re-arm (or the running pass: harmless)
            self._handle = None
        now = time.perf_counter() - self._t0
        self._count_unsent(self._next, min(now, self._end))
        self.done.set_result(None)

    def _count_unsent(self, first: float, until: float) -> None:
        """The arrivals from offset `first` (the next one) to `until`: never sent."""
        if first < until:
            missed = self._pacer.between(max(first, self._warmup), until)
            self.unsent += max(1 if first >= self._warmup else 0, round(missed))

    def _issue_due(self) -> None:
        perf_counter = time.perf_counter
        dispatch = self._dispatch
        t0, end, warmup = self._t0, self._end, self._warmup
        offset = self._next
        now = perf_counter()
        burst = BURST
        while offset < end and t0 + offset <= now:
            if now >= t0 + end:  # the window is over: what is still due stays unsent
                self._next = offset
                self.stop()
                return
            intended = offset
            # The next one is known before this one goes: a stop() from inside
            # the dispatch counts from it.
            offset = self._next = next(self._offsets, math.inf)
            dispatch(t0 + intended, intended >= warmup)
            if self._handle is None:
                return  # stopped from inside that dispatch
            burst -= 1
            if burst == 0:
                self._handle = self._loop.call_soon(self._issue_due)
                return
            now = perf_counter()
        # The window's end is waited for like an arrival: a loop timer alone
        # may fire up to a millisecond early, and `done` must not.
        delay = t0 + min(offset, end) - now
        if offset >= end and delay <= 0:
            self.stop()
            return
        if delay > SPIN:
            self._handle = self._loop.call_later(delay - SPIN, self._issue_due)
        else:
            self._handle = self._loop.call_soon(self._issue_due)
