"""A run's configuration: one block of defaults, taken by every way of starting a run."""

import dataclasses

import pytest

from loadgen.commands import capacity, run
from loadgen.core import config
from loadgen.core.config import RunConfig
from loadgen.core.pacer import ConstantPacer, PoissonPacer, make_pacer
from loadgen.core.rates import ConstantRate
from loadgen.scale.shard import ShardJob
from loadgen.scenario.data import load_data
from loadgen.scenario.loading import load_scenario
from loadgen.transports.base import ClientOptions
from loadgen.transports.factory import CLIENTS
from tests.support.cli import ROOT

GET = f"{ROOT / 'tests/support/scenarios.py'}:Get"

# Each default of the block, and the RunConfig field it is the default of.
DEFAULTS = {
    "arrival": config.ARRIVAL,
    "warmup": config.WARMUP_S,
    "timeout": config.TIMEOUT_S,
    "connections": config.CONNECTIONS,
    "client": config.CLIENT,
}


def defaults_of(klass):
    return {f.name: f.default for f in dataclasses.fields(klass) if f.name in DEFAULTS}


def test_a_config_given_only_what_it_needs_takes_the_block_s_defaults():
    cfg = RunConfig("http://127.0.0.1:1", ConstantRate(10), 1.0, load_scenario(GET))
    assert {name: getattr(cfg, name) for name in DEFAULTS} == DEFAULTS
    assert cfg.seed is None and cfg.start_at is None and cfg.data is None
    assert cfg.shard == (0, 1)  # the whole run
    assert cfg.client_options == ClientOptions()


@pytest.mark.parametrize("command", [run, capacity], ids=["run", "capacity"])
def test_the_command_line_s_defaults_are_the_block_s(command):
    rate = ["--rps", "10"] if command is run else []
    args = command.parser().parse_args(rate)
    assert {name: getattr(args, name) for name in DEFAULTS} == DEFAULTS


def test_a_shard_s_job_defaults_are_the_block_s():
    assert defaults_of(ShardJob) == defaults_of(RunConfig) == DEFAULTS


def test_the_defaults_name_what_exists():
    assert config.CLIENT in CLIENTS
    assert isinstance(make_pacer(config.ARRIVAL, ConstantRate(10)), ConstantPacer | PoissonPacer)
    assert config.DURATION_S > 0 and config.TIMEOUT_S > 0 and config.CONNECTIONS >= 1
    assert config.WARMUP_S >= 0


def test_every_field_of_a_config_reaches_a_shard_s_worker(tmp_path):
    """A field added to RunConfig and forgotten by ShardJob would be lost in every
    spread run: here each is set away from its default and must come back."""
    rows = tmp_path / "rows.csv"
    rows.write_text("user\nann\nbob\ncid\n")
    cfg = RunConfig(
        target="http://127.0.0.1:1/api",
        profile=ConstantRate(7.0),
        duration=3.0,
        scenario=load_scenario(GET),
        arrival="poisson",
        warmup=1.5,
        timeout=2.5,
        connections=3,
        client="httpx",
        seed=9,
        shard=(1, 3),
        start_at=1_900_000_000.0,
        client_options=ClientOptions(headers=(("X-Run", "1"),), insecure=True, max_body=1000),
        data=load_data(rows),
    )
    unset = RunConfig("http://127.0.0.1:1", ConstantRate(1), 1.0, cfg.scenario)
    # The live rate control is this process's (a spread run's rate is fixed): never shipped.
    here_only = ("rate_control",)
    for f in dataclasses.fields(RunConfig):  # the test sets every field, and away from its default
        if f.name not in ("target", "profile", "duration", "scenario", *here_only):
            assert getattr(cfg, f.name) != getattr(unset, f.name), f.name

    back = ShardJob.from_dict(ShardJob.from_config(cfg, GET, {}).to_dict()).config()
    assert back.rate_control is None
    for f in dataclasses.fields(RunConfig):
        mine, theirs = getattr(cfg, f.name), getattr(back, f.name)
        if f.name in here_only:
            continue
        if f.name == "profile":
            assert theirs.describe() == mine.describe()
        elif f.name == "scenario":  # imported again in the worker: its own class
            assert theirs.__name__ == mine.__name__
            assert theirs.task_weights() == mine.task_weights()
        else:
            assert theirs == mine, f.name
