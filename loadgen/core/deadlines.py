"""Request deadlines: the timing wheel behind every per-request timeout.

Sessions (session.py) and one-shots (oneshot.py) put their request in flight
here; the wheel cancels what is still in flight at its deadline.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

# How often the engine checks deadlines, in seconds: the precision of a timeout.
CHECK_EVERY_S = 0.01


class Expiring(Protocol):
    """What the wheel keeps: a session, or a one-request arrival (oneshot.py)."""

    _deadline: float  # of the request in flight
    _waiting: Any  # what waits for that request (None once it is over)

    def _expire(self, waiting: Any) -> None: ...


class Deadlines:
    """Per-request timeouts as a coarse timing wheel, checked every `CHECK_EVERY_S` by the engine.

    A timer per request (call_later, then cancel) costs a heap push, a libuv
    timer and a cancellation on every request, almost all of them never firing.
    Here a request costs a list append: at each check, sessions whose request
    already finished are dropped, those still in flight get one more check to
    finish, the few still in flight after it go into the wheel bucket of their
    deadline, and buckets whose time has come expire what is still in flight.
    The extra check matters: a session put in the wheel stays referenced until
    its deadline (seconds), and at high rates the many requests caught in flight
    by a check would pile up by the ten thousand, each young-GC pass walking them.
    """

    def __init__(self, now: float) -> None:
        self._new: list[Expiring] = []  # added since the last check
        self._young: list[Expiring] = []  # in flight at the last check
        self._wheel: dict[int, list[Expiring]] = {}
        self._checked = int(now / CHECK_EVERY_S)  # buckets up to this one were expired

    def add(self, session: Expiring) -> None:
        """Watch the request `session` has just put in flight (its `_deadline` set)."""
        self._new.append(session)

    async def check(self) -> None:
        """Expire overdue requests every `CHECK_EVERY_S`, until cancelled."""
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            self.expire(time.perf_counter())

    def expire(self, now: float) -> None:
        """Cancel every in-flight request whose deadline is at or before `now`."""
        young: list[Expiring] = []
        for session in self._young:
            if session._waiting is not None:
                self._bucket(session)
        for session in self._new:
            if session._waiting is not None:
                if session._deadline <= now + CHECK_EVERY_S:
                    self._bucket(session)  # a short timeout: no check to spare
                else:
                    young.append(session)
        self._new = []
        self._young = young
        last = int(now / CHECK_EVERY_S)
        for k in range(self._checked + 1, last + 1):
            for session in self._wheel.pop(k, ()):
                runner = session._waiting
                if runner is None:
                    continue  # finished in time
                if session._deadline <= now:
                    session._expire(runner)
                else:
                    self._bucket(session)  # a later request of the same session
        self._checked = last

    def _bucket(self, session: Expiring) -> None:
        # The first bucket whose time is at or after the deadline, and after
        # the last one checked (a deadline is always in the future when added).
        k = max(int(session._deadline / CHECK_EVERY_S) + 1, self._checked + 1)
        bucket = self._wheel.get(k)
        if bucket is None:
            self._wheel[k] = [session]
        else:
            bucket.append(session)
