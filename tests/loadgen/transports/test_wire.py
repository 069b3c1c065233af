"""Requests as bytes: the default headers, and the head and body encoded."""

from urllib.parse import urlsplit

import pytest

from loadgen.transports.wire import RequestEncoder, default_headers


def test_the_defaults_name_the_host_without_credentials_and_send_them_as_basic_auth():
    headers = default_headers(urlsplit("http://ann:p%40ss@example.org:8080/api"), ())
    assert headers == [
        ("Host", "example.org:8080"),
        ("User-Agent", "loadgen"),
        ("Authorization", "Basic YW5uOnBAc3M="),  # ann:p@ss
    ]


def test_a_given_header_replaces_the_default_of_its_name_in_any_case():
    headers = default_headers(urlsplit("http://example.org"), (("user-agent", "mine"),))
    assert headers == [("Host", "example.org"), ("user-agent", "mine")]


def test_a_default_header_that_cannot_go_on_the_wire_is_refused():
    with pytest.raises(ValueError, match="invalid value of header X-Bad"):
        default_headers(urlsplit("http://example.org"), (("X-Bad", "a\r\nb"),))


def test_a_request_without_headers_or_body_is_encoded_once():
    encoder = RequestEncoder("/api", [("Host", "h")])
    data = encoder.encode("GET", "/x", None, None)
    assert data == b"GET /api/x HTTP/1.1\r\nHost: h\r\n\r\n"
    assert encoder.encode("GET", "/x", None, None) is data


def test_a_body_gets_its_length_and_a_request_header_replaces_a_default():
    encoder = RequestEncoder("", [("Host", "h"), ("Authorization", "Bearer abc")])
    data = encoder.encode("POST", "/", {"authorization": "Bearer other"}, b"{}")
    assert data == (
        b"POST / HTTP/1.1\r\nHost: h\r\nauthorization: Bearer other\r\nContent-Length: 2\r\n\r\n{}"
    )
