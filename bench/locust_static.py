"""Locust's side of the benchmark: FastHttpUser hammering GET / with no think time."""

from locust import FastHttpUser, constant, task


class StaticUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get("/")
