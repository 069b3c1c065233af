"""The httpx transport behind the same seam, against real loopback servers."""

import asyncio

import pytest

from loadgen.transports.base import CONNECT, PROTOCOL, RESET, ClientError
from loadgen.transports.httpx_client import HttpxClient
from server.launch import free_port
from tests.support.http_server import OK, raw_server, replying

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
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", RESET),
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
