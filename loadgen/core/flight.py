"""A flight: one arrival's coroutine, driven by hand instead of by an asyncio.Task.

An asyncio Task costs several µs per arrival (creation, a scheduled first
step, a scheduled wake-up per await, scheduled done callbacks); at tens of
thousands of arrivals a second that is most of a core. A flight steps its
coroutine directly:

- it starts at once, inside `start()` (like Python 3.12's eager tasks), and
  runs until its first suspension;
- awaiting a `Parkable` (the fast client's connection) makes the flight that
  awaitable's waiter: the awaitable completes it by calling `set_result` /
  `set_exception` on the flight itself, which resumes it synchronously from
  that call: no loop round trip;
- awaiting any asyncio future (a pool waiter, `asyncio.sleep`, `gather`, ...)
  works as under a Task: the flight resumes from the future's done callback;
- a bare `yield` (`asyncio.sleep(0)`) resumes on the next loop iteration.

The price: the coroutine runs outside any asyncio Task, so `asyncio.current_task()`
is None inside it and what needs a task (`asyncio.timeout()`, anyio cancel
scopes, hence httpx) fails there. The engine therefore flies only clients and
scenarios that say they can (`Client.eager`, `Scenario.eager`) and runs the
others in Tasks.

`cancel()` and `uncancel()` mirror Task's, so a session's timeout treats
flights and Tasks alike.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from loadgen.transports.base import Parkable


class Runner(Protocol):
    """What runs an arrival: a Flight or an asyncio.Task (what a timeout cancels)."""

    def cancel(self, msg: Any | None = None) -> bool:
        """Stop the arrival at its next await (a timeout, or the run's end)."""
        ...

    def uncancel(self) -> int:
        """Take back a cancel once a timeout has been turned into its error (as Task's)."""
        ...


_ENDED = object()  # internal: the coroutine returned or raised
_current: Flight | None = None


def current() -> Flight | None:
    """The flight whose coroutine is running right now, if any."""
    return _current


def current_runner() -> Runner | None:
    """The flight or the asyncio Task running the caller."""
    return _current if _current is not None else asyncio.current_task()


class Flight:
    """One arrival's coroutine, stepped by hand (see the module's doc); `on_done` is
    called once when it ends, with the exception it ended with (or None).
    """

    __slots__ = ("_awaiting", "_coro", "_loop", "_must_cancel", "_on_done", "_suspended", "context")

    def __init__(
        self,
        coro: Coroutine[Any, Any, Any],
        on_done: Callable[[Flight, BaseException | None], None],
        context: Any = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._coro: Coroutine[Any, Any, Any] | None = coro
        self._on_done = on_done  # called once, with the exception it ended with (or None)
        self.context = context  # whatever the owner wants back in on_done
        self._loop = loop if loop is not None else asyncio.get_running_loop()
        self._awaiting: asyncio.Future[Any] | None = None
        self._suspended = False
        self._must_cancel = False

    def start(self) -> None:
        """Run the coroutine now, up to its first suspension."""
        self._step(None, None)

    # -- what a suspended flight is resumed through (the Future's names) -------
    def done(self) -> bool:
        """False while suspended: the only time set_result/set_exception count."""
        return not self._suspended

    def set_result(self, value: Any) -> None:
        """Resume the suspended coroutine with `value` (how a `Parkable` completes it)."""
        if self._suspended:
            self._suspended = False
            self._step(value, None)

    def set_exception(self, exc: BaseException) -> None:
        """Resume the suspended coroutine by raising `exc` in it."""
        if self._suspended:
            self._suspended = False
            self._step(None, exc)

    # -- cancellation, as Task's ------------------------------------------------
    def cancel(self, msg: Any | None = None) -> bool:
        """Raise CancelledError at the coroutine's suspension point, soon (not here)."""
        if self._coro is None:
            return False
        awaiting = self._awaiting
        if awaiting is not None and awaiting.cancel(msg):
            return True  # its done callback resumes us with the CancelledError
        self._must_cancel = True
        if self._suspended:
            self._suspended = False
            self._loop.call_soon(self._step, None, None)
        return True

    def uncancel(self) -> int:
        """As Task's; a flight counts no cancellation requests: always 0."""
        return 0

    # -- stepping -------------------------------------------------------------
    def _step(self, value: Any, exc: BaseException | None) -> None:
        global _current
        coro = self._coro
        if coro is None:
            return  # ended meanwhile (a step scheduled before the end)
        if self._must_cancel:
            self._must_cancel = False
            exc = asyncio.CancelledError()
        outer, _current = _current, self
        try:
            yielded = coro.send(value) if exc is None else coro.throw(exc)
        except StopIteration:
            yielded = _ENDED
            exc = None
        except BaseException as e:
            yielded = _ENDED
            exc = e
        finally:
            _current = outer
        if isinstance(yielded, Parkable):
            yielded.waiter = self  # it resumes us through set_result / set_exception
            self._suspended = True
            return
        if yielded is _ENDED:
            self._end(exc)  # with `_current` restored: on_done may start flights
            return
        if getattr(yielded, "_asyncio_future_blocking", False):
            yielded._asyncio_future_blocking = False
            self._awaiting = yielded
            yielded.add_done_callback(self._wake)
        elif yielded is None:
            self._loop.call_soon(self._step, None, None)  # a bare yield: sleep(0)
        else:
            self._loop.call_soon(
                self._step, None, RuntimeError(f"flight got bad yield: {yielded!r}")
            )

    def _wake(self, future: asyncio.Future[Any]) -> None:
        self._awaiting = None
        # As Task does: the coroutine reads the future's result (or its exception,
        # or CancelledError) itself when resumed in Future.__await__.
        self._step(None, None)

    def _end(self, exc: BaseException | None) -> None:
        self._coro = None
        self._on_done(self, exc)
        if isinstance(exc, KeyboardInterrupt):
            raise exc  # as a Task does: not the arrival's to keep
