"""The exercise's Locust user: the WagonFakeUser mix as a closed-model load.

    locust -f locust.py -H http://127.0.0.1:8000            # web UI on :8089
    locust -f locust.py -H http://127.0.0.1:8000 --headless -u 50 -r 10 -t 1m

Task weights, request-body ranges and think time come from loadgen/scenario/bundled/wagon.py,
which loadgen's default scenario (WagonMix) also reads, so the two tools replay
the same mix. That module is standard library only, so it imports inside
Locust's gevent-patched process and inside the locustio/locust image: Locust
puts this file's directory, the repository root, on sys.path while loading it.
Never put the repository root on PYTHONPATH (or run `python -m locust` from
it): this file would then shadow the locust package.

LOCUST_WAIT_SCALE (default 1) multiplies the think time: the test suite sets
it to 0.05 so a few-second run still sends enough requests to check the mix.
"""

import os
import random

from loadgen.scenario.bundled.wagon import ADD_RANGE, FIB_RANGE, TASK_WEIGHTS, WAIT_TIME
from locust import FastHttpUser, between, task

_WAIT_SCALE = float(os.environ.get("LOCUST_WAIT_SCALE") or 1)


class WagonFakeUser(FastHttpUser):
    # between(*WAIT_TIME), i.e. between(1, 5), unless LOCUST_WAIT_SCALE says otherwise.
    wait_time = between(*(seconds * _WAIT_SCALE for seconds in WAIT_TIME))

    @task(TASK_WEIGHTS["index"])
    def index(self) -> None:
        self.client.get("/")

    @task(TASK_WEIGHTS["compute_addition"])
    def compute_addition(self) -> None:
        a = random.randint(*ADD_RANGE)
        b = random.randint(*ADD_RANGE)
        self.client.post("/addNumbers", json={"a": a, "b": b})

    @task(TASK_WEIGHTS["compute_fib"])
    def compute_fib(self) -> None:
        self.client.post("/computeFib", json={"iteration": random.randint(*FIB_RANGE)})
