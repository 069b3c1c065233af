"""The README and docs/ stay true: every example they show runs as written, or parses.

- Shell: each bash block is read by bash itself, its commands recorded, not run
  (tests/support/doc_examples.py), and so are the commands in the running text.
  Each command is one these tests know how to check (`CHECKS`): a `loadgen ...`
  is parsed by that command's own parser, and the files it reads are in the
  checkout or made by another example (an `--out` directory, a block the page
  says to save, a file a block writes); a `--start-at` is minutes away, not
  years; `make` targets are the Makefile's, their `ARGS` parsed by loadgen and
  their `LOCUST_ARGS` by Locust; compose files, scripts and their options exist.
- Python: every block compiles; scenarios run against the bundled server (or a
  loopback site with logins), every other block runs as a script, and what it
  prints is what its comment says.
- A block that cannot run here says why in a comment just before it,
  `<!-- not run: REASON -->`: it is parsed, never run, and the files it names
  are the reader's own.
- The targets example is `examples/targets.txt`, valid against the bundled
  server's endpoints.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import io
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from loadgen.commands.main import COMMANDS
from loadgen.commands.options.argtypes import UsageError
from tests.support.cli import ROOT, loadgen
from tests.support.doc_examples import (
    PAGES,
    Block,
    blocks,
    commands,
    inline_commands,
    saved_names,
)

# "", text and json: what a command printed or wrote, shown
LANGUAGES = {"bash", "python", "http", "csv", "text", "json", "yaml", ""}
EXAMPLES = ROOT / "examples"
# A --start-at in an example is one its reader waits for: minutes, not years.
NEAR_START_S = 3600
MAKEFILE = (ROOT / "Makefile").read_text()


@dataclass(frozen=True)
class Shown:
    """A command a page shows."""

    page: Path
    argv: tuple[str, ...]
    not_run: str | None = None  # why it cannot run here, when its block says

    def __str__(self) -> str:
        return f"{self.page.name}: {shlex.join(self.argv)}"


def stable_id(value: object) -> str:
    """A test's id: the same in every pytest-xdist worker, though an example
    computes a time (`--start-at $START`: epoch seconds)."""
    text = shlex.join(value) if isinstance(value, tuple) else str(value)
    return re.sub(r"\b\d{10}\b", "EPOCH", text)


def _read_pages() -> tuple[list[Shown], set[str], list[str]]:
    """Every command shown, the files the blocks' builtins made, bash's complaints."""
    shown, made, errors = [], set(), []
    for page in PAGES:
        for block in blocks(page, "bash"):
            with tempfile.TemporaryDirectory() as scratch:
                found = commands(block, Path(scratch))
            shown += [Shown(page, tuple(argv), block.not_run) for argv in found.argvs]
            made |= found.made
            if found.errors:
                errors.append(f"{page.name}: {found.errors.strip()}\n{block.text}")
        shown += [Shown(page, tuple(argv)) for argv in inline_commands(page)]
    return shown, made, errors


# When the blocks were expanded: a `$(date +%s)` in them is that moment's, and a
# start "in 30 s" is 30 s from then, however long the tests take to reach it.
EXPANDED_AT = time.time()
SHOWN, WRITTEN_BY_BLOCKS, BASH_ERRORS = _read_pages()


def program(argv: tuple[str, ...]) -> str:
    """The command's name: `loadgen` for `.venv/bin/loadgen` and `python -m loadgen`."""
    if argv[:3] in (("python", "-m", "loadgen"), (".venv/bin/python", "-m", "loadgen")):
        return "loadgen"
    return Path(argv[0]).name or argv[0]  # `.` (source) has no name of a file


def loadgen_call(argv: tuple[str, ...]) -> tuple[str, argparse.Namespace]:
    """(the loadgen command, its parsed arguments); UsageError if they do not parse,
    SystemExit for --help (its text not printed)."""
    words = list(argv[3:] if argv[1:3] == ("-m", "loadgen") else argv[1:])
    name = words.pop(0) if words and words[0] in COMMANDS else "run"
    with contextlib.redirect_stdout(io.StringIO()):
        return name, importlib.import_module(COMMANDS[name][0]).parser().parse_args(words)


