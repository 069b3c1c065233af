"""The default mix checks its answers: a + b from /addNumbers, F(n) from /computeFib."""

import json
import random

import pytest
from starlette.responses import JSONResponse

from loadgen.scenario.bundled.wagon import ADD_RANGE, FIB_RANGE, FIBONACCI, ResultIs, WagonMix
from loadgen.transports.models import Response, apply_check
from server import fibonacci, legacy


class Sink:
    def __init__(self) -> None:
        self.reasons: list[str] = []

    def check_failed(self, reason: str) -> None:
        self.reasons.append(reason)


def judged(request, status, body) -> list[str]:
    """The reasons `request`'s check fails an answer of `status` and `body` for."""
    response = Response(status, body, 0.0, 0.001, len(body))
    response.sink = sink = Sink()
    apply_check(request.check, response)
    return sink.reasons


def test_the_fibonacci_table_is_the_server_s():
    assert len(FIBONACCI) == FIB_RANGE[1] + 1
    assert all(f == fibonacci.compute_fast(n) for n, f in enumerate(FIBONACCI))
    assert FIBONACCI[:8] == (0, 1, 1, 2, 3, 5, 8, 13) and FIBONACCI[30] == 832040


def test_every_request_of_the_mix_carries_the_check_of_the_right_answer():
    mix = WagonMix(random.Random(1))
    assert mix.index().check is None
    for _ in range(2000):
        for request in (mix.compute_addition(), mix.compute_fib()):
            sent = json.loads(request.body)
            if "a" in sent:
                right = sent["a"] + sent["b"]
            else:
                right = fibonacci.compute_fast(sent["iteration"])
            # As the bundled server renders it (FastAPI's JSONResponse): the bytes
            # the check compares first, no parsing.
            body = JSONResponse({"result": right}).body
            assert body == ResultIs(right).body
            assert judged(request, 200, body) == []
            assert judged(request, 200, json.dumps({"result": right}).encode()) == []  # spaced
            assert judged(request, 200, b'{"result":%d}' % (right + 1)) == ["wrong result"]
            assert judged(request, 500, b"Internal Server Error") == []  # http_500 already


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"Hello", "body is not JSON"), (b'{"sum":3}', "no result in the body"),
     (b'{"result":"3"}', "wrong result")],
)  # fmt: skip
def test_an_answer_that_is_no_number_fails(body, reason):
    assert judged(WagonMix(random.Random(0)).compute_addition(), 200, body) == [reason]


def test_the_legacy_server_fails_the_mix_with_500s_never_with_a_wrong_number():
    lo, hi = ADD_RANGE
    for a in range(lo, hi + 1, 7):
        for b in range(lo, hi + 1, 5):
            if a < 0 or b < 0:  # numpy.uint16 refused it: the endpoint answers 500
                with pytest.raises(OverflowError):
                    legacy.add_uint16(a, b)
            else:  # in range, uint16 sums never wrap: the answer is right
                assert legacy.add_uint16(a, b) == a + b
