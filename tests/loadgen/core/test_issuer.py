"""The issuer: arrivals dispatched at their intended times, from loop callbacks."""

import asyncio
import time

import pytest

from loadgen.core.issuer import Issuer

pytestmark = pytest.mark.anyio


async def test_dispatches_each_offset_below_the_end_on_time_and_flags_the_warmup():
    seen: list[tuple[float, float, bool, object]] = []

    def dispatch(intended: float, measured: bool) -> None:
        seen.append((intended, time.perf_counter(), measured, asyncio.current_task()))

    t0 = time.perf_counter() + 0.02
    offsets = iter([k * 0.01 for k in range(20)])  # 0 .. 0.19 s
    issuer = Issuer(offsets, t0, warmup=0.05, end=0.1, dispatch=dispatch)
    issuer.start()
    await issuer.done
    finished = time.perf_counter()
    assert [round(i - t0, 3) for i, *_ in seen] == [k / 100 for k in range(10)]
    assert [m for _, _, m, _ in seen] == [False] * 5 + [True] * 5
    lags = [at - intended for intended, at, _, _ in seen]
    assert min(lags) >= 0  # never early
    assert sorted(lags)[len(lags) // 2] < 0.001  # on time, not on the 1 ms timer grid
    assert {t for *_, t in seen} == {None}  # plain callbacks, outside any Task
    assert finished >= t0 + 0.1  # done at the end of the window, not at the last arrival


async def test_catches_up_when_behind_and_stop_ends_it_at_once():
    count = 0

    def dispatch(intended: float, measured: bool) -> None:
        nonlocal count
        count += 1

    t0 = time.perf_counter() - 1.0  # a second behind: 1 000 arrivals already due
    issuer = Issuer(iter(k * 0.001 for k in range(10**6)), t0, 0.0, 1000.0, dispatch)
    issuer.start()
    await asyncio.sleep(0.05)
    assert count >= 1000
    issuer.stop()
    await asyncio.wait_for(issuer.done, 1)
    stopped_at = count
    await asyncio.sleep(0.02)
    assert count == stopped_at


async def test_a_stop_from_inside_a_dispatch_ends_the_burst_there():
    issuer: Issuer | None = None
    count = 0

    def dispatch(intended: float, measured: bool) -> None:
        nonlocal count
        count += 1
        if count == 3:
            assert issuer is not None
            issuer.stop()

    t0 = time.perf_counter() - 1.0  # many due at once: one burst
    issuer = Issuer(iter(k * 0.001 for k in range(10**6)), t0, 0.0, 1000.0, dispatch)
    issuer.start()
    await asyncio.wait_for(issuer.done, 1)
    await asyncio.sleep(0.02)
    assert count == 3
