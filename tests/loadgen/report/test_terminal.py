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


def test_a_reader_that_went_away_costs_nothing_but_the_output():
    import subprocess
    import sys

    # The console in a child whose stdout is a pipe closed after the first line.
    code = (
        "from loadgen.report.terminal import make_console\n"
        "c = make_console()\n"
        "for i in range(20000): c.print(f'line {i}')\n"
        "print('still here', file=__import__('sys').stderr)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout.readline() == "line 0\n"
    proc.stdout.close()  # as `| head -1` does
    err = proc.stderr.read()
    assert proc.wait(30) == 0, err
    assert err == "still here\n"  # no BrokenPipeError, no "Exception ignored"