def make_vars(argv: tuple[str, ...]) -> dict[str, str]:
    """A make command's variables (`ARGS="..."`), which make passes on to its recipe."""
    return dict(w.split("=", 1) for w in argv[1:] if "=" in w)


def loadgen_calls() -> list[tuple[Shown, tuple[str, ...]]]:
    """Every loadgen command the pages show, `make run ARGS=...` included, as argvs."""
    calls = []
    for cmd in SHOWN:
        if program(cmd.argv) == "loadgen":
            calls.append((cmd, cmd.argv))
        elif program(cmd.argv) == "make" and "ARGS" in make_vars(cmd.argv):
            calls.append((cmd, ("loadgen", *shlex.split(make_vars(cmd.argv)["ARGS"]))))
    return calls


def outputs() -> set[str]:
    """What the examples write: run directories (--out, merge's OUT), a Locust
    --csv prefix, files a block writes."""
    written = set(WRITTEN_BY_BLOCKS)
    for _, argv in loadgen_calls():
        try:
            _, args = loadgen_call(argv)
        except (UsageError, SystemExit):
            continue  # reported by the parse test
        written |= {
            str(getattr(args, a)) for a in ("out", "server_log_dir") if getattr(args, a, None)
        }
    for cmd in SHOWN:
        locust = shlex.split(make_vars(cmd.argv).get("LOCUST_ARGS", ""))
        if "--csv" in locust:
            written.add(locust[locust.index("--csv") + 1])
    return written


OUTPUTS = outputs()
# The options of each command that name a file or directory it reads.
INPUTS = {
    "run": ("scenario", "data", "targets", "ca_cert", "client_cert", "client_key"),
    "capacity": ("scenario", "data", "targets", "ca_cert", "client_cert", "client_key"),
    "report": ("run",),
    "compare": ("runs",),
    "merge": ("dirs",),
}


def missing_inputs(cmd: Shown, name: str, args: argparse.Namespace) -> list[str]:
    """The files a loadgen command reads that neither the checkout nor an example has."""
    missing = []
    for option in INPUTS.get(name, ()):
        values = getattr(args, option, None)
        for value in values if isinstance(values, list) else [values]:
            if value is None or str(value) == "-":
                continue
            if option == "scenario":
                missing += _missing_scenario(cmd.page, str(value))
            elif not (ROOT / value).exists() and str(value) not in OUTPUTS | saved_names(cmd.page):
                missing.append(str(value))
    return missing


def _missing_scenario(page: Path, spec: str) -> list[str]:
    """A `file.py:Class` is the page's own example (its class defined in a block)
    or a file of the checkout; a `module:Class` is importable."""
    where, _, klass = spec.rpartition(":")
    if where.endswith(".py"):
        defined = any(re.search(rf"^class {klass}\(", b.text, re.M) for b in blocks(page, "python"))
        return [] if defined or (ROOT / where).is_file() else [spec]
    return [] if importlib.util.find_spec(where) else [spec]


def check_loadgen(cmd: Shown, argv: tuple[str, ...] | None = None) -> None:
    """Parsed by the command's own parser (`argv`: make's ARGS given to loadgen), a
    --start-at minutes away, and the files it reads there to read."""
    try:
        name, args = loadgen_call(argv or cmd.argv)
    except UsageError as e:
        pytest.fail(f"{cmd}: {e}")
    except SystemExit as e:  # --help
        assert e.code == 0, str(cmd)
        return
    start_at = getattr(args, "start_at", None)
    if start_at is not None:
        ahead = start_at - EXPANDED_AT
        assert 0 < ahead < NEAR_START_S, f"{cmd}: a start its reader waits for"
    missing = [] if cmd.not_run else missing_inputs(cmd, name, args)
    assert not missing, f"{cmd}: reads {missing}, neither in the checkout nor made by an example"


