"""One stream's outcome, told once, and what a timeout learns from it.

The stream here is on no connection: its `Carrier` is a recorder of the
resets it is asked for, so each edge is reached exactly (the connection's
own part is in test_h2_connection.py, against a server)."""

import asyncio

import pytest

from loadgen.transports.h2_stream import Stream
from loadgen.transports.models import (
    BODY_ARRIVING,
    CLOSED,
    CONNECT_TIMEOUT,
    FLOW_CONTROL,
    RESET,
    ClientError,
    Request,
    Response,
)

pytestmark = pytest.mark.anyio


class Resets:
    """The connection as a stream sees it: the streams it was asked to reset."""

    def __init__(self) -> None:
        self.cancelled: list[Stream] = []

    def cancel(self, stream: Stream) -> None:
        self.cancelled.append(stream)


def on_a_connection(method: str = "GET") -> tuple[Stream, Resets]:
    stream, conn = Stream(Request(method, "/", None, None), b""), Resets()
    stream.conn, stream.exchange = conn, 1
    return stream, conn


async def test_the_response_is_whole_and_counted_with_its_head():
    stream, _ = on_a_connection()
    stream.sent_at = 1.0
    waiting = asyncio.ensure_future(_awaited(stream))
    await asyncio.sleep(0)
    stream.got_headers(200, b"head")
    stream.got_data(b"ab")
    stream.got_data(b"cde")
    stream.answered(2.0)
    response = await waiting
    assert (response.status, response.body, response.nbytes) == (200, b"abcde", 9)
    assert (response.sent_at, response.done_at, response.head) == (1.0, 2.0, b"head")
    assert response.first_at >= 1.0 and not stream.live()


async def test_the_outcome_is_told_once():
    stream, conn = on_a_connection()
    waiting = asyncio.ensure_future(_awaited(stream))
    await asyncio.sleep(0)
    stream.fail(ClientError(RESET, "first"))
    stream.answered(1.0)  # too late: nothing more is told
    stream.abandon(1)  # nor reset: it has ended
    with pytest.raises(ClientError, match="first"):
        await waiting
    assert conn.cancelled == []


async def test_a_stream_that_failed_before_it_was_awaited_raises_its_failure():
    stream, _ = on_a_connection()
    stream.fail(ClientError(RESET, "gone"))
    with pytest.raises(ClientError, match="gone"):
        await _awaited(stream)
    stream, _ = on_a_connection()
    stream.abandon(1)  # given up on, with no failure of its own
    with pytest.raises(ClientError) as e:
        await _awaited(stream)
    assert e.value.kind == CLOSED


@pytest.mark.parametrize(
    ("state", "cause"),
    [
        ("connecting", (CONNECT_TIMEOUT,)),
        ("window", (FLOW_CONTROL,)),
        ("head", (BODY_ARRIVING, 3)),
        ("sent", ()),
    ],
)
async def test_a_timeout_resets_the_stream_and_says_what_was_under_way(state, cause):
    stream, conn = on_a_connection("POST")
    stream.connecting = state == "connecting"
    stream.pending = b"body" if state == "window" else b""
    waiting = asyncio.ensure_future(_awaited(stream))
    await asyncio.sleep(0)
    if state == "head":
        stream.got_headers(200, b"h")
        stream.got_data(b"abc")
    assert stream.stalled is (state == "window")
    assert stream.arriving() == (3 if state == "head" else -1)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError) as e:
        await waiting
    assert e.value.args == cause  # models.timed_out reads the timeout's kind from these
    assert conn.cancelled == [stream] and stream.conn is None and not stream.live()
    assert not stream.stalled and stream.arriving() == -1


async def test_after_a_fallback_the_http1_request_is_asked_and_abandoned():
    class Sent:
        exchange, connecting, stalled = 4, False, False

        def __init__(self) -> None:
            self.abandoned: list[int] = []

        def abandon(self, exchange: int) -> None:
            self.abandoned.append(exchange)

        def arriving(self) -> int:
            return 17

    stream, via = Stream(Request("GET", "/", None, None), b""), Sent()
    stream.via = via
    assert stream.arriving() == 17
    stream.abandon(0)
    assert via.abandoned == [4]


async def _awaited(stream: Stream) -> Response:
    return await stream
