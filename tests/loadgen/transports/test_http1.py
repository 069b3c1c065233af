"""The fast client against real loopback servers, well- and mis-behaved."""

import asyncio
import contextlib
import socket
import struct
import time

import pytest

from loadgen.core.session import Session
from loadgen.measure.recorder import Recorder
from loadgen.transports.base import ClientOptions
from loadgen.transports.http1 import FastClient
from loadgen.transports.models import (
    CLOSED,
    CONNECT,
    CONNECT_TIMEOUT,
    PROTOCOL,
    RESET,
    SERVER_CLOSED,
    TIMEOUT,
    TLS,
    ClientError,
    Request,
)
from server.launch import free_port
from tests.support.http_server import OK, raw_server, read_request, replying, silent, slow_body

pytestmark = pytest.mark.anyio


async def test_keep_alive_reuses_one_connection():
    async with raw_server(replying(OK)) as url:
        client = FastClient(url, 4)
        for _ in range(5):
            r = await client.request("GET", "/", None, None)
            assert (r.status, r.body) == (200, b"hello")
            assert r.done_at >= r.sent_at
        assert client.connections_opened == 1
        await client.aclose()


async def test_post_body_and_headers_reach_the_server():
    seen = []

    async def handler(reader, writer):
        head, body = await read_request(reader)
        seen.append((head, body))
        writer.write(OK)
        await writer.drain()
        writer.close()

    async with raw_server(handler) as url:
        client = FastClient(url + "/api", 1)
        await client.request("POST", "/sum", {"Content-Type": "application/json"}, b'{"a":1}')
        await client.aclose()
    head, body = seen[0]
    assert head.startswith(b"POST /api/sum HTTP/1.1\r\n")
    assert b"\r\nContent-Type: application/json\r\n" in head
    assert b"\r\nHost: 127.0.0.1:" in head
    assert body == b'{"a":1}'


async def test_chunked_body_is_assembled():
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"
    )
    async with raw_server(replying(chunked)) as url:
        client = FastClient(url, 1)
        for _ in range(3):
            r = await client.request("GET", "/", None, None)
            assert r.body == b"Wikipedia"
        assert client.connections_opened == 1
        await client.aclose()


async def test_connection_close_opens_a_new_connection_next_time():
    closing = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    async with raw_server(replying(closing, close=True)) as url:
        client = FastClient(url, 1)
        for _ in range(3):
            r = await client.request("GET", "/", None, None)
            assert (r.status, r.body) == (200, b"ok")
        assert client.connections_opened == 3
        await client.aclose()


async def test_body_delimited_by_eof():
    eof = b"HTTP/1.0 200 OK\r\n\r\nuntil the end"
    async with raw_server(replying(eof, close=True)) as url:
        client = FastClient(url, 1)
        r = await client.request("GET", "/", None, None)
        assert r.body == b"until the end"
        await client.aclose()


