"""Catching the signals that stop a run (SIGINT, SIGTERM, SIGHUP) outside the engine.

Inside a block, the signals are recorded (and passed to `on_signal`) instead of
killing the process; the previous handlers come back after it. A parent
waiting on shards elsewhere stops them its own way (forwarding to worker
processes, setting a Dask event); a command writing a run's files just lets
them be written first.
"""

from __future__ import annotations

import contextlib
import signal
from types import FrameType
from typing import Any, Self

from loadgen.core.engine import STOP_SIGNALS


class CatchStops:
    """Within the block, the stop signals are recorded (`received`, `first()`) and
    passed to `on_signal` instead of ending the process.
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Self:
        for sig in STOP_SIGNALS:
            with contextlib.suppress(ValueError):  # not the main thread: nothing to catch
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def first(self) -> int | None:
        """The first signal caught, if any."""
        return self.received[0] if self.received else None

    def _handle(self, sig: int, frame: FrameType | None) -> None:
        self.received.append(sig)
        self.on_signal(sig)

    def on_signal(self, sig: int) -> None:
        """Called for each signal caught; subclasses act on it."""
