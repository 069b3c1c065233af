"""One-shots: one-request arrivals sent through Client.submit.

Most run against real loopback servers (they check the fast client's pool
as the one-shot uses it); the bookkeeping alone goes through the mock.
"""

import asyncio
import contextlib
import sys
import time

import pytest

from loadgen.core.deadlines import Deadlines
from loadgen.core.oneshot import OneShot
from loadgen.measure.recorder import Recorder
from loadgen.transports.http1 import FastClient
from loadgen.transports.mock import MockClient, Reply
from loadgen.transports.models import (
    CONNECT,
    CONNECT_TIMEOUT,
    SERVER_CLOSED,
    TIMEOUT,
    Failed,
    Request,
)
from tests.loadgen.core.test_deadlines import checking
from tests.loadgen.transports.test_http1 import full_backlog
from tests.support.http_server import OK, json_response, raw_server, read_request, replying

pytestmark = pytest.mark.anyio


class Outcome:
    """The callbacks a one-shot reports to, as futures to await."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.done: asyncio.Future[OneShot] = loop.create_future()

    def shot(self, recorder: Recorder, start: float) -> OneShot:
        return self.shot_of(Request("GET", "/"), recorder, start)

    def shot_of(self, request: Request, recorder: Recorder, start: float) -> OneShot:
        return OneShot("t", request, start, True, recorder, self.done.set_result)


async def answers_once_then_hangs(reader, writer):
    await read_request(reader)
    writer.write(OK)
    await read_request(reader)  # a second request: never answered
    await asyncio.sleep(10)


async def pooled_client(url: str) -> FastClient:
    """A client with one pooled keep-alive connection (one request already made)."""
    client = FastClient(url, 1)
    assert (await client.request("GET", "/", None, None)).status == 200
    return client


async def test_the_response_is_recorded_and_timed_from_the_intended_start():
    async with raw_server(replying(OK, OK)) as url:
        client = await pooled_client(url)
        rec, out = Recorder(0.0), Outcome()
        shot = out.shot(rec, time.perf_counter() - 0.05)  # dispatched 50 ms late
        assert shot.send(client, Deadlines(time.perf_counter()), timeout=5.0)
        assert await asyncio.wait_for(out.done, 2) is shot
        iv = rec.close_interval(time.perf_counter())
        rec.settle_all()
        assert rec.tasks["t"].requests == 1 and rec.tasks["t"].errors == {}
        assert rec.tasks["t"].response.get_min_value() >= 50_000  # µs: from the start
        assert rec.tasks["t"].service.get_max_value() < 50_000  # from the actual send
        assert iv.responses == 1
        assert client._idle  # the connection went back to the pool
        await client.aclose()


async def counting_server(seen: list[int]):
    """A server answering every request, counting them in `seen[0]`."""

    async def counting(reader, writer):
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await read_request(reader)
                seen[0] += 1
                writer.write(OK)

    return raw_server(counting)


async def test_without_a_pooled_connection_one_is_opened_for_it():
    seen = [0]
    async with await counting_server(seen) as url:
        client = FastClient(url, 4)
        rec, out = Recorder(0.0), Outcome()
        assert out.shot(rec, time.perf_counter()).send(client, Deadlines(0.0), 5.0)
        await asyncio.wait_for(out.done, 2)
        assert seen[0] == 1 and client.connections_opened == 1
        assert rec.tasks["t"].requests == 1 and rec.tasks["t"].errors == {}
        assert len(client._idle) == 1  # and kept for the next
        await client.aclose()


async def test_at_the_connection_cap_they_wait_their_turn_in_order():
    seen = [0]
    async with await counting_server(seen) as url:
        client = await pooled_client(url)  # max 1 connection, in the pool
        rec, deadlines = Recorder(0.0), Deadlines(time.perf_counter())
        outs = [Outcome() for _ in range(5)]
        shots = [o.shot(rec, time.perf_counter()) for o in outs]
        order: list[OneShot] = []
        for o in outs:
            o.done.add_done_callback(lambda f: order.append(f.result()))
        assert all(shot.send(client, deadlines, 5.0) for shot in shots)
        assert len(client._waiters) == 4  # one sent, four queued
        await asyncio.wait_for(asyncio.gather(*(o.done for o in outs)), 2)
        assert order == shots  # first come, first served
        assert seen[0] == 1 + 5 and client.connections_opened == 1
        assert rec.tasks["t"].requests == 5 and rec.tasks["t"].errors == {}
        await client.aclose()


async def test_a_queued_one_that_times_out_is_skipped_when_its_turn_comes():
    async def answers_slowly(reader, writer):
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await read_request(reader)
                await asyncio.sleep(0.15)
                writer.write(OK)

    async with raw_server(answers_slowly) as url:
        client = FastClient(url, 1)
        rec, deadlines = Recorder(0.0), Deadlines(time.perf_counter())
        first, late, patient = Outcome(), Outcome(), Outcome()
        async with checking(deadlines):
            now = time.perf_counter()
            assert first.shot(rec, now).send(client, deadlines, 5.0)
            assert late.shot(rec, now).send(client, deadlines, 0.05)  # gives up in the queue
            assert patient.shot(rec, now).send(client, deadlines, 5.0)
            await asyncio.wait_for(asyncio.gather(first.done, late.done, patient.done), 2)
        assert rec.tasks["t"].requests == 3
        assert rec.tasks["t"].errors == {TIMEOUT: 1}  # the late one only
        assert client.connections_opened == 1  # its timeout cost no connection
        await client.aclose()


async def test_a_refused_connection_is_a_connect_error():
    from server.launch import free_port

    client = FastClient(f"http://127.0.0.1:{free_port()}", 4)
    rec, out = Recorder(0.0), Outcome()
    assert out.shot(rec, time.perf_counter()).send(client, Deadlines(0.0), 5.0)
    await asyncio.wait_for(out.done, 2)
    assert rec.tasks["t"].errors == {CONNECT: 1}
    assert client._slots == 0
    await client.aclose()


def stale_after_one():
    """Each connection answers one request, then closes on the next (unanswered),
    as a server ending keep-alive does; `seen` counts what reached it."""
    seen: list[bytes] = []

    async def handler(reader, writer):
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            head, _ = await read_request(reader)
            seen.append(head.split(b" ")[0])
            writer.write(OK)
            head, _ = await read_request(reader)
            seen.append(head.split(b" ")[0])
        writer.close()

    return handler, seen


async def test_an_idempotent_request_on_a_stale_pooled_connection_is_sent_once_more():
    handler, seen = stale_after_one()
    async with raw_server(handler) as url:
        client = await pooled_client(url)
        rec, out = Recorder(0.0), Outcome()
        shot = out.shot(rec, time.perf_counter())
        assert shot.send(client, Deadlines(time.perf_counter()), 5.0)
        assert await asyncio.wait_for(out.done, 2) is shot
        stats = rec.tasks["t"]
        assert (stats.requests, stats.errors, stats.retries) == (1, {}, 1)  # counted, not hidden
        assert seen == [b"GET", b"GET", b"GET"] and client.connections_opened == 2
        await client.aclose()


async def test_a_post_on_a_stale_pooled_connection_is_server_closed_never_sent_twice():
    handler, seen = stale_after_one()
    async with raw_server(handler) as url:
        client = await pooled_client(url)
        rec, out = Recorder(0.0), Outcome()
        shot = out.shot_of(Request.json("POST", "/x", {"a": 1}), rec, time.perf_counter())
        assert shot.send(client, Deadlines(time.perf_counter()), 5.0)
        await asyncio.wait_for(out.done, 2)
        stats = rec.tasks["t"]
        assert (stats.errors, stats.retries) == ({SERVER_CLOSED: 1}, 0)
        assert seen == [b"GET", b"POST"]  # the server got it once
        await client.aclose()


async def test_a_timeout_is_recorded_and_its_connection_dropped():
    async with raw_server(answers_once_then_hangs) as url:
        client = await pooled_client(url)
        rec, out = Recorder(0.0), Outcome()
        deadlines = Deadlines(time.perf_counter())
        async with checking(deadlines):
            start = time.perf_counter()
            assert out.shot(rec, start).send(client, deadlines, timeout=0.1)
            await asyncio.wait_for(out.done, 2)
            waited = time.perf_counter() - start
        assert 0.1 <= waited < 0.1 + 0.1
        assert rec.tasks["t"].errors == {TIMEOUT: 1}
        assert client._slots == 0 and not client._idle
        await client.aclose()


async def test_timed_out_while_its_connection_opens_it_is_a_connect_timeout():
    # One connection at most, to a port whose accept queue is full: the first
    # request's connection never opens; the second waits in the pool behind it.
    with full_backlog() as url:
        client = FastClient(url, 1)
        rec = Recorder(0.0)
        deadlines = Deadlines(time.perf_counter())
        async with checking(deadlines):
            opening, queued = Outcome(), Outcome()
            for out in (opening, queued):
                shot = OneShot("t", Request("GET", "/"), time.perf_counter(), True, rec,
                               out.done.set_result)  # fmt: skip
                assert shot.send(client, deadlines, timeout=0.2)
            await asyncio.wait_for(asyncio.gather(opening.done, queued.done), 2)
        assert rec.tasks["t"].errors == {CONNECT_TIMEOUT: 1, TIMEOUT: 1}
        assert client.connections_opened == 0
        await client.aclose()


async def test_already_past_its_timeout_it_fails_without_sending():
    client, rec, out = MockClient(), Recorder(0.0), Outcome()
    shot = out.shot(rec, time.perf_counter() - 1.0)
    assert shot.send(client, Deadlines(time.perf_counter()), timeout=0.5)
    assert out.done.done()
    assert rec.tasks["t"].errors == {TIMEOUT: 1}
    assert client.sent == []


async def test_an_answer_is_recorded_once_and_ends_the_arrival():
    client, rec, out = MockClient(Reply(503)), Recorder(0.0), Outcome()
    shot = out.shot(rec, time.perf_counter())
    assert shot.send(client, Deadlines(time.perf_counter()), timeout=5.0)
    assert await asyncio.wait_for(out.done, 1) is shot
    assert rec.tasks["t"].requests == 1 and rec.tasks["t"].errors == {"http_503": 1}
    assert not shot.cancel()  # over: nothing left to cancel


async def test_cancel_drops_the_connection_and_records_nothing():
    async with raw_server(answers_once_then_hangs) as url:
        client = await pooled_client(url)
        rec, out = Recorder(0.0), Outcome()
        shot = out.shot(rec, time.perf_counter())
        assert shot.send(client, Deadlines(time.perf_counter()), 5.0)
        assert shot.cancel()
        assert out.done.done()
        assert not shot.cancel()  # once
        assert rec.tasks == {}
        assert client._slots == 0
        await client.aclose()


OK_RESULT = 0  # what pooled_client's own first request gets


def answering(*results: int):
    """A server answering its requests with `{"result": r}`, each of `results` in turn."""
    return raw_server(replying(*(json_response(200, {"result": r}) for r in results)))


async def send_checked(url: str, request: Request, measured: bool = True):
    client = await pooled_client(url)
    rec, out = Recorder(0.0), Outcome()
    shot = OneShot("t", request, time.perf_counter(), measured, rec, out.done.set_result)
    assert shot.send(client, Deadlines(time.perf_counter()), 5.0)
    await asyncio.wait_for(out.done, 2)
    rec.close_interval(time.perf_counter())
    rec.settle_all()
    await client.aclose()
    return rec


async def test_a_check_judges_the_answer_after_it_was_timed_and_its_connection_freed():
    async with answering(OK_RESULT, 3, 4) as url:
        client = await pooled_client(url)
        rec, deadlines = Recorder(0.0), Deadlines(time.perf_counter())
        seen = []

        def check(r):
            # By now it is recorded, and its connection is back in the pool.
            seen.append((rec.tasks["t"].requests, len(client._idle)))
            return r.expect(200, result=3)

        for _ in range(2):
            out = Outcome()
            request = Request.json("POST", "/addNumbers", {"a": 1, "b": 2}, check)
            shot = OneShot("t", request, time.perf_counter(), True, rec, out.done.set_result)
            assert shot.send(client, deadlines, 5.0)
            await asyncio.wait_for(out.done, 2)
        await client.aclose()
    assert seen == [(1, 1), (2, 1)]
    stats = rec.tasks["t"]
    assert stats.requests == 2 and stats.errors == {"check": 1}  # 3 passed, 4 failed
    assert stats.checks == {"wrong result": 1}
    rec.close_interval(time.perf_counter())
    rec.settle_all()
    assert stats.response.get_total_count() == 2  # the wrong answer is timed too


@pytest.mark.parametrize(
    ("check", "errors", "first_exception"),
    [
        (lambda r: None, {}, None),
        (lambda r: False, {"check": 1}, None),
        (lambda r: (_ for _ in ()).throw(Failed("no token")), {"check": 1}, None),
        (lambda r: r.json()["missing"], {"exception": 1}, "t: KeyError: 'missing'"),
        (lambda r: sys.exit(3), {"exception": 1}, "t: RuntimeError: the check called sys.exit(3)"),
    ],
)
async def test_a_check_fails_the_response_or_its_own_code_fails_the_task(
    check, errors, first_exception
):
    async with answering(OK_RESULT, 3) as url:
        rec = await send_checked(url, Request("GET", "/", check=check))
    stats = rec.tasks["t"]
    assert stats.requests == 1 and stats.errors == errors
    assert stats.response.get_total_count() == 1
    assert rec.first_exception == first_exception


async def test_a_non_2xx_answer_is_not_checked_and_counts_once():
    called = []
    error = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\noops!"
    async with raw_server(replying(OK, error)) as url:
        rec = await send_checked(url, Request("GET", "/", check=called.append))
    assert called == [] and rec.tasks["t"].errors == {"http_500": 1}


async def test_during_the_warm_up_nothing_is_checked():
    called = []
    async with answering(OK_RESULT, 3) as url:
        rec = await send_checked(url, Request("GET", "/", check=called.append), measured=False)
    assert called == [] and rec.tasks == {}
