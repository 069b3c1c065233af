"""The benchmark's scenarios: one GET / per arrival, the cheapest request there is."""

from loadgen import Request, Scenario, Session, task


class StaticGet(Scenario):
    """A one-shot task: returns its request (the way a one-request task is best written)."""

    @task(1)
    def get(self) -> Request:
        return Request("GET", "/")


class StaticGetCoroutine(Scenario):
    """The same as a coroutine task, run as a flight (how multi-request tasks run)."""

    @task(1)
    async def get(self, s: Session) -> None:
        await s.get("/")
