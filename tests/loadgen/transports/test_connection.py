"""A connection alone, on a stand-in transport: what it parses, and what it tells its owner."""

import asyncio

import pytest

from loadgen.transports.connection import MAX_HEAD, Connection, _ends_at_eof
from loadgen.transports.models import BODY_TOO_LARGE, PROTOCOL, RESET, SERVER_CLOSED, ClientError

pytestmark = pytest.mark.anyio

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Owner:
    """A `ConnectionOwner` that notes what it was told (and closes what it discards)."""

    def __init__(self) -> None:
        self.told: list[str] = []

    def release(self, conn):
        self.told.append("release")

    def discard(self, conn):
        self.told.append("discard")
        conn.close()

    def lost(self, conn):
        self.told.append("lost")


class Transport:
    """The bytes written, and whether it was closed."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data):
        self.written.append(data)

    def close(self):
        self.closed = True

    abort = close


def connected(max_body=1024):
    owner, transport = Owner(), Transport()
    conn = Connection(owner, max_body)
    conn.connection_made(transport)
    return conn, owner, transport


def sent(conn, retry=False):
    """Send a request on `conn`; the future its outcome goes to."""
    waiter = asyncio.get_running_loop().create_future()
    conn.send(b"GET / HTTP/1.1\r\n\r\n", retry)
    conn.waiter = waiter
    return waiter


async def test_a_complete_keep_alive_response_releases_the_connection_then_answers():
    conn, owner, transport = connected()
    waiter = sent(conn)
    assert transport.written == [b"GET / HTTP/1.1\r\n\r\n"]
    conn.data_received(OK[:20])
    assert not waiter.done() and owner.told == []
    conn.data_received(OK[20:])
    assert owner.told == ["release"]
    response = waiter.result()
    assert (response.status, response.body) == (200, b"ok")
    assert response.sent_at <= response.first_at <= response.done_at


async def test_a_response_that_closes_the_connection_discards_it():
    conn, owner, transport = connected()
    waiter = sent(conn)
    conn.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    assert owner.told == ["discard"] and transport.closed
    assert waiter.result().status == 200


async def test_a_body_past_the_cap_fails_the_request_and_discards_the_connection():
    conn, owner, transport = connected(max_body=4)
    waiter = sent(conn)
    conn.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456")
    assert owner.told == ["discard"] and transport.closed
    assert waiter.exception().kind == BODY_TOO_LARGE


async def test_an_endless_head_is_a_protocol_error_not_held_without_limit():
    # A server streaming header lines for ever: the head is held up to its cap
    # (and one read past it), then the connection is dropped.
    conn, owner, transport = connected()
    waiter = sent(conn)
    conn.data_received(b"HTTP/1.1 200 OK\r\n")
    line = b"X-Pad: " + b"a" * 8000 + b"\r\n"
    while not waiter.done():
        assert len(conn.first) <= MAX_HEAD + 8 * len(line), len(conn.first)
        conn.data_received(line * 8)
    assert owner.told == ["discard"] and transport.closed
    error = waiter.exception()
    assert error.kind == PROTOCOL and "the response head passed 1MiB" in str(error)
    # A long head within the cap is read as ever.
    conn, _, _ = connected()
    waiter = sent(conn)
    conn.data_received(b"HTTP/1.1 200 OK\r\n")
    for _ in range(8):
        conn.data_received(line * 8)
    conn.data_received(b"Content-Length: 2\r\n\r\nok")
    assert waiter.result().body == b"ok"


async def test_a_close_before_any_byte_of_a_retryable_request_is_a_retryable_failure():
    conn, owner, _ = connected()
    waiter = sent(conn, retry=True)
    conn.connection_lost(None)
    assert owner.told == ["lost", "discard"]
    error = waiter.exception()
    assert isinstance(error, ClientError) and error.kind == SERVER_CLOSED and error.retryable


async def test_a_reset_mid_response_is_not_retryable():
    conn, owner, _ = connected()
    waiter = sent(conn, retry=True)
    conn.data_received(OK[:20])
    conn.connection_lost(ConnectionResetError())
    assert owner.told == ["lost", "discard"]
    assert waiter.exception().kind == RESET and not waiter.exception().retryable


async def test_a_connection_closed_between_exchanges_only_tells_its_owner_it_is_lost():
    conn, owner, _ = connected()
    waiter = sent(conn)
    conn.data_received(OK)
    conn.connection_lost(None)  # the server's keep-alive timeout
    assert owner.told == ["release", "lost"] and waiter.result().status == 200


async def test_failing_tells_the_waiter_once():
    conn, owner, _ = connected()
    waiter = sent(conn)
    conn.fail(ClientError(RESET, "first"))
    conn.fail(ClientError(RESET, "second"))
    assert owner.told == ["discard"] and str(waiter.exception()) == "reset: first"


@pytest.mark.parametrize(
    ("first", "eof"),
    [
        (b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nhel", True),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhel", False),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", False),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", False),
        (b"HTTP/1.0 200 OK\r\nServer: x\r\n", False),  # head cut short: not trusted
    ],
)
def test_only_a_complete_head_without_length_or_chunking_ends_at_eof(first, eof):
    assert _ends_at_eof(first) is eof