async def test_non_2xx_is_a_response_not_an_exception():
    async with raw_server(replying(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n")) as url:
        client = FastClient(url, 1)
        r = await client.request("GET", "/", None, None)
        assert r.status == 503
        await client.aclose()


async def expect_error(url, kind):
    client = FastClient(url, 1)
    try:
        with pytest.raises(ClientError) as info:
            await client.request("GET", "/", None, None)
        assert info.value.kind == kind
    finally:
        await client.aclose()


async def test_garbage_bytes_are_a_protocol_error():
    async with raw_server(replying(b"SSH-2.0-OpenSSH_9.2\r\n\r\n\x00\x01garbage")) as url:
        await expect_error(url, PROTOCOL)


async def test_closed_mid_body_is_server_closed():
    cut = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"
    async with raw_server(replying(cut, close=True)) as url:
        await expect_error(url, SERVER_CLOSED)


async def test_closed_before_any_byte_is_server_closed():
    async def hang_up(reader, writer):
        await read_request(reader)
        writer.close()

    async with raw_server(hang_up) as url:
        await expect_error(url, SERVER_CLOSED)


async def test_a_rst_is_a_reset_not_a_close():
    async def reset(reader, writer):
        await read_request(reader)
        # SO_LINGER with a zero timeout: close() sends a RST instead of a FIN.
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async with raw_server(reset) as url:
        await expect_error(url, RESET)


async def test_refused_port_is_a_connect_error():
    await expect_error(f"http://127.0.0.1:{free_port()}", CONNECT)


@contextlib.contextmanager
def full_backlog():
    """The URL of a loopback port whose accept queue is full: Linux drops the SYNs
    of any further connection, which then hangs (the server never accepts)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)  # room for one connection waiting to be accepted
    port = server.getsockname()[1]
    waiting = socket.create_connection(("127.0.0.1", port), timeout=1)
    try:
        probe = socket.socket()
        probe.settimeout(0.2)
        with pytest.raises(TimeoutError), probe:  # the queue is full indeed
            probe.connect(("127.0.0.1", port))
        yield f"http://127.0.0.1:{port}"
    finally:
        waiting.close()
        server.close()


async def test_a_session_timed_out_while_connecting_is_a_connect_timeout():
    with full_backlog() as url:
        client = FastClient(url, 1)
        rec = Recorder(0.0)
        s = Session(client, rec, "t", time.perf_counter(), timeout=0.2, measured=True)
        with pytest.raises(ClientError) as info:
            await s.get("/")
        assert info.value.kind == CONNECT_TIMEOUT
        assert rec.tasks["t"].errors == {CONNECT_TIMEOUT: 1}
        assert client._slots == 0  # the slot of the connection never opened is free
        await client.aclose()


async def test_a_slow_body_on_a_fast_first_byte_is_timed_as_the_body_phase():
    async with raw_server(slow_body) as url:
        client = FastClient(url, 1)
        r = await client.request("GET", "/", None, None)
        await client.aclose()
    assert r.body == b"helloworld"
    assert r.sent_at < r.first_at < r.done_at
    assert r.first_at - r.sent_at < 0.25  # the head came at once
    assert r.done_at - r.first_at >= 0.29  # the body's second half 0.3 s later


async def test_idle_connection_closed_by_server_is_retried_transparently():
    async def one_per_connection(reader, writer):
        # Answers, then closes the keep-alive connection while it idles.
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()

    async with raw_server(one_per_connection) as url:
        client = FastClient(url, 1)
        assert (await client.request("GET", "/", None, None)).status == 200
        await asyncio.sleep(0.2)
        assert (await client.request("GET", "/", None, None)).status == 200
        assert client.connections_opened == 2
        await client.aclose()


async def test_silent_server_times_out_through_the_session_and_is_recorded():
    async with raw_server(silent) as url:
        client = FastClient(url, 1)
        rec = Recorder(0.0)
        s = Session(client, rec, "t", time.perf_counter(), timeout=0.2, measured=True)
        with pytest.raises(ClientError) as info:
            await s.get("/")
        assert info.value.kind == TIMEOUT
        assert rec.tasks["t"].errors == {TIMEOUT: 1}
        # The timed-out connection was discarded: the pool has room again.
        assert client._slots == 0
        await client.aclose()


class SlowServer:
    """A raw server answering each request `delay` s late; `peak`: most requests it held at once."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.in_flight = self.peak = 0

    async def __call__(self, reader, writer):
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await read_request(reader)
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                await asyncio.sleep(self.delay)
                self.in_flight -= 1
                writer.write(OK)
                await writer.drain()


async def test_requests_beyond_the_connection_cap_wait_their_turn():
    slow = SlowServer(0.02)
    async with raw_server(slow) as url:
        waits = []
        client = FastClient(url, 3, on_wait=lambda: waits.append(1))
        results = await asyncio.gather(*(client.request("GET", "/", None, None) for _ in range(12)))
        assert [r.status for r in results] == [200] * 12
        assert slow.peak == 3
        assert client.connections_opened == 3
        assert len(waits) == 12 - 3  # each beyond the cap said it waited
        await client.aclose()


async def test_garbage_after_a_complete_response_keeps_the_response_and_frees_the_connection():
    # One write: a whole response, then bytes that are not HTTP.
    async with raw_server(replying(OK + b"\x00garbage\r\n\r\n", OK)) as url:
        client = FastClient(url, 1)
        response = await asyncio.wait_for(client.request("GET", "/", None, None), 2)
        assert response.status == 200 and response.body == b"hello"
        await asyncio.sleep(0.05)
        assert client._slots == 0  # the dead connection gave its slot back
        again = await asyncio.wait_for(client.request("GET", "/", None, None), 2)
        assert again.status == 200
        assert client.connections_opened == 2
        await client.aclose()


def first_connection_hangs_up():
    """A handler: the first connection answers once (keep-alive, by its headers)
    and then hangs up; later connections keep answering."""
    connections = 0

    async def handler(reader, writer):
        nonlocal connections
        connections += 1
        await replying(OK, close=connections == 1)(reader, writer)

    return handler


async def test_a_connection_closed_while_handed_to_the_next_waiter_fails_fast_and_retryable():
    # One connection at a time. The answer to the first request hands the
    # connection to the request waiting for it, which may find it closed
    # before it writes: it must fail at once as a retryable reset (its sender
    # sends it again), not wait for a response that can't come.
    for _ in range(5):
        async with raw_server(first_connection_hangs_up()) as url:
            client = FastClient(url, 1)
            requests = (client.request("GET", "/", None, None) for _ in range(2))
            results = await asyncio.wait_for(asyncio.gather(*requests, return_exceptions=True), 2)
            assert results[0].status == 200
            second = results[1]
            assert getattr(second, "status", None) == 200 or (
                isinstance(second, ClientError)
                and second.kind in (RESET, SERVER_CLOSED)
                and second.retryable
            )
            await client.aclose()


async def test_a_request_written_on_a_connection_closed_meanwhile_fails_retryable():
    # The window the test above can't force: the server's close is seen
    # between the connection being handed over and the request being written.
    async with raw_server(first_connection_hangs_up()) as url:
        client = FastClient(url, 1)
        await client.request("GET", "/", None, None)
        conn = client._pop_idle()  # handed over, as the pool does to a waiter
        assert conn is not None
        for _ in range(200):
            if conn.closed:
                break
            await asyncio.sleep(0.005)
        assert conn.closed
        with pytest.raises(ClientError) as info:
            await asyncio.wait_for(conn.send(b"GET / HTTP/1.1\r\n\r\n", retry=True), 2)
        assert info.value.kind == RESET and info.value.retryable
        assert client._slots == 0  # the dead connection gave its slot back
        await client.aclose()


async def test_closing_the_client_tells_every_request_it_still_holds():
    async with raw_server(silent) as url:
        client = FastClient(url, 2)
        loop = asyncio.get_running_loop()
        in_flight, opening, queued = (loop.create_future() for _ in range(3))
        client.submit(Request("GET", "/"), in_flight)
        await asyncio.sleep(0.05)  # sent, never answered
        client.submit(Request("GET", "/"), opening)  # a connection is opened for it
        client.submit(Request("GET", "/"), queued)  # at the cap: waits for one
        assert len(client._opening) == 1 and len(client._waiters) == 1
        await client.aclose()
        await asyncio.sleep(0.05)
        for w in (in_flight, opening, queued):
            assert w.done()
            assert isinstance(w.exception(), ClientError) and w.exception().kind == CLOSED


def second_request_reset():
    """A handler: answers the first request on a connection, then closes it on the
    second (read, never answered), as a server ending keep-alive does."""

    async def handler(reader, writer):
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        await read_request(reader)
        writer.close()

    return handler


@pytest.mark.parametrize(
    ("method", "retryable"),
    [("GET", True), ("HEAD", True), ("PUT", True), ("DELETE", True), ("POST", False),
     ("PATCH", False)],
)  # fmt: skip
async def test_only_an_idempotent_request_reset_on_a_reused_connection_is_retryable(
    method, retryable
):
    async with raw_server(second_request_reset()) as url:
        client = FastClient(url, 1)
        await client.request("GET", "/", None, None)  # the connection is now reused
        with pytest.raises(ClientError) as info:
            await client.request(method, "/", None, b"{}" if method != "GET" else None)
        assert info.value.kind == SERVER_CLOSED
        assert info.value.retryable is retryable
        assert client.connections_opened == 1  # the transport sent it once: no silent retry
        await client.aclose()


async def test_a_reset_on_a_fresh_connection_is_not_retryable():
    async def hang_up(reader, writer):
        await read_request(reader)
        writer.close()

    async with raw_server(hang_up) as url:
        client = FastClient(url, 1)
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        client.submit(Request("GET", "/"), waiter)
        with pytest.raises(ClientError) as info:
            await asyncio.wait_for(waiter, 2)
        assert info.value.kind == SERVER_CLOSED and not info.value.retryable
        await client.aclose()


async def test_url_credentials_are_sent_as_basic_auth_not_in_the_host():
    seen = []

    async def handler(reader, writer):
        head, _ = await read_request(reader)
        seen.append(head)
        writer.write(OK)
        await writer.drain()
        writer.close()

    async with raw_server(handler) as url:
        host = url.removeprefix("http://")
        client = FastClient(f"http://ann:p%40ss@{host}", 1)
        await client.request("GET", "/", None, None)
        await client.aclose()
    assert f"\r\nHost: {host}\r\n".encode() in seen[0]
    assert b"\r\nAuthorization: Basic YW5uOnBAc3M=\r\n" in seen[0]  # ann:p@ss


@pytest.mark.parametrize(
    ("method", "path", "headers", "says"),
    [
        ("GE T", "/", None, "invalid request method"),
        ("GET", "/x\r\nInjected: yes", None, "invalid request path"),
        ("GET", "x", None, "invalid request path"),
        ("GET", "/caf\u00e9", None, "invalid request path"),
        ("GET", "/", {"X-Ok": "a\r\nInjected: yes"}, "invalid value of header X-Ok"),
        ("GET", "/", {"Bad Name": "v"}, "invalid header name"),
    ],
)
def test_a_request_that_cannot_go_on_the_wire_as_written_is_refused(method, path, headers, says):
    client = FastClient("http://127.0.0.1:9", 1)
    with pytest.raises(ValueError, match=says):
        client._data(method, path, headers, None)


# -- https -------------------------------------------------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    from tests.support.certs import make_certs

    return make_certs(tmp_path_factory.mktemp("certs"))


async def tls_request(url, options, path="/"):
    connects = []
    client = FastClient(url, 1, options, on_connect=connects.append)
    try:
        return await asyncio.wait_for(client.request("GET", path, None, None), 5), connects
    finally:
        await client.aclose()


async def test_https_with_the_private_ca_answers_and_says_how_long_connecting_took(certs):
    async with raw_server(replying(OK), certs.server_context()) as url:
        response, connects = await tls_request(url, ClientOptions(ca_cert=str(certs.ca_pem)))
    assert (response.status, response.body) == (200, b"hello")
    assert len(connects) == 1 and 0 < connects[0] < 5


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (ClientOptions(), "certificate verify failed"),  # a CA the system does not know
        (ClientOptions(ca_cert="OTHER"), "certificate verify failed"),  # a CA that did not sign
    ],
    ids=["unknown-ca", "other-ca"],
)
async def test_a_certificate_not_trusted_is_a_tls_error(certs, tmp_path, options, says):
    from tests.support.certs import make_certs

    if options.ca_cert == "OTHER":
        options = ClientOptions(ca_cert=str(make_certs(tmp_path).ca_pem))
    async with raw_server(replying(OK), certs.server_context()) as url:
        with pytest.raises(ClientError) as info:
            await tls_request(url, options)
    assert info.value.kind == TLS and says in str(info.value)


