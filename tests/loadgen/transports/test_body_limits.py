"""What a response may cost, and which headers a client sends once: both clients,
against real loopback servers.

A body past `max_body` fails as `body_too_large` with its connection closed;
a body still coming at the timeout is a timeout that says so; a `Host` given
in the options replaces the default one.
"""

import asyncio
import contextlib
import time

import pytest

from loadgen.core.deadlines import Deadlines
from loadgen.core.oneshot import OneShot
from loadgen.core.session import Session
from loadgen.measure.recorder import Recorder
from loadgen.transports.base import ClientOptions
from loadgen.transports.http1 import FastClient
from loadgen.transports.httpx_client import HttpxClient
from loadgen.transports.models import BODY_TOO_LARGE, TIMEOUT, ClientError, Request
from tests.loadgen.core.test_deadlines import checking
from tests.support.http_server import OK, raw_server, read_request, replying

pytestmark = pytest.mark.anyio

CLIENTS = {"fast": FastClient, "httpx": HttpxClient}
CAP = 1 << 20  # the clients' max_body in these tests
# The most a read hands the protocol (asyncio's and uvloop's transports read
# 256 KiB at most): what the fast client may hold beyond the cap.
ONE_READ = 256 * 1024
CHUNK = b"x" * 65536


class Endless:
    """Answers 200 with a chunked body of 64 KiB chunks, streamed until the client
    hangs up; `sent`: body bytes written. It gives up at `limit` bytes (then ends
    the body), so that a client holding everything fails the test, not the machine."""

    def __init__(self, limit: int = 64 << 20) -> None:
        self.limit = limit
        self.sent = 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            while self.sent < self.limit:
                writer.write(b"%x\r\n%b\r\n" % (len(CHUNK), CHUNK))
                self.sent += len(CHUNK)
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        writer.close()


HALF = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"  # 5 bytes of a 10-byte body


async def body_still_coming(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers at once with the head and half the body; the rest never comes."""
    await read_request(reader)
    writer.write(HALF)
    await asyncio.sleep(5)


@pytest.mark.parametrize("kind", CLIENTS)
async def test_an_endless_body_stops_at_the_cap_as_body_too_large(kind):
    endless = Endless()
    async with raw_server(endless) as url:
        client = CLIENTS[kind](url, 1, ClientOptions(max_body=CAP))
        rec = Recorder(0.0)
        started = time.perf_counter()
        s = Session(client, rec, "t", started, timeout=10.0, measured=True)
        with pytest.raises(ClientError) as info:
            await s.get("/")
        took = time.perf_counter() - started
        await client.aclose()
    assert info.value.kind == BODY_TOO_LARGE
    assert "1MiB (--max-body)" in str(info.value)
    assert rec.tasks["t"].errors == {BODY_TOO_LARGE: 1}
    assert "1MiB" in rec.error_details[BODY_TOO_LARGE]
    # The connection was closed at the cap: the server stopped far short of its
    # limit (what the kernel's socket buffers took is the rest), and long before
    # the timeout.
    assert endless.sent < endless.limit // 2
    assert took < 5.0


async def test_the_fast_client_holds_at_most_the_cap_and_one_read():
    endless = Endless()
    async with raw_server(endless) as url:
        client = FastClient(url, 1, ClientOptions(max_body=CAP))
        waiter = asyncio.get_running_loop().create_future()
        queued = client.submit(Request("GET", "/"), waiter)
        with pytest.raises(ClientError) as info:
            await asyncio.wait_for(waiter, 10)
        conn = queued.conn
        await client.aclose()
    assert info.value.kind == BODY_TOO_LARGE
    assert conn is not None and conn.closed
    assert CAP < conn.held <= CAP + ONE_READ
    assert conn.body == []  # what it had held is let go at once
    assert client._slots == 0  # and its slot is free


@pytest.mark.parametrize("kind", CLIENTS)
async def test_a_body_exactly_at_the_cap_is_a_response(kind):
    body = b"y" * 4096
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n" + body
    async with raw_server(replying(answer)) as url:
        client = CLIENTS[kind](url, 1, ClientOptions(max_body=4096))
        r = await client.request("GET", "/", None, None)
        await client.aclose()
    assert (r.status, r.body) == (200, body)


@pytest.mark.parametrize("kind", CLIENTS)
async def test_a_body_still_arriving_at_the_timeout_says_so(kind):
    async with raw_server(body_still_coming) as url:
        client = CLIENTS[kind](url, 1)
        rec = Recorder(0.0)
        s = Session(client, rec, "t", time.perf_counter(), timeout=0.3, measured=True)
        with pytest.raises(ClientError) as info:
            await s.get("/")
        await client.aclose()
    said = "the body was still arriving (5 bytes so far)"
    assert info.value.kind == TIMEOUT and said in str(info.value)
    assert rec.tasks["t"].errors == {TIMEOUT: 1}
    assert rec.error_details[TIMEOUT] == said


async def test_a_one_shot_timed_out_mid_body_says_so_and_a_silent_one_does_not():
    async def silent_or_half(reader, writer):
        head, _ = await read_request(reader)
        if b" /slow " in head:
            writer.write(HALF)
        await asyncio.sleep(5)

    async with raw_server(silent_or_half) as url:
        client = FastClient(url, 2)
        rec = Recorder(0.0)
        deadlines = Deadlines(time.perf_counter())
        loop = asyncio.get_running_loop()
        async with checking(deadlines):
            done = [loop.create_future() for _ in range(2)]
            for path, future in zip(("/silent", "/slow"), done, strict=True):
                shot = OneShot(path, Request("GET", path), time.perf_counter(), True, rec,
                               future.set_result)  # fmt: skip
                assert shot.send(client, deadlines, timeout=0.3)
            await asyncio.wait_for(asyncio.gather(*done), 2)
        await client.aclose()
    assert rec.tasks["/silent"].errors == rec.tasks["/slow"].errors == {TIMEOUT: 1}
    assert rec.error_details == {TIMEOUT: "the body was still arriving (5 bytes so far)"}


def fields(head: bytes, name: bytes) -> list[bytes]:
    """The values of header `name` in a request head, in order."""
    lines = [ln.partition(b":") for ln in head.split(b"\r\n")[1:]]
    return [value.strip() for n, _, value in lines if n.lower() == name]


@pytest.mark.parametrize("kind", CLIENTS)
async def test_a_host_header_given_replaces_the_default_one(kind):
    heads: list[bytes] = []
    options = ClientOptions(headers=(("Host", "example.test"), ("user-agent", "probe")))
    async with raw_server(replying(OK, on_request=heads.append)) as url:
        client = CLIENTS[kind](url, 1, options)
        await client.request("GET", "/", None, None)
        await client.request("GET", "/", {"X-Other": "1"}, None)  # encoded afresh
        await client.aclose()
    assert len(heads) == 2
    for head in heads:
        assert fields(head, b"host") == [b"example.test"]
        assert fields(head, b"user-agent") == [b"probe"]


@pytest.mark.parametrize("kind", CLIENTS)
async def test_without_a_host_header_the_default_is_the_urls_once(kind):
    heads: list[bytes] = []
    async with raw_server(replying(OK, on_request=heads.append)) as url:
        client = CLIENTS[kind](url, 1)
        await client.request("GET", "/", None, None)
        await client.aclose()
    assert fields(heads[0], b"host") == [url.removeprefix("http://").encode()]
