"""Loading `--scenario module:Class` or `file.py:Class`: created once as a run will,
and every way it can fail said in one line."""

import sys

import pytest

from loadgen.scenario.bundled.wagon import WagonMix
from loadgen.scenario.data import load_data
from loadgen.scenario.loading import DEFAULT_SCENARIO, load_scenario


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


def test_the_default_scenario_is_the_bundled_mix():
    assert load_scenario(DEFAULT_SCENARIO) is WagonMix


def test_two_files_of_one_name_are_two_scenarios(tmp_path):
    for name in ("ping", "pong"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "mix.py").write_text(
            "from loadgen.scenario import Scenario, task\n"
            "class Mix(Scenario):\n"
            "    @task\n"
            f"    async def {name}(self, s):\n"
            "        await s.get('/')\n"
        )
    ping = load_scenario(f"{tmp_path / 'ping' / 'mix.py'}:Mix")
    pong = load_scenario(f"{tmp_path / 'pong' / 'mix.py'}:Mix")
    assert ping.task_weights() == {"ping": 1} and pong.task_weights() == {"pong": 1}
    # Each registered as its own module: what looks a class's module up finds its file.
    assert sys.modules[ping.__module__].__file__ == str(tmp_path / "ping" / "mix.py")
    assert sys.modules[pong.__module__].__file__ == str(tmp_path / "pong" / "mix.py")


def test_a_file_scenario_may_define_dataclasses(tmp_path):
    # dataclasses read a class's module from sys.modules (its string annotations):
    # a file's module must be registered there, under its private name.
    path = tmp_path / "mix.py"
    path.write_text(
        "from __future__ import annotations\n"
        "import dataclasses\n"
        "from typing import ClassVar\n"
        "from loadgen.scenario import Scenario, task\n"
        "@dataclasses.dataclass\n"
        "class Order:\n"
        "    items: ClassVar[int] = 3\n"
        "    sku: str = 'a'\n"
        "class Mix(Scenario):\n"
        "    @task\n"
        "    async def order(self, s):\n"
        "        await s.post('/orders', json=dataclasses.asdict(Order()))\n"
    )
    assert load_scenario(f"{path}:Mix").task_weights() == {"order": 1}
