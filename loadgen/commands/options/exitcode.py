"""Exit statuses, the same for every command (docs/ci.md has their table)."""

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

    @property
    def meaning(self) -> str:
        """What the status says, in one line (docs/ci.md's table says the same)."""
        return MEANINGS[self]

    @classmethod
    def stopped_by(cls, sig: int | None) -> ExitCode:
        """The status of a run a signal stopped (Ctrl-C when no signal is known)."""
        try:
            return cls(128 + sig) if sig is not None else cls.INTERRUPTED
        except ValueError:  # not a signal that stops a run
            return cls.INTERRUPTED


MEANINGS = {
    ExitCode.OK: "done as asked: every SLO met (capacity: a limit found; compare: no "
    "--fail-if bound crossed)",
    ExitCode.INCOMPLETE: "not completed as asked: a shard lost, no response at all, an "
    "incomplete merge, the target not reached; what was measured is written",
    ExitCode.USAGE: "misuse: one line on stderr, before any load is sent",
    ExitCode.GENERATOR_SATURATED: "capacity, inconclusive: the generator fell behind "
    "before the target failed",
    ExitCode.NO_LIMIT_FOUND: "capacity, inconclusive: every level passed, up to --max-rps",
    ExitCode.SLO_FAILED: "judged and failed: an SLO missed (capacity: no level "
    "passed; compare: a --fail-if bound crossed)",
    ExitCode.HANGUP: "stopped by SIGHUP (the terminal closed); the files cover what was measured",
    ExitCode.INTERRUPTED: "stopped by SIGINT (Ctrl-C); the files cover what was measured",
    ExitCode.TERMINATED: "stopped by SIGTERM; the files cover what was measured",
}


class CommandFailed(Exception):
    """The command could not do what it was asked: said in one line, exit status `code`."""

    code = ExitCode.INCOMPLETE
