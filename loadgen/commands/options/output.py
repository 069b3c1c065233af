"""Where a run's files go, and the link to its page printed last.

Every run and capacity search writes its files: without `--out` into a
folder of its own under `reports/`, named by the time it started
(`reports/2026-12-06T01-02-03/`, capacity's `reports/capacity-…/`), so that
the first run already has a page to open. A name taken gets `-2`, `-3`:
two runs never share a folder. `--name NAME` chooses the folder's name,
`--out DIR` the whole path; a folder so chosen that holds a run already
(its `summary.json` or `capacity.json`) is refused, unless `--force`: a run
is never written over without being asked to.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import re
from pathlib import Path

from rich.console import Console

from loadgen.commands.options.argtypes import UsageError, out_dir
from loadgen.commands.options.groups import Group

# Where runs go when --out does not say.
REPORTS = Path("reports")
# A folder holding one of these holds a run (a capacity search) already.
RUN_FILES = ("summary.json", "capacity.json")
# The default name: the start's local time, in characters every file system takes.
STAMP = "%Y-%m-%dT%H-%M-%S"
_NAME = re.compile(r"\w[\w.-]*")
# The folders this process made, for `remove_unused`.
_MADE: list[Path] = []


def run_name(text: str) -> str:
    """`--name`: a plain folder name (letters, digits, `.`, `_`, `-`), not a path."""
    if not _NAME.fullmatch(text) or len(text.encode()) > 255:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a plain folder name (letters, digits, '.', '_', '-', no '/'); "
            "--out DIR takes a path"
        )
    return text


def add_output_options(group: Group, files: str, prefix: str = "") -> None:
    """--out, --name, --force and --quiet; `files` says what the command writes,
    `prefix` begins its default folder's name (as `run_directory` takes it)."""
    group.add_argument(
        "--out",
        type=out_dir,
        metavar="DIR",
        help=f"write {files} here (default: reports/{prefix}<the start's time>/)",
    )
    group.add_argument(
        "--name",
        type=run_name,
        metavar="NAME",
        help="write them to reports/NAME/ instead of a folder named by the time",
    )
    group.add_argument(
        "--force",
        action="store_true",
        help="write into a --out or --name folder that holds a run already (its files "
        "replaced); without it that is refused",
    )
    group.add_argument(
        "--quiet",
        action="store_true",
        help="print no progress, no report and no link (the files are still written)",
    )


def run_directory(
    args: argparse.Namespace, prefix: str = "", now: dt.datetime | None = None
) -> Path:
    """The folder this run writes, made now (before the bundled server starts: its
    logs go in it): --out as given, reports/NAME for --name, else
    reports/<prefix><time> (see the module's doc). Misuse is a UsageError."""
    if args.out is not None and args.name is not None:
        raise UsageError("--name is a folder under reports/, --out DIR a whole path: give one")
    if args.out is None and args.name is None:
        stamp = (now or dt.datetime.now()).strftime(STAMP)
        return _claim(REPORTS, prefix + stamp)
    chosen: Path = args.out if args.out is not None else REPORTS / args.name
    held = next((name for name in RUN_FILES if (chosen / name).is_file()), None)
    if held is not None and not args.force:
        option = "--out" if args.out is not None else "--name"
        raise UsageError(
            f"{option}: {chosen} holds a run already ({held}): choose another, "
            "or --force to write over it"
        )
    if not chosen.exists():
        _make(chosen, exist_ok=True)
        _MADE.append(chosen)
    return chosen


def _claim(parent: Path, name: str) -> Path:
    """parent/name made, or parent/name-2, -3, …: the first that did not exist (made
    at once, so that two runs started in the same second never share one)."""
    n = 1
    while True:
        path = parent / (name if n == 1 else f"{name}-{n}")
        try:
            _make(path, exist_ok=False)
        except FileExistsError:
            n += 1
        else:
            _MADE.append(path)
            return path


def _make(path: Path, exist_ok: bool) -> None:
    """mkdir -p, its failures one line; FileExistsError only for a name to skip (`_claim`)."""
    try:
        path.mkdir(parents=True, exist_ok=exist_ok)
    except FileExistsError:
        if not exist_ok:
            raise
        raise UsageError(f"{path} exists and is not a directory") from None
    except OSError as e:
        raise UsageError(f"cannot make {path}: {e.strerror or e}") from None


def remove_unused() -> None:
    """Remove the folders this process made that are still empty: a run that ended
    before writing anything (misuse found late, a Ctrl-C before the start) leaves
    no empty folder behind. Never one that existed before, nor one with a file."""
    while _MADE:
        with contextlib.suppress(OSError):  # not empty: kept
            _MADE.pop().rmdir()


def page_link(directory: Path, page: str) -> str:
    """The file:// address of the run's page; of its folder when the page is not
    there (a stop while the files were written left it out)."""
    target = directory / page
    return (target if target.is_file() else directory).resolve().as_uri()


def print_link(console: Console, directory: Path, page: str) -> None:
    """The last line a run prints: where its page is, as a link a terminal opens."""
    link = page_link(directory, page)
    label = "report" if link.endswith(page) else "files"
    console.print(f"{label}: {link}", markup=False, highlight=False, soft_wrap=True)