def check_make(cmd: Shown) -> None:
    """Targets of the Makefile, variables it reads, `ARGS` that loadgen parses."""
    targets = [w for w in cmd.argv[1:] if "=" not in w]
    assert targets, f"{cmd}: name the target"
    for target in targets:
        assert re.search(rf"^{re.escape(target)}:", MAKEFILE, re.M), f"{cmd}: no such target"
    for var, value in make_vars(cmd.argv).items():
        assert f"$({var})" in MAKEFILE, f"{cmd}: the Makefile reads no {var}"
        if var == "ARGS":
            check_loadgen(cmd, ("loadgen", *shlex.split(value)))


def locust_ui_module():
    """infra/locust_ui.py (`make locust`'s script), imported: its parser and Locust's argv."""
    script = ROOT / "infra" / "locust_ui.py"
    spec = importlib.util.spec_from_file_location("locust_ui", script)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_python(cmd: Shown) -> None:
    """`python -m MODULE ...` (loadgen's arguments parsed) or `python SCRIPT --option ...`."""
    args = cmd.argv[1:]
    if program(cmd.argv) == "loadgen":
        check_loadgen(cmd)
    elif args[0] == "-m":
        assert importlib.util.find_spec(args[1]), f"{cmd}: no module {args[1]}"
        for word in args[2:]:  # its files: gunicorn's config
            if re.fullmatch(r"[\w/-]+/[\w.-]+\.\w+", word):
                assert (ROOT / word).is_file(), f"{cmd}: no {word}"
    elif args[0] == "infra/locust_ui.py":
        locust_ui_module().parser().parse_args(args[1:])
    else:
        script = ROOT / args[0]
        assert script.is_file(), f"{cmd}: no {args[0]}"
        source = script.read_text()
        # Its options may be defined in a module beside it that it imports
        # (bench/generator_max.py's measurement_args).
        for name in re.findall(r"^from (\w+) import", source, re.MULTILINE):
            if (script.parent / f"{name}.py").is_file():
                source += (script.parent / f"{name}.py").read_text()
        for option in (w.split("=")[0] for w in args[1:] if w.startswith("--")):
            assert f'"{option}"' in source, f"{cmd}: {args[0]} has no {option}"


def check_docker(cmd: Shown) -> None:
    """`docker compose -f FILE [--profile P] up --build [SERVICE]`: the file, the
    profile and the services are there."""
    words = list(cmd.argv[1:])
    assert words.pop(0) == "compose", str(cmd)
    options: dict[str, str] = {}
    while words[0].startswith("-"):
        option, value = words.pop(0), words.pop(0)
        options[option] = value
    compose = ROOT / options["-f"]
    assert compose.is_file(), f"{cmd}: no {compose.name}"
    services = yaml.safe_load(compose.read_text())["services"]
    if "--profile" in options:
        profiles = {p for s in services.values() for p in s.get("profiles", [])}
        assert options["--profile"] in profiles, f"{cmd}: no such profile"
    named = [w for w in words[1:] if not w.startswith("-")]
    assert set(named) <= set(services), f"{cmd}: no such service"


def check_cp(cmd: Shown) -> None:
    """`cp .env.example .env`: what is copied is in the checkout."""
    for source in cmd.argv[1:-1]:
        assert (ROOT / source).is_file(), f"{cmd}: no {source}"


def check_log_read(cmd: Shown) -> None:
    """`grep ... server/logs/error.log`: a log the server writes where it says."""
    log = cmd.argv[-1]
    assert (ROOT / log).parent.is_dir(), f"{cmd}: no {Path(log).parent}"
    assert Path(log).name in (ROOT / "server" / "logging.conf").read_text(), str(cmd)


def check_activate(cmd: Shown) -> None:
    """`. .venv/bin/activate`: the environment `make run` and `make test` build."""
    assert cmd.argv[1:] == (".venv/bin/activate",), str(cmd)
    assert re.search(r"^VENV := \.venv$", MAKEFILE, re.M)


