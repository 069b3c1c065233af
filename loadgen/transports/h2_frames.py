"""HTTP/2 frames (RFC 9113 §4, §6) as bytes: their numbers, and the frames a client writes.

No I/O and no state: the connection (h2_connection.py) parses what it reads
with `HEAD` and writes what these functions make. Error codes are named by
the `h2` library's `ErrorCodes`, the one part of it left on this path.
"""

from __future__ import annotations

import struct
from typing import Final

from h2.errors import ErrorCodes

# A frame's 9-byte header: length (24 bits) and type in one word, flags, stream id.
HEAD: Final = struct.Struct(">IBI")
_U32: Final = struct.Struct(">I")
_SETTING: Final = struct.Struct(">HI")
_RST_OR_WINDOW: Final = struct.Struct(">IBII")  # a header, and one 32-bit word
_GOAWAY: Final = struct.Struct(">IBIII")

PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE = 0, 1, 2, 3, 4, 5
PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 6, 7, 8, 9

END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20

# SETTINGS parameters (§6.5.2).
HEADER_TABLE_SIZE, ENABLE_PUSH, MAX_CONCURRENT_STREAMS = 1, 2, 3
INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE = 4, 5

DEFAULT_WINDOW: Final = 65_535
DEFAULT_FRAME_SIZE: Final = 16_384
MAX_FRAME_SIZE_ALLOWED: Final = (1 << 24) - 1
MAX_WINDOW: Final = (1 << 31) - 1
STREAM_ID_MASK: Final = MAX_WINDOW

NO_ERROR, PROTOCOL_ERROR, FLOW_CONTROL_ERROR = 0x0, 0x1, 0x3
FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR = 0x6, 0x7, 0x8, 0x9


def error_name(code: int) -> str:
    """An error code as RFC 9113 §7 names it, with its number: `CANCEL (8)`."""
    try:
        return f"{ErrorCodes(code).name} ({code})"
    except ValueError:
        return f"unknown error code ({code})"


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    """A frame of any `kind`: its 9-byte head, then `payload`."""
    return HEAD.pack(len(payload) << 8 | kind, flags, stream) + payload


def settings(values: dict[int, int]) -> bytes:
    """A SETTINGS frame of `values` (setting → value)."""
    return frame(SETTINGS, 0, 0, b"".join(_SETTING.pack(k, v) for k, v in values.items()))


def settings_ack() -> bytes:
    """The SETTINGS ACK a server's SETTINGS is answered with."""
    return frame(SETTINGS, ACK, 0)


def window_update(stream: int, increment: int) -> bytes:
    """A WINDOW_UPDATE: `increment` more bytes may come on `stream` (0: the connection)."""
    return _RST_OR_WINDOW.pack(4 << 8 | WINDOW_UPDATE, 0, stream, increment)


def rst_stream(stream: int, code: int) -> bytes:
    """A RST_STREAM: `stream` ends, for the reason `code` says."""
    return _RST_OR_WINDOW.pack(4 << 8 | RST_STREAM, 0, stream, code)


def goaway(last_stream: int, code: int) -> bytes:
    """A GOAWAY: streams above `last_stream` will not be processed."""
    return _GOAWAY.pack(8 << 8 | GOAWAY, 0, 0, last_stream, code)


def headers(stream: int, block: bytes, end_stream: bool, max_frame: int) -> bytes:
    """A HEADERS frame, and CONTINUATIONs if `block` is larger than `max_frame`."""
    flags = END_STREAM if end_stream else 0
    if len(block) <= max_frame:
        return HEAD.pack(len(block) << 8 | HEADERS, flags | END_HEADERS, stream) + block
    parts = [block[k : k + max_frame] for k in range(0, len(block), max_frame)]
    out = [frame(HEADERS, flags, stream, parts[0])]
    out += [frame(CONTINUATION, 0, stream, part) for part in parts[1:-1]]
    out.append(frame(CONTINUATION, END_HEADERS, stream, parts[-1]))
    return b"".join(out)


def data(stream: int, chunk: bytes, end_stream: bool) -> bytes:
    """A DATA frame of `chunk` (at most the peer's largest frame: the caller splits)."""
    return HEAD.pack(len(chunk) << 8 | DATA, END_STREAM if end_stream else 0, stream) + chunk


def u32(payload: bytes, at: int = 0) -> int:
    """The 32-bit number at `at` (a RST_STREAM's code, a WINDOW_UPDATE's increment)."""
    value: int = _U32.unpack_from(payload, at)[0]
    return value


def setting_pairs(payload: bytes) -> list[tuple[int, int]]:
    """A SETTINGS frame's (parameter, value) pairs, in order."""
    return [_SETTING.unpack_from(payload, k) for k in range(0, len(payload) - 5, 6)]
