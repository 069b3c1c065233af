"""The WagonFakeUser task mix, defined once.

Both `locust.py` (Locust's closed-model user) and loadgen's default scenario
(open-model arrivals) read these numbers, so the two tools replay the same mix.
This module must stay import-light: `locust.py` imports it inside a gevent process.
"""

from typing import Final

# Relative weights of the three tasks (Locust's @task(weight) semantics).
TASK_WEIGHTS: Final[dict[str, int]] = {"index": 1, "compute_addition": 3, "compute_fib": 2}

# Inclusive ranges of the random request bodies.
ADD_RANGE: Final[tuple[int, int]] = (-150, 150)
FIB_RANGE: Final[tuple[int, int]] = (0, 30)

# Locust's think time between tasks, in seconds: between(1, 5).
WAIT_TIME: Final[tuple[float, float]] = (1.0, 5.0)
