"""Scenarios for the scale-out tests: one GET per arrival, one whose shard 1 dies, and
one no worker can create."""

import os

from loadgen import Scenario, task


class Get(Scenario):
    @task(1)
    async def get(self, s):
        await s.get("/")


class ShardOneDies(Scenario):
    """Shard 1 of a local multi-process run exits hard (no state sent) after 100 arrivals."""

    def __init__(self, rng):
        super().__init__(rng)
        self.sent = 0

    @task(1)
    async def get(self, s):
        if os.environ.get("LOADGEN_SHARD", "").startswith("1/"):
            self.sent += 1
            if self.sent > 100:
                os._exit(3)
        await s.get("/")


class EveryShardFails(Scenario):
    """Cannot be created in a worker of a multi-process run (only workers have `LOADGEN_SHARD`)."""

    def __init__(self, rng):
        super().__init__(rng)
        if os.environ.get("LOADGEN_SHARD"):
            raise RuntimeError("not in a worker")

    @task(1)
    async def get(self, s):
        await s.get("/")