async def test_insecure_skips_verification(certs):
    async with raw_server(replying(OK), certs.server_context()) as url:
        response, _ = await tls_request(url, ClientOptions(insecure=True))
    assert response.status == 200


async def test_a_certificate_for_another_host_is_a_tls_error(tmp_path):
    from tests.support.certs import make_certs

    other = make_certs(tmp_path, "staging.example.org")
    async with raw_server(replying(OK), other.server_context()) as url:
        with pytest.raises(ClientError) as info:
            await tls_request(url, ClientOptions(ca_cert=str(other.ca_pem)))
    assert info.value.kind == TLS and "mismatch" in str(info.value).lower()


async def test_a_plain_http_server_behind_https_fails_fast(certs):
    async def plain_http(reader, writer):  # as a real one answers bytes that are not HTTP
        await reader.read(1024)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    async with raw_server(plain_http) as url:
        started = time.monotonic()
        with pytest.raises(ClientError) as info:
            await tls_request(url.replace("http:", "https:"), ClientOptions(insecure=True))
    assert info.value.kind in (TLS, PROTOCOL) and time.monotonic() - started < 2


async def test_mutual_tls_presents_the_client_certificate(certs):
    tls = certs.server_context(client_cert_required=True)
    with_cert = ClientOptions(ca_cert=str(certs.ca_pem), client_cert=str(certs.client_pem))
    async with raw_server(replying(OK), tls) as url:
        response, _ = await tls_request(url, with_cert)
        assert response.status == 200
        with pytest.raises(ClientError) as info:  # without it the server hangs up
            await tls_request(url, ClientOptions(ca_cert=str(certs.ca_pem)))
    assert info.value.kind in (TLS, RESET, SERVER_CLOSED)  # TLS 1.3: an alert, then EOF


