"""A run directory (`--out DIR`): writing a run's files, and reading them back.

- `summary.json`: the summary contract (see `summary.py`), written last: its
  presence says the other files are complete.
- `response.hgrm`, `service.hgrm` (all tasks) and `<kind>-<task>.hgrm` (the
  task's name made fit for a file name: `file_names`): the
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

import io
import json
import re
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram

from loadgen.core.results import RunResult
from loadgen.measure.hlog import read_hlog, write_hlog
from loadgen.report.html import render_html
from loadgen.report.run_data import RunData, from_intervals, from_recorder
from loadgen.report.summary import check_summary, timed_responses

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


def write_hgrm(path: Path, h: HdrHistogram) -> None:
    buf = io.BytesIO()
    h.output_percentile_distribution(buf, 1000.0)  # µs → ms
    path.write_bytes(buf.getvalue())


def write_report(out: Path, run: RunData) -> Path:
    path = out / REPORT
    path.write_text(render_html(run))
    return path


def write_run(out: Path, summary: dict[str, Any], result: RunResult) -> list[Path]:
    """Write all of a run's files; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    rec = result.recorder
    written = []
    files = file_names(list(rec.tasks))
    for kind in ("response", "service"):
        path = out / f"{kind}.hgrm"
        write_hgrm(path, rec.total(kind))
        written.append(path)
        for task, stats in rec.tasks.items():
            path = out / f"{kind}-{files[task]}.hgrm"
            write_hgrm(path, getattr(stats, kind))
            written.append(path)
    hlog = out / HLOG
    with hlog.open("w") as f:
        write_hlog(f, result.started_at, rec.intervals)
    written.append(hlog)
    written.append(write_report(out, from_recorder(summary, rec)))
    # The summary goes last: its presence says the other files are complete.
    path = out / SUMMARY
    path.write_text(json.dumps(summary, indent=2) + "\n")
    written.append(path)
    return written
