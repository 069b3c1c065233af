"""The WagonFakeUser task mix, defined once.

Both `locust.py` (Locust's closed-model user) and loadgen's default scenario
(open-model arrivals) read these numbers, so the two tools replay the same mix.
`locust.py` imports this module inside a gevent-patched process: importing it
starts no event loop and pulls in no client.

The mix checks its answers: `/addNumbers` must return a + b and `/computeFib`
the Fibonacci number asked for, so a server answering 200 with a wrong number
fails (an error of kind `check`), as one answering 500 does (`http_500`).
"""

from typing import Final

from loadgen.scenario.base import Scenario, task
from loadgen.transports.models import Request, Response

# Relative weights of the three tasks (Locust's @task(weight) semantics).
TASK_WEIGHTS: Final[dict[str, int]] = {"index": 1, "compute_addition": 3, "compute_fib": 2}

# Inclusive ranges of the random request bodies.
ADD_RANGE: Final[tuple[int, int]] = (-150, 150)
FIB_RANGE: Final[tuple[int, int]] = (0, 30)

# Locust's think time between tasks, in seconds: between(1, 5).
WAIT_TIME: Final[tuple[float, float]] = (1.0, 5.0)


def _fibonacci(last: int) -> tuple[int, ...]:
    numbers = [0, 1]
    while len(numbers) <= last:
        numbers.append(numbers[-1] + numbers[-2])
    return tuple(numbers[: last + 1])


# F(0) … F(30): what /computeFib answers for each iteration the mix asks for.
FIBONACCI: Final[tuple[int, ...]] = _fibonacci(FIB_RANGE[1])


class ResultIs:
    """A check: the answer is `{"result": expected}` (`Request.check`).

    The bundled server's exact bytes are compared first, which costs far less
    than parsing them; any other body (another server's spacing) is parsed.
    Checks are made once, for every answer the mix can expect, so an arrival
    only looks its check up.
    """

    __slots__ = ("body", "expected")

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.body = b'{"result":%d}' % expected

    def __call__(self, response: Response) -> None:
        if response.body != self.body:
            response.expect(200, result=self.expected)


_SUM_CHECKS: Final = {n: ResultIs(n) for n in range(2 * ADD_RANGE[0], 2 * ADD_RANGE[1] + 1)}
_FIB_CHECKS: Final = tuple(ResultIs(f) for f in FIBONACCI)


class WagonMix(Scenario):
    """The exercise's WagonFakeUser mix, as open-model arrivals.

    Each task is one request, so each is a one-shot: it returns its request
    for the engine to send (see `loadgen/core/oneshot.py`), the cheapest way,
    with the check of its answer.
    """

    @task(TASK_WEIGHTS["index"])
    def index(self) -> Request:
        """The landing page (GET /)."""
        return Request("GET", "/")

    @task(TASK_WEIGHTS["compute_addition"])
    def compute_addition(self) -> Request:
        """Two random numbers added; the check expects their sum."""
        a = self.rng.randint(*ADD_RANGE)
        b = self.rng.randint(*ADD_RANGE)
        return Request.json("POST", "/addNumbers", {"a": a, "b": b}, _SUM_CHECKS[a + b])

    @task(TASK_WEIGHTS["compute_fib"])
    def compute_fib(self) -> Request:
        """A random Fibonacci number computed; the check expects its value."""
        n = self.rng.randint(*FIB_RANGE)
        return Request.json("POST", "/computeFib", {"iteration": n}, _FIB_CHECKS[n])
