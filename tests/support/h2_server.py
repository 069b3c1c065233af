"""A loopback HTTP/2 (h2c) test server on the `h2` library, with scripted misbehaviour.

`h2_server(...)` serves in the test's own event loop and yields the server's
`H2Script`, its URL in `.url`. Every request is answered `200` with the body
`ok` after `delay` seconds, unless the script says otherwise:

- `max_streams`: SETTINGS_MAX_CONCURRENT_STREAMS advertised (after the
  client's ACK h2 enforces it); the most streams open at once on a
  connection once the client acknowledged it is kept in `max_open`, so a
  test sees whether the client honoured it.
- `rst_every`: every Nth request (counted over the server's life) is
  answered RST_STREAM with `rst_code` instead.
- `goaway_after`: once the Nth request has arrived, GOAWAY (NO_ERROR) with
  that request's stream as the last one, sent `delay` later: the streams up
  to it are answered, those above it are never processed, and the
  connection closes once the last answer is out.

- `stall`: no WINDOW_UPDATE ever: a request body past the initial 64 KiB
  windows waits for one for ever.

`received` lists each request's method as it arrived (processed or not), so
a test can tell a request sent twice from one sent once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
from hyperframe.frame import GoAwayFrame


@dataclass
class H2Script:
    delay: float = 0.0
    max_streams: int | None = None
    rst_every: int | None = None
    rst_code: h2.errors.ErrorCodes = h2.errors.ErrorCodes.INTERNAL_ERROR
    goaway_after: int | None = None
    stall: bool = False  # never give back window: request bodies past 64 KiB stall
    url: str = ""
    received: list[str] = field(default_factory=list)  # methods, in arrival order
    max_open: int = 0  # the most streams open at once on one connection
    connections: int = 0
    goaways: int = 0
    resets: int = 0  # RST_STREAM received from the client


class _ServerConnection(asyncio.Protocol):
    def __init__(self, script: H2Script) -> None:
        self.script = script
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding=None)
        )
        self.transport: asyncio.Transport | None = None
        self.methods: dict[int, str] = {}
        self.open: set[int] = set()
        self.last: int | None = None  # the last stream a GOAWAY spared
        self.said = False  # that GOAWAY was sent
        self.known = False  # the client acknowledged our SETTINGS: it knows the limit

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.script.connections += 1
        self.h2.initiate_connection()
        if self.script.max_streams is not None:
            self.h2.update_settings(
                {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: self.script.max_streams}
            )
        self._flush()

    def data_received(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError:
            self._flush()
            self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                headers = dict(event.headers)
                self.methods[event.stream_id] = headers[b":method"].decode()
            elif isinstance(event, h2.events.DataReceived) and not self.script.stall:
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                self._request(event.stream_id)
            elif isinstance(event, h2.events.SettingsAcknowledged):
                self.known = True
            elif isinstance(event, h2.events.StreamReset):
                self.open.discard(event.stream_id)
                self.script.resets += 1
        self._flush()

    def _request(self, sid: int) -> None:
        script = self.script
        script.received.append(self.methods.get(sid, "?"))
        if self.last is not None and sid > self.last:
            return  # after our GOAWAY: never processed
        n = len(script.received)
        self.open.add(sid)
        if self.known:  # before, a client may assume 100 streams (RFC 9113 §6.5.2)
            script.max_open = max(script.max_open, len(self.open))
        if script.rst_every and n % script.rst_every == 0:
            self.open.discard(sid)
            self.h2.reset_stream(sid, script.rst_code)
            return
        if script.goaway_after is not None and n == script.goaway_after and self.last is None:
            self.last = sid
            script.goaways += 1
            # Said only `delay` later, as a server does whose own decision takes
            # time: the streams the client opens meanwhile are the unprocessed ones.
            asyncio.get_running_loop().call_later(script.delay, self._goaway, sid)
        asyncio.get_running_loop().call_later(script.delay, self._answer, sid)

    def _goaway(self, last: int) -> None:
        frame = GoAwayFrame(0)
        frame.last_stream_id = last
        frame.error_code = 0
        # Written by hand: h2 would refuse to answer anything after its own GOAWAY.
        self._flush()
        if not self.transport.is_closing():
            self.transport.write(frame.serialize())
        self.said = True
        if not self.open:
            self._linger()

    def _answer(self, sid: int) -> None:
        if sid not in self.open or self.transport.is_closing():
            return
        self.open.discard(sid)
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self.h2.send_headers(sid, [(b":status", b"200"), (b"content-length", b"2")])
            self.h2.send_data(sid, b"ok", end_stream=True)
        self._flush()
        if self.said and not self.open:
            self._linger()  # the GOAWAY's last stream is answered

    def _linger(self) -> None:
        """Close a moment later, as servers do after a GOAWAY (nginx's lingering
        close): the streams the client opened before it read the GOAWAY still
        arrive and are counted in `received`, not lost unread."""
        asyncio.get_running_loop().call_later(0.2, self.transport.close)

    def _flush(self) -> None:
        data = self.h2.data_to_send()
        if data and not self.transport.is_closing():
            self.transport.write(data)


@contextlib.asynccontextmanager
async def h2_server(script: H2Script | None = None) -> AsyncIterator[H2Script]:
    """The server in this event loop on a free loopback port; yields its script, `.url` set."""
    script = script or H2Script()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _ServerConnection(script), "127.0.0.1", 0)
    script.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield script
    finally:
        server.close()
