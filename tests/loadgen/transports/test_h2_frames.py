"""The frames a client writes, read back by `hyperframe` (the h2 library's own parser)."""

import pytest
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

from loadgen.transports import h2_frames as f


def parsed(wire: bytes) -> list[Frame]:
    """Every frame in `wire`, as hyperframe reads it; nothing may be left over."""
    frames = []
    while wire:
        frame, length = Frame.parse_frame_header(memoryview(wire[:9]), strict=True)
        assert len(wire) >= 9 + length, "a frame cut short"
        frame.parse_body(memoryview(wire[9 : 9 + length]))
        frames.append(frame)
        wire = wire[9 + length :]
    return frames


def test_settings_and_their_ack():
    (frame,) = parsed(f.settings({f.ENABLE_PUSH: 0, f.INITIAL_WINDOW_SIZE: 1 << 20}))
    assert isinstance(frame, SettingsFrame) and frame.stream_id == 0
    assert frame.settings == {
        SettingsFrame.ENABLE_PUSH: 0,
        SettingsFrame.INITIAL_WINDOW_SIZE: 1 << 20,
    }
    assert f.setting_pairs(frame.serialize_body()) == [(2, 0), (4, 1 << 20)]
    (ack,) = parsed(f.settings_ack())
    assert isinstance(ack, SettingsFrame) and ack.flags == {"ACK"} and not ack.settings


@pytest.mark.parametrize("stream", [0, 7, f.STREAM_ID_MASK])
def test_window_update_rst_stream_and_goaway(stream):
    (w,) = parsed(f.window_update(stream, f.MAX_WINDOW))
    assert isinstance(w, WindowUpdateFrame)
    assert (w.stream_id, w.window_increment) == (stream, f.MAX_WINDOW)
    assert f.u32(w.serialize_body()) == f.MAX_WINDOW
    if stream:  # RST_STREAM is a stream's only
        (r,) = parsed(f.rst_stream(stream, f.CANCEL))
        assert isinstance(r, RstStreamFrame) and (r.stream_id, r.error_code) == (stream, f.CANCEL)
    (g,) = parsed(f.goaway(stream, f.PROTOCOL_ERROR))
    assert isinstance(g, GoAwayFrame) and g.stream_id == 0
    assert (g.last_stream_id, g.error_code) == (stream, f.PROTOCOL_ERROR)


@pytest.mark.parametrize("end_stream", [True, False])
def test_data_ends_the_stream_or_not(end_stream):
    (d,) = parsed(f.data(3, b"x" * 100, end_stream))
    assert isinstance(d, DataFrame) and (d.stream_id, d.data) == (3, b"x" * 100)
    assert ("END_STREAM" in d.flags) is end_stream


def test_a_header_block_within_a_frame_is_one_headers_frame():
    (h,) = parsed(f.headers(5, b"b" * 16, end_stream=True, max_frame=16))
    assert isinstance(h, HeadersFrame) and h.data == b"b" * 16
    assert h.flags == {"END_STREAM", "END_HEADERS"}


@pytest.mark.parametrize(("size", "frames"), [(17, 2), (48, 3), (49, 4)])
def test_a_larger_block_goes_on_in_continuations(size, frames):
    block = bytes(range(size))
    got = parsed(f.headers(1, block, end_stream=False, max_frame=16))
    assert len(got) == frames
    assert isinstance(got[0], HeadersFrame) and not got[0].flags  # neither END_ flag
    assert all(isinstance(c, ContinuationFrame) for c in got[1:])
    assert [c.flags for c in got[1:]] == [set()] * (frames - 2) + [{"END_HEADERS"}]
    assert all(c.stream_id == 1 and len(c.data) <= 16 for c in got)
    assert b"".join(c.data for c in got) == block


def test_error_codes_are_named_with_their_number():
    assert f.error_name(f.CANCEL) == "CANCEL (8)"
    assert f.error_name(f.FLOW_CONTROL_ERROR) == "FLOW_CONTROL_ERROR (3)"
    assert f.error_name(0x99) == "unknown error code (153)"
