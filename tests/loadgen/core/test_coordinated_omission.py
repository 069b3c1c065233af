"""Latency measured from intended send time survives a stalling server.

The server process freezes for S every P. Arrivals are constant, so the
fraction S/P of requests arrive during a freeze and wait the rest of it:
uniform on (0, S). For q > 1 − S/P the response-time quantile is therefore

    x(q) = S · (q − 1 + S/P) / (S/P)

(e.g. S = 0.25 s, P = 2.5 s: p99 = 0.225 s). A closed-loop tool would report
almost none of it.
"""

import pytest

from loadgen.core.config import RunConfig
from loadgen.core.engine import Engine
from loadgen.core.rates import ConstantRate
from loadgen.measure.histogram import percentiles
from loadgen.scenario import Scenario, task
from loadgen.transports.models import Request
from tests.support.http_server import server_process

# Exact quantiles of a stall: other tests loading the cores would add their own.
pytestmark = [pytest.mark.anyio, pytest.mark.alone]

STALL, PERIOD = 0.25, 2.5


class Ping(Scenario):
    @task(1)
    async def ping(self, s):
        await s.get("/")


class PingShot(Scenario):
    """The same request as a one-shot (how the default mix is written)."""

    @task(1)
    def ping(self):
        return Request("GET", "/")


both_kinds = pytest.mark.parametrize("scenario", [Ping, PingShot], ids=["coroutine", "one-shot"])


def analytic(q: float) -> float:
    f = STALL / PERIOD
    return STALL * (q - 1 + f) / f


@pytest.fixture
def freezing_server():
    with server_process(STALL, PERIOD) as url:
        yield url


@pytest.fixture
def anyio_backend():
    return ("asyncio", {"use_uvloop": True})


async def run(url: str, connections: int, scenario: type[Scenario]):
    cfg = RunConfig(
        target=url,
        profile=ConstantRate(400),
        # One period: one freeze (see server_process). The arrivals are evenly
        # spaced, so each freeze's waits are the same, and more add nothing to
        # the quantiles but time.
        duration=PERIOD,
        scenario=scenario,
        connections=connections,
        timeout=5,
    )
    return (await Engine(cfg).run()).recorder


@pytest.mark.slow
@both_kinds
async def test_response_time_p99_matches_the_stall(freezing_server, scenario):
    rec = await run(freezing_server, 512, scenario)
    assert rec.errors() == {}
    p = percentiles(rec.total("response"), [99.0, 99.5])
    assert p[99.0] / 1000 == pytest.approx(analytic(0.99), rel=0.10)
    assert p[99.5] / 1000 == pytest.approx(analytic(0.995), rel=0.10)


@pytest.mark.slow
@both_kinds
async def test_connection_cap_shows_queueing_as_response_minus_service(freezing_server, scenario):
    rec = await run(freezing_server, 10, scenario)
    assert rec.errors() == {}
    response = percentiles(rec.total("response"), [99.0])[99.0] / 1000
    service = percentiles(rec.total("service"), [99.0])[99.0] / 1000
    assert response == pytest.approx(analytic(0.99), rel=0.10)
    # Only the 10 requests on the wire during each freeze saw it as service time.
    assert service < response / 10
