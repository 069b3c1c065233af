"""The HTTP/2 client against real servers: hypercorn (h2c, and h2 over TLS by
ALPN) and the scripted h2 server of tests/support (a stream limit, GOAWAY,
RST_STREAM)."""

import asyncio

import pytest

from loadgen import Request, Scenario, task
from loadgen.core.config import RunConfig
from loadgen.core.engine import Engine
from loadgen.core.rates import ConstantRate
from loadgen.transports.base import ClientOptions
from loadgen.transports.http2 import Http2Client
from loadgen.transports.models import FLOW_CONTROL, GOAWAY, PROTOCOL, RST_STREAM, ClientError
from tests.support.certs import make_certs
from tests.support.h2_server import H2Script, h2_server
from tests.support.http_server import OK, raw_server, replying
from tests.support.hypercorn_server import hypercorn

pytestmark = pytest.mark.anyio

H2 = ClientOptions(http2="on")


async def _get_and_post(client):
    got = await client.request("GET", "/", None, None)
    posted = await client.request("POST", "/up", {"Content-Type": "text/plain"}, b"x" * 200_000)
    return got, posted


@pytest.mark.slow
async def test_h2c_by_prior_knowledge_against_hypercorn():
    with hypercorn() as url:
        client = Http2Client(url, 2, H2)
        got, posted = await _get_and_post(client)
        await client.aclose()
    assert (got.status, got.body) == (200, b"0 2")
    # A body past the initial 64 KiB window went whole: the windows were honoured.
    assert (posted.status, posted.body) == (200, b"200000 2")
    assert got.head.startswith(b"HTTP/2 200\r\n") and got.headers["content-type"] == "text/plain"
    assert got.sent_at <= got.first_at <= got.done_at
    assert client.http_version == "2"
    assert client.connections_opened == 1


@pytest.mark.slow
async def test_h2_over_tls_by_alpn_against_hypercorn(tmp_path):
    certs = make_certs(tmp_path)
    opened = []
    with hypercorn(certs) as url:
        options = ClientOptions(ca_cert=str(certs.ca_pem), http2="on")
        client = Http2Client(url, 2, options, on_connect=opened.append)
        got, posted = await _get_and_post(client)
        await client.aclose()
    assert (got.body, posted.body) == (b"0 2", b"200000 2")
    assert client.http_version == "2"
    assert len(opened) == 1 and opened[0] > 0  # TCP and TLS handshakes, timed


async def test_a_server_whose_alpn_refuses_h2_fails_unless_the_fallback_is_allowed(tmp_path):
    certs = make_certs(tmp_path)
    async with raw_server(replying(OK), tls=certs.server_context()) as url:
        url = url.replace("http:", "https:")
        strict = Http2Client(url, 2, ClientOptions(ca_cert=str(certs.ca_pem), http2="on"))
        with pytest.raises(ClientError) as info:
            await strict.request("GET", "/", None, None)
        assert info.value.kind == PROTOCOL and "ALPN" in str(info.value)
        with pytest.raises(ClientError):  # no reconnecting storm: it stays refused
            await strict.request("GET", "/", None, None)
        await strict.aclose()

        options = ClientOptions(ca_cert=str(certs.ca_pem), http2="fallback")
        lenient = Http2Client(url, 2, options)
        first = await lenient.request("GET", "/", None, None)  # queued while ALPN decided
        second = await lenient.request("GET", "/", None, None)  # the HTTP/1.1 client's
        await lenient.aclose()
    assert (first.body, second.body) == (b"hello", b"hello")
    assert lenient.http_version == "1.1"


async def test_requests_beyond_the_servers_stream_limit_wait_and_the_wait_is_counted():
    waits = []
    async with h2_server(H2Script(delay=0.05, max_streams=4)) as server:
        client = Http2Client(server.url, 1, H2, on_stream_wait=lambda: waits.append(1))
        await client.request("GET", "/", None, None)  # the server's SETTINGS are known
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in range(20)]
        for f in futures:
            client.submit(Request("GET", "/"), f)
        responses = await asyncio.gather(*futures)
        await client.aclose()
    assert [r.status for r in responses] == [200] * 20
    assert server.max_open == 4  # never more than the server allowed, and all of it used
    assert len(waits) == 16  # the 16 beyond the limit, each once
    # Five rounds of 50 ms: the last waited four of them before it was sent.
    assert responses[-1].sent_at - responses[0].sent_at >= 4 * 0.05 * 0.9


async def test_goaway_spares_the_streams_up_to_its_last_and_fails_the_rest_by_method():
    script = H2Script(delay=0.05, goaway_after=4)
    async with h2_server(script) as server:
        client = Http2Client(server.url, 1, H2)
        await client.request("GET", "/", None, None)
        loop = asyncio.get_running_loop()
        sent = [Request(m, "/") for m in ("GET", "POST") * 4]
        futures = [loop.create_future() for _ in sent]
        for request, f in zip(sent, futures, strict=True):
            client.submit(request, f)
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        await client.aclose()
    # Requests 2 to 4 of the server's life came before its GOAWAY: answered.
    assert [getattr(o, "status", None) for o in outcomes[:3]] == [200] * 3
    for request, error in zip(sent[3:], outcomes[3:], strict=True):
        assert isinstance(error, ClientError) and error.kind == GOAWAY
        assert error.retryable == (request.method == "GET")  # never a POST
    assert server.goaways == 1


