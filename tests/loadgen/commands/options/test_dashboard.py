"""--dashboard's address (its use, end to end, is in tests/loadgen/report/test_dashboard.py)."""

import pytest

from loadgen.commands.options.dashboard import dashboard_address


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:8089", ("127.0.0.1", 8089)),
        ("[::1]:0", ("::1", 0)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
    ],
)
def test_host_and_port_ipv6_in_brackets(text, address):
    assert dashboard_address(text) == address


@pytest.mark.parametrize("bad", ["8089", "host:", ":80", "127.0.0.1:99999", "127.0.0.1:http"])
def test_a_bad_address_is_refused(bad):
    with pytest.raises(Exception, match="HOST:PORT"):
        dashboard_address(bad)
