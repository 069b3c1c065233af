"""Where a run's files go: a folder of its own under reports/ by default, never a run
written over without --force, and the link to its page printed last."""

import argparse
import datetime as dt
import re
from pathlib import Path

import pytest

from loadgen.commands.main import main
from loadgen.commands.options.argtypes import UsageError
from loadgen.commands.options.output import RUN_FILES, remove_unused, run_directory, run_name
from tests.support.cli import GET_SCENARIO, ROOT, loadgen
from tests.support.http_server import server_process

NOW = dt.datetime(2026, 12, 6, 1, 2, 3)
STAMP = r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d"
# The scenario by its absolute path: these runs start in a folder of their own.
GET = f"{ROOT / GET_SCENARIO.partition(':')[0]}:Get"
DEAD = "http://127.0.0.1:9"


def args(out=None, name=None, force=False):
    return argparse.Namespace(out=out, name=name, force=force)


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A working directory of its own: reports/ is made under it."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    remove_unused()


def test_the_default_folder_is_named_by_the_time_and_a_taken_name_gets_a_suffix(here):
    first = run_directory(args(), now=NOW)
    second = run_directory(args(), now=NOW)
    capacity = run_directory(args(), "capacity-", now=NOW)
    third = run_directory(args(), now=NOW)
    assert [str(p) for p in (first, second, third)] == [
        "reports/2026-12-06T01-02-03",
        "reports/2026-12-06T01-02-03-2",
        "reports/2026-12-06T01-02-03-3",
    ]
    assert str(capacity) == "reports/capacity-2026-12-06T01-02-03"
    assert all(p.is_dir() for p in (first, second, third, capacity))  # made at once


@pytest.mark.parametrize("held", RUN_FILES)
def test_a_chosen_folder_that_holds_a_run_is_refused_unless_forced(here, held):
    (here / "mine").mkdir()
    (here / "mine" / held).write_text("{}")
    with pytest.raises(UsageError, match=rf"--out: mine holds a run already \({held}\).*--force"):
        run_directory(args(out=Path("mine")))
    assert run_directory(args(out=Path("mine"), force=True)) == Path("mine")
    (here / "reports" / "kept").mkdir(parents=True)
    (here / "reports" / "kept" / held).write_text("{}")
    with pytest.raises(UsageError, match="--name: reports/kept holds a run already"):
        run_directory(args(name="kept"))
    assert run_directory(args(name="kept", force=True)) == Path("reports/kept")


def test_a_chosen_folder_without_a_run_is_taken_and_made(here):
    (here / "empty").mkdir()
    assert run_directory(args(out=Path("empty"))) == Path("empty")
    assert run_directory(args(out=Path("new/deep"))).is_dir()
    assert run_directory(args(name="first")) == Path("reports/first")
    with pytest.raises(UsageError, match="give one"):
        run_directory(args(out=Path("x"), name="y"))


def test_folders_left_empty_are_removed_and_no_other(here):
    made = run_directory(args(), now=NOW)
    used = run_directory(args(name="used"))
    (used / "summary.json").write_text("{}")
    (here / "existing").mkdir()
    given = run_directory(args(out=Path("existing")))
    remove_unused()
    assert not made.exists()  # made here and never written to
    assert used.is_dir() and given.is_dir()  # a file in it; there before the run


@pytest.mark.parametrize("name", ["run-1", "2026-12-06T01-02-03", "été_2", "v1.2"])
def test_a_plain_folder_name_is_a_name(name):
    assert run_name(name) == name


@pytest.mark.parametrize("name", ["a/b", "..", ".hidden", "a\nb", "", "a b", "x" * 256])
def test_anything_else_is_refused(name):
    with pytest.raises(argparse.ArgumentTypeError, match="not a plain folder name"):
        run_name(name)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (("--name", "../up"), "not a plain folder name"),
        (("--name", "two\nlines"), "not a plain folder name"),
        (("--name", "a", "--out", "b"), "give one"),
    ],
)
def test_misuse_is_one_line_and_exit_2(here, capsys, extra, says):
    assert main(["--rps", "5", "--host", DEAD, *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err
    assert not (here / "reports").exists() or not any((here / "reports").iterdir())


@pytest.mark.parametrize("command", [[], ["capacity"]], ids=["run", "capacity"])
def test_a_run_is_not_written_over_before_any_load_is_sent(here, capsys, command):
    (here / "old").mkdir()
    (here / "old" / "summary.json").write_text('{"kept": true}')
    rate = [] if command else ["--rps", "5"]
    assert main([*command, *rate, "--host", DEAD, "--out", "old"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("loadgen: error: --out: old holds a run already (summary.json)")
    assert err.count("\n") == 1
    assert (here / "old" / "summary.json").read_text() == '{"kept": true}'


@pytest.mark.slow
def test_a_run_writes_its_own_folder_and_ends_with_the_link_to_its_page(tmp_path):
    with server_process() as url:
        quick = ("--host", url, "--rps", 20, "--duration", "1s", "--scenario", GET)
        proc = loadgen(*quick, "--slo", "errors<50%", cwd=tmp_path, timeout=60)
        quiet = loadgen(*quick, "--quiet", cwd=tmp_path, timeout=60)
        named = loadgen(*quick, "--name", "mine", cwd=tmp_path, timeout=60)
    for p in (proc, quiet, named):
        assert p.returncode == 0, p.stderr
    runs = sorted(p for p in (tmp_path / "reports").iterdir() if p.name != "mine")
    assert len(runs) == 2 and all(re.fullmatch(STAMP + "(-2)?", p.name) for p in runs)
    assert all((p / "summary.json").is_file() and (p / "report.html").is_file() for p in runs)
    lines = proc.stdout.splitlines()
    # Last of all, after the SLO verdicts: the page, as a link a terminal opens.
    assert lines[-1] == f"report: {(runs[0] / 'report.html').resolve().as_uri()}"
    assert lines[-2].startswith("pass  errors<50%")
    assert quiet.stdout == ""  # --quiet still writes the files (the second folder)
    page = tmp_path / "reports" / "mine" / "report.html"
    assert named.stdout.splitlines()[-1] == f"report: {page.resolve().as_uri()}"


@pytest.mark.slow
def test_a_capacity_search_writes_its_own_folder_and_ends_with_its_link(tmp_path):
    with server_process() as url:
        proc = loadgen("capacity", "--host", url, "--scenario", GET, "--level", "1s",
                       "--cooldown", "0.1s", "--start", 20, "--max-rps", 20, "--min-responses", 0,
                       "--slo", "errors<1%", cwd=tmp_path, timeout=60)  # fmt: skip
    assert proc.returncode == 4, proc.stderr  # no limit up to --max-rps
    (folder,) = (tmp_path / "reports").iterdir()
    assert re.fullmatch("capacity-" + STAMP, folder.name)
    assert (folder / "capacity.json").is_file()
    assert (folder / "levels" / "20.0rps" / "summary.json").is_file()
    page = (folder / "capacity.html").resolve().as_uri()
    assert proc.stdout.splitlines()[-1] == f"report: {page}"