def check_nothing(cmd: Shown) -> None:
    """Needs no file of the checkout (`mkdir -p reports`, `| sort`)."""


CHECKS: dict[str, Callable[[Shown], None]] = {
    "loadgen": check_loadgen,
    "python": check_python,
    "make": check_make,
    "docker": check_docker,
    "cp": check_cp,
    "grep": check_log_read,
    ".": check_activate,
    "mkdir": check_nothing,
    "sort": check_nothing,
}


def test_every_page_is_there_and_the_readme_is_short():
    names = {p.name for p in PAGES}
    assert names >= {"README.md", "loadgen.md", "measuring.md", "architecture.md",
                     "scaling-out.md", "server.md", "locust-and-containers.md"}  # fmt: skip
    assert len((ROOT / "README.md").read_bytes()) <= 10 * 1024
    for page in PAGES:  # links between the pages point at pages that exist
        for target in re.findall(r"\]\(((?:docs/)?[\w-]+\.md)", page.read_text()):
            assert (page.parent / target).is_file(), f"{page.name} links to missing {target}"


def test_bash_reads_every_shell_block():
    assert not BASH_ERRORS, "\n\n".join(BASH_ERRORS)
    assert len(SHOWN) > 40  # the pages were read: each of their commands is checked below


def check(cmd: Shown) -> None:
    """The check of the command's kind; a kind not in CHECKS fails."""
    checker = CHECKS.get(program(cmd.argv))
    assert checker, f"{cmd}: a command these tests do not know: add a check to CHECKS"
    checker(cmd)


@pytest.mark.parametrize("cmd", SHOWN, ids=stable_id)
def test_every_command_shown_parses_and_finds_its_files(cmd: Shown):
    check(cmd)


LOADGEN_MD = ROOT / "docs" / "loadgen.md"


@pytest.mark.parametrize(
    "argv",
    [
        ("loadgen", "--rps", "500", "--targets", "vegeta-targets.txt"),  # no such file
        ("loadgen", "--rps", "100", "--scenario", "calc.py:Calculater"),  # no such example
        ("loadgen", "report", "reports/run7"),  # no example writes it
        ("loadgen", "--rps", "100", "--shard", "0/4", "--out", "r", "--start-at",
         str(int(time.time()) + 2 * 86400)),  # a start two days away
        ("loadgen", "--rps", "1000", "--start-at", "2030-01-01T00:00:00Z"),  # years: refused
        ("loadgen", "--rsp", "100"),  # a typo
        ("make", "run", "ARGS=--rps 100 --durration 5s"),
        ("make", "loadtest"),
        ("python", "bench/send_lag.py", "--agains"),
        ("docker", "compose", "-f", "docker-compose-task-3.yml", "up"),
        ("wrk", "-t2", "http://127.0.0.1:8000/"),  # a command no check knows
    ],
    ids=stable_id,
)  # fmt: skip
def test_a_wrong_example_fails_its_check(argv):
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        check(Shown(LOADGEN_MD, argv))


