"""Choosing a transport by name."""

import pytest

from loadgen.transports.factory import CLIENTS, make_client
from loadgen.transports.http1 import FastClient
from loadgen.transports.httpx_client import HttpxClient


def test_each_name_gives_its_client():
    assert CLIENTS == ("fast", "httpx")
    assert isinstance(make_client("fast", "http://127.0.0.1:9", 4), FastClient)
    assert isinstance(make_client("httpx", "https://127.0.0.1:9", 4), HttpxClient)


def test_an_unknown_name_is_refused():
    with pytest.raises(ValueError, match="fast or httpx"):
        make_client("grpc", "http://127.0.0.1:9", 4)


def test_the_fast_client_with_http2_is_the_http2_one_and_httpx_stays_httpx():
    from loadgen.transports.base import ClientOptions
    from loadgen.transports.http2 import Http2Client

    h2 = ClientOptions(http2="on")
    assert isinstance(make_client("fast", "http://127.0.0.1:9", 4, h2), Http2Client)
    assert isinstance(make_client("httpx", "http://127.0.0.1:9", 4, h2), HttpxClient)
