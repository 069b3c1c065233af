"""One HTTP/2 connection against a loopback server that writes frames by hand
(`hyperframe` and `hpack`, the h2 library's own, as the reference): the
frames a server may send that hypercorn and the h2 test server do not."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import hpack
import pytest
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

from loadgen.transports.base import ClientOptions
from loadgen.transports.http2 import Http2Client
from loadgen.transports.models import PROTOCOL, ClientError

pytestmark = pytest.mark.anyio

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


class FramingServer(asyncio.Protocol):
    """Reads the client's frames; answers each request by `answer(server, stream_id)`.

    Follows the client's windows (its SETTINGS and WINDOW_UPDATEs) in
    `window` and `stream_windows`, so an answer can send what they allow.
    """

    def __init__(self, answer: Callable[[FramingServer, int], None]) -> None:
        self.answer = answer
        self.encoder = hpack.Encoder()  # Huffman, and the dynamic table filled
        self.decoder = hpack.Decoder()
        self.requests: list[list[tuple[bytes, bytes]]] = []  # each request's headers
        self.fragments = b""  # a request's header block so far
        self.largest = 0  # the largest frame the client sent (ours allow 16 KiB)
        self.body_bytes = 0  # DATA received, all streams
        self.errors: list[tuple[str, int]] = []  # ("RST_STREAM" or "GOAWAY", its code)
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.window = 65_535
        self.initial = 65_535
        self.stream_windows: dict[int, int] = {}
        self.pings: list[bytes] = []  # the payloads of PING ACKs received
        self.window_grew = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.write(SettingsFrame(0))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.buffer.startswith(PREFACE):
            self.buffer = self.buffer[len(PREFACE) :]
        while len(self.buffer) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(self.buffer[:9]))
            if len(self.buffer) < 9 + length:
                return
            self.largest = max(self.largest, length)
            frame.parse_body(memoryview(self.buffer[9 : 9 + length]))
            self.buffer = self.buffer[9 + length :]
            self.frame(frame)

    def frame(self, frame: Frame) -> None:
        if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
            self.initial = frame.settings.get(SettingsFrame.INITIAL_WINDOW_SIZE, self.initial)
            self.write(SettingsFrame(0, flags=["ACK"]))
        elif isinstance(frame, WindowUpdateFrame):
            if frame.stream_id:
                self.stream_windows[frame.stream_id] += frame.window_increment
            else:
                self.window += frame.window_increment
            self.window_grew.set()
        elif isinstance(frame, PingFrame) and "ACK" in frame.flags:
            self.pings.append(frame.opaque_data)
        elif isinstance(frame, DataFrame):
            self.body_bytes += len(frame.data)
        elif isinstance(frame, RstStreamFrame | GoAwayFrame):
            self.errors.append((type(frame).__name__, frame.error_code))
        elif isinstance(frame, HeadersFrame | ContinuationFrame):
            self.fragments += frame.data
            if "END_HEADERS" in frame.flags:
                self.requests.append(self.decoder.decode(self.fragments, raw=True))
                self.fragments = b""
                self.stream_windows[frame.stream_id] = self.initial
                self.answer(self, frame.stream_id)

    def write(self, *frames: Frame) -> None:
        assert self.transport is not None
        self.transport.write(b"".join(frame.serialize() for frame in frames))

    def block(self, headers: list[tuple[bytes, bytes]]) -> bytes:
        return self.encoder.encode(headers)

    async def send_body(self, sid: int, body: bytes, chunk: int = 16_384) -> None:
        """`body` in DATA frames as the client's windows allow, waiting when they are spent."""
        sent = 0  # an offset, not `body = body[room:]`: that copies the rest at each frame
        while sent < len(body):
            room = min(self.window, self.stream_windows[sid], chunk)
            if room <= 0:
                self.window_grew.clear()
                await asyncio.wait_for(self.window_grew.wait(), 10)
                continue
            piece = body[sent : sent + room]
            sent += len(piece)
            self.window -= len(piece)
            self.stream_windows[sid] -= len(piece)
            self.write(DataFrame(sid, piece, flags=[] if sent < len(body) else ["END_STREAM"]))