def test_bash_reads_a_block_as_it_would_run_it(tmp_path):
    block = Block(LOADGEN_MD, "bash", """\
START=$(( $(date +%s) + 30 ))   # a comment
for i in 0 1; do loadgen --shard $i/2 --start-at $START --header 'A: "b c"' & done; wait
echo '{"a": 1}' > add.json
METRICS_PORT=9100 make serve | sort
""", None)  # fmt: skip
    found = commands(block, tmp_path)
    assert not found.errors
    start = str(int(time.time()) + 30)
    shards = found.argvs[:2]
    assert shards == [["loadgen", "--shard", f"{i}/2", "--start-at", start, "--header", 'A: "b c"']
                      for i in (0, 1)]  # fmt: skip
    assert found.argvs[2:] == [["make", "serve"], ["sort"]]
    assert found.made == {"add.json"} and (tmp_path / "add.json").read_text() == '{"a": 1}\n'
    broken = commands(Block(LOADGEN_MD, "bash", "for i in 1; loadgen\n", None), tmp_path)
    assert "syntax error" in broken.errors


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_two_runs_of_a_page_write_one_folder(page):
    """A run never writes over another's folder unless --force: a reader running a
    page's examples in turn gets each of its folders once."""
    folders = []
    for cmd, argv in loadgen_calls():
        with contextlib.suppress(UsageError, SystemExit):  # the parse test says why
            name, args = loadgen_call(argv)
            if cmd.page == page and name in ("run", "capacity", "merge") and args.out:
                folders += [] if getattr(args, "force", False) else [str(args.out)]
    assert not {f for f in folders if folders.count(f) > 1}, f"{page.name}: {folders}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_block_is_of_a_language_checked_here(page):
    for block in blocks(page):
        assert block.language in LANGUAGES, f"{page.name}: a ```{block.language} block"
        assert block.not_run is None or block.language in ("bash", "python"), block.text


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_yaml_block_parses(page):
    for block in blocks(page):
        if block.language == "yaml":
            assert isinstance(yaml.safe_load(block.text), dict), block.text


PATH = re.compile(
    r"(?<![\w./])((?:bench|infra|loadgen|server|tests|docs|examples)/[\w/.-]*\w"
    r"\.(?:py|md|yml|yaml|conf|txt|json))"
)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_file_named_exists(page):
    named = set(PATH.findall(page.read_text()))
    missing = sorted(path for path in named if not (ROOT / path).is_file())
    assert not missing, f"{page.name} names files that do not exist: {missing}"


@pytest.mark.slow
def test_the_help_commands_shown_run():
    helps = [argv for cmd, argv in loadgen_calls() if "--help" in argv]
    assert helps
    for argv in helps:
        words = argv[3:] if argv[1:3] == ("-m", "loadgen") else argv[1:]
        proc = loadgen(*words, timeout=30)
        assert proc.returncode == 0 and proc.stdout.startswith("usage:"), argv


LOCUST_PARSES = """\
import json, sys
from locust.argument_parser import get_parser
for argv in json.loads(sys.argv[1]):
    get_parser(default_config_files=[]).parse_args(argv)
"""


@pytest.mark.slow
def test_the_locust_arguments_shown_parse_as_make_locust_passes_them():
    locust_command = locust_ui_module().locust_command
    argvs = [
        locust_command("http://127.0.0.1:8000", "127.0.0.1", 8089, shlex.split(extra))[1:]
        for cmd in SHOWN
        if (extra := make_vars(cmd.argv).get("LOCUST_ARGS"))
    ]
    assert argvs
    # Its own process: importing Locust gevent-patches the importer. Without a
    # PYTHONPATH: the checkout on it (as its tests are run) puts its locust.py
    # in the place of the locust package.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", LOCUST_PARSES, json.dumps(argvs)], env=env,
                          capture_output=True, text=True, timeout=60, cwd=EXAMPLES)  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_the_docs_python_blocks_compile():
    for page in PAGES:
        for block in blocks(page, "python"):
            compile(block.text, str(page), "exec")


SCENARIO_CLASS = re.compile(r"^class (\w+)\(Scenario\)", re.M)
PYTHON_BLOCKS = [b for page in PAGES for b in blocks(page, "python") if b.not_run is None]
SCENARIO_EXAMPLES = [b for b in PYTHON_BLOCKS if SCENARIO_CLASS.search(b.text)]
# The sessions example logs in: the bundled server has no login, a loopback site has.
LOGIN_EXAMPLES = [b for b in SCENARIO_EXAMPLES if '"/login"' in b.text]
SCENARIO_EXAMPLES = [b for b in SCENARIO_EXAMPLES if b not in LOGIN_EXAMPLES]
SCRIPTS = [b for b in PYTHON_BLOCKS if not SCENARIO_CLASS.search(b.text)]


