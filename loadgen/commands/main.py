"""The command line's entry point: `loadgen [COMMAND] ...` (or `python -m loadgen`).

A command line that does not start with a command name is a run
(`loadgen --rps 100` is `loadgen run --rps 100`). Commands are imported on
use, so `loadgen compare` does not load the engine. Misuse gets one line on
stderr and exit status 2, before any load is sent.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from loadgen.commands.options.argtypes import UsageError
from loadgen.commands.options.exitcode import CommandFailed, ExitCode
from loadgen.commands.options.output import remove_unused
from loadgen.scale.errors import ScaleError, ShardsLost

# name → (module, one-line summary). Each module has a function of that name,
# taking the arguments and returning an ExitCode, and `parser()`, its parser.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": (
        "loadgen.commands.run",
        "send load, report it, judge it by --slo (the default command)",
    ),
    "capacity": (
        "loadgen.commands.capacity",
        "find the highest rate the target sustains under an SLO",
    ),
    "report": (
        "loadgen.commands.report",
        "the terminal summary and report.html again, from a run's folder",
    ),
    "compare": (
        "loadgen.commands.compare",
        "runs (or Locust CSVs) against the first; with --fail-if, a regression gate",
    ),
    "merge": (
        "loadgen.commands.merge",
        "put the folders of --shard runs back together as one run",
    ),
}


# The commands that send load (the others read files).
LOADS = ("run", "capacity")

# Three first commands, shown by `loadgen --help` (its test parses each).
EXAMPLES = (
    ("loadgen --rps 100 --duration 10s", "the bundled server, 100/s"),
    ("loadgen --host http://127.0.0.1:8000 --rps 500 --slo 'p99<50ms'", ""),
    ("loadgen capacity --host http://127.0.0.1:8000", "its top rate under an SLO"),
)


def _overview() -> str:
    """The top of `loadgen --help`: what loadgen is, its commands and examples
    (in its first 15 lines, before the run's options)."""
    commands = [f"  {name:<9} {summary}" for name, (_, summary) in COMMANDS.items()]
    width = max(len(line) for line, what in EXAMPLES if what)
    examples = [f"  {line:<{width}}  # {what}" if what else f"  {line}" for line, what in EXAMPLES]
    return "\n".join(
        [
            "An open-model HTTP load generator: finds where a web service breaks, and why.",
            "",
            "commands (loadgen COMMAND --help for each; none given: run):",
            *commands,
            "",
            "examples:",
            *examples,
        ]
    )


OVERVIEW = _overview()
HELP = ("-h", "--help")


def main(argv: Sequence[str] | None = None) -> int:
    """The `loadgen` entry point: runs the command named first (`run` when none is),
    and says misuse and early interruptions in one line with their exit status.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    named = bool(argv) and argv[0] in COMMANDS
    name = argv.pop(0) if named else "run"
    if name == "run" and argv and not argv[0].startswith("-"):
        # Not an option and not a command: most likely a mistyped command.
        return _fail(f"unknown command {argv[0]!r} (commands: {', '.join(COMMANDS)})")
    _open_closed_outputs()
    try:
        module = importlib.import_module(COMMANDS[name][0])
        if not named and any(a in HELP for a in argv):
            module.parser(overview=True).parse_args(argv)  # prints the overview, exits 0
        return int(getattr(module, name)(argv))
    except KeyboardInterrupt:
        # Ctrl-C before a command catches stop signals itself (importing the
        # engine, a scenario file that is slow to import): nothing was sent yet.
        said = "interrupted before any load was sent" if name in LOADS else f"{name}: interrupted"
        return _fail(said, ExitCode.INTERRUPTED)
    except UsageError as e:
        hint = "loadgen --help" if name == "run" else f"loadgen {name} --help"
        return _fail(f"{e} (see {hint})")
    except ScaleError as e:
        return _fail(str(e))
    except CommandFailed as e:
        return _fail(str(e), e.code)
    except ShardsLost as e:
        return _fail(str(e), ExitCode.INCOMPLETE)
    finally:
        remove_unused()  # a run's folder it left empty


def _open_closed_outputs() -> None:
    """A closed stdout or stderr (`>&-`) costs only that output: it is reopened on
    /dev/null. Else Python's `sys.stdout` is None, and the next file opened takes
    descriptor 1, which every child process (the bundled server, the sampler)
    would inherit as its stdout and write into."""
    for fd, name in ((1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_WRONLY)  # the lowest free descriptor: fd itself
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            setattr(sys, name, open(fd, "w", closefd=False))  # noqa: SIM115 (the process's)


def _fail(message: str, code: ExitCode = ExitCode.USAGE) -> ExitCode:
    print(f"loadgen: error: {message}", file=sys.stderr)
    return code
