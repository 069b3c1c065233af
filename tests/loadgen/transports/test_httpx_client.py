"""The httpx transport behind the same seam, against real loopback servers."""

import asyncio
import time

import pytest

from loadgen.core.session import Session
from loadgen.measure.recorder import Recorder
from loadgen.transports.httpx_client import HttpxClient
from loadgen.transports.models import CONNECT, CONNECT_TIMEOUT, PROTOCOL, SERVER_CLOSED, ClientError
from server.launch import free_port
from tests.loadgen.transports.test_http1 import full_backlog
from tests.support.http_server import OK, raw_server, replying, slow_body

pytestmark = pytest.mark.anyio


async def test_responses_and_timing():
    async with raw_server(replying(OK)) as url:
        client = HttpxClient(url, 2)
        for _ in range(3):
            r = await client.request("POST", "/x", {"Content-Type": "text/plain"}, b"hi")
            assert (r.status, r.body) == (200, b"hello")
            assert r.done_at >= r.sent_at and r.nbytes > len(r.body)
        await client.aclose()


async def test_connection_cap_is_respected():
    async with raw_server(replying(OK)) as url:
        client = HttpxClient(url, 2)
        results = await asyncio.gather(*(client.request("GET", "/", None, None) for _ in range(10)))
        assert all(r.status == 200 for r in results)
        assert client.connections_opened == 2
        await client.aclose()


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (b"\x00\x01 not http at all\r\n\r\n", PROTOCOL),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", SERVER_CLOSED),
    ],
)
async def test_failures_are_classified(reply, kind):
    async with raw_server(replying(reply, close=True)) as url:
        client = HttpxClient(url, 1)
        with pytest.raises(ClientError) as info:
            await client.request("GET", "/", None, None)
        assert info.value.kind == kind
        await client.aclose()


async def test_refused_port_is_a_connect_error():
    client = HttpxClient(f"http://127.0.0.1:{free_port()}", 1)
    with pytest.raises(ClientError) as info:
        await client.request("GET", "/", None, None)
    assert info.value.kind == CONNECT
    await client.aclose()


async def test_the_first_byte_is_timed_when_the_head_is_complete():
    async with raw_server(slow_body) as url:
        client = HttpxClient(url, 1)
        r = await client.request("GET", "/", None, None)
        await client.aclose()
    assert r.body == b"helloworld"
    assert r.sent_at < r.first_at < r.done_at
    assert r.done_at - r.first_at >= 0.29 > r.first_at - r.sent_at


async def test_a_session_timed_out_while_connecting_is_a_connect_timeout():
    with full_backlog() as url:
        client = HttpxClient(url, 1)
        rec = Recorder(0.0)
        s = Session(client, rec, "t", time.perf_counter(), timeout=0.2, measured=True)
        with pytest.raises(ClientError) as info:
            await s.get("/")
        assert info.value.kind == CONNECT_TIMEOUT
        await client.aclose()


async def test_with_http2_it_speaks_h2c_by_prior_knowledge_and_says_which_version():
    from loadgen.transports.base import ClientOptions
    from tests.support.h2_server import h2_server

    async with raw_server(replying(OK)) as url:
        plain = HttpxClient(url, 1)
        await plain.request("GET", "/", None, None)
        await plain.aclose()
    assert plain.http_version == "1.1"
    async with h2_server() as server:
        client = HttpxClient(server.url, 1, ClientOptions(http2="on"))
        r = await client.request("GET", "/", None, None)
        await client.aclose()
    assert (r.status, r.body, client.http_version) == (200, b"ok", "2")
