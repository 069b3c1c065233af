"""A session is one arrival's user: its cookies and headers, and the responses it fails.

Against real loopback servers: `logins()` sets a session cookie and hands out a
token, and answers 401 to any later request without both.
"""

import asyncio
import contextlib
import time

import pytest

from loadgen.core.session import Session
from loadgen.measure.recorder import Recorder
from loadgen.transports.http1 import FastClient
from loadgen.transports.models import Request
from tests.support.http_server import json_response, logins, raw_server, read_request

pytestmark = pytest.mark.anyio


def session(client, recorder=None, measured=True, task="t"):
    return Session(client, recorder or Recorder(0.0), task, time.perf_counter(), 5.0, measured)


@contextlib.asynccontextmanager
async def recording(answer: bytes = b""):
    """A server answering every request with `answer` (default 200 `{}`); yields
    (its URL, the heads it received)."""
    heads: list[bytes] = []

    async def handler(reader, writer):
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                heads.append((await read_request(reader))[0])
                writer.write(answer or json_response(200, {}))

    async with raw_server(handler) as url:
        yield url, heads


def header(head: bytes, name: bytes) -> list[bytes]:
    """The values of field `name` (any case) in a request head."""
    return [
        line.partition(b":")[2].strip()
        for line in head.split(b"\r\n")[1:]
        if line.partition(b":")[0].lower() == name.lower()
    ]


async def test_the_login_s_cookie_and_token_go_on_the_session_s_later_requests():
    async with raw_server(logins()) as url:
        client = FastClient(url, 4)
        rec = Recorder(0.0)
        s = session(client, rec)
        r = await s.post("/login", json={"user": "ada"})
        assert r.status == 200 and s.cookies["session"] == "s1"
        s.headers["Authorization"] = f"Bearer {r.json()['token']}"
        orders = await s.get("/orders")
        profile = await s.get("/profile?tab=1")
        assert (orders.status, orders.json()) == (200, {"user": "ada", "path": "/orders"})
        assert profile.status == 200 and profile.json()["user"] == "ada"
        # Each arrival is a new user: another session has neither.
        other = session(client, rec)
        assert (await other.get("/orders")).json() == {"detail": "no session cookie"}
        other.cookies.set("session", "s1")
        assert (await other.get("/orders")).status == 401  # the cookie, not the token
        await client.aclose()
    assert rec.tasks["t"].requests == 5 and rec.tasks["t"].errors == {"http_401": 2}


async def test_session_headers_give_way_to_a_request_s_own_in_any_case():
    async with recording() as (url, heads):
        client = FastClient(url, 1)
        s = session(client)
        s.headers["Authorization"] = "Bearer session"
        s.headers["X-Trace"] = "1"
        await s.get("/a")
        await s.post("/b", json={}, headers={"authorization": "Bearer mine"})
        await client.aclose()
    assert header(heads[0], b"authorization") == [b"Bearer session"]
    assert header(heads[1], b"authorization") == [b"Bearer mine"]
    assert header(heads[1], b"x-trace") == [b"1"]
    assert header(heads[1], b"content-type") == [b"application/json"]


async def test_the_jar_s_cookies_follow_a_cookie_header_given_by_the_task():
    set_cookie = b"HTTP/1.1 200 OK\r\nSet-Cookie: jar=1\r\nContent-Length: 0\r\n\r\n"
    async with recording(set_cookie) as (url, heads):
        client = FastClient(url, 1)
        s = session(client)
        await s.get("/")
        await s.get("/", headers={"cookie": "mine=2"})
        await s.get("/")
        await client.aclose()
    assert [header(h, b"cookie") for h in heads] == [[], [b"mine=2; jar=1"], [b"jar=1"]]


async def test_a_response_the_task_fails_is_a_check_error_of_its_task():
    async with recording(json_response(200, {"result": 4})) as (url, _):
        client = FastClient(url, 1)
        rec = Recorder(0.0)
        s = session(client, rec, task="add")
        r = await s.post("/addNumbers", json={"a": 1, "b": 2})
        assert not r.expect(200, result=3)
        r.fail("counted once")
        warm = session(client, rec, measured=False, task="add")
        (await warm.get("/")).fail("warm-up: not measured")
        await client.aclose()
    stats = rec.tasks["add"]
    assert stats.requests == 1 and stats.errors == {"check": 1}
    assert stats.checks == {"wrong result": 1}


async def test_a_described_request_s_check_runs_when_a_session_sends_it():
    # How a one-shot goes on a client that takes no submissions (httpx).
    async with recording(json_response(200, {"result": 4})) as (url, _):
        client = FastClient(url, 1)
        rec = Recorder(0.0)
        s = session(client, rec)
        check = Request("GET", "/", check=lambda r: r.expect(200, result=3))
        assert (await s.send(check)).status == 200
        assert (await s.send(Request("GET", "/"))).status == 200
        await client.aclose()
    assert rec.tasks["t"].requests == 2 and rec.tasks["t"].checks == {"wrong result": 1}
