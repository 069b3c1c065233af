"""Scenarios: a weighted mix of tasks, each an async function of a session.

Written like a Locust user, minus the waiting (arrivals come from the pacer):

    class Checkout(Scenario):
        @task(3)
        def browse(self) -> Request:
            return Request("GET", "/items")

        @task(1)
        async def buy(self, s: Session) -> None:
            await s.post("/cart", json={"item": self.rng.randint(1, 100)})
            await s.post("/checkout")

Each arrival picks one task with probability weight / Σ weights. The first
request of a task is timed from the arrival's intended send time, later ones
from their own send (see `core/session.py`).

A task that makes exactly one request may be a plain method *returning* it
(`browse` above): such a one-shot is sent with no coroutine at all, the
cheapest way (see `core/oneshot.py`). It is measured the same way.

Tasks run eagerly and outside any asyncio Task (see `core/flight.py`): that is most
of loadgen's speed. Awaiting session requests, `asyncio.sleep`, `gather` and
other futures works; what needs `asyncio.current_task()` (`asyncio.timeout()`,
anyio) does not. A scenario that needs it sets `eager = False` and each of
its arrivals runs in a Task of its own, which costs more CPU per request.

`self.data` holds the rows of `--data FILE` (see `data.py`): `self.data.next()`
in the file's order, `self.data.random()` drawn with the run's seed.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import ClassVar, TypeVar, overload

from loadgen.scenario.data import NO_DATA, Data
from loadgen.transports.models import Request

OneShotFn = Callable[[], Request]
_F = TypeVar("_F", bound=Callable[..., Awaitable[None] | Request])
_WEIGHT = "_loadgen_weight"


@overload
def task(weight: _F) -> _F: ...
@overload
def task(weight: int = 1) -> Callable[[_F], _F]: ...


def task(weight: int | _F = 1) -> _F | Callable[[_F], _F]:
    """Mark a scenario method as a task with the given relative weight.

    `@task(3)`, or a bare `@task` for weight 1, as in Locust. The method is
    either `async def name(self, s: Session)` or, for a task of exactly one
    request, `def name(self) -> Request` (a one-shot).
    """
    if callable(weight):  # bare @task: the method itself
        setattr(weight, _WEIGHT, 1)
        return weight
    if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
        raise ValueError(f"task weight must be a positive integer, got {weight!r}")
    chosen = weight

    def mark(fn: _F) -> _F:
        setattr(fn, _WEIGHT, chosen)
        return fn

    return mark


class Scenario:
    """Base class: subclass it and mark its tasks with @task(weight)."""

    eager: ClassVar[bool] = True  # False: run each arrival in an asyncio Task
    # The rows of --data (set before __init__ runs: see `new_scenario`); without
    # --data, asking it for a row says how to give one.
    data: Data = NO_DATA

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    @classmethod
    def task_weights(cls) -> dict[str, int]:
        """Task name → weight, in definition order."""
        weights: dict[str, int] = {}
        for klass in reversed(cls.__mro__):
            for name, member in vars(klass).items():
                weight = getattr(member, _WEIGHT, None)
                if weight is not None:
                    weights[name] = weight
        return weights


def new_scenario(klass: type[Scenario], rng: random.Random, data: Data | None = None) -> Scenario:
    """An instance of `klass` as a run makes it: `self.data` is there before its
    `__init__(rng)` runs, so that an `__init__` of the user's may read rows."""
    scenario = klass.__new__(klass)
    if data is not None:
        scenario.data = data
    klass.__init__(scenario, rng)
    return scenario
