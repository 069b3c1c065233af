"""The terminal: rich on a terminal, plain unwrapped lines anywhere else."""

from loadgen.report.terminal import make_console


def test_a_pipe_gets_plain_lines_that_never_wrap(capsys):
    console = make_console()
    assert not console.is_terminal  # pytest captures stdout
    long_line = "generator: " + "x" * 150 + " end"
    console.print(f"[bold]{long_line}[/bold]")
    out = capsys.readouterr().out
    assert out == long_line + "\n"  # one line, no colour codes


def test_quiet_prints_nothing(capsys):
    make_console(quiet=True).print("hello")
    assert capsys.readouterr().out == ""
