"""Shard states: JSON round trips, and merges that are exact, not approximate."""

import json

import pytest

from loadgen.core.config import RunConfig
from loadgen.core.rates import ConstantRate, profile_from_description, ramp
from loadgen.scale.shard import ShardJob, read_state, write_state
from tests.support.scenarios import Get
from tests.support.shard_states import job, latencies, recorder, state


def test_state_files_and_profiles_round_trip(tmp_path):
    s = state(job(1, 2, profile=ramp(10, 50, 2.0).describe()), recorder([latencies(10, 10)]))
    write_state(tmp_path, s)
    assert read_state(tmp_path) == s
    assert profile_from_description(s["job"]["profile"]).arrivals(2.0) == pytest.approx(60)
    assert profile_from_description(ConstantRate(5).describe()).rate(1.0) == 5
    (tmp_path / "shard-state.json").write_text('{"schema": "something else"}')
    with pytest.raises(ValueError, match="not a loadgen shard state"):
        read_state(tmp_path)


def test_a_job_carries_a_file_scenario_to_where_the_file_is_not(tmp_path):
    scenario_file = tmp_path / "my_mix.py"
    scenario_file.write_text(
        "from loadgen.scenario import Scenario, task\n"
        "class Mix(Scenario):\n"
        "    @task(2)\n"
        "    async def home(self, s):\n"
        "        await s.get('/')\n"
    )
    config = RunConfig(target="http://x", profile=ConstantRate(1), duration=1.0, scenario=Get)
    shipped = ShardJob.from_config(config, f"{scenario_file}:Mix", {})
    scenario_file.unlink()  # as on another machine
    again = ShardJob.from_dict(json.loads(json.dumps(shipped.to_dict())))
    assert again.load_scenario().task_weights() == {"home": 2}


def test_loading_a_shipped_scenario_leaves_no_temporary_directory(tmp_path, monkeypatch):
    import tempfile

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    source = "from loadgen.scenario import Scenario, task\nclass Mix(Scenario):\n" \
        "    @task(1)\n    async def home(self, s):\n        await s.get('/')\n"  # fmt: skip
    config = RunConfig(target="http://x", profile=ConstantRate(1), duration=1.0, scenario=Get)
    path = tmp_path / "mix.py"
    path.write_text(source)
    job = ShardJob.from_config(config, f"{path}:Mix", {})
    path.unlink()  # as on another machine: the job carries the source
    for _ in range(3):  # one load per shard
        assert job.load_scenario().task_weights() == {"home": 1}
    assert list(temp.iterdir()) == []


def test_a_job_carries_the_data_file_s_path_and_each_shard_reads_its_rows(tmp_path):
    from loadgen.scenario.data import load_data

    rows = tmp_path / "rows.csv"
    rows.write_text("i\n" + "".join(f"{i}\n" for i in range(5)))
    config = RunConfig(target="http://x", profile=ConstantRate(1), duration=1.0, scenario=Get,
                       data=load_data(rows), shard=(0, 2))  # fmt: skip
    job = ShardJob.from_dict(json.loads(json.dumps(
        ShardJob.from_config(config, "tests.support.scenarios:Get", {}).to_dict())))  # fmt: skip
    assert job.data == str(rows)
    for index, expected in ((0, ["0", "2", "4"]), (1, ["1", "3"])):
        shard = job.shard(index, 2, None).config()
        assert shard.data is not None and shard.data.path == str(rows)
        view = shard.data.view(shard.shard)
        assert [view.next()["i"] for _ in range(len(expected))] == expected
    # Too many shards for the rows: the worker says so before its run.
    with pytest.raises(ValueError, match="has 5 rows: too few for 6 shards"):
        job.shard(0, 6, None).config()
    # A merge reads no file: the run is over.
    rows.unlink()
    assert job.config(scenario=Get).data is None


def test_a_job_carries_the_targets_themselves(tmp_path):
    from loadgen.scenario.targets_file import parse_targets, targets_scenario

    (tmp_path / "body.json").write_bytes(b'{"a": 1, "b": 2}')
    text = "POST /addNumbers\nContent-Type: application/json\n@body.json\n\n# weight: 2\nGET /\n"
    scenario = targets_scenario(parse_targets(text, "t.txt", tmp_path), "t.txt")
    config = RunConfig(target="http://x", profile=ConstantRate(1), duration=1.0,
                       scenario=scenario)  # fmt: skip
    shipped = ShardJob.from_config(config, "targets:t.txt", {})
    (tmp_path / "body.json").unlink()  # as on another machine
    again = ShardJob.from_dict(json.loads(json.dumps(shipped.to_dict())))
    loaded = again.config().scenario
    assert loaded.task_weights() == {"POST /addNumbers": 1, "GET /": 2}
    assert loaded.targets == scenario.targets and loaded.targets[0].body == b'{"a": 1, "b": 2}'
