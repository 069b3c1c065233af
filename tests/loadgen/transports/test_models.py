"""The client seam's types: a response failed by a check, `expect`, `apply_check`, headers."""

import pytest

from loadgen.transports.models import Failed, Headers, Request, Response, apply_check


class Sink:
    """Whoever recorded a response (a session, a one-shot): the reasons it was told."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def check_failed(self, reason: str) -> None:
        self.reasons.append(reason)


def response(status=200, body=b'{"result":5}'):
    r = Response(status, body, 0.0, 0.001, len(body) + 40)
    r.sink = sink = Sink()
    return r, sink


def test_a_failed_response_is_told_once_with_its_reason():
    r, sink = response()
    r.fail("wrong result")
    r.fail("again")  # one response, one error
    assert sink.reasons == ["wrong result"]


def test_a_non_2xx_response_stays_its_http_error_alone():
    r, sink = response(500, b"Internal Server Error")
    r.fail("wrong result")
    assert sink.reasons == []


def test_a_response_no_run_recorded_fails_quietly():
    Response(200, b"", 0.0, 0.0, 0).fail("nobody is told")  # no sink: nothing raised


@pytest.mark.parametrize(
    ("status", "body", "fields", "reason"),
    [
        (200, b'{"result":5}', {"result": 5}, None),
        (200, b'{ "result": 5, "more": [1] }', {"result": 5}, None),
        (200, b"anything", {}, None),
        (201, b'{"result":5}', {"result": 5}, "status 201, expected 200"),
        (200, b"<html>", {"result": 5}, "body is not JSON"),
        (200, b"[5]", {"result": 5}, "body is not a JSON object"),
        (200, b'{"total":5}', {"result": 5}, "no result in the body"),
        (200, b'{"result":6}', {"result": 5}, "wrong result"),
        (200, b'{"a":1,"b":3}', {"a": 1, "b": 2}, "wrong b"),
    ],
)
def test_expect_says_what_differed_first_in_words_without_values(status, body, fields, reason):
    r, sink = response(status, body)
    assert r.expect(200, **fields) is (reason is None)
    assert sink.reasons == ([] if reason is None else [reason])


def test_expect_of_another_status():
    r, sink = response(204, b"")
    assert r.expect(204) and sink.reasons == []


def test_a_check_fails_a_response_by_returning_false_or_raising_failed():
    for check, reason in [
        (lambda r: False, "check returned False"),
        (lambda r: r.status == 201, "check returned False"),
        (lambda r: (_ for _ in ()).throw(Failed("no token")), "no token"),
        (lambda r: r.fail("said so"), "said so"),
    ]:
        r, sink = response()
        apply_check(check, r)
        assert sink.reasons == [reason]
    for passing in (lambda r: None, lambda r: True, lambda r: 0, lambda r: r.expect(200)):
        r, sink = response()
        apply_check(passing, r)
        assert sink.reasons == []


def test_a_check_that_breaks_raises_for_its_caller():
    r, sink = response(body=b"<html>")
    with pytest.raises(ValueError):
        apply_check(lambda r: r.json()["result"], r)
    assert sink.reasons == []


def test_only_a_2xx_response_is_checked():
    seen = []
    for status in (200, 204, 301, 404, 500):
        r, sink = response(status)
        apply_check(lambda r: seen.append(r.status) or False, r)
        assert sink.reasons == (["check returned False"] if status < 300 else [])
    assert seen == [200, 204]


def test_a_request_carries_its_check_and_json_requests_too():
    def check(r):
        return None

    assert Request("GET", "/", check=check).check is check
    r = Request.json("POST", "/addNumbers", {"a": 1, "b": 2}, check)
    assert r.body == b'{"a":1,"b":2}' and r.check is check
    assert Request("GET", "/").check is None


def test_headers_end_where_the_body_begins():
    head = b'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\n\r\n{"x":1}\r\nset-cookie: no'
    headers = Headers.parse(head)
    assert headers.get_all("set-cookie") == ["a=1"]
    assert headers.items() == [("Set-Cookie", "a=1")]
