"""A request's HTTP/2 header list and block: what goes, what is dropped, what is reused."""

import hpack
import pytest

from loadgen.transports.h2_hpack import SIZE_UPDATE_TO_0
from loadgen.transports.h2_wire import H2RequestEncoder

DEFAULTS = [("Host", "api.test:8443"), ("User-Agent", "loadgen"), ("Accept", "*/*")]


def encoder() -> H2RequestEncoder:
    return H2RequestEncoder("https", "/v1", DEFAULTS)


def test_pseudo_headers_first_then_the_defaults_lower_case():
    fields = encoder().fields("GET", "/items?a=1", None, None)
    assert fields == [
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", b"api.test:8443"),  # Host, which HTTP/2 does not send itself
        (b":path", b"/v1/items?a=1"),  # the base URL's path before the request's
        (b"user-agent", b"loadgen"),
        (b"accept", b"*/*"),
    ]


def test_a_requests_own_header_replaces_a_default_of_its_name_in_any_case():
    fields = encoder().fields("GET", "/", {"ACCEPT": "text/csv", "X-Id": "7"}, None)
    assert (b"accept", b"text/csv") in fields and (b"accept", b"*/*") not in fields
    assert (b"x-id", b"7") in fields


def test_a_requests_own_host_is_its_authority():
    fields = dict(encoder().fields("GET", "/", {"host": "other.test"}, None))
    assert fields[b":authority"] == b"other.test"
    assert b"host" not in fields


def test_connection_specific_headers_are_dropped_and_the_body_sets_content_length():
    mine = {"Connection": "keep-alive", "Keep-Alive": "5", "Transfer-Encoding": "chunked",
            "Upgrade": "h2c", "Proxy-Connection": "x", "Content-Length": "999"}  # fmt: skip
    fields = encoder().fields("POST", "/up", mine, b"12345")
    names = [name for name, _ in fields]
    assert not {b"connection", b"keep-alive", b"transfer-encoding", b"upgrade",
                b"proxy-connection"} & set(names)  # fmt: skip
    assert names.count(b"content-length") == 1
    assert (b"content-length", b"5") in fields  # the body's, not the header given


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [("GE T", "/", None), ("GET", "/a b", None), ("GET", "/", {"x": "a\r\nevil: 1"})],
    ids=["method", "path", "header value"],
)
def test_a_request_that_cannot_go_as_written_is_refused(method, path, headers):
    with pytest.raises(ValueError, match="invalid"):
        encoder().encode(method, path, headers, None)


def test_the_block_decodes_to_the_fields_and_a_bare_request_is_encoded_once():
    enc = encoder()
    block = enc.encode("GET", "/a", None, None)
    assert enc.encode("GET", "/a", None, None) is block  # reused, not encoded again
    assert enc.encode("GET", "/a", {"x": "1"}, None) is not block
    peer = hpack.Decoder()
    assert peer.decode(SIZE_UPDATE_TO_0 + block, raw=True) == enc.fields("GET", "/a", None, None)
