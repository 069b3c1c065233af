"""`--junit FILE` (run, capacity, report): the verdicts as a JUnit test report for CI.

The document is built in `report/junit.py`; here are the option, shared by
the commands, and what a command's exit status makes of the `run` case.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from loadgen.commands.capacity_search import Level
from loadgen.commands.options.argtypes import out_dir
from loadgen.commands.options.exitcode import ExitCode
from loadgen.commands.options.groups import Group
from loadgen.report.junit import capacity_suites, run_suite, write_junit
from loadgen.report.summary_contract import Summary

# Statuses of a run that was made as asked (its SLOs judge it, case by case).
JUDGED = (ExitCode.OK, ExitCode.SLO_FAILED)


def junit_file(text: str) -> Path:
    """A file to write: not a directory, its folder creatable (made when written)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory: give the file's name")
    try:
        out_dir(str(path.parent))
    except argparse.ArgumentTypeError as e:
        raise argparse.ArgumentTypeError(f"{text}: {e}") from None
    return path


def add_junit_option(group: Group | argparse.ArgumentParser, what: str) -> None:
    """--junit FILE on `group`; `what` says what the report holds for this command."""
    group.add_argument(
        "--junit",
        type=junit_file,
        metavar="FILE",
        help=f"also write {what} as a JUnit XML test report, for CI (one case per SLO)",
    )


def write_run_junit(path: Path | None, summary: Summary, status: ExitCode, why: str = "") -> None:
    """A run's report (nothing without --junit): its SLOs, and the run itself an
    error when it was not completed as asked: `why` (no response at all, say),
    else what its status means."""
    if path is None:
        return
    problem = why or (None if status in JUDGED else status.meaning)
    if problem and status not in JUDGED:
        problem = f"exit {int(status)}: {problem}"
    write_junit(path, [run_suite(summary, problem)], "loadgen run")


def write_capacity_junit(
    path: Path | None, report: dict[str, Any], levels: Sequence[Level], status: ExitCode
) -> None:
    """A capacity search's report (nothing without --junit): the `capacity` case
    fails unless a limit was found (exit 0), saying the answer; then each level."""
    if path is None:
        return
    problem = None if status == ExitCode.OK else f"exit {int(status)}: {report['answer']}"
    done = [(lv.rps, lv.verdict, lv.reasons, lv.summary) for lv in levels if lv.summary]
    write_junit(path, capacity_suites(report, done, problem), "loadgen capacity")
