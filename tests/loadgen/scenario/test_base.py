"""Scenarios: tasks marked with @task and their weights, inherited, and made as a run makes them."""

import random

import pytest

from loadgen.scenario.base import Scenario, new_scenario, task
from loadgen.scenario.bundled.wagon import TASK_WEIGHTS, WagonMix
from loadgen.scenario.data import DataFile


def test_default_scenario_has_the_wagon_weights():
    assert WagonMix.task_weights() == TASK_WEIGHTS


def test_subclass_inherits_and_overrides_tasks():
    class Base(Scenario):
        @task(2)
        async def a(self, s):
            pass

    class Child(Base):
        @task(5)
        async def b(self, s):
            pass

    assert Child.task_weights() == {"a": 2, "b": 5}


@pytest.mark.parametrize("weight", [0, -1, 1.5, True])
def test_task_weight_must_be_a_positive_int(weight):
    with pytest.raises(ValueError):
        task(weight)


def test_a_bare_task_decorator_weighs_one_as_in_locust():
    class Bare(Scenario):
        @task
        def home(self):
            return None

        @task(2)
        def other(self):
            return None

    assert Bare.task_weights() == {"home": 1, "other": 2}


def test_a_scenario_s_data_is_there_before_its_init_runs():
    class FirstUser(Scenario):
        def __init__(self, rng):
            super().__init__(rng)
            self.admin = self.data.next()  # an __init__ of the user's may read rows

        @task
        def home(self):
            return None

    data = DataFile("users.csv", ({"name": "root"}, {"name": "ann"})).view()
    made = new_scenario(FirstUser, random.Random(0), data)
    assert made.admin == {"name": "root"} and made.data.next() == {"name": "ann"}
    assert made.rng.random() == random.Random(0).random()
