"""The engine with real sockets: arrivals, warm-up, task failures, Poisson totals."""

import asyncio
from typing import ClassVar

import pytest

from loadgen.core.config import RunConfig
from loadgen.core.engine import Engine
from loadgen.core.rates import ConstantRate
from loadgen.scenario import Scenario, task
from loadgen.transports.base import Request
from tests.support.http_server import OK, raw_server, replying

pytestmark = pytest.mark.anyio


class TwoSteps(Scenario):
    @task(1)
    async def login_then_get(self, s):
        await s.post("/login", json={"user": "x"})
        await s.get("/home")


class Broken(Scenario):
    @task(1)
    async def oops(self, s):
        await s.get("/")
        raise RuntimeError("assertion in user code")


async def run(url, scenario, **kw):
    cfg = RunConfig(target=url, profile=ConstantRate(200), duration=1.0, scenario=scenario, **kw)
    return await Engine(cfg).run()


async def test_every_request_of_a_multi_request_task_is_recorded():
    async with raw_server(replying(OK)) as url:
        result = await run(url, TwoSteps)
    rec = result.recorder
    assert rec.arrivals == 200
    assert rec.tasks["login_then_get"].requests == 400
    assert rec.total("response").get_total_count() == 400
    assert result.elapsed == pytest.approx(1.0, abs=0.05)
    assert result.target_arrivals == pytest.approx(200, rel=0.05)


async def test_warmup_is_sent_but_not_measured():
    hits = 0

    async def counting(reader, writer):
        nonlocal hits
        from tests.support.http_server import read_request

        try:
            while True:
                await read_request(reader)
                hits += 1
                writer.write(OK)
        except Exception:
            writer.close()

    async with raw_server(counting) as url:
        result = await run(url, TwoSteps, warmup=0.5)
    assert hits == 2 * 300  # 0.5 s warm-up + 1 s measured, two requests each
    assert result.recorder.arrivals == 200


async def test_exceptions_in_task_code_are_counted_and_shown():
    async with raw_server(replying(OK)) as url:
        result = await run(url, Broken)
    rec = result.recorder
    assert rec.tasks["oops"].errors == {"exception": 200}
    assert rec.first_exception == "oops: RuntimeError: assertion in user code"


async def test_poisson_arrivals_hit_the_rate_on_average():
    async with raw_server(replying(OK)) as url:
        cfg = RunConfig(
            target=url, profile=ConstantRate(500), duration=2.0, scenario=TwoSteps,
            arrival="poisson", seed=11,
        )  # fmt: skip
        result = await Engine(cfg).run()
    # Poisson count over 2 s at 500/s: sd ≈ 32, so ±10 % is > 3 sd.
    assert result.recorder.arrivals == pytest.approx(1000, rel=0.10)


class Paced(Scenario):
    """Eager (the default): runs as flights, outside any asyncio Task."""

    seen_tasks: ClassVar[list[object]] = []

    @task(1)
    async def get_sleep_get(self, s):
        Paced.seen_tasks.append(asyncio.current_task())
        await s.get("/")
        await asyncio.sleep(0.005)
        await s.get("/")


class InTasks(Paced):
    eager = False  # e.g. it uses asyncio.timeout(), which needs a Task

    seen_tasks: ClassVar[list[object]] = []

    @task(1)
    async def get_sleep_get(self, s):
        InTasks.seen_tasks.append(asyncio.current_task())
        async with asyncio.timeout(5):
            await s.get("/")
            await asyncio.sleep(0.005)
            await s.get("/")


@pytest.mark.parametrize("scenario", [Paced, InTasks])
async def test_arrivals_run_as_flights_unless_the_scenario_opts_out(scenario):
    scenario.seen_tasks.clear()
    async with raw_server(replying(OK)) as url:
        result = await run(url, scenario)
    rec = result.recorder
    assert rec.arrivals == 200
    assert rec.tasks["get_sleep_get"].requests == 400
    assert rec.errors() == {}
    assert rec.first_exception is None
    assert len(scenario.seen_tasks) == 200
    if scenario.eager:
        assert set(scenario.seen_tasks) == {None}
    else:
        assert None not in scenario.seen_tasks
        assert len(set(scenario.seen_tasks)) == 200  # a Task of its own each


class Mixed(Scenario):
    """One-shots beside a coroutine task."""

    @task(3)
    def shot(self):
        return Request.json("POST", "/x", {"n": self.rng.randint(0, 9)})

    @task(1)
    async def two(self, s):
        await s.get("/a")
        await s.get("/b")


class Wrong(Scenario):
    @task(1)
    def not_a_request(self):
        return "/"


async def test_one_shots_and_coroutine_tasks_mix_in_one_run():
    async with raw_server(replying(OK)) as url:
        result = await run(url, Mixed, seed=3)
    rec = result.recorder
    shots, twos = rec.tasks["shot"].requests, rec.tasks["two"].requests
    assert shots + twos // 2 == 200
    assert shots / 200 == pytest.approx(0.75, abs=0.1)
    assert rec.errors() == {} and rec.first_exception is None
    assert rec.in_flight == 0


async def test_a_one_shot_that_returns_something_else_is_a_task_exception():
    async with raw_server(replying(OK)) as url:
        result = await run(url, Wrong)
    rec = result.recorder
    assert rec.errors() == {"exception": 200}
    assert "returns a Request" in (rec.first_exception or "")
    assert rec.in_flight == 0


async def test_one_shots_wait_their_turn_when_the_pool_is_exhausted():
    # One connection, a server taking 20 ms per answer, 200 arrivals/s: most
    # arrivals find no free pooled connection and queue in the pool for it.
    async def slow(reader, writer):
        from tests.support.http_server import read_request

        try:
            while True:
                await read_request(reader)
                await asyncio.sleep(0.02)
                writer.write(OK)
        except Exception:
            writer.close()

    class Static(Scenario):
        @task(1)
        def get(self):
            return Request("GET", "/")

    async with raw_server(slow) as url:
        result = await run(url, Static, connections=1)
    rec = result.recorder
    assert rec.tasks["get"].requests == 200
    assert rec.errors() == {}
    assert result.connections_opened == 1
    assert rec.max_in_flight > 10  # queued behind the one connection, not dropped
