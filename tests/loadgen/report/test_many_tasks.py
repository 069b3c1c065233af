"""Many tasks (a --targets file of many paths): every one in summary.json, the
busiest TOP_TASKS one by one in the views and the rest as one row "others"."""

import io
import json
import re

import pytest
from rich.console import Console

from loadgen.core.results import RunResult
from loadgen.measure.recorder import Recorder
from loadgen.report.publish import publish
from loadgen.report.run_dir import load_run
from loadgen.report.summary import TOP_TASKS, build_summary, task_rows
from tests.support.cli import loadgen, summary
from tests.support.http_server import server_process
from tests.support.shard_states import fill, job, latencies

TASKS = 60


def many_tasks_result():
    """Task i got i + 1 responses (so the busiest are the last), over two seconds."""
    rec = Recorder(origin=0.0)
    names = [f"GET /p/{i}" for i in range(TASKS)]
    for second in range(2):
        for i, name in enumerate(names):
            fill(rec, latencies(i + 1, seed=i + 100 * second), task=name, second=second)
        rec.close_interval(second + 1.0)
    rec.settle_all()
    return RunResult(job(0, 1).config(), rec, 1000.0, 2.0, False, 3, names)


def rows_shown():
    return [f"GET /p/{i}" for i in range(TASKS - TOP_TASKS, TASKS)]


def test_summary_keeps_every_task_and_the_rest_past_the_busiest_as_one():
    s = build_summary(many_tasks_result(), {})
    assert len(s["tasks"]) == TASKS
    others = s["tasks_others"]
    rest = [f"GET /p/{i}" for i in range(TASKS - TOP_TASKS)]
    assert others["tasks"] == len(rest)
    assert others["requests"] == sum(s["tasks"][n]["requests"] for n in rest)
    # Its latency is of all its tasks' responses merged: within theirs.
    slowest = max(s["tasks"][n]["latency_ms"]["response"]["max"] for n in rest)
    assert others["latency_ms"]["response"]["max"] == slowest
    rows = [name for name, _ in task_rows(s)]
    assert rows[:TOP_TASKS] == rows_shown()
    assert rows[TOP_TASKS:] == [f"others ({len(rest)} tasks)", "total"]


def test_few_tasks_have_no_others_row():
    s = build_summary(many_tasks_result(), {})
    few = {**s, "tasks": dict(list(s["tasks"].items())[:TOP_TASKS])}
    del few["tasks_others"]
    assert [name for name, _ in task_rows(few)] == [*few["tasks"], "total"]


def test_views_and_files_show_the_busiest_and_others(tmp_path):
    out = tmp_path / "run"
    term = io.StringIO()
    published = publish(many_tasks_result(), {}, out=out, console=Console(file=term, width=200))
    assert published.not_written is None
    printed = term.getvalue()
    for kind in ("response", "service"):
        per_task = list(out.glob(f"{kind}-*.hgrm"))
        assert len(per_task) == TOP_TASKS + 1
        assert (out / f"{kind}-others.hgrm").is_file()
        assert not (out / f"{kind}-GET_p_0.hgrm").exists()  # the least busy is in others
    # Each table: the busiest, others, total.
    assert printed.count("GET /p/") == 2 * TOP_TASKS and printed.count("others (40 tasks)") == 2
    html = (out / "report.html").read_text()
    spectra = re.findall(r'aria-label="Percentile spectrum: ([^"]*)"', html)
    assert spectra == ["all tasks", *rows_shown(), "others (40 tasks)"]
    assert html.count("<td rowspan=2>GET /p/") == TOP_TASKS
    # Read back, the run renders the same; summary.json has every task.
    assert len(json.loads((out / "summary.json").read_text())["tasks"]) == TASKS
    assert len(load_run(out).histograms) == TASKS


def test_a_stop_while_writing_leaves_out_the_views_and_says_so(tmp_path):
    out = tmp_path / "run"
    published = publish(many_tasks_result(), {}, out=out, stopped=lambda: True)
    assert sorted(p.name for p in out.iterdir()) == ["intervals.hlog", "summary.json"]
    s = summary(out)
    assert s["run"]["files_not_written"] == [
        "response.hgrm, service.hgrm",
        "report.html",
        "the per-task .hgrm files",
    ]
    assert s["run"]["interrupted"] is False  # the run finished; only its views were cut
    note = published.not_written
    assert note is not None and "\n" not in note
    assert "report.html" in note and f"loadgen report {out}" in note
    # What was written is one whole run: `loadgen report` reads it back.
    assert len(load_run(out).summary["tasks"]) == TASKS


@pytest.mark.slow
def test_thousands_of_target_paths_through_the_command_line(tmp_path):
    with server_process() as url:
        targets = tmp_path / "targets.txt"
        targets.write_text("".join(f"GET {url}/p/{i}\n\n" for i in range(5_000)))
        out = tmp_path / "run"
        proc = loadgen("--host", url, "--targets", targets, "--rps", 200, "--duration", "1s",
                       "--seed", 3, "--out", out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    s = summary(out)
    assert len(s["tasks"]) > TOP_TASKS + 1  # 200 arrivals over 5 000 paths
    assert sum(t["requests"] for t in s["tasks"].values()) == s["requests"]
    rest = len(s["tasks"]) - TOP_TASKS
    assert s["tasks_others"]["tasks"] == rest
    # Each terminal table: TOP_TASKS task rows, then others, then total.
    assert proc.stdout.count("GET /p/") == 2 * TOP_TASKS
    assert proc.stdout.count(f"others ({rest} tasks)") == 2
    html = (out / "report.html").read_text()
    assert html.count("<td rowspan=2>GET /p/") == TOP_TASKS
    for kind in ("response", "service"):
        assert len(list(out.glob(f"{kind}-*.hgrm"))) == TOP_TASKS + 1
