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


def test_failed_checks_are_one_line_per_task_their_top_reasons_first():
    from loadgen.report.terminal import check_lines

    summary = {"errors": {"checks": {
        "add": {"wrong result": 38, "status 201, expected 200": 2},
        "fib": {"e": 5, "d": 4, "c": 3, "b": 2, "a [x]": 1},
    }}}  # fmt: skip
    assert check_lines(summary) == [
        'add 40: 38× "wrong result", 2× "status 201, expected 200"',
        'fib 15: 5× "e", 4× "d", 3× "c", 3× for 2 more reasons',
    ]
    assert check_lines({"errors": {}}) == []


def test_the_summary_says_which_checks_failed_and_why(capsys):
    from loadgen.core.results import RunResult
    from loadgen.report.summary import build_summary
    from loadgen.report.terminal import render_summary
    from tests.support.shard_states import job, recorder

    rec = recorder([[0.001] * 10])
    rec.check_failed("get", "wrong [bold]result[/bold]")  # markup in a reason stays text
    result = RunResult(job(0, 1, duration=1.0).config(), rec, 1000.0, 1.0, False, 1, ["get"])
    render_summary(build_summary(result, {}), make_console())
    out = capsys.readouterr().out
    assert 'failed checks: get 1: 1× "wrong [bold]result[/bold]"' in out
    assert "errors 1 (10.00%)  check=1" in out
