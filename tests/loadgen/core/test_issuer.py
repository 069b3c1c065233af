"""The issuer: arrivals dispatched at their intended times, from loop callbacks."""

import asyncio
import time

import pytest

from loadgen.core.issuer import Issuer
from loadgen.core.pacer import ConstantPacer, PoissonPacer
from loadgen.core.rates import ConstantRate

pytestmark = pytest.mark.anyio


async def test_dispatches_each_offset_below_the_end_on_time_and_flags_the_warmup():
    seen: list[tuple[float, float, bool, object]] = []

    def dispatch(intended: float, measured: bool) -> None:
        seen.append((intended, time.perf_counter(), measured, asyncio.current_task()))

    t0 = time.perf_counter() + 0.02
    pacer = ConstantPacer(ConstantRate(100))  # 0, 0.01, 0.02 ... s
    issuer = Issuer(pacer, t0, warmup=0.05, end=0.1, dispatch=dispatch)
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
    assert issuer.unsent == 0


async def test_catches_up_when_behind_and_stop_ends_it_at_once():
    count = 0

    def dispatch(intended: float, measured: bool) -> None:
        nonlocal count
        count += 1

    t0 = time.perf_counter() - 1.0  # a second behind: 1 000 arrivals already due
    issuer = Issuer(ConstantPacer(ConstantRate(1000)), t0, 0.0, 1000.0, dispatch)
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
    issuer = Issuer(ConstantPacer(ConstantRate(1000)), t0, 0.0, 1000.0, dispatch)
    issuer.start()
    await asyncio.wait_for(issuer.done, 1)
    await asyncio.sleep(0.02)
    assert count == 3


async def test_what_is_still_due_when_the_window_ends_is_unsent_never_sent_late():
    sent_at: list[float] = []

    def slow_dispatch(intended: float, measured: bool) -> None:
        sent_at.append(time.perf_counter())
        spin_until = time.perf_counter() + 0.002  # a generator slower than the rate
        while time.perf_counter() < spin_until:
            pass

    t0 = time.perf_counter() + 0.01
    issuer = Issuer(ConstantPacer(ConstantRate(1000)), t0, 0.0, 0.2, slow_dispatch)
    issuer.start()
    await asyncio.wait_for(issuer.done, 1)
    assert max(sent_at) < t0 + 0.2  # nothing after the window
    # About half the schedule; fewer when another process holds the core meanwhile.
    assert 20 <= len(sent_at) <= 110
    assert len(sent_at) + issuer.unsent == 200  # every planned arrival accounted for


async def test_a_window_already_over_sends_nothing_and_counts_it_all():
    sent = []
    t0 = time.perf_counter() - 5.0  # five seconds behind a one-second window
    issuer = Issuer(ConstantPacer(ConstantRate(10**6)), t0, 0.0, 1.0, lambda i, m: sent.append(i))
    issuer.start()
    await asyncio.wait_for(issuer.done, 1)
    assert sent == [] and issuer.unsent == 10**6


async def test_a_stop_counts_what_was_due_and_not_yet_sent():
    t0 = time.perf_counter() - 0.5  # 500 due, and a stop before any is sent
    issuer = Issuer(ConstantPacer(ConstantRate(1000)), t0, 0.0, 10.0, lambda i, m: None)
    issuer.stop()
    assert 500 <= issuer.unsent <= 502


def test_poisson_schedules_count_what_they_would_have_sent_on_average():
    pacer = PoissonPacer(ConstantRate(1000), seed=1, scale=2)  # a shard of two
    assert pacer.between(1.0, 3.0) == 1000.0
    assert ConstantPacer(ConstantRate(1000), phase=1, stride=2).between(0.0, 1.0) == 500
