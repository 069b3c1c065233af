"""Drawing an arrival's task from a scenario's weighted mix."""

from __future__ import annotations

import bisect
import inspect
import random
from collections.abc import Callable
from typing import Any

from loadgen.scenario.base import Scenario

# A drawn task: its name, its function, and whether it is a one-shot (`OneShotFn`).
Picked = tuple[str, Callable[..., Any], bool]


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
        """The next arrival's task, drawn by weight: its name, its bound method, and
        whether it is a one-shot.
        """
        table = self._table
        if table is not None:
            return table[int(rng.random() * self.total)]
        i = bisect.bisect_right(self.cumulative, rng.random() * self.total)
        return self._tasks[min(i, len(self._tasks) - 1)]
