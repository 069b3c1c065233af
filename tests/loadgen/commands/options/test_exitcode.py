"""Exit statuses: one set for every command, each in docs/ci.md's table, signals as the shell's."""

import re
import signal

import pytest

from loadgen.commands.options.exitcode import CommandFailed, ExitCode
from loadgen.commands.target import TargetError
from loadgen.core.engine import STOP_SIGNALS
from tests.support.cli import ROOT


def documented_statuses():
    """The statuses of docs/ci.md's table, `| 129, 130, 143 | ...` rows included."""
    section = (ROOT / "docs" / "ci.md").read_text().split("## Exit statuses", 1)[1]
    table = section[section.index("| status |") :].split("\n\n", 1)[0]
    rows = re.findall(r"^\| ([\d, ]+) \|", table, re.M)
    return {int(n) for row in rows for n in row.split(",")}


def test_every_status_is_documented_and_every_documented_one_exists():
    assert documented_statuses() == {code.value for code in ExitCode}


def test_every_status_says_what_it_means_in_one_line():
    assert all(code.meaning and "\n" not in code.meaning for code in ExitCode)


def test_no_two_statuses_share_a_value_and_each_fits_an_exit_status():
    # An IntEnum silently makes a second name of the same value an alias.
    assert len(ExitCode.__members__) == len(set(ExitCode))
    assert all(0 <= code <= 255 for code in ExitCode)


@pytest.mark.parametrize("sig", STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_stop_signal_ends_with_128_plus_its_number_as_a_shell_reports_it(sig):
    assert ExitCode.stopped_by(sig) == 128 + sig
    assert ExitCode.stopped_by(sig) in (ExitCode.HANGUP, ExitCode.INTERRUPTED, ExitCode.TERMINATED)


def test_an_unknown_or_no_signal_is_an_interruption():
    assert ExitCode.stopped_by(None) is ExitCode.INTERRUPTED  # a stop whose signal is unknown
    assert ExitCode.stopped_by(signal.SIGUSR1) is ExitCode.INTERRUPTED  # stops no run


def test_a_command_that_could_not_do_its_work_is_incomplete_unless_it_says_otherwise():
    assert CommandFailed("no").code is ExitCode.INCOMPLETE
    assert TargetError("the server did not start").code is ExitCode.INCOMPLETE
