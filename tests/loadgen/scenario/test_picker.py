"""The task picker: each arrival's task drawn by weight, from a table or by bisection."""

import collections
import math
import random

import pytest

from loadgen.scenario.base import Scenario, new_scenario, task
from loadgen.scenario.bundled.wagon import TASK_WEIGHTS, WagonMix
from loadgen.scenario.picker import TaskPicker


def test_picker_follows_weights():
    picker = TaskPicker(WagonMix(random.Random(0)))
    rng = random.Random(1)
    counts = collections.Counter(picker.pick(rng)[0] for _ in range(60_000))
    total = sum(TASK_WEIGHTS.values())
    for name, weight in TASK_WEIGHTS.items():
        assert counts[name] / 60_000 == pytest.approx(weight / total, abs=0.01)


def test_picker_follows_large_weights_too():
    # Σ weights above the table's size: drawn by bisection instead.
    class Heavy(Scenario):
        @task(TaskPicker.TABLE_MAX)
        async def a(self, s):
            pass

        @task(3 * TaskPicker.TABLE_MAX)
        async def b(self, s):
            pass

    picker = TaskPicker(Heavy(random.Random(0)))
    assert picker._table is None
    rng = random.Random(2)
    counts = collections.Counter(picker.pick(rng)[0] for _ in range(40_000))
    assert counts["a"] / 40_000 == pytest.approx(0.25, abs=0.01)
    assert counts["b"] / 40_000 == pytest.approx(0.75, abs=0.01)


def test_picked_functions_belong_to_their_names():
    picker = TaskPicker(WagonMix(random.Random(0)))
    rng = random.Random(3)
    for _ in range(100):
        name, fn, oneshot = picker.pick(rng)
        assert fn.__name__ == name
        assert oneshot is True  # the wagon tasks return their requests


class Always(random.Random):
    """A random stream that always draws `u`: the picker's edges, exactly."""

    def __init__(self, u):
        super().__init__(0)
        self.u = u

    def random(self):
        return self.u


def two_tasks(first, second):
    class Two(Scenario):
        @task(first)
        async def a(self, s):
            pass

        @task(second)
        async def b(self, s):
            pass

    return TaskPicker(new_scenario(Two, random.Random(0)))


@pytest.mark.parametrize(
    "weights",
    [(1, 3), (TaskPicker.TABLE_MAX, 3 * TaskPicker.TABLE_MAX)],
    ids=["table", "bisection"],
)
def test_the_ends_of_the_unit_interval_pick_the_first_and_the_last_task(weights):
    picker = two_tasks(*weights)
    assert picker.pick(Always(0.0))[0] == "a"
    assert picker.pick(Always(math.nextafter(1.0, 0.0)))[0] == "b"
    # Where the first task's share ends, the second's begins.
    share = weights[0] / sum(weights)
    assert picker.pick(Always(math.nextafter(share, 0.0)))[0] == "a"
    assert picker.pick(Always(share))[0] == "b"


def test_a_scenario_without_tasks_is_refused():
    with pytest.raises(ValueError, match="Scenario has no @task methods"):
        TaskPicker(Scenario(random.Random(0)))


def test_one_shots_and_session_tasks_are_told_apart():
    class Mixed(Scenario):
        @task
        async def session(self, s):
            pass

        @task
        def oneshot(self):
            return None

    picker = TaskPicker(new_scenario(Mixed, random.Random(0)))
    kinds = {
        name: oneshot for name, _, oneshot in (picker.pick(random.Random(i)) for i in range(50))
    }
    assert kinds == {"session": False, "oneshot": True}


def test_a_seeded_stream_draws_the_same_tasks_again():
    picker = TaskPicker(WagonMix(random.Random(0)))
    first, again = random.Random(7), random.Random(7)
    assert [picker.pick(first)[0] for _ in range(500)] == [
        picker.pick(again)[0] for _ in range(500)
    ]
