"""The WagonFakeUser task mix, defined once.

Both `locust.py` (Locust's closed-model user) and loadgen's default scenario
(open-model arrivals) read these numbers, so the two tools replay the same mix.
`locust.py` imports this module inside a gevent-patched process: importing it
starts no event loop and pulls in no client.
"""

from typing import Final

from loadgen.scenario import Scenario, task
from loadgen.session import Session

# Relative weights of the three tasks (Locust's @task(weight) semantics).
TASK_WEIGHTS: Final[dict[str, int]] = {"index": 1, "compute_addition": 3, "compute_fib": 2}

# Inclusive ranges of the random request bodies.
ADD_RANGE: Final[tuple[int, int]] = (-150, 150)
FIB_RANGE: Final[tuple[int, int]] = (0, 30)

# Locust's think time between tasks, in seconds: between(1, 5).
WAIT_TIME: Final[tuple[float, float]] = (1.0, 5.0)


class WagonMix(Scenario):
    """The exercise's WagonFakeUser mix, as open-model arrivals."""

    @task(TASK_WEIGHTS["index"])
    async def index(self, s: Session) -> None:
        await s.get("/")

    @task(TASK_WEIGHTS["compute_addition"])
    async def compute_addition(self, s: Session) -> None:
        a = self.rng.randint(*ADD_RANGE)
        b = self.rng.randint(*ADD_RANGE)
        await s.post("/addNumbers", json={"a": a, "b": b})

    @task(TASK_WEIGHTS["compute_fib"])
    async def compute_fib(self, s: Session) -> None:
        await s.post("/computeFib", json={"iteration": self.rng.randint(*FIB_RANGE)})
