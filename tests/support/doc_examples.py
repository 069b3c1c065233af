"""The examples of the README and docs/, read as a reader would run them.

- `blocks`: a page's fenced code blocks, each with the reason of the
  `<!-- not run: REASON -->` comment that may stand just before it (an
  example that cannot run here: its files or its server are the reader's own).
- `commands`: the commands a bash block runs, each as the argv bash itself
  would give it (words split, quotes gone, variables, `$(...)` and loops
  expanded), none of them run: bash runs the block with a PATH holding only
  `date`, so that every other command is "not found" and its argv recorded
  instead (`command_not_found_handle`). Builtins run, in a scratch directory:
  an `echo ... > FILE` there is a file the block made.
- `inline_commands`: the commands shown in a page's running text
  (`loadgen --rps 100 --scenario calc.py:Calculator`), synopses with
  placeholders (`loadgen report DIR`, `loadgen ...`) left out.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.cli import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

BLOCK = re.compile(
    r"(?:<!--\s*not run:\s*(?P<why>.*?)\s*-->[ \t]*\n[ \t]*)?"
    r"```(?P<language>\w*)\n(?P<text>.*?)^[ \t]*```",
    re.S | re.M,
)
# Each command's argv as bash gave it: NUL after each word, RS closing the command.
END = "\x1e"
STUBS = f"""\
command_not_found_handle() {{ printf '%s\\0' "$@" $'{END}' >> "$ARGV_LOG"; return 0; }}
.() {{ command_not_found_handle . "$@"; }}
source() {{ command_not_found_handle source "$@"; }}
cd() {{ command_not_found_handle cd "$@"; }}
exit() {{ command_not_found_handle exit "$@"; }}
"""
# Commands the examples may run for real inside `$(...)`: they only read the clock.
REAL = ("date",)
# The words of an inline command that start one.
INLINE_START = re.compile(r"^(?:\.venv/bin/)?(?:loadgen|make|python)\s")
# A synopsis, not an example: `...`, or a placeholder such as DIR, A, OUT or
# COMMAND; or a command named, not shown (`loadgen report`).
PLACEHOLDER = re.compile(r"\.\.\.|…|(?<![\w=/.:-])[A-Z]+(?![\w=])|^\S*loadgen(?: [a-z]+)?$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    language: str
    text: str
    not_run: str | None  # why it cannot run here, when the page says so


@dataclass
class Commands:
    """What a bash block runs, as bash reads it."""

    argvs: list[list[str]]  # sorted, not in the order they ran
    made: set[str] = field(default_factory=set)  # files its builtins wrote (echo > FILE)
    errors: str = ""  # bash's complaints: a syntax error, a command it could not run


def blocks(page: Path, language: str | None = None) -> list[Block]:
    """The page's code blocks (of one language, if given), in order; indented
    ones (in a list item) dedented."""
    found = []
    for m in BLOCK.finditer(page.read_text()):
        if language is None or m["language"] == language:
            text = _dedent(m["text"])
            found.append(Block(page, m["language"], text, m["why"]))
    return found


def _dedent(text: str) -> str:
    lines = text.splitlines(keepends=True)
    indent = min((len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()), default=0)
    return "".join(ln[indent:] for ln in lines)


def commands(block: Block, scratch: Path) -> Commands:
    """The commands of a bash block, none run (see the module's docstring)."""
    scratch.mkdir(parents=True, exist_ok=True)
    bin_dir = scratch / ".bin"
    bin_dir.mkdir(exist_ok=True)
    for name in REAL:
        real = shutil.which(name)
        if real and not (bin_dir / name).exists():
            (bin_dir / name).symlink_to(real)
    log = scratch / ".argv"
    script = scratch / ".block.sh"
    script.write_text(STUBS + block.text)
    before = set(os.listdir(scratch))
    env = {"PATH": str(bin_dir), "ARGV_LOG": str(log), "HOME": str(scratch), "LC_ALL": "C"}
    bash = shutil.which("bash") or "/bin/bash"
    syntax = subprocess.run([bash, "-n", script], capture_output=True, text=True, env=env)
    if syntax.returncode != 0:
        return Commands([], errors=syntax.stderr)
    proc = subprocess.run(
        [bash, "--noprofile", "--norc", script],
        cwd=scratch, env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    words = log.read_text().split("\0") if log.exists() else []
    argvs, argv = [], []
    for word in words:  # the last, after the last NUL, is no word
        if word == END:
            argvs.append(argv)
            argv = []
        else:
            argv.append(word)
    made = set(os.listdir(scratch)) - before - {log.name}
    # Sorted: a pipeline's commands, and jobs sent to the background, run at once.
    return Commands(sorted(argvs), made, proc.stderr)


def inline_commands(page: Path) -> list[list[str]]:
    """The commands in the page's running text (code spans), as argvs."""
    prose = BLOCK.sub("", page.read_text())
    spans = re.findall(r"`([^`]+)`", re.sub(r"\s*\n\s*", " ", prose))
    return [
        shlex.split(span)
        for span in spans
        if INLINE_START.match(span) and not PLACEHOLDER.search(span)
    ]


def saved_names(page: Path) -> set[str]:
    """Files the page says to save its blocks as ("Saved as `rows.csv` and `rows.py`")."""
    names: set[str] = set()
    for listing in re.findall(r"Saved as ((?:`[^`]+`(?:,\s*|\s+and\s+)?)+)", page.read_text()):
        names.update(re.findall(r"`([^`]+)`", listing))
    return names
