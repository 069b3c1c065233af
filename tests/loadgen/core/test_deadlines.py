"""Per-request timeouts through the engine's coarse deadline wheel (deadlines.Deadlines)."""

import asyncio
import contextlib
import time

import pytest

from loadgen.core.deadlines import Deadlines
from loadgen.core.flight import Flight
from loadgen.core.session import Session
from loadgen.measure.recorder import Recorder
from loadgen.transports.http1 import FastClient
from loadgen.transports.mock import MockClient, Reply
from loadgen.transports.models import TIMEOUT, ClientError
from tests.support.http_server import raw_server, silent

pytestmark = pytest.mark.anyio


@contextlib.asynccontextmanager
async def checking(deadlines: Deadlines):
    """What the engine does: check the deadlines every CHECK_EVERY_S."""
    task = asyncio.get_running_loop().create_task(deadlines.check())
    try:
        yield
    finally:
        task.cancel()


def wheel_session(client, rec, deadlines, timeout, start=None):
    """A measured session of task "t" whose timeouts go through `deadlines`."""
    start = time.perf_counter() if start is None else start
    return Session(client, rec, "t", start, timeout=timeout, measured=True, deadlines=deadlines)


async def test_a_silent_server_times_out_within_a_check_or_two_of_the_deadline():
    async with raw_server(silent) as url:
        client = FastClient(url, 1)
        rec = Recorder(0.0)
        deadlines = Deadlines(time.perf_counter())
        async with checking(deadlines):
            start = time.perf_counter()
            s = wheel_session(client, rec, deadlines, 0.2, start)
            with pytest.raises(ClientError) as info:
                await s.get("/")
            waited = time.perf_counter() - start
        assert info.value.kind == TIMEOUT
        assert 0.2 <= waited < 0.2 + 0.1
        assert rec.tasks["t"].errors == {TIMEOUT: 1}
        assert client._slots == 0  # the timed-out connection was discarded
        await client.aclose()


async def test_answered_requests_are_never_cancelled_later():
    client, rec = MockClient(), Recorder(0.0)
    deadlines = Deadlines(time.perf_counter())
    async with checking(deadlines):
        s = wheel_session(client, rec, deadlines, 0.05)
        await s.get("/")
        await s.get("/")
        # Well past the first deadlines: nothing fires into the sleeping task.
        await asyncio.sleep(0.15)
    assert rec.tasks["t"].requests == 2
    assert rec.tasks["t"].errors == {}


async def test_a_later_request_of_the_same_session_keeps_its_own_deadline():
    # The second request takes 0.12 s, within its own 0.2 s.
    client = MockClient(lambda r: Reply(delay=0.12 if r.path == "/slow" else 0.0))
    rec = Recorder(0.0)
    deadlines = Deadlines(time.perf_counter())
    async with checking(deadlines):
        s = wheel_session(client, rec, deadlines, 0.2)
        await s.get("/")
        await asyncio.sleep(0.15)  # the first request's deadline passes meanwhile
        await s.get("/slow")
    assert rec.tasks["t"].errors == {}
    assert rec.tasks["t"].requests == 2


@pytest.mark.parametrize("runner_kind", ["flight", "task"])
async def test_a_request_expired_twice_is_cancelled_once(runner_kind):
    # The wheel can hold one session twice (an entry left from an earlier
    # request, re-bucketed, beside the current request's own): both may come
    # due in the same check, before the cancelled request has resumed.
    client = MockClient(Reply(delay=60))  # never answers in time
    rec = Recorder(0.0)
    s = Session(client, rec, "t", time.perf_counter(), timeout=5.0, measured=True)
    after_timeout = []

    async def task():
        with pytest.raises(ClientError):
            await s.get("/")
        await asyncio.sleep(0.02)  # must not be cancelled: the timeout was handled
        current = asyncio.current_task()
        after_timeout.append(0 if current is None else current.cancelling())

    loop = asyncio.get_running_loop()
    done = loop.create_future()
    if runner_kind == "flight":
        runner = Flight(task(), lambda f, exc: done.set_result(exc), None, loop)
        runner.start()
    else:
        runner = loop.create_task(task())
        runner.add_done_callback(lambda t: done.set_result(t.exception()))
    await asyncio.sleep(0.05)  # the request is in flight
    s._expire(runner)
    s._expire(runner)
    assert await asyncio.wait_for(done, 2) is None
    assert after_timeout == [0]
    assert rec.tasks["t"].errors == {TIMEOUT: 1}
    await client.aclose()
