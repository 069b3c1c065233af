"""The scenario layer: what an arrival runs.

- `base`: the API a scenario is written in (`Scenario`, `@task`);
- `picker`: drawing each arrival's task by weight;
- `data`: the rows of `--data FILE` a scenario reads (`self.data`);
- `loading`: a scenario class from `--scenario module:Class` or `file.py:Class`;
- `targets_file`: a `--targets` file (Vegeta's format) made a scenario;
- `bundled/`: the scenarios shipped with loadgen (`wagon`, the default mix).

`from loadgen.scenario import Scenario, task` works as `from loadgen import ...`.
"""

from loadgen.scenario.base import Scenario, task

__all__ = ["Scenario", "task"]
