"""locust.py: the same mix as loadgen's default scenario, and real Locust runs.

Locust always runs in a process of its own (importing it gevent-patches the
importer), against the bundled server on a free loopback port.
"""

import csv
import json
import math
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from loadgen.scenario.bundled.wagon import ADD_RANGE, FIB_RANGE, TASK_WEIGHTS, WAIT_TIME, WagonMix
from server.launch import free_port, start_gunicorn, stop_gunicorn, wait_until_serving
from tests.infra.helpers import REPO, clean_env
from tests.infra.mix import Call, summarise

LOCUSTFILE = REPO / "locust.py"
LOCUST = Path(sys.executable).with_name("locust")
CALLS_PER_TASK = 4000
# Locust's names for the three tasks' requests: (Type, Name) in its stats.
REQUESTS = {
    "index": ("GET", "/"),
    "compute_addition": ("POST", "/addNumbers"),
    "compute_fib": ("POST", "/computeFib"),
}


def loadgen_mix() -> dict[str, Any]:
    """What loadgen's default scenario sends, per task (its tasks return their requests)."""
    mix = WagonMix(random.Random(0))

    def run(name: str) -> dict[str, Any]:
        calls: list[Call] = []
        for _ in range(CALLS_PER_TASK):
            r = getattr(mix, name)()
            calls.append((r.method, r.path, json.loads(r.body) if r.body else None))
        return summarise(calls)

    return {name: run(name) for name in WagonMix.task_weights()}


@pytest.mark.slow
def test_locustfile_sends_the_same_mix_as_loadgens_default_scenario() -> None:
    probe_script = REPO / "tests" / "infra" / "locust_probe.py"
    probe = subprocess.run(
        [sys.executable, str(probe_script), str(LOCUSTFILE), str(CALLS_PER_TASK)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    locust = json.loads(probe.stdout)

    assert locust["weights"] == WagonMix.task_weights() == TASK_WEIGHTS
    # Same requests per task, and bodies drawn over the same inclusive ranges
    # (seeded, enough draws to hit both ends).
    assert locust["tasks"] == loadgen_mix()
    ranges = locust["tasks"]["compute_addition"]["ranges"]
    assert ranges == {"a": list(ADD_RANGE), "b": list(ADD_RANGE)}
    assert locust["tasks"]["compute_fib"]["ranges"] == {"iteration": list(FIB_RANGE)}
    sent = {name: task["requests"][0][:2] for name, task in locust["tasks"].items()}
    assert sent == {name: list(request) for name, request in REQUESTS.items()}
    # between(1, 5) without LOCUST_WAIT_SCALE.
    low, high = locust["wait"]
    assert WAIT_TIME[0] <= low < WAIT_TIME[0] + 0.05
    assert WAIT_TIME[1] - 0.05 < high <= WAIT_TIME[1]


@dataclass
class LocustRun:
    returncode: int
    stats: dict[tuple[str, str], dict[str, str]]  # (Type, Name) → the *_stats.csv row
    failures: list[dict[str, str]]  # *_failures.csv rows
    stderr: str

    def count(self, request: tuple[str, str], column: str = "Request Count") -> int:
        return int(self.stats[request][column])


def headless_locust(tmp_path: Path, settings: dict[str, str]) -> LocustRun:
    """50 users for 4 s, think time shortened 20x, against a fresh server."""
    port = free_port()
    server = start_gunicorn(
        f"127.0.0.1:{port}",
        2,
        log_dir=tmp_path / "logs",
        settings={"SENTRY_DSN": "", "SENTRY_KEY": "", **settings},
        cwd=tmp_path,  # no developer .env
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, server)
        prefix = tmp_path / "locust"
        argv = [str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "-H", base]
        argv += ["-u", "50", "-r", "50", "-t", "4s", "--csv", str(prefix), "--only-summary"]
        result = subprocess.run(
            argv,
            cwd=tmp_path,
            env={**clean_env(), "LOCUST_WAIT_SCALE": "0.05"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        stop_gunicorn(server)
    with open(f"{prefix}_stats.csv", newline="") as f:
        stats = {(row["Type"], row["Name"]): row for row in csv.DictReader(f)}
    with open(f"{prefix}_failures.csv", newline="") as f:
        failures = list(csv.DictReader(f))
    return LocustRun(result.returncode, stats, failures, result.stderr)


@pytest.fixture(scope="module")
def fixed_run(tmp_path_factory: pytest.TempPathFactory) -> LocustRun:
    return headless_locust(tmp_path_factory.mktemp("fixed"), {"LEGACY_BUGS": "0"})


@pytest.fixture(scope="module")
def legacy_run(tmp_path_factory: pytest.TempPathFactory) -> LocustRun:
    return headless_locust(tmp_path_factory.mktemp("legacy"), {"LEGACY_BUGS": "1"})


@pytest.mark.slow
def test_headless_run_hits_all_three_tasks_in_the_weights_proportions(
    fixed_run: LocustRun,
) -> None:
    counts = {task: fixed_run.count(request) for task, request in REQUESTS.items()}
    total = sum(counts.values())
    assert total == fixed_run.count(("", "Aggregated")), fixed_run.stats.keys()
    assert total >= 300, f"too few requests to judge the mix: {counts}"
    weight_sum = sum(TASK_WEIGHTS.values())
    for task, count in counts.items():
        # Each pick is independent: the count is binomial. Five standard
        # deviations: a correct mix fails about once in two million runs.
        p = TASK_WEIGHTS[task] / weight_sum
        tolerance = 5 * math.sqrt(p * (1 - p) / total)
        assert abs(count / total - p) < tolerance, (task, counts)


@pytest.mark.slow
def test_headless_run_against_the_fixed_server_has_no_failures(fixed_run: LocustRun) -> None:
    assert fixed_run.failures == []
    assert fixed_run.count(("", "Aggregated"), "Failure Count") == 0
    assert fixed_run.returncode == 0, fixed_run.stderr


@pytest.mark.slow
def test_headless_run_against_legacy_bugs_fails_on_add_numbers(legacy_run: LocustRun) -> None:
    add = REQUESTS["compute_addition"]
    # uint16 arithmetic: any negative operand fails, about 3 in 4 requests.
    assert legacy_run.count(add, "Failure Count") > legacy_run.count(add) / 2
    assert legacy_run.count(REQUESTS["index"], "Failure Count") == 0
    errors = {(row["Method"], row["Name"], row["Error"]) for row in legacy_run.failures}
    assert (*add, "LocustBadStatusCode(code=500)") in errors
    assert legacy_run.returncode == 1  # Locust's exit status when requests failed
