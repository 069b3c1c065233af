"""Print what locust.py's WagonFakeUser would send, as JSON. Run it as a script:
importing locust gevent-patches the process, so never from pytest's.

    python tests/infra/locust_probe.py LOCUSTFILE CALLS_PER_TASK

Loads the file with Locust's own loader, calls each task (seeded) against a
recording client in place of FastHttpSession, and samples wait_time:
{"weights": {task: weight}, "tasks": {task: summarise(...)}, "wait": [min, max]}.
"""

import json
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from locust.env import Environment
from locust.util.load_locustfile import load_locustfile

# The repository root is appended, not prepended (nor put on PYTHONPATH): first
# on sys.path, its locust.py would shadow the locust package.
sys.path.append(str(Path(__file__).resolve().parents[2]))

from tests.infra.mix import Call, summarise


class RecordingClient:
    def __init__(self) -> None:
        self.calls: list[Call] = []

    def request(self, method: str, path: str, **kwargs: Any) -> None:
        self.calls.append((method, path, kwargs.get("json")))

    def get(self, path: str, **kwargs: Any) -> None:
        self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> None:
        self.request("POST", path, **kwargs)


def main() -> None:
    locustfile, calls_per_task = sys.argv[1], int(sys.argv[2])
    user_classes, _ = load_locustfile(locustfile)
    user_class = user_classes["WagonFakeUser"]
    # Locust's runner copies --host onto the class; nothing connects to it here.
    user_class.host = "http://127.0.0.1:9"
    user = user_class(Environment(user_classes=[user_class]))
    random.seed(0)
    # Locust's @task(weight) lists each task `weight` times; it picks uniformly.
    weights = Counter(fn.__name__ for fn in user_class.tasks)
    functions = {fn.__name__: fn for fn in user_class.tasks}
    tasks = {}
    for name, fn in functions.items():
        client = RecordingClient()
        user.client = client
        for _ in range(calls_per_task):
            fn(user)
        tasks[name] = summarise(client.calls)
    waits = [user.wait_time() for _ in range(calls_per_task)]
    print(json.dumps({"weights": weights, "tasks": tasks, "wait": [min(waits), max(waits)]}))


if __name__ == "__main__":
    main()
