"""What stops a scaled-out run before it has anything to report, said in one line."""

import pytest

from loadgen.commands.main import main
from loadgen.scale.errors import ScaleError
from tests.support.cli import loadgen

# The Dask side is only reached with the dask extra (installed for the tests).
pytest.importorskip("distributed")


def test_a_scheduler_address_dask_cannot_use_is_a_scale_error():
    from loadgen.scale.dask import run_on_dask

    with pytest.raises(ScaleError, match="cannot connect to the Dask scheduler at nonsense://x"):
        run_on_dask("nonsense://x", None)  # refused before any job is read


def test_a_scale_error_is_misuse_one_line_and_exit_2(capsys):
    argv = ["--host", "http://127.0.0.1:9", "--rps", "10", "--dask", "nonsense://x", "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("loadgen: error: cannot connect to the Dask scheduler at nonsense://x")
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.slow
def test_losing_every_shard_is_one_line_and_exit_1():
    proc = loadgen(
        "--host", "http://127.0.0.1:9", "--rps", 10, "--duration", "1s", "--processes", 2,
        "--scenario", "tests/support/scenarios.py:EveryShardFails", "--quiet", timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("loadgen: error: every shard was lost, nothing to report")
    assert "shard 0: worker failed" in proc.stderr and "shard 1: worker failed" in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""
