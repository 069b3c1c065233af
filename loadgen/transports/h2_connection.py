"""One HTTP/2 connection: an asyncio protocol driving the `h2` state machine,
and the streams in flight on it.

`h2` does no I/O: the protocol feeds it the bytes read and writes what it
has to send, on the same asyncio protocol design as the HTTP/1.1 connection
(connection.py), no thread and no loop of its own. The connection knows its
pool (http2.py) only as a `StreamOwner`: it says when a stream slot freed or
the server's limit changed (`freed`), when it takes no new streams (GOAWAY:
`going`) and when it closed (`lost`). The pool reads `capacity()`.

Failures by kind (see models.py): the server's RST_STREAM is `rst_stream`
with its error code (REFUSED_STREAM: not processed, so an idempotent request
is `retryable`); GOAWAY fails the streams above its last stream id, which the
server did not process, as `goaway`, retryable when idempotent (never a
POST); those at or below it finish. Bytes that break HTTP/2 fail every
stream as `protocol`, a flow-control violation as `flow_control`. Nothing is
sent twice here: whoever sent the request decides the retry and counts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from typing import Any, Final, Protocol, cast

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

from loadgen.transports.h2_hpack import RememberingDecoder, RememberingEncoder
from loadgen.transports.h2_stream import Stream
from loadgen.transports.models import (
    FLOW_CONTROL,
    GOAWAY,
    PROTOCOL,
    RESET,
    RST_STREAM,
    SERVER_CLOSED,
    TLS,
    ClientError,
    too_large,
)
from loadgen.transports.tls import describe

# Streams assumed allowed until the server's SETTINGS say how many (RFC 9113
# §6.5.2 sets no initial limit; 100 is the least it recommends, and what
# clients such as Go's assume meanwhile).
ASSUMED_STREAMS: Final = 100
# Our receive windows: large, so that a response's body never waits on us.
_WINDOW: Final = 16 * 1024 * 1024

_CONFIG = h2.config.H2Configuration(
    client_side=True,
    header_encoding=None,
    # Our own headers are checked when a request is made (models.check_request);
    # the server's need not be re-validated on every response.
    validate_outbound_headers=False,
    normalize_outbound_headers=False,
    validate_inbound_headers=False,
    normalize_inbound_headers=False,
)


class StreamOwner(Protocol):
    """What a connection tells the pool that opened it (`http2.Http2Client`)."""

    def freed(self, conn: H2Connection) -> None:
        """`conn` may carry more streams now (one ended, or the server's limit grew)."""
        ...

    def going(self, conn: H2Connection) -> None:
        """`conn` takes no new streams (GOAWAY); those on it may still finish."""
        ...

    def lost(self, conn: H2Connection) -> None:
        """`conn` closed: its place in the pool is free."""
        ...


class _H2(h2.connection.H2Connection):
    """h2's state machine, letting the streams a GOAWAY spares finish, with
    HPACK that remembers (h2_hpack.py).

    h2 closes its whole connection on a GOAWAY and refuses every frame after
    it; RFC 9113 §6.8 has the streams up to its last stream id completed.
    """

    def __init__(self, config: h2.config.H2Configuration) -> None:
        super().__init__(config=config)
        decoder = RememberingDecoder()
        decoder.max_header_list_size = self.decoder.max_header_list_size
        self.encoder, self.decoder = RememberingEncoder(), decoder

    def _receive_goaway_frame(self, frame: Any) -> Any:
        result = super()._receive_goaway_frame(frame)
        self.state_machine.state = h2.connection.ConnectionState.CLIENT_OPEN
        return result


class H2Connection(asyncio.Protocol):
    """One HTTP/2 connection and its streams in flight."""

    def __init__(self, owner: StreamOwner, max_body: int) -> None:
        self.owner = owner
        self.max_body = max_body
        self.transport: asyncio.Transport | None = None
        self.h2 = _H2(config=_CONFIG)
        self.streams: dict[int, Stream] = {}
        self.limit = ASSUMED_STREAMS  # the server's SETTINGS_MAX_CONCURRENT_STREAMS
        self.closed = False
        self.going_away = False  # GOAWAY received: no new streams
        self.alpn: str | None = None  # what TLS's ALPN agreed, None in cleartext
        self.blocked: dict[int, Stream] = {}  # streams whose body waits on a window
        self.loop = asyncio.get_running_loop()  # protocols are made inside the loop
        self._flush_due = False  # a write of what h2 has to send is scheduled

    # -- asyncio.Protocol -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)
        tls = transport.get_extra_info("ssl_object")
        if tls is not None:
            self.alpn = tls.selected_alpn_protocol()
            if self.alpn != "h2":
                return  # the pool decides (a fallback, or a refusal): nothing sent
        h2c = self.h2
        h2c.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                h2.settings.SettingCodes.ENABLE_PUSH: 0,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: _WINDOW,
            },
        )
        h2c.initiate_connection()
        h2c.increment_flow_control_window(_WINDOW - 65535)
        transport.write(h2c.data_to_send())  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.FlowControlError as e:
            self._broken(ClientError(FLOW_CONTROL, str(e)))
            return
        except h2.exceptions.ProtocolError as e:
            self._broken(ClientError(PROTOCOL, f"HTTP/2: {e}"))
            return
        freed = False
        for event in events:
            kind = type(event)
            if kind is h2.events.DataReceived:
                self._data(cast(h2.events.DataReceived, event))
            elif kind is h2.events.ResponseReceived:
                self._headers(cast(h2.events.ResponseReceived, event))
            elif kind is h2.events.StreamEnded:
                freed = self._ended(cast(h2.events.StreamEnded, event).stream_id) or freed
            elif kind is h2.events.StreamReset:
                freed = self._reset(cast(h2.events.StreamReset, event)) or freed
            elif kind is h2.events.WindowUpdated:
                self._window_updated()
            elif kind is h2.events.RemoteSettingsChanged:
                self.limit = self.h2.remote_settings.max_concurrent_streams
                freed = True
            elif kind is h2.events.ConnectionTerminated:
                self._goaway(cast(h2.events.ConnectionTerminated, event))
        self._flush()
        if freed and not self.going_away and not self.closed:
            self.owner.freed(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.owner.lost(self)
        if isinstance(exc, ssl.SSLError):
            error = ClientError(TLS, describe(exc))
        elif exc is None:
            error = ClientError(SERVER_CLOSED, "connection closed with the stream open")
        else:
            error = ClientError(RESET, "connection reset with the stream open")
        self._fail_all(error)

    # -- used by the pool -------------------------------------------------
    def capacity(self) -> int:
        """How many more streams the server allows now (0 once going away or closed)."""
        if self.going_away or self.closed:
            return 0
        return self.limit - len(self.streams)

    def send(self, stream: Stream) -> None:
        """Open a stream for `stream` and write its request (its body as the windows allow)."""
        h2c = self.h2
        sid = h2c.get_next_available_stream_id()
        body = stream.request.body
        stream.conn = self
        stream.exchange = sid
        stream.sent_at = time.perf_counter()
        self.streams[sid] = stream
        h2c.send_headers(sid, stream.wire_headers, end_stream=not body)
        if body:
            stream.pending = body
            self._send_body(sid, stream)
        if not self._flush_due:
            # One write for the streams opened in this turn of the loop (a burst
            # of arrivals, or those a read freed): one syscall, not one each.
            self._flush_due = True
            self.loop.call_soon(self._flush)

    def cancel(self, stream: Stream) -> None:
        """Its waiter gave up: reset the stream (CANCEL); the connection carries on."""
        sid = stream.exchange
        if self.streams.pop(sid, None) is None:
            return
        self.blocked.pop(sid, None)
        if not self.closed:
            # Closed on h2's side meanwhile: nothing to reset.
            with contextlib.suppress(h2.exceptions.ProtocolError):
                self.h2.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
            self._flush()
            if not self.going_away:
                self.owner.freed(self)
        self._close_if_spent()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def fail_all(self, error: ClientError) -> None:
        """Every stream in flight fails with `error` (the client closing)."""
        self._fail_all(error)

    # -- events -----------------------------------------------------------
    def _headers(self, event: h2.events.ResponseReceived) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is None:
            return
        status = 0
        lines = []
        for name, value in event.headers or ():
            if name == b":status":
                status = int(value)
            else:
                lines.append(b"%s: %s\r\n" % (name, value))
        stream.got_headers(status, b"HTTP/2 %d\r\n%s\r\n" % (status, b"".join(lines)))

    def _data(self, event: h2.events.DataReceived) -> None:
        sid = event.stream_id
        # Each byte given back at once: the server's window never shrinks on us.
        self.h2.acknowledge_received_data(event.flow_controlled_length, sid)
        stream = self.streams.get(sid)
        if stream is None or event.data is None:
            return
        stream.got_data(event.data)
        if stream.held > self.max_body:
            self.cancel(stream)
            stream.body = []
            stream.fail(too_large(self.max_body))

    def _ended(self, sid: int) -> bool:
        stream = self.streams.pop(sid, None)
        if stream is None:
            return False
        self.blocked.pop(sid, None)
        stream.answered(time.perf_counter())
        self._close_if_spent()
        return True

    def _reset(self, event: h2.events.StreamReset) -> bool:
        stream = self.streams.pop(event.stream_id, None)
        if stream is None:
            return False
        self.blocked.pop(event.stream_id, None)
        code = event.error_code
        name = code.name if isinstance(code, h2.errors.ErrorCodes) else str(code)
        kind = FLOW_CONTROL if code == h2.errors.ErrorCodes.FLOW_CONTROL_ERROR else RST_STREAM
        # REFUSED_STREAM: the server did no processing of it (RFC 9113 §8.7).
        refused = code == h2.errors.ErrorCodes.REFUSED_STREAM
        error = ClientError(kind, f"{name} ({int(code)})", stream.idempotent and refused)
        stream.fail(error)
        self._close_if_spent()
        return True

    def _goaway(self, event: h2.events.ConnectionTerminated) -> None:
        self.going_away = True
        last = event.last_stream_id or 0
        code = event.error_code
        name = code.name if isinstance(code, h2.errors.ErrorCodes) else str(code)
        for sid in [sid for sid in self.streams if sid > last]:
            stream = self.streams.pop(sid)
            self.blocked.pop(sid, None)
            # Above the last stream id the server did nothing with it: an
            # idempotent request may go again, on another connection.
            stream.fail(
                ClientError(
                    GOAWAY,
                    f"GOAWAY {name} before the stream was processed (last stream {last})",
                    stream.idempotent,
                )
            )
        self.owner.going(self)
        self._close_if_spent()

    def _window_updated(self) -> None:
        for sid, stream in list(self.blocked.items()):
            self._send_body(sid, stream)

    # -- helpers ------------------------------------------------------------
    def _send_body(self, sid: int, stream: Stream) -> None:
        """Send as much of the stream's body as the windows and frame size allow."""
        h2c = self.h2
        pending = stream.pending
        while pending:
            size = min(h2c.local_flow_control_window(sid), h2c.max_outbound_frame_size)
            if size <= 0:
                self.blocked[sid] = stream  # waits for a WINDOW_UPDATE
                stream.pending = pending
                return
            chunk, pending = pending[:size], pending[size:]
            h2c.send_data(sid, chunk, end_stream=not pending)
        stream.pending = b""
        self.blocked.pop(sid, None)

    def _flush(self) -> None:
        self._flush_due = False
        data = self.h2.data_to_send()
        if data and self.transport is not None and not self.closed:
            self.transport.write(data)

    def _broken(self, error: ClientError) -> None:
        self._flush()  # h2's GOAWAY for the server, if it made one
        self.close()
        self._fail_all(error)

    def _fail_all(self, error: ClientError) -> None:
        streams, self.streams = self.streams, {}
        self.blocked.clear()
        for stream in streams.values():
            stream.fail(error)

    def _close_if_spent(self) -> None:
        """A connection going away closes once its last stream is over."""
        if self.going_away and not self.streams and not self.closed:
            self.close()
