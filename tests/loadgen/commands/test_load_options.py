"""The options every load-sending command shares, checked before any load is sent."""

import pytest

from loadgen.commands.argtypes import UsageError
from loadgen.commands.load_options import check_url


def test_a_url_is_kept_without_its_trailing_slash():
    assert check_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert check_url("https://example.org/api") == "https://example.org/api"


@pytest.mark.parametrize(
    ("url", "message"),
    [("ftp://x", "http:// or https://"), ("http://", "http:// or https://"),
     ("http://h:99999", "invalid port"), ("127.0.0.1:8000", "http:// or https://")],
)  # fmt: skip
def test_a_bad_url_is_misuse(url, message):
    with pytest.raises(UsageError, match=message):
        check_url(url)
