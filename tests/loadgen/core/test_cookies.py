"""A session's cookie jar: RFC 6265's basics (name, value, path, expiry)."""

import time
from email.utils import formatdate

import pytest

from loadgen.core.cookies import Cookies, set_cookie_values


def jar(*set_cookies: str, at: str = "/") -> Cookies:
    cookies = Cookies()
    for value in set_cookies:
        cookies.receive(value, at)
    return cookies


def test_set_cookie_fields_are_found_in_any_case_and_only_in_the_head():
    head = (b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nContent-Length: 40\r\n"
            b"set-cookie: b=2\r\nSET-COOKIE:c=3\r\n\r\n"
            b"\r\nSet-Cookie: body=not-a-header\r\n")  # fmt: skip
    assert set_cookie_values(head) == ["a=1; Path=/", "b=2", "c=3"]
    assert set_cookie_values(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") == []
    assert set_cookie_values(b"") == []


def test_a_cookie_goes_back_with_its_value_and_a_new_value_replaces_it():
    cookies = jar("session=abc; Path=/; HttpOnly; Secure; SameSite=Lax; Domain=example.org")
    assert cookies.header("/orders?page=2") == "session=abc"
    assert cookies["session"] == "abc" and "session" in cookies and len(cookies) == 1
    cookies.receive("session=def", "/login")
    assert cookies.header("/") == "session=def"


def test_several_cookies_go_in_one_header_longer_paths_first_then_older():
    cookies = jar("a=1; Path=/", "b=2; Path=/api", "c=3; Path=/", "d=4; Path=/api/v1")
    assert cookies.header("/api/v1/items") == "d=4; b=2; a=1; c=3"
    cookies.receive("a=new; Path=/", "/")  # replaced: it keeps its place in line
    assert cookies.header("/api") == "b=2; a=new; c=3"
    assert list(cookies) == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("cookie_path", "request_path", "sent"),
    [
        ("/", "/anything", True),
        ("/api", "/api", True),
        ("/api", "/api/items", True),
        ("/api/", "/api/items", True),
        ("/api", "/apiary", False),
        ("/api", "/", False),
        ("/api/v1", "/api", False),
    ],
)
def test_a_cookie_goes_only_where_its_path_matches(cookie_path, request_path, sent):
    cookies = jar(f"k=v; Path={cookie_path}")
    assert (cookies.header(request_path) == "k=v") is sent


@pytest.mark.parametrize(
    ("request_path", "default"),
    [("/", "/"), ("/login", "/"), ("/account/login", "/account"), ("/a/b/c?x=/y", "/a/b")],
)
def test_without_a_path_it_is_the_request_path_s_directory(request_path, default):
    cookies = jar("k=v", "w=x; Path=relative", at=request_path)
    assert cookies.header(default) == "k=v; w=x"
    if default != "/":
        assert cookies.header("/") is None


def test_max_age_and_expires_end_a_cookie_and_max_age_wins():
    past = formatdate(time.time() - 60, usegmt=True)
    future = formatdate(time.time() + 60, usegmt=True)
    cookies = jar("a=1", "b=2; Max-Age=60", f"c=3; Expires={future}", "d=4; Max-Age=0.5")
    assert cookies.header("/") == "a=1; b=2; c=3; d=4"  # a Max-Age not an integer: ignored
    cookies.receive("a=1; Max-Age=0", "/")  # deleted
    cookies.receive(f"b=2; Expires={past}", "/")  # deleted
    cookies.receive(f"c=3; Max-Age=60; Expires={past}", "/")  # Max-Age wins, either order
    cookies.receive(f"d=4; Expires={future}; Max-Age=-1", "/")
    assert cookies.header("/") == "c=3" and list(cookies) == ["c"]
    assert cookies.get("a") is None and "d" not in cookies


def test_a_cookie_whose_time_ran_out_is_no_longer_sent():
    cookies = jar("short=1; Max-Age=1", "long=2")
    assert cookies.header("/") == "short=1; long=2"
    cookies._jar["short", "/"].expires = time.time() - 0.001  # a second later
    assert cookies.header("/") == "long=2" and "short" not in cookies


def test_an_expires_date_in_the_older_form_or_unreadable():
    cookies = jar("a=1; Expires=Wed, 21-Oct-15 07:28:00 GMT", "b=2; Expires=soon")
    assert cookies.header("/") == "b=2"  # 2015 is past; a date that does not parse: ignored


@pytest.mark.parametrize("bad", ["no-equals-sign", "=value-without-name", " ; Path=/"])
def test_a_set_cookie_without_a_name_is_ignored(bad):
    assert jar(bad).header("/") is None


def test_values_keep_what_they_hold_and_whitespace_around_is_trimmed():
    cookies = jar(' token = "a=b/c+d==" ; Path = / ')
    assert cookies.header("/") == 'token="a=b/c+d=="'


def test_a_task_may_set_a_cookie_itself():
    cookies = Cookies()
    cookies.set("consent", "yes")
    cookies.set("area", "eu", path="/shop")
    assert cookies.header("/shop/cart") == "area=eu; consent=yes"
    with pytest.raises(KeyError):
        cookies["missing"]
