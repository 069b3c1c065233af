"""The target rate changed while a run goes on, from another thread (the dashboard's).

The change is handed to the engine's loop with `call_soon_threadsafe`; there,
at that moment t (seconds into the profile), the profile takes the step
(t, rate) and the issuer draws the arrivals not yet sent again from it (see
`stepped_rate.py` for Λ with steps, `pacer.py` for drawing from t on). The
loop is touched once per change, never per request.
"""

from __future__ import annotations

import asyncio
import time

from loadgen.core.issuer import Issuer
from loadgen.core.stepped_rate import SteppedRate, check_rate


class RateControl:
    """Changes of one run's target rate: made from any thread, applied on the run's loop."""

    def __init__(self, profile: SteppedRate) -> None:
        self.profile = profile
        self._loop: asyncio.AbstractEventLoop | None = None
        self._issuer: Issuer | None = None
        self._t0 = 0.0

    def attach(self, loop: asyncio.AbstractEventLoop, issuer: Issuer, t0: float) -> None:
        """By the engine as the run starts: its loop, its issuer, and the
        perf_counter() time of the profile's 0."""
        self._issuer, self._t0, self._loop = issuer, t0, loop

    def detach(self) -> None:
        """By the engine as the run ends: later changes are refused."""
        self._loop = None

    def change(self, rps: float) -> str | None:
        """From any thread: the rate is `rps` from the moment the loop takes it.
        None if handed over, else why not (a bad rate, no run going on)."""
        try:
            check_rate(rps)
        except ValueError as e:
            return str(e)
        loop = self._loop
        if loop is None:
            return "the run is not sending: its rate cannot change"
        try:
            loop.call_soon_threadsafe(self._apply, rps)
        except RuntimeError:  # the loop closed meanwhile
            return "the run is over: its rate cannot change"
        return None

    def _apply(self, rps: float) -> None:
        """On the loop: the step, now, and the arrivals drawn again from it."""
        issuer = self._issuer
        if self._loop is None or issuer is None or issuer.done.done():
            return  # the window ended while the change crossed over
        at = max(time.perf_counter() - self._t0, 0.0)  # before a --start-at: from the start
        self.profile.step(at, rps)
        issuer.redraw(at)
