"""Publishing a run: summary, verdicts, files, then the terminal."""

import io
import json

from rich.console import Console

from loadgen.core.results import RunResult
from loadgen.report.publish import publish
from loadgen.report.slo import parse_slo
from tests.support.shard_states import job, latencies, recorder


def result():
    rec = recorder([latencies(200, 1), latencies(200, 2)], errors=["timeout"])
    return RunResult(job(0, 1).config(), rec, 1000.0, 2.0, False, 3, ["get"])


def console():
    return Console(file=io.StringIO(), width=200)


def test_files_summary_and_verdicts(tmp_path):
    term = console()
    slos = [parse_slo("errors<1%"), parse_slo("p99<1000s")]
    published = publish(result(), {"seed": 7}, slos, out=tmp_path, console=term)
    assert [o.passed for o in published.outcomes] == [True, True]  # 1 error in 401
    assert published.slos_passed
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk == published.summary and on_disk["run"]["seed"] == 7
    assert [r["passed"] for r in on_disk["slo"]] == [True, True]
    assert (tmp_path / "intervals.hlog").is_file() and (tmp_path / "report.html").is_file()
    out = term.file.getvalue()
    assert "Response time" in out and "pass  errors<1%" in out


def test_quiet_keeps_the_verdicts_and_no_out_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    term = console()
    published = publish(result(), {}, [parse_slo("p50<1us")], console=term, quiet=True)
    assert not published.slos_passed
    out = term.file.getvalue()
    assert "Response time" not in out and "FAIL  p50<1us" in out
    assert list(tmp_path.iterdir()) == []
