"""Exit statuses, the same for every command (docs/loadgen.md lists them)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """loadgen's exit statuses; `main` returns one as the process's."""

    OK = 0
    # The run could not be completed as asked: a shard was lost, a merge is
    # incomplete, the bundled server did not start. What was measured is written.
    INCOMPLETE = 1
    USAGE = 2  # misuse: one line on stderr, before any load is sent
    # capacity, inconclusive: the generator fell behind before the target failed.
    GENERATOR_SATURATED = 3
    # capacity, inconclusive: every level passed, up to --max-rps.
    NO_LIMIT_FOUND = 4
    SLO_FAILED = 99  # k6's convention for failed thresholds
    # Stopped by a signal (128 + its number): the report covers what was measured.
    HANGUP = 129  # SIGHUP: the terminal or SSH session closed
    INTERRUPTED = 130  # SIGINT: Ctrl-C
    TERMINATED = 143  # SIGTERM

    @classmethod
    def stopped_by(cls, sig: int | None) -> ExitCode:
        """The status of a run a signal stopped (Ctrl-C when no signal is known)."""
        try:
            return cls(128 + sig) if sig is not None else cls.INTERRUPTED
        except ValueError:  # not a signal that stops a run
            return cls.INTERRUPTED


class CommandFailed(Exception):
    """The command could not do what it was asked: said in one line, exit status `code`."""

    code = ExitCode.INCOMPLETE
