"""The WagonFakeUser task mix, defined once.

Both `locust.py` (Locust's closed-model user) and loadgen's default scenario
(open-model arrivals) read these numbers, so the two tools replay the same mix.
`locust.py` imports this module inside a gevent-patched process: importing it
starts no event loop and pulls in no client.
"""

from typing import Final

from loadgen import Request, Scenario, task

# Relative weights of the three tasks (Locust's @task(weight) semantics).
TASK_WEIGHTS: Final[dict[str, int]] = {"index": 1, "compute_addition": 3, "compute_fib": 2}

# Inclusive ranges of the random request bodies.
ADD_RANGE: Final[tuple[int, int]] = (-150, 150)
FIB_RANGE: Final[tuple[int, int]] = (0, 30)

# Locust's think time between tasks, in seconds: between(1, 5).
WAIT_TIME: Final[tuple[float, float]] = (1.0, 5.0)


class WagonMix(Scenario):
    """The exercise's WagonFakeUser mix, as open-model arrivals.

    Each task is one request, so each is a one-shot: it returns its request
    for the engine to send (see `loadgen/core/oneshot.py`), the cheapest way.
    """

    @task(TASK_WEIGHTS["index"])
    def index(self) -> Request:
        return Request("GET", "/")

    @task(TASK_WEIGHTS["compute_addition"])
    def compute_addition(self) -> Request:
        a = self.rng.randint(*ADD_RANGE)
        b = self.rng.randint(*ADD_RANGE)
        return Request.json("POST", "/addNumbers", {"a": a, "b": b})

    @task(TASK_WEIGHTS["compute_fib"])
    def compute_fib(self) -> Request:
        return Request.json("POST", "/computeFib", {"iteration": self.rng.randint(*FIB_RANGE)})
