"""The issuer: calls `dispatch` at each intended time the pacer gives, on time.

It is a loop callback that re-arms itself, not a Task: arrivals are dispatched
from plain callbacks, so flights (see `flight.py`) start outside any Task.

Waking on time: event-loop timers tick in whole milliseconds (libuv and epoll
alike), which alone would make every arrival up to 1 ms late. So the issuer
sleeps on a timer until `SPIN` before the next arrival, then re-runs on every
loop iteration (serving I/O in between) until it is due. When behind schedule
it dispatches at most `BURST` arrivals before letting the loop serve I/O.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterator

# The last stretch before an arrival that is waited for by polling, not a timer.
SPIN = 0.0015
# Arrivals dispatched back to back (when behind schedule) before yielding.
BURST = 64


class Issuer:
    def __init__(
        self,
        offsets: Iterator[float],
        t0: float,
        warmup: float,
        end: float,
        dispatch: Callable[[float, bool], None],
    ) -> None:
        """Dispatch arrivals at perf_counter() times t0 + offset, for offsets below `end`.

        `dispatch(intended, measured)` gets the arrival's intended time and
        whether it falls after the warm-up.
        """
        self._loop = asyncio.get_running_loop()
        self._offsets = offsets
        self._t0 = t0
        self._warmup = warmup
        self._end = end
        self._dispatch = dispatch
        self._next = next(offsets, math.inf)
        self._handle: asyncio.Handle | None = None
        # Resolved at the end of the window (t0 + end), or at once by stop().
        self.done: asyncio.Future[None] = self._loop.create_future()

    def start(self) -> None:
        self._handle = self._loop.call_soon(self._tick)

    def stop(self) -> None:
        """Issue nothing more; `done` resolves now."""
        if self._handle is not None:
            self._handle.cancel()  # the pending re-arm (or the running tick: harmless)
            self._handle = None
        if not self.done.done():
            self.done.set_result(None)

    def _tick(self) -> None:
        perf_counter = time.perf_counter
        dispatch = self._dispatch
        t0, end, warmup = self._t0, self._end, self._warmup
        offset = self._next
        now = perf_counter()
        burst = BURST
        while offset < end and t0 + offset <= now:
            dispatch(t0 + offset, offset >= warmup)
            offset = next(self._offsets, math.inf)
            if self._handle is None:
                return  # stopped from inside that dispatch
            burst -= 1
            if burst == 0:
                self._next = offset
                self._handle = self._loop.call_soon(self._tick)
                return
            now = perf_counter()
        self._next = offset
        # The window's end is waited for like an arrival: a loop timer alone
        # may fire up to a millisecond early, and `done` must not.
        delay = t0 + min(offset, end) - now
        if offset >= end and delay <= 0:
            self.stop()
            return
        if delay > SPIN:
            self._handle = self._loop.call_later(delay - SPIN, self._tick)
        else:
            self._handle = self._loop.call_soon(self._tick)
