"""What the answers' statuses say: refusals, server errors, wrong requests."""

from tests.support.diagnosis import diagnosed
from tests.support.summaries import run


def test_429s_are_a_rate_limit_with_when_it_began_and_retry_after():
    s = run(offered=300, errors={"http_429": 1080}, workers=[10])
    s["timeline"][0]["errors"] = {}  # the bucket was full for the first second
    s["errors"]["retry_after"] = {"responses": 1080, "values": {"1": 1080}}
    f = diagnosed(s)[0]
    assert f["finding"] == "rate_limited"
    assert f["summary"] == "the server refused 36 % of requests with 429: a rate limit"
    assert "refusals began at 300 requests/s (second 1)" in f["evidence"]
    assert "it let about 192/s through" in f["evidence"]
    assert "Retry-After: 1 s" in f["evidence"]


def test_a_503_with_retry_after_is_a_refusal_not_a_server_error():
    s = run(errors={"http_503": 300}, workers=[10])
    s["errors"]["retry_after"] = {"responses": 300, "values": {"2": 300}}
    assert [f["finding"] for f in diagnosed(s)] == ["rate_limited"]
    s["errors"]["retry_after"] = {"responses": 0, "values": {}}
    assert [f["finding"] for f in diagnosed(s)] == ["server_errors"]


def test_a_5xx_s_advice_is_its_code_s():
    # 500: an exception. 503 without Retry-After is a refusal still (nginx's
    # limit_req answers so), or an overload: no exception to fix. 502 and 504
    # are a proxy's word on the service behind it.
    advice = {
        code: diagnosed(run(errors={f"http_{code}": 300}, workers=[10]))[0]["advice"]
        for code in ("500", "502", "503", "504")
    }
    assert advice["500"].startswith("fix the exception behind them")
    assert "exception" not in advice["503"] and "rate limit" in advice["503"]
    for code in ("502", "504"):
        assert "exception" not in advice[code] and "behind the proxy" in advice[code]


def test_wrong_requests_are_client_errors():
    f = diagnosed(run(errors={"http_404": 1000}))[0]
    assert f["finding"] == "client_errors"
    assert f["summary"] == "task get gets 404 for 100 % of its requests"
    # A few in many are not what the run is about.
    assert diagnosed(run(errors={"http_404": 5}))[0]["finding"] == "none"


def test_answers_the_checks_found_wrong_head_the_findings_when_most_are():
    # The default mix pointed at nginx: 84 % of answers are not JSON. Before:
    # "nothing stood out but the errors".
    s = run(errors={"check": 840})
    s["errors"]["checks"] = {"compute_addition": {"body is not JSON": 480},
                             "compute_fib": {"body is not JSON": 360}}  # fmt: skip
    s["generator"]["behind"] = True  # a little late too: still not the story
    found = diagnosed(s)
    assert found[0]["finding"] == "wrong_answers", found
    said = found[0]["summary"]
    assert said == "84 % of the answers failed the scenario's checks (body is not JSON)"
    assert "task compute_addition: body is not JSON (480)" in found[0]["evidence"]
    assert "is --host the service" in found[0]["advice"]
