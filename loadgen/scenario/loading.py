"""Loading a scenario class from `--scenario module:Class` or `file.py:Class`."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import random
import sys
from pathlib import Path
from typing import Any

from loadgen.scenario.base import Scenario, new_scenario
from loadgen.scenario.data import DataFile

DEFAULT_SCENARIO = "loadgen.scenario.bundled.wagon:WagonMix"


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
