"""A run cut short by a stop: its rates are those of the window it covered."""

import asyncio

import pytest

from loadgen.core import loop
from loadgen.core.config import RunConfig
from loadgen.core.engine import Engine
from loadgen.core.rates import ConstantRate
from loadgen.report.summary import build_summary
from loadgen.scenario import Scenario, task
from loadgen.transports.models import Request
from tests.support.http_server import server_process


class Ping(Scenario):
    @task(1)
    def ping(self):
        return Request("GET", "/")


async def stopped_after(url: str, seconds: float):
    engine = Engine(RunConfig(target=url, profile=ConstantRate(100), duration=10,
                              scenario=Ping, timeout=5, warmup=0))  # fmt: skip
    asyncio.get_running_loop().call_later(seconds, engine.stop)
    return await engine.run()


@pytest.mark.slow
def test_a_level_stopped_early_does_not_read_above_its_rate():
    # Stopped between two arrivals: the one at 0 included, the window holds one
    # more arrival than its length times the rate.
    with server_process() as url:
        result = loop.run(stopped_after(url, 0.355))
    assert result.interrupted and 0 < result.elapsed < 10
    s = build_summary(result, {})
    assert s["target_rps"] == pytest.approx(100.0, abs=0.01)
    assert s["achieved_rps"] <= s["target_rps"], s["achieved_rps"]
    assert s["achieved_rps"] >= 90.0  # the generator kept up (nothing was left unsent)