async def test_response_headers_are_read_by_name_in_any_case():
    answer = (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=1\r\n"
              b"set-cookie: b=2\r\nX-Token: t0k\r\n\r\nok")  # fmt: skip
    async with raw_server(replying(answer)) as url:
        client = FastClient(url, 1)
        r = await client.request("GET", "/", None, None)
        await client.aclose()
    assert r.headers["x-token"] == "t0k" and "X-TOKEN" in r.headers
    assert r.headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert r.headers.get("missing") is None


async def test_default_headers_go_on_every_request_and_a_request_may_replace_one():
    seen = []

    async def handler(reader, writer):
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                seen.append((await read_request(reader))[0])
                writer.write(OK)

    options = ClientOptions(headers=(("Authorization", "Bearer abc"), ("X-Env", "staging")))
    async with raw_server(handler) as url:
        client = FastClient(url, 1, options)
        await client.request("GET", "/a", None, None)
        await client.request("POST", "/b", {"authorization": "Bearer other"}, b"{}")
        await client.aclose()
    assert b"\r\nAuthorization: Bearer abc\r\n" in seen[0] and b"\r\nX-Env: staging\r\n" in seen[0]
    assert b"Bearer abc" not in seen[1] and b"\r\nauthorization: Bearer other\r\n" in seen[1]
    assert b"\r\nX-Env: staging\r\n" in seen[1]


async def test_a_slow_server_still_gets_a_connection_per_request_in_flight():
    slow = SlowServer(0.3)
    async with raw_server(slow) as url:
        client = FastClient(url, 512)
        started = time.perf_counter()
        results = await asyncio.gather(*(client.request("GET", "/", None, None) for _ in range(64)))
        assert [r.status for r in results] == [200] * 64
        assert slow.peak == 64  # none waited for another's response
        assert time.perf_counter() - started < 0.3 * 2
        await client.aclose()


async def test_every_request_waiting_on_a_refused_port_is_told():
    client = FastClient(f"http://127.0.0.1:{free_port()}", 512)
    loop = asyncio.get_running_loop()
    waiters = [loop.create_future() for _ in range(40)]
    for w in waiters:
        client.submit(Request("GET", "/"), w)
    await asyncio.wait_for(asyncio.wait(waiters), 5)
    assert {w.exception().kind for w in waiters} == {CONNECT}
    assert client._slots == 0 and not client._waiters and not client._opening
    await client.aclose()