def example_id(block: Block) -> str:
    klass = SCENARIO_CLASS.search(block.text)
    return f"{block.page.name}:{klass[1] if klass else block.text.splitlines()[0]}"


def run_example(tmp_path, *args):
    """loadgen against the bundled server for a second; its summary, checked to be clean."""
    out = tmp_path / "run"
    proc = loadgen("--rps", 40, "--duration", "1s", *args, "--out", out, "--quiet", timeout=60)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["errors"]["total"] == 0 and summary["run"]["exception"] is None
    assert summary["requests"] >= 40
    return summary


@pytest.mark.slow
@pytest.mark.parametrize("example", SCENARIO_EXAMPLES, ids=example_id)
def test_the_scenario_examples_run_against_the_bundled_server(tmp_path, example):
    (tmp_path / "example.py").write_text(example.text)
    klass = SCENARIO_CLASS.search(example.text)[1]
    data = []
    if "self.data" in example.text:  # the rows shown beside it
        [rows] = blocks(example.page, "csv")
        (tmp_path / "rows.csv").write_text(rows.text)
        data = ["--data", tmp_path / "rows.csv"]
    run_example(tmp_path, "--scenario", f"{tmp_path / 'example.py'}:{klass}", *data)


@pytest.mark.slow
def test_the_login_example_sends_its_cookie_and_token_to_a_site_with_logins(tmp_path):
    from tests.support.http_server import server_process

    [example] = LOGIN_EXAMPLES
    (tmp_path / "login.py").write_text(example.text)
    klass = SCENARIO_CLASS.search(example.text)[1]
    out = tmp_path / "run"
    with server_process(app="logins") as url:  # 401 to a request without both
        proc = loadgen("--host", url, "--rps", 20, "--duration", "1s", "--out", out, "--quiet",
                       "--scenario", f"{tmp_path / 'login.py'}:{klass}", timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["errors"]["total"] == 0 and summary["run"]["exception"] is None
    assert summary["arrivals"] == 20 and summary["requests"] == 3 * 20  # log in, then two


@pytest.mark.slow
@pytest.mark.parametrize("example", SCRIPTS, ids=example_id)
def test_the_python_scripts_shown_run_and_print_what_they_say(tmp_path, example):
    script = tmp_path / "example.py"
    script.write_text(example.text)
    proc = subprocess.run([sys.executable, script], cwd=ROOT, capture_output=True, text=True,
                          timeout=90)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for said in re.findall(r"^\s*print\(.*\)\s+#\s*(.+)$", example.text, re.M):
        assert said in proc.stdout


def test_the_targets_example_is_examples_targets_txt_for_the_bundled_servers_endpoints():
    from loadgen.scenario.targets_file import parse_targets
    from server.main import app

    [shown] = [b for page in PAGES for b in blocks(page, "http")]
    targets = EXAMPLES / "targets.txt"
    assert shown.text == targets.read_text()
    endpoints = {(m, r.path) for r in app.routes for m in getattr(r, "methods", ())}
    for host in (None, "http://127.0.0.1:8000"):  # the bundled server, or one of yours
        parsed = parse_targets(targets.read_text(), str(targets), EXAMPLES, host)
        assert {(t.method, t.path) for t in parsed} <= endpoints
        assert all(t.body is not None for t in parsed if t.method == "POST")


@pytest.mark.slow
def test_the_targets_example_runs_against_the_bundled_server(tmp_path):
    summary = run_example(tmp_path, "--targets", EXAMPLES / "targets.txt")
    assert set(summary["tasks"]) == {"GET /", "POST /addNumbers", "POST /computeFib"}


@pytest.mark.slow
def test_bench_scripts_show_their_help():
    for script in sorted((ROOT / "bench").glob("*.py")):
        text = script.read_text()
        if "argparse" in text or "measurement_args(" in text:
            proc = subprocess.run([sys.executable, script, "--help"], capture_output=True,
                                  text=True, timeout=60, cwd=ROOT)  # fmt: skip
            assert proc.returncode == 0, f"{script.name}: {proc.stderr}"
