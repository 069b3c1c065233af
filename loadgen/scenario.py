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
from their own send (see `session.py`).

A task that makes exactly one request may be a plain method *returning* it
(`browse` above): such a one-shot is sent with no coroutine at all, the
cheapest way (see `oneshot.py`). It is measured the same way.

Tasks run eagerly and outside any asyncio Task (see `flight.py`): that is most
of loadgen's speed. Awaiting session requests, `asyncio.sleep`, `gather` and
other futures works; what needs `asyncio.current_task()` (`asyncio.timeout()`,
anyio) does not. A scenario that needs it sets `eager = False` and each of
its arrivals runs in a Task of its own, which costs more CPU per request.

`self.data` holds the rows of `--data FILE` (see `data.py`): `self.data.next()`
in the file's order, `self.data.random()` drawn with the run's seed.
"""

from __future__ import annotations

import bisect
import hashlib
import importlib
import importlib.util
import inspect
import random
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar, overload

from loadgen.data import NO_DATA, Data, DataFile
from loadgen.transports.models import Request

OneShotFn = Callable[[], Request]
# A drawn task: its name, its function, and whether it is a one-shot (OneShotFn).
Picked = tuple[str, Callable[..., Any], bool]
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


class TaskPicker:
    """Draws tasks with probability weight / Σ weights.

    With Σ weights ≤ `TABLE_MAX` (the usual case) in O(1): a table holding
    task i in `weight_i` consecutive slots is indexed by ⌊u·Σ⌋ for u uniform
    in [0, 1), which lands in task i's slots with probability weight_i / Σ.
    (One extra copy of the last slot absorbs u·Σ rounding up to Σ.)
    Beyond it, a bisection of the cumulative weights, in O(log n).
    """

    TABLE_MAX = 4096

    def __init__(self, scenario: Scenario) -> None:
        weights = type(scenario).task_weights()
        if not weights:
            raise ValueError(f"scenario {type(scenario).__name__} has no @task methods")
        self.names = list(weights)
        tasks: list[Picked] = []
        for name in self.names:
            fn = getattr(scenario, name)
            tasks.append((name, fn, not inspect.iscoroutinefunction(fn)))
        self.cumulative: list[int] = []
        total = 0
        for name in self.names:
            total += weights[name]
            self.cumulative.append(total)
        self.total = total
        self._table: list[Picked] | None = None
        if total <= self.TABLE_MAX:
            table = [t for t in tasks for _ in range(weights[t[0]])]
            self._table = [*table, table[-1]]
        self._tasks = tasks

    def pick(self, rng: random.Random) -> Picked:
        table = self._table
        if table is not None:
            return table[int(rng.random() * self.total)]
        i = bisect.bisect_right(self.cumulative, rng.random() * self.total)
        return self._tasks[min(i, len(self._tasks) - 1)]


DEFAULT_SCENARIO = "loadgen.scenarios.wagon:WagonMix"


def load_scenario(spec: str, data: DataFile | None = None) -> type[Scenario]:
    """Resolve `package.module:Class` or `path/to/file.py:Class` to a Scenario class.

    It is created once, as a run will create it (with `data`'s rows, if given).
    """
    module_name, sep, class_name = spec.rpartition(":")
    if not sep or not module_name or not class_name:
        raise ValueError(f"scenario must look like module:Class or file.py:Class, got {spec!r}")
    module: Any
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise ValueError(f"scenario file not found: {module_name}")
            # A private name: a file called uvloop.py must not replace the real
            # module for every later import. (Registered at all: dataclasses and
            # typing look classes' modules up in sys.modules.)
            digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
            name = f"_loadgen_scenario_{digest}_{path.stem}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            assert module_spec is not None and module_spec.loader is not None
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ValueError:
        raise
    except (Exception, SystemExit) as e:  # its own code failed: a SyntaxError, a raise, an exit
        raise ValueError(f"scenario {module_name} failed to load: {_said(e)}") from None
    klass = getattr(module, class_name, None)
    if not (inspect.isclass(klass) and issubclass(klass, Scenario)):
        raise ValueError(f"{spec!r} is not a loadgen Scenario class")
    if not klass.task_weights():
        raise ValueError(f"scenario {spec!r} has no @task methods")
    try:  # as each run will: an __init__ that fails, fails here
        new_scenario(klass, random.Random(0), data.view() if data is not None else None)
    except (Exception, SystemExit) as e:
        raise ValueError(f"scenario {spec}: creating it failed: {_said(e)}") from None
    return klass


def _said(e: BaseException) -> str:
    """An exception in one line: `RuntimeError: boom`, `sys.exit(3)`, a SyntaxError's place."""
    if isinstance(e, SystemExit):
        return f"it called sys.exit({e.code!r})"
    if isinstance(e, SyntaxError):
        return f"SyntaxError: {e.msg} (line {e.lineno})"
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
