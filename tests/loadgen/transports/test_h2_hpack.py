"""Our HPACK against the `hpack` package's: what its encoder makes we decode as its
decoder does, whatever the table did; what we encode its decoder reads back."""

import hpack
import pytest
from hpack import HeaderTuple, NeverIndexedHeaderTuple

from loadgen.transports.h2_hpack import SIZE_UPDATE_TO_0, CompressionError, Decoder, encode

ANSWERS = [
    [(b":status", b"200"), (b"server", b"nginx"), (b"date", b"Sun, 06 Dec 2026 03:00:00 GMT")],
    [(b":status", b"200"), (b"server", b"nginx"), (b"date", b"Sun, 06 Dec 2026 03:00:00 GMT")],
    [(b":status", b"200"), (b"server", b"nginx"), (b"date", b"Sun, 06 Dec 2026 03:00:01 GMT")],
    [(b":status", b"404"), (b"x-new", b"a" * 300), (b"set-cookie", b"s=1; Path=/")],
    [(b":status", b"200"), (b"x-long", b"v" * 5000)],  # larger than the table: empties it
]


def test_decoding_equals_hpacks_across_table_changes_huffman_or_not():
    server = hpack.Encoder()
    blocks = [server.encode(h, huffman=k % 2 == 0) for k, h in enumerate(ANSWERS * 3)]
    server.header_table_size = 64  # a size update: entries evicted, the table changed
    blocks += [server.encode(h) for h in ANSWERS * 2]
    server.header_table_size = 4096
    blocks += [server.encode(h) for h in ANSWERS * 2]
    never = [HeaderTuple(b":status", b"200"), NeverIndexedHeaderTuple(b"authorization", b"x")]
    blocks.append(server.encode(never))
    reference, ours = hpack.Decoder(), Decoder()
    for block in blocks:
        assert ours.decode(block) == reference.decode(block, raw=True)
        assert list(ours.entries) == list(reference.header_table.dynamic_entries)
        assert ours.max_size == reference.header_table.maxsize


def test_the_same_bytes_decode_by_the_table_of_the_moment():
    # An indexed field's bytes mean what the table holds now, not what they meant before.
    server, ours = hpack.Encoder(), Decoder()
    for date in (b"03:00:00", b"03:00:01"):
        ours.decode(server.encode([(b"date", date)]))
        again = server.encode([(b"date", date)])  # one byte: the newest entry
        assert ours.decode(again) == [(b"date", date)]


def test_requests_encode_without_a_table_and_decode_back():
    request = [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/a?b=1"),
               (b":authority", b"example.test"), (b"user-agent", b"loadgen"),
               (b"x-custom", b"y" * 200)]  # fmt: skip
    peer = hpack.Decoder()
    for _ in range(2):
        block = encode(request)
        assert block == encode(request)  # no state: the same list, the same bytes
        assert peer.decode(SIZE_UPDATE_TO_0 + block, raw=True) == request
    assert len(peer.header_table.dynamic_entries) == 0


@pytest.mark.parametrize(
    "block",
    [b"\x80", b"\xbf\x7f", b"\x00\x85ab", b"\x82\x20", b"\x3f\xe2\x1f", b"\x00\x81\xff\x81a"],
    ids=[
        "index 0",
        "index past both tables",
        "string cut short",
        "size update after a field",
        "size above our SETTINGS",
        "Huffman with EOS",
    ],
)
def test_blocks_that_break_hpack_are_compression_errors(block):
    with pytest.raises(CompressionError):
        Decoder().decode(block)
