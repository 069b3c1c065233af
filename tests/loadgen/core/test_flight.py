"""Flights: coroutines driven by hand, resumed directly or by asyncio futures."""

import asyncio
from collections.abc import Generator
from typing import Any

import pytest

from loadgen.core import flight
from loadgen.core.flight import Flight
from loadgen.transports.base import Parkable

pytestmark = pytest.mark.anyio


class Parked(Parkable):
    """An awaitable that parks the current flight, as the fast client's connection does."""

    def __init__(self) -> None:
        self.waiter = None

    def __await__(self) -> Generator[Any, Any, Any]:
        return (yield self)  # the flight makes itself our waiter


async def start_from_a_callback(f: Flight) -> None:
    """Start a flight as the engine does: from a loop callback, outside any Task."""
    asyncio.get_running_loop().call_soon(f.start)
    await asyncio.sleep(0)


class Ends:
    """Collects how flights ended."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, BaseException | None]] = []

    def __call__(self, f: Flight, exc: BaseException | None) -> None:
        self.seen.append((f.context, exc))


async def test_a_parked_flight_resumes_synchronously_with_the_value_given():
    parked, ends, log = Parked(), Ends(), []

    async def job() -> None:
        log.append(("before", flight.current() is not None, asyncio.current_task()))
        value = await parked
        log.append(("after", value))

    f = Flight(job(), ends, context="ctx")
    await start_from_a_callback(f)
    assert log == [("before", True, None)]  # outside any Task
    assert not f.done() and ends.seen == []
    f.set_result(42)
    assert log[-1] == ("after", 42)  # no loop round trip needed
    assert ends.seen == [("ctx", None)]
    assert flight.current() is None


async def test_set_exception_raises_inside_and_the_end_reports_it():
    parked, ends = Parked(), Ends()

    async def job() -> None:
        await parked

    f = Flight(job(), ends)
    f.start()
    f.set_exception(ValueError("boom"))
    [(_, exc)] = ends.seen
    assert isinstance(exc, ValueError) and str(exc) == "boom"


async def test_a_result_for_a_flight_that_is_not_parked_is_ignored():
    parked, ends = Parked(), Ends()
    resumed = 0

    async def job() -> None:
        nonlocal resumed
        await parked
        resumed += 1
        await asyncio.sleep(0.01)  # no longer parked: waiting on a future

    f = Flight(job(), ends)
    f.start()
    f.set_result(None)
    f.set_result(None)  # a stale second delivery: must not resume it again
    assert resumed == 1
    await asyncio.sleep(0.05)
    assert ends.seen == [(None, None)]


async def test_futures_sleeps_and_bare_yields_work_as_under_a_task():
    ends = Ends()
    log: list[Any] = []

    async def job() -> None:
        await asyncio.sleep(0)
        log.append("yielded")
        await asyncio.sleep(0.01)
        log.append("slept")
        a, b = await asyncio.gather(asyncio.sleep(0.01, "a"), asyncio.sleep(0.02, "b"))
        log.append(a + b)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        loop.call_later(0.01, fut.set_result, 7)
        log.append(await fut)

    Flight(job(), ends).start()
    assert log == []
    await asyncio.sleep(0.2)
    assert log == ["yielded", "slept", "ab", 7]
    assert ends.seen == [(None, None)]


async def test_cancel_while_parked_raises_cancelled_error_at_the_await():
    parked, ends = Parked(), Ends()
    caught = []

    async def job() -> None:
        try:
            await parked
        except asyncio.CancelledError:
            caught.append("parked")
            raise

    f = Flight(job(), ends)
    f.start()
    assert f.cancel()
    f.set_result("too late")  # the cancellation wins
    await asyncio.sleep(0)
    assert caught == ["parked"]
    [(_, exc)] = ends.seen
    assert isinstance(exc, asyncio.CancelledError)
    assert not f.cancel()  # over: nothing left to cancel


async def test_cancel_while_awaiting_a_future_cancels_the_future():
    ends = Ends()
    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def job() -> None:
        await fut

    f = Flight(job(), ends)
    f.start()
    f.cancel()
    await asyncio.sleep(0)
    assert fut.cancelled()
    assert isinstance(ends.seen[0][1], asyncio.CancelledError)


async def test_a_task_that_never_waits_ends_inside_start():
    ends = Ends()

    async def job() -> None:
        raise KeyError("k")

    Flight(job(), ends).start()
    assert isinstance(ends.seen[0][1], KeyError)


async def test_what_needs_a_task_fails_clearly_inside_a_flight():
    ends = Ends()

    async def job() -> None:
        async with asyncio.timeout(1):
            pass

    await start_from_a_callback(Flight(job(), ends))
    [(_, exc)] = ends.seen
    assert isinstance(exc, RuntimeError) and "task" in str(exc).lower()


async def test_flights_started_inside_another_flight_restore_the_current_one():
    ends, parked = Ends(), Parked()
    seen = []

    async def inner() -> None:
        seen.append(("inner", flight.current()))

    async def outer() -> None:
        me = flight.current()
        Flight(inner(), ends, context="inner").start()
        seen.append(("outer", flight.current() is me))
        await parked

    f = Flight(outer(), ends, context="outer")
    f.start()
    assert seen[0][1] is not f and seen[1] == ("outer", True)
    f.set_result(None)
    assert [c for c, _ in ends.seen] == ["inner", "outer"]