class GetsAndPosts(Scenario):
    @task(1)
    def get(self):
        return Request("GET", "/")

    @task(1)
    def post(self):
        return Request("POST", "/", body=b"{}")


async def _run(url, rate=200.0, seconds=1.0, connections=2, warmup=0.0):
    cfg = RunConfig(
        target=url,
        profile=ConstantRate(rate),
        duration=seconds,
        warmup=warmup,
        scenario=GetsAndPosts,
        connections=connections,
        seed=1,
        client_options=H2,
    )
    return await Engine(cfg).run()


async def test_rst_stream_every_fifth_request_is_counted_and_nothing_is_sent_twice():
    async with h2_server(H2Script(rst_every=5)) as server:
        result = await _run(server.url)
    rec = result.recorder
    errors = {name: dict(stats.errors) for name, stats in rec.tasks.items()}
    resets = sum(e.get(RST_STREAM, 0) for e in errors.values())
    requests = sum(stats.requests for stats in rec.tasks.values())
    assert len(server.received) == requests  # each request went once, resets included
    assert resets == len(server.received) // 5
    assert sum(stats.retries for stats in rec.tasks.values()) == 0
    assert "INTERNAL_ERROR (2)" in rec.error_details[RST_STREAM]
    assert rec.http_version == "2"


async def test_a_goaway_mid_run_retries_unprocessed_gets_once_and_never_a_post():
    script = H2Script(delay=0.1, goaway_after=60)
    async with h2_server(script) as server:
        result = await _run(server.url)
    rec = result.recorder
    get, post = rec.tasks["get"], rec.tasks["post"]
    assert server.goaways == 1 and server.connections >= 2  # a new connection after it
    posts_sent = post.requests
    assert server.received.count("POST") == posts_sent  # not one POST twice
    # Each GET above the GOAWAY's last stream went again, once, and was counted.
    assert get.retries >= 1 and get.errors.get(GOAWAY, 0) == 0
    assert server.received.count("GET") == get.requests + get.retries
    assert post.errors.get(GOAWAY, 0) >= 1


class SessionGets(Scenario):
    @task(1)
    async def two_gets(self, s):
        await s.get("/")
        await s.get("/again")


async def test_a_sessions_requests_go_as_streams_too():
    async with h2_server(H2Script(delay=0.01, max_streams=4)) as server:
        # A second: a busy machine's stall cannot leave it with none sent (0.5 s once did).
        cfg = RunConfig(target=server.url, profile=ConstantRate(200.0), duration=1.0,
                        scenario=SessionGets, connections=1, seed=1, client_options=H2)  # fmt: skip
        result = await Engine(cfg).run()
    assert "two_gets" in result.recorder.tasks, f"none sent ({result.unsent} unsent)"
    stats = result.recorder.tasks["two_gets"]
    assert stats.requests == 2 * result.recorder.arrivals == len(server.received)
    assert not stats.errors and server.max_open <= 4


async def test_a_timed_out_stream_is_reset_and_its_connection_carries_on():
    async with h2_server(H2Script(delay=0.3)) as server:
        client = Http2Client(server.url, 1, H2)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(client.request("GET", "/", None, None), 0.05)
        await asyncio.sleep(0.05)  # the RST_STREAM reaches the server
        r = await client.request("GET", "/", None, None)
        await client.aclose()
    assert r.status == 200
    assert server.connections == 1 and client.connections_opened == 1
    assert server.resets == 1  # the abandoned stream was cancelled, not left open


async def test_a_run_held_by_the_stream_limit_counts_its_waits():
    # One connection, 4 streams of 50 ms: 80/s at most, 200/s asked. Measured after
    # a warm-up: until the server's SETTINGS come, a client may open 100 streams
    # (RFC 9113 §6.5.2), and on a busy machine the connection's first moments took
    # half the arrivals before them.
    async with h2_server(H2Script(delay=0.05, max_streams=4)) as server:
        result = await _run(server.url, seconds=0.5, connections=1, warmup=0.2)
    rec = result.recorder
    assert server.max_open <= 4
    assert rec.stream_waits >= rec.arrivals // 2 and rec.connection_waits == 0


class BigPosts(Scenario):
    @task(1)
    def one_shot(self):
        return Request("POST", "/", body=b"x" * 100_000)

    @task(1)
    async def in_a_session(self, s):
        await s.post("/", body=b"x" * 100_000)


async def test_a_body_stalled_on_the_servers_window_is_a_flow_control_error():
    async with h2_server(H2Script(stall=True)) as server:
        # 10 arrivals, both tasks among them even when a busy machine leaves the
        # last ones unsent (4 once left only one_shot's); a timeout long enough that
        # no request sent late by a stalled machine times out before it is sent.
        cfg = RunConfig(target=server.url, profile=ConstantRate(20.0), duration=0.5,
                        scenario=BigPosts, connections=1, seed=3, timeout=1.0,
                        client_options=H2)  # fmt: skip
        result = await Engine(cfg).run()
    rec = result.recorder
    errors = {name: dict(stats.errors) for name, stats in rec.tasks.items()}
    assert set(errors) == {"one_shot", "in_a_session"}, (errors, rec.arrivals, result.unsent)
    for name, kinds in errors.items():
        assert kinds == {FLOW_CONTROL: rec.tasks[name].requests}, name
    assert "flow-control window" in rec.error_details[FLOW_CONTROL]
