"""The mock transport: answers in-process, as the Client seam promises, with no sockets."""

import asyncio

import pytest

from loadgen.core.flight import Flight
from loadgen.transports.mock import MockClient, Reply
from loadgen.transports.models import TIMEOUT, ClientError, Request

pytestmark = pytest.mark.anyio


async def test_requests_are_answered_and_kept():
    client = MockClient(lambda r: Reply(201 if r.method == "POST" else 200, b"yes"))
    r = await client.request("POST", "/x", {"A": "b"}, b"{}")
    assert (r.status, r.body) == (201, b"yes") and r.done_at >= r.sent_at
    assert (await client.request("GET", "/", None, None)).status == 200
    assert client.sent == [Request("POST", "/x", {"A": "b"}, b"{}"), Request("GET", "/")]


async def test_an_error_reply_raises_its_kind():
    client = MockClient(Reply(error=TIMEOUT))
    with pytest.raises(ClientError) as info:
        await client.request("GET", "/", None, None)
    assert info.value.kind == TIMEOUT


async def test_a_submission_tells_its_waiter_after_the_delay_unless_abandoned():
    client = MockClient(Reply(delay=0.05))
    loop = asyncio.get_running_loop()
    kept, dropped = loop.create_future(), loop.create_future()
    client.submit(Request("GET", "/"), kept)
    sent = client.submit(Request("GET", "/"), dropped)
    assert client.in_flight == 2 and client.connections_opened == 2
    sent.abandon(sent.exchange)
    assert (await asyncio.wait_for(kept, 1)).status == 200
    await asyncio.sleep(0.02)
    assert not dropped.done() and client.in_flight == 0


async def test_flights_await_it_like_tasks_do():
    client = MockClient()
    done = asyncio.get_running_loop().create_future()

    async def arrival():
        return (await client.request("GET", "/", None, None)).status

    flight = Flight(arrival(), lambda f, exc: done.set_result(exc))
    asyncio.get_running_loop().call_soon(flight.start)  # outside any Task, as the engine does
    assert await asyncio.wait_for(done, 1) is None
