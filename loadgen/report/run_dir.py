"""A run directory (`--out DIR`): writing a run's files, and reading them back.

- `summary.json`: the summary contract (see `summary.py`), written last: its
  presence says the other files are complete.
- `response.hgrm`, `service.hgrm` (all tasks) and `<kind>-<task>.hgrm` (the
  task's name made fit for a file name: `file_names`) for each task the
  tables show, the rest merged in `<kind>-others.hgrm` (`hgrm_groups`): the
  percentile distribution in the HdrHistogram/wrk2 layout (Value in ms,
  Percentile, TotalCount, 1/(1-Percentile), then the Mean/Max/Total footer),
  which HdrHistogram's online plotter and `hdr-plot` read.
- `intervals.hlog`: every one-second interval histogram, tagged
  `response:<task>` / `service:<task>` (see `measure/hlog.py`).
- `report.html`: the self-contained page of plots and tables (`html.py`).

`load_run` reads a directory back as `RunData` (see `run_data.py`), exactly
as the live run rendered it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loadgen.core.results import RunResult
from loadgen.measure.histogram import Histogram, merged, percentile_distribution
from loadgen.measure.hlog import read_hlog, write_hlog
from loadgen.measure.numbers import finite_numbers, json_text
from loadgen.measure.recorder import Recorder
from loadgen.report.html import render_html
from loadgen.report.run_data import RunData, from_intervals, from_recorder
from loadgen.report.summary import OTHERS, task_groups, timed_responses
from loadgen.report.summary_contract import Summary, check_summary

# A run directory's layout.
SUMMARY = "summary.json"
HLOG = "intervals.hlog"
REPORT = "report.html"
# What may not be in a file name made of a task's name (a slash, a space, ...).
_UNSAFE = re.compile(r"[^\w.-]+", re.ASCII)


def load_run(directory: Path) -> RunData:
    """Read a run directory written with --out, checked: ValueError says what is wrong.

    The interval log must hold every timed response the summary counts, task by
    task (what `loadgen report` recomputes from it must be the same run).
    """
    summary_path, hlog_path = directory / SUMMARY, directory / HLOG
    for path in (summary_path, hlog_path):
        if not path.is_file():
            raise ValueError(f"{directory} is not a loadgen run: no {path.name}")
    try:
        summary = json.loads(summary_path.read_text())
        check_summary(summary)
        finite_numbers(summary, negative=True)  # NaN and Infinity (a skew may be negative)
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        raise ValueError(f"{summary_path}: {e}") from None
    run = from_intervals(summary, ((iv.tag, iv.start, iv.histogram) for iv in read_hlog(hlog_path)))
    _check_intervals(run, hlog_path)
    return run


def _check_intervals(run: RunData, hlog_path: Path) -> None:
    """Each task's timed responses in the log are the summary's (`timed_responses`)."""
    for name, task in run.summary["tasks"].items():
        expected = timed_responses(task)
        histograms = run.histograms.get(name)
        logged = histograms["response"].get_total_count() if histograms else 0
        if logged != expected:
            raise ValueError(
                f"{hlog_path} holds {logged} timed responses of task {name!r} where "
                f"summary.json counts {expected}: the files are not of one run (or one was cut)"
            )


def file_names(tasks: list[str]) -> dict[str, str]:
    """Each task's name as it goes into a file name: `GET /items` (a --targets
    task) is `GET_items`, a method's name stays as it is; two that would be
    the same are told apart by a number (`GET_a_b-2`)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for task in tasks:
        base = name = _UNSAFE.sub("_", task)
        n = 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        names[task] = name
    return names


def write_hgrm(path: Path, h: Histogram) -> None:
    """A histogram as HdrHistogram's percentile distribution, in ms."""
    path.write_bytes(percentile_distribution(h, 1000.0))  # µs → ms


def write_report(out: Path, run: RunData) -> Path:
    """report.html of `run`; its path."""
    path = out / REPORT
    path.write_text(render_html(run, name=out.resolve().name))
    return path


def hgrm_groups(summary: Summary, rec: Recorder) -> dict[str, dict[str, Histogram]]:
    """Group → kind → histogram, for a `<kind>-<group>.hgrm` file each: the tasks
    the tables show one by one, then the rest merged as OTHERS (`task_groups`)."""
    shown, rest = task_groups(summary["tasks"])
    groups = {name: rec.histograms()[name] for name in shown}
    if rest:
        groups[OTHERS] = {
            kind: merged(getattr(rec.tasks[name], kind) for name in rest)
            for kind in ("response", "service")
        }
    return groups


def write_run(
    out: Path,
    summary: Summary,
    result: RunResult,
    stopped: Callable[[], bool] = lambda: False,
) -> Written:
    """Write a run's files. The measurements first, whatever happens: the
    interval log (with summary.json, `loadgen report DIR` makes the views again).
    Then the views, asking `stopped` before each: once it says a stop came, the
    views still to write are left out. summary.json is written last, as always,
    naming what was left out (`run.files_not_written`): its presence says the
    files it does not name are complete."""
    out.mkdir(parents=True, exist_ok=True)
    rec = result.recorder
    hlog = out / HLOG
    with hlog.open("w") as f:
        write_hlog(f, result.started_at, rec.intervals)
    written = Written([hlog])

    def totals() -> list[Path]:
        paths = [out / f"{kind}.hgrm" for kind in ("response", "service")]
        for path, kind in zip(paths, ("response", "service"), strict=True):
            write_hgrm(path, rec.total(kind))
        return paths

    def report() -> list[Path]:
        return [write_report(out, from_recorder(summary, rec))]

    def per_task() -> list[Path]:
        groups = hgrm_groups(summary, rec)
        files = file_names(list(groups))
        paths = []
        for group, by_kind in groups.items():
            for kind, h in by_kind.items():
                path = out / f"{kind}-{files[group]}.hgrm"
                write_hgrm(path, h)
                paths.append(path)
        return paths

    for what, step in (
        ("response.hgrm, service.hgrm", totals),
        (REPORT, report),
        ("the per-task .hgrm files", per_task),
    ):
        if stopped():
            written.skipped.append(what)
        else:
            written.paths += step()
    if written.skipped:
        summary["run"]["files_not_written"] = written.skipped
    # The summary goes last: its presence says the other files are complete.
    path = out / SUMMARY
    path.write_text(json_text(summary, indent=2) + "\n")
    written.paths.append(path)
    return written


@dataclass
class Written:
    """The files `write_run` wrote, and what it left out after a stop (in words)."""

    paths: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def note(self, out: Path) -> str | None:
        """The one line that says what was not written (None: everything was)."""
        if not self.skipped:
            return None
        return (
            f"stopped while writing the files: {', '.join(self.skipped)} not written "
            f"(`loadgen report {out}` writes report.html from the others)"
        )
