"""The scale-out options of the run command: parsing and misuse (one line, exit 2)."""

import argparse
import datetime as dt
import os
import time

import pytest

from loadgen.commands.main import main
from loadgen.commands.options.argtypes import process_count, shard_spec, start_time


def test_option_values():
    assert process_count("auto") == os.cpu_count()
    assert process_count("3") == 3
    assert shard_spec("0/4") == (0, 4) and shard_spec("3/4") == (3, 4)
    # Tomorrow at midnight UTC: a start within the week --start-at allows.
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    epoch = dt.datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=dt.UTC).timestamp()
    day = tomorrow.isoformat()
    assert start_time(f"{epoch:.0f}") == epoch
    assert start_time(f"{day}T00:00:00Z") == epoch
    assert start_time(f"{day}T00:00:00") == epoch  # no zone: UTC
    assert start_time(f"{day}T02:00:00+02:00") == epoch
    for bad in ("4/4", "-1/4", "1", "a/b", "1/0"):
        with pytest.raises(argparse.ArgumentTypeError):
            shard_spec(bad)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--shard", "2/2", "--out", "x"), "0 <= I < N"),
        (("--shard", "0/2"), "--shard needs --out"),
        (("--shard", "0/2", "--out", "x", "--processes", "2"), "cannot be split again"),
        (("--shard", "0/2", "--out", "x", "--dask", "tcp://h:8786"), "cannot be split again"),
        (("--start-at", "1000"), "in the past"),
        (("--start-at", "tomorrow"), "epoch seconds or an ISO time"),
        (("--processes", "0"), "at least 1"),
        (("--processes", "lots"), "a number or auto"),
    ],
)
def test_misuse_is_one_line_and_exit_2(args, message, capsys):
    assert main(["--rps", "5", "--host", "http://127.0.0.1:9", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_an_unreachable_dask_scheduler_is_reported(capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("loadgen.scale.dask.CONNECT_TIMEOUT_S", 0.5)
    start = time.monotonic()
    code = main(["--rps", "5", "--host", "http://127.0.0.1:9", "--dask", "tcp://127.0.0.1:9"])
    assert code == 2
    assert "cannot connect to the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert time.monotonic() - start < 10
