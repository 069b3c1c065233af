"""--help lists a load command's options under headings; capacity lists only its own."""

import shlex

import pytest

from loadgen.commands import capacity, run
from loadgen.commands.main import main
from loadgen.commands.options.groups import HEADINGS


def help_of(*argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def section(text, heading):
    """The lines under `heading` in a help text, up to the next blank line."""
    lines = text.split(f"\n{heading}:\n", 1)[1]
    return lines.split("\n\n", 1)[0]


def test_run_s_options_are_under_their_headings_in_order(capsys):
    text = help_of("run", capsys=capsys)
    where = [text.find(f"\n{h}:\n") for h in HEADINGS.values()]
    assert -1 not in where and where == sorted(where), where
    expected = {
        "load": ("--rps", "--duration", "--arrival", "--connections", "--timeout", "--warmup"),
        "target": ("--host", "--client", "--header", "--server", "--server-env"),
        "scenario": ("--scenario", "--targets", "--data"),
        "output": ("--out", "--name", "--force", "--quiet"),
        "slo": ("--slo",),
        "scale": ("--processes", "--dask", "--shard", "--start-at"),
        "tls": ("--ca-cert", "--insecure", "--client-cert", "--client-key"),
        "sampling": ("--server-metrics", "--server-pid"),
    }
    for group, options in expected.items():
        body = section(text, HEADINGS[group])
        for option in options:
            assert f"  {option} " in body or f"  {option}\n" in body, (group, option)


def test_capacity_lists_its_own_options_and_points_at_run_for_the_rest(capsys):
    run_help = help_of("run", capsys=capsys)
    text = help_of("capacity", capsys=capsys)
    assert len(text.splitlines()) < len(run_help.splitlines()) / 2
    assert "loadgen run --help" in text
    for own in ("--start", "--factor", "--level", "--slo", "--out", "--name", "--quiet"):
        assert f"  {own} " in text, own
    for shared in ("--connections", "--scenario", "--ca-cert", "--processes", "--server-pid"):
        assert f"  {shared} " not in text, shared


def test_the_shared_options_still_work_on_capacity():
    line = (
        "--host https://127.0.0.1:8443 --connections 8 --scenario m:C --insecure "
        "--processes 2 --server-metrics http://127.0.0.1:8443/metrics --timeout 2s"
    )
    args = capacity.parser().parse_args(shlex.split(line))
    assert (args.connections, args.scenario, args.insecure, args.processes, args.timeout) == (
        8, "m:C", True, 2, 2.0
    )  # fmt: skip
    # and the same line is a run's
    assert run.parser().parse_args(["--rps", "1", *shlex.split(line)]).connections == 8
