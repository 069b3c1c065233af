"""The benchmark's scenario: one GET / per arrival, the cheapest request there is."""

from loadgen.scenario import Scenario, task
from loadgen.session import Session


class StaticGet(Scenario):
    @task(1)
    async def get(self, s: Session) -> None:
        await s.get("/")
