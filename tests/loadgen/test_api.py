"""The public API: what `loadgen` itself exports is all a scenario needs."""

import subprocess
import sys

import pytest

import loadgen
from loadgen import ClientError, Failed, Request, Response, Scenario, Session, task


def test_the_package_exports_what_a_scenario_needs():
    assert sorted(loadgen.__all__) == sorted(
        ["ClientError", "Failed", "Request", "Response", "Scenario", "Session", "__version__",
         "task"]
    )  # fmt: skip
    for name in loadgen.__all__:
        assert getattr(loadgen, name) is not None


def test_a_scenario_written_against_the_api_alone():
    class Shop(Scenario):
        @task(2)
        def browse(self) -> Request:
            return Request("GET", "/items")

        @task
        async def buy(self, s: Session) -> None:
            response: Response = await s.post("/cart", json={"item": 1})
            if response.status != 200:
                raise ClientError("reset", "no cart")

    assert Shop.task_weights() == {"browse": 2, "buy": 1}


def test_a_scenario_that_checks_its_answers_with_the_api_alone():
    def in_stock(r: Response) -> None:
        if not r.json()["items"]:
            raise Failed("nothing in stock")

    class Checked(Scenario):
        @task
        def browse(self) -> Request:
            return Request("GET", "/items", check=in_stock)

        @task
        async def login(self, s: Session) -> None:
            r = await s.post("/login", json={"user": "ada"})
            if r.expect(200, user="ada"):
                s.headers["Authorization"] = f"Bearer {r.json()['token']}"
                (await s.get("/orders")).fail(f"{s.cookies.get('session')} is not enough")

    assert Checked.task_weights() == {"browse": 1, "login": 1}


@pytest.mark.slow
def test_importing_it_loads_only_the_standard_library():
    # locust.py imports the default mix inside Locust's gevent-patched process,
    # and the locustio/locust image has none of loadgen's dependencies.
    code = (
        "import sys; before = set(sys.modules); import loadgen.scenario.bundled.wagon; "
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - before}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    imported = set(eval(out.stdout))
    assert imported - sys.stdlib_module_names == {"loadgen"}
