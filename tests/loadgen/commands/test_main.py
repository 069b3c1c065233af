"""Every command's --help: exits 0, and the top-level help lists the subcommands."""

import importlib
import shlex

import pytest

from loadgen.commands.main import COMMANDS, main


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_of_every_command_exits_0(command, capsys):
    argv = [command, "--help"] if command else ["--help"]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: loadgen")


def test_the_top_level_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert f"\n  {command} " in out


def test_a_mistyped_command_is_named_as_such(capsys):
    assert main(["compre", "a", "b"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "loadgen: error: unknown command 'compre' (commands: run, capacity, report, compare, "
        "merge)\n"
    )


def test_misuse_of_a_command_points_at_its_own_help(capsys):
    assert main(["compare", "only-one"]) == 2
    assert capsys.readouterr().err.endswith("(see loadgen compare --help)\n")
    assert main(["--rps", "x"]) == 2
    assert capsys.readouterr().err.endswith("(see loadgen --help)\n")


def test_compare_loads_neither_the_engine_nor_the_server():
    import subprocess
    import sys

    code = (
        "import sys; from loadgen.commands.main import main; import loadgen.commands.compare; "
        "print(sorted(m for m in sys.modules if m.startswith(('loadgen.core.engine', 'server'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_overview_comes_first_commands_and_examples_within_15_lines(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out.splitlines()[:15]
    assert top[0] == "usage: loadgen [COMMAND] [OPTIONS]"
    for command in COMMANDS:
        assert any(line.startswith(f"  {command} ") for line in top), command
    examples = [line.strip() for line in top if line.startswith("  loadgen ")]
    assert len(examples) == 3
    assert any("--host" in e and "--slo" in e for e in examples)
    assert any(e.startswith("loadgen capacity ") for e in examples)
    assert any("--host" not in e for e in examples)  # a run of the bundled server


def test_the_overview_s_examples_parse(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out.splitlines()[:15]
    for line in (ln.split("#")[0] for ln in top if ln.startswith("  loadgen ")):
        argv = shlex.split(line)[1:]
        name = argv.pop(0) if argv[0] in COMMANDS else "run"
        importlib.import_module(COMMANDS[name][0]).parser().parse_args(argv)


def test_a_command_s_own_help_is_its_own(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    assert text.startswith("usage: loadgen run (--rps RATE | --stages SPEC | --profile NAME)")
    assert "\ncommands" not in text  # the overview is loadgen --help's