@contextlib.asynccontextmanager
async def framing_server(
    answer: Callable[[FramingServer, int], None], made: list[FramingServer] | None = None
) -> AsyncIterator[str]:
    """The server on a free loopback port; yields its URL, each connection added to `made`."""

    def connection() -> FramingServer:
        server = FramingServer(answer)
        if made is not None:
            made.append(server)
        return server

    loop = asyncio.get_running_loop()
    server = await loop.create_server(connection, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


def _continued_and_padded(server: FramingServer, sid: int) -> None:
    """A 103, then the head split over HEADERS (padded, with a priority) and two
    CONTINUATIONs, a padded DATA, and trailers ending the stream; a PING between."""
    server.write(HeadersFrame(sid, server.block([(b":status", b"103")]), flags=["END_HEADERS"]))
    now = f"Sun, 06 Dec 2026 04:00:{sid:02d} GMT".encode()  # a new entry each answer
    block = server.block([(b":status", b"200"), (b"date", now), (b"x-long", b"v" * 300)])
    first = HeadersFrame(sid, block[:5], flags=["PADDED", "PRIORITY"], pad_length=7)
    first.depends_on, first.stream_weight = 0, 15
    server.write(
        first,
        ContinuationFrame(sid, block[5:20]),
        ContinuationFrame(sid, block[20:], flags=["END_HEADERS"]),
        PingFrame(0, opaque_data=b"12345678"),
        DataFrame(sid, b"hello ", flags=["PADDED"], pad_length=10),
        DataFrame(sid, b"world"),
        HeadersFrame(
            sid, server.block([(b"x-trailer", b"t")]), flags=["END_HEADERS", "END_STREAM"]
        ),
    )


async def test_continuations_padding_1xx_and_trailers_make_one_response():
    servers: list[FramingServer] = []

    def answer(server: FramingServer, sid: int) -> None:
        servers.append(server)
        _continued_and_padded(server, sid)

    async with framing_server(answer) as url:
        client = Http2Client(url, 1, ClientOptions(http2="on"))
        responses = [await client.request("GET", "/", None, None) for _ in range(3)]
        await _until(lambda: len(servers[0].pings) == 3)  # the last answer may be on its way
        await client.aclose()
    for k, r in enumerate(responses):
        assert (r.status, r.body) == (200, b"hello world")
        # The date indexed by the answer before did not leak into this one.
        assert r.headers["date"] == f"Sun, 06 Dec 2026 04:00:{2 * k + 1:02d} GMT"
        assert r.headers["x-long"] == "v" * 300 and "x-trailer" not in r.headers
    assert servers[0].pings == [b"12345678"] * 3  # each PING answered


async def test_a_body_larger_than_our_windows_flows_as_they_are_given_back():
    big = bytes(range(256)) * (17 * 4096)  # 17 MiB: past our 16 MiB windows

    def answer(server: FramingServer, sid: int) -> None:
        server.write(HeadersFrame(sid, server.block([(b":status", b"200")]), flags=["END_HEADERS"]))
        asyncio.get_running_loop().create_task(server.send_body(sid, big))

    async with framing_server(answer) as url:
        client = Http2Client(url, 1, ClientOptions(http2="on", max_body=64 << 20))
        got = await asyncio.wait_for(client.request("GET", "/", None, None), 30)
        await client.aclose()
    assert got.body == big


async def test_a_frame_larger_than_we_allow_is_a_protocol_error():
    def answer(server: FramingServer, sid: int) -> None:
        block = server.block([(b":status", b"200"), (b"x-huge", b"h" * 40_000)])
        server.write(HeadersFrame(sid, block, flags=["END_HEADERS", "END_STREAM"]))

    servers: list[FramingServer] = []
    async with framing_server(answer, servers) as url:
        client = Http2Client(url, 1, ClientOptions(http2="on"))
        with pytest.raises(ClientError) as info:
            await client.request("GET", "/", None, None)
        await _until(lambda: servers[0].errors)
        await client.aclose()
    assert info.value.kind == PROTOCOL and "a frame of" in str(info.value)
    assert servers[0].errors == [("GoAwayFrame", 6)]  # FRAME_SIZE_ERROR, said to the server


async def test_an_answer_before_the_body_went_ends_the_stream_and_the_rest_stays_here():
    # The server's window (64 KiB) holds most of the body; it answers 413 at once.
    def answer(server: FramingServer, sid: int) -> None:
        block = server.block([(b":status", b"413")])
        server.write(HeadersFrame(sid, block, flags=["END_HEADERS", "END_STREAM"]))

    servers: list[FramingServer] = []
    async with framing_server(answer, servers) as url:
        client = Http2Client(url, 1, ClientOptions(http2="on"))
        r = await client.request("POST", "/", None, b"x" * 200_000)
        await _until(lambda: servers[0].errors)
        await client.aclose()
    assert r.status == 413
    assert servers[0].body_bytes <= 65_535  # nothing past the window it gave
    assert servers[0].errors == [("RstStreamFrame", 0)]  # NO_ERROR: the rest is not coming


async def _until(condition: Callable[[], object]) -> None:
    """Wait (2 s at most) until `condition()` holds: the server read what we wrote."""
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)


async def test_request_headers_larger_than_a_frame_go_on_in_continuations():
    servers: list[FramingServer] = []

    def answer(server: FramingServer, sid: int) -> None:
        servers.append(server)
        block = server.block([(b":status", b"204")])
        server.write(HeadersFrame(sid, block, flags=["END_HEADERS", "END_STREAM"]))

    async with framing_server(answer) as url:
        client = Http2Client(url, 1, ClientOptions(http2="on"))
        r = await client.request("GET", "/big", {"X-Big": "b" * 40_000}, None)
        await client.aclose()
    assert r.status == 204
    request = dict(servers[0].requests[0])
    assert request[b"x-big"] == b"b" * 40_000 and request[b":path"] == b"/big"
    assert servers[0].largest <= 16_384
