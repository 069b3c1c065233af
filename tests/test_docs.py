"""The README and docs/ stay true: every command they show parses, or runs.

Each `loadgen ...` line of a ```bash block is parsed by that command's real
parser (a typo in an option fails here, not in a reader's terminal); `make`
targets, files and scripts they name must exist; the fast commands run. The
scenario examples of docs/loadgen.md (with its CSV rows, for the one that reads
them) and its targets file run against the bundled server.
"""

import importlib
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from loadgen.commands.main import COMMANDS
from loadgen.commands.options.argtypes import UsageError
from tests.support.cli import ROOT, loadgen

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LOADGEN = re.compile(r"^(?:\.venv/bin/)?(?:loadgen|python -m loadgen)(?:\s|$)")


def code_blocks(page: Path, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", page.read_text(), re.S)


def shell_lines(page: Path) -> list[str]:
    """The commands of a page's bash blocks: continuations joined, comments and output gone."""
    lines = []
    for block in code_blocks(page, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def loadgen_argv(line: str) -> list[str]:
    words = shlex.split(line)
    return words[3:] if words[:3] == ["python", "-m", "loadgen"] else words[1:]


def all_lines(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    return [(p.name, ln) for p in PAGES for ln in shell_lines(p) if pattern.search(ln)]


def test_every_page_is_there_and_the_readme_is_short():
    names = {p.name for p in PAGES}
    assert names >= {"README.md", "loadgen.md", "measuring.md", "architecture.md",
                     "scaling-out.md", "server.md", "locust-and-containers.md"}  # fmt: skip
    assert len((ROOT / "README.md").read_bytes()) <= 10 * 1024
    for page in PAGES:  # links between the pages point at pages that exist
        for target in re.findall(r"\]\(((?:docs/)?[\w-]+\.md)", page.read_text()):
            assert (page.parent / target).is_file(), f"{page.name} links to missing {target}"


@pytest.mark.parametrize(("page", "line"), all_lines(LOADGEN))
def test_every_loadgen_command_shown_parses(page, line):
    argv = loadgen_argv(line)
    name = argv.pop(0) if argv and argv[0] in COMMANDS else "run"
    parser = importlib.import_module(COMMANDS[name][0]).parser()
    try:
        parser.parse_args(argv)
    except UsageError as e:
        pytest.fail(f"{page}: `{line}`: {e}")
    except SystemExit as e:  # --help
        assert e.code == 0


@pytest.mark.parametrize(("page", "line"), all_lines(re.compile(r"^make\b")))
def test_every_make_target_shown_exists(page, line):
    makefile = (ROOT / "Makefile").read_text()
    target = (shlex.split(line)[1:] or ["run"])[0]
    if "=" not in target:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"{page}: {line}"


PATH = re.compile(
    r"(?<![\w./])((?:bench|infra|loadgen|server|tests|docs)/[\w/.-]*\w\.(?:py|md|yml|yaml|conf))"
)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_file_named_exists(page):
    named = set(PATH.findall(page.read_text()))
    missing = sorted(path for path in named if not (ROOT / path).is_file())
    assert not missing, f"{page.name} names files that do not exist: {missing}"


@pytest.mark.slow
def test_the_fast_commands_shown_run():
    for _, line in all_lines(re.compile(r"--help")):
        if LOADGEN.search(line):
            proc = loadgen(*loadgen_argv(line), timeout=30)
            assert proc.returncode == 0 and proc.stdout.startswith("usage:"), line


LOADGEN_MD = ROOT / "docs" / "loadgen.md"
SCENARIO_CLASS = re.compile(r"^class (\w+)\(Scenario\)", re.M)
SCENARIO_EXAMPLES = [b for b in code_blocks(LOADGEN_MD, "python") if SCENARIO_CLASS.search(b)]
# The sessions example logs in: the bundled server has no login, a loopback site has.
LOGIN_EXAMPLES = [b for b in SCENARIO_EXAMPLES if '"/login"' in b]
SCENARIO_EXAMPLES = [b for b in SCENARIO_EXAMPLES if b not in LOGIN_EXAMPLES]


def run_example(tmp_path, *args):
    """loadgen against the bundled server for a second; its summary, checked to be clean."""
    out = tmp_path / "run"
    proc = loadgen("--rps", 40, "--duration", "1s", *args, "--out", out, "--quiet", timeout=60)
    assert proc.returncode == 0, proc.stderr
    summary = __import__("json").loads((out / "summary.json").read_text())
    assert summary["errors"]["total"] == 0 and summary["run"]["exception"] is None
    assert summary["requests"] >= 40
    return summary


@pytest.mark.slow
@pytest.mark.parametrize(
    "example", SCENARIO_EXAMPLES, ids=lambda block: SCENARIO_CLASS.search(block)[1]
)
def test_the_scenario_examples_run_against_the_bundled_server(tmp_path, example):
    (tmp_path / "example.py").write_text(example)
    klass = SCENARIO_CLASS.search(example)[1]
    data = []
    if "self.data" in example:  # the rows shown beside it
        [rows] = code_blocks(LOADGEN_MD, "csv")
        (tmp_path / "rows.csv").write_text(rows)
        data = ["--data", tmp_path / "rows.csv"]
    run_example(tmp_path, "--scenario", f"{tmp_path / 'example.py'}:{klass}", *data)


@pytest.mark.slow
def test_the_targets_example_runs_against_the_bundled_server(tmp_path):
    [targets] = code_blocks(LOADGEN_MD, "http")
    (tmp_path / "api.txt").write_text(targets)
    for body, name in re.findall(r"^echo '(.*)' > (\S+)$", LOADGEN_MD.read_text(), re.M):
        (tmp_path / name).write_text(body + "\n")  # the body files, as the page makes them
    summary = run_example(tmp_path, "--targets", tmp_path / "api.txt")
    assert set(summary["tasks"]) == {"GET /", "POST /addNumbers", "POST /computeFib"}


@pytest.mark.slow
def test_the_login_example_sends_its_cookie_and_token_to_a_site_with_logins(tmp_path):
    from tests.support.http_server import server_process

    [example] = LOGIN_EXAMPLES
    (tmp_path / "login.py").write_text(example)
    klass = SCENARIO_CLASS.search(example)[1]
    out = tmp_path / "run"
    with server_process(app="logins") as url:  # 401 to a request without both
        proc = loadgen("--host", url, "--rps", 20, "--duration", "1s", "--out", out, "--quiet",
                       "--scenario", f"{tmp_path / 'login.py'}:{klass}", timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = __import__("json").loads((out / "summary.json").read_text())
    assert summary["errors"]["total"] == 0 and summary["run"]["exception"] is None
    assert summary["arrivals"] == 20 and summary["requests"] == 3 * 20  # log in, then two


def test_the_docs_python_blocks_compile():
    for page in PAGES:
        for block in code_blocks(page, "python"):
            compile(block, str(page), "exec")


@pytest.mark.slow
def test_bench_scripts_show_their_help():
    for script in sorted((ROOT / "bench").glob("*.py")):
        text = script.read_text()
        if "argparse" in text:
            proc = subprocess.run([sys.executable, script, "--help"], capture_output=True,
                                  text=True, timeout=60, cwd=ROOT)  # fmt: skip
            assert proc.returncode == 0, f"{script.name}: {proc.stderr}"
