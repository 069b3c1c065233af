"""HPACK that remembers gives what HPACK without memory gives, whatever the table did."""

import hpack

from loadgen.transports.h2_hpack import RememberingDecoder, RememberingEncoder

ANSWERS = [
    [(b":status", b"200"), (b"server", b"nginx"), (b"date", b"Sun, 06 Dec 2026 03:00:00 GMT")],
    [(b":status", b"200"), (b"server", b"nginx"), (b"date", b"Sun, 06 Dec 2026 03:00:00 GMT")],
    [(b":status", b"200"), (b"server", b"nginx"), (b"date", b"Sun, 06 Dec 2026 03:00:01 GMT")],
    [(b":status", b"404"), (b"x-new", b"a"), (b"server", b"nginx")],
]


def test_decoding_remembered_equals_decoding_afresh_across_table_changes():
    server = hpack.Encoder()
    blocks = [server.encode(h) for h in ANSWERS * 3]
    server.header_table_size = 64  # a size update: entries evicted, the table changed
    blocks += [server.encode(h) for h in ANSWERS * 2]
    fresh, remembering = hpack.Decoder(), RememberingDecoder()
    for block in blocks:
        assert remembering.decode(block, raw=True) == fresh.decode(block, raw=True)
    assert remembering.memory.adds > 0  # entries were indexed: nothing stale was given


def test_encoding_remembered_equals_encoding_afresh_and_decodes_back():
    fresh, remembering = hpack.Encoder(), RememberingEncoder()
    request = [(b":method", b"GET"), (b":path", b"/"), (b"user-agent", b"loadgen")]
    peer = hpack.Decoder()
    for k in range(6):
        if k == 3:
            fresh.header_table_size = remembering.header_table_size = 100
        block = remembering.encode(request)
        assert block == fresh.encode(request)
        assert peer.decode(block, raw=True) == request
