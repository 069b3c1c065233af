import collections
import random

import pytest

from loadgen.scenario.base import Scenario, new_scenario, task
from loadgen.scenario.bundled.wagon import TASK_WEIGHTS, WagonMix
from loadgen.scenario.data import DataFile, load_data
from loadgen.scenario.loading import load_scenario
from loadgen.scenario.picker import TaskPicker


def test_default_scenario_has_the_wagon_weights():
    assert WagonMix.task_weights() == TASK_WEIGHTS
    assert load_scenario("loadgen.scenario.bundled.wagon:WagonMix") is WagonMix


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


def test_load_scenario_from_a_file(tmp_path):
    f = tmp_path / "mymix.py"
    f.write_text(
        "from loadgen.scenario import Scenario, task\n"
        "class Mix(Scenario):\n"
        "    @task(1)\n"
        "    async def ping(self, s):\n"
        "        await s.get('/')\n"
    )
    klass = load_scenario(f"{f}:Mix")
    assert klass.task_weights() == {"ping": 1}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nocolon", "module:Class"),
        ("no_such_module_xyz:Mix", "failed to load: ModuleNotFoundError"),
        ("loadgen.scenario.bundled.wagon:Nope", "not a loadgen Scenario"),
        ("loadgen.scenario:Scenario", "no @task"),
        ("missing_file.py:Mix", "not found"),
    ],
)
def test_load_scenario_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        load_scenario(spec)


def test_a_scenario_file_does_not_shadow_a_module_of_the_same_name(tmp_path, monkeypatch):
    import sys

    import uvloop

    monkeypatch.setitem(sys.modules, "uvloop", uvloop)  # put back even if this fails
    path = tmp_path / "uvloop.py"
    path.write_text(
        "from loadgen.scenario import Scenario, task\n"
        "class Mix(Scenario):\n"
        "    @task(1)\n"
        "    async def home(self, s):\n"
        "        await s.get('/')\n"
    )
    klass = load_scenario(f"{path}:Mix")
    assert klass.task_weights() == {"home": 1}
    assert sys.modules["uvloop"] is uvloop  # later imports still get the real one
    assert sys.modules[klass.__module__].__file__ == str(path)


def test_a_bare_task_decorator_weighs_one_as_in_locust():
    class Bare(Scenario):
        @task
        def home(self):
            return None

        @task(2)
        def other(self):
            return None

    assert Bare.task_weights() == {"home": 1, "other": 2}


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("raise RuntimeError('no config')", "failed to load: RuntimeError: no config"),
        ("def broken(:\n    pass", "failed to load: SyntaxError: invalid syntax (line 1)"),
        ("import sys\nsys.exit(3)", "failed to load: it called sys.exit(3)"),
        ("import no_such_module_here", "ModuleNotFoundError: No module named"),
        (
            "from loadgen import Scenario, task\n"
            "class Mix(Scenario):\n"
            "    def __init__(self, rng):\n"
            "        raise KeyError('token')\n"
            "    @task\n"
            "    def t(self):\n"
            "        return None\n",
            "creating it failed: KeyError: 'token'",
        ),
    ],
    ids=["raises", "syntax", "sys.exit", "import", "__init__"],
)
def test_a_scenario_that_fails_to_load_is_one_clear_error(tmp_path, source, says):
    path = tmp_path / "mix.py"
    path.write_text(source)
    with pytest.raises(ValueError, match="scenario ") as info:
        load_scenario(f"{path}:Mix")
    assert says in str(info.value) and "\n" not in str(info.value)
    assert str(path) in str(info.value)


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


def test_loading_a_scenario_that_reads_rows_needs_the_data(tmp_path):
    path = tmp_path / "mix.py"
    path.write_text(
        "from loadgen import Scenario, task\n"
        "class Mix(Scenario):\n"
        "    def __init__(self, rng):\n"
        "        super().__init__(rng)\n"
        "        self.first = self.data.next()\n"
        "    @task\n"
        "    def t(self):\n"
        "        return None\n"
    )
    with pytest.raises(
        ValueError, match=r"creating it failed: RuntimeError: self\.data has no rows"
    ):
        load_scenario(f"{path}:Mix")
    (tmp_path / "rows.csv").write_text("a\n1\n")
    assert load_scenario(f"{path}:Mix", load_data(tmp_path / "rows.csv")).__name__ == "Mix"
