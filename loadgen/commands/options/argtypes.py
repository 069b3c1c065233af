"""Argument types and the usage error shared by every loadgen command.

Bad input is a `UsageError`: `main` prints it as one line and exits 2.
Durations are what people type: `30s`, `2m`, `1h30m`, `250ms`, or bare seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NoReturn, TypeVar

from loadgen.report.regression import Bound, parse_bound
from loadgen.report.slo import SLO, SLOError, check_tasks, parse_slo
from loadgen.transports.models import check_request

_T = TypeVar("_T")
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in `text`; raises ValueError with a message fit for the user."""
    s = text.strip().lower()
    try:
        value = float(s)
    except ValueError:
        pos, value = 0, 0.0
        for m in _PART.finditer(s):
            if m.start() != pos:
                break
            value += float(m.group(1)) * _SECONDS[m.group(2)]
            pos = m.end()
        if pos != len(s) or not s:
            raise ValueError(
                f"invalid duration {text!r} (use e.g. 30s, 2m, 1h30m, 250ms or seconds)"
            ) from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"invalid duration {text!r}: must be a finite, non-negative time")
    return value


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are `UsageError`s: one line and exit status 2,
    not the usage text.
    """

    def error(self, message: str) -> NoReturn:
        """Raise `message` as a UsageError (`main` says it)."""
        raise UsageError(message)


def positive_float(text: str) -> float:
    """A finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """A whole number, at least 1."""
    return _whole(text, 1)


def non_negative_int(text: str) -> int:
    """A whole number, at least 0."""
    return _whole(text, 0)


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {text!r}")
    return value


def duration(text: str) -> float:
    """A time as people type it (see `parse_duration`)."""
    return _parsed(parse_duration, text)


def positive_duration(text: str) -> float:
    """A duration longer than zero."""
    value = duration(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be longer than zero, got {text!r}")
    return value


def out_dir(text: str) -> Path:
    """A directory to write into: it may not exist yet, but neither it nor a
    parent of it may be a file."""
    path = Path(text)
    for part in (path, *path.parents):
        if part.exists() and not part.is_dir():
            where = "" if part == path else f" ({part} is a file)"
            raise argparse.ArgumentTypeError(f"{text} exists and is not a directory{where}")
    return path


def header(text: str) -> tuple[str, str]:
    """`--header 'Name: value'`, as wrk's -H and Vegeta's -header take it."""
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    try:
        check_request("GET", "/", {name: value})
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return name, value


def env_pair(text: str) -> tuple[str, str]:
    """`--server-env KEY=VALUE`, split at the first `=`; the value may be empty."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def rate_spec(text: str) -> tuple[float, float]:
    """`--rps`: `100` (constant) or `10:500` (a linear ramp over the run)."""
    start, sep, end = text.partition(":")
    try:
        a = positive_float(start) if not sep else float(start)
        b = positive_float(end) if sep else a
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"--rps takes a positive rate like 100 or a ramp like 10:500, got {text!r}"
        ) from None
    if not (math.isfinite(a) and a >= 0):
        raise argparse.ArgumentTypeError(f"a ramp starts at a rate >= 0, got {text!r}")
    return a, b


def stages_spec(text: str) -> list[tuple[float, float]]:
    """`--stages 30s:100,60s:200` or a file of such stages (one or more per line, # comments)."""
    path = Path(text)
    if path.is_file():
        lines = [ln.split("#", 1)[0] for ln in path.read_text().splitlines()]
        text = ",".join(ln for ln in lines if ln.strip())
    steps = []
    for part in text.split(","):
        length, sep, rate = part.strip().partition(":")
        try:
            if not sep:
                raise ValueError
            seconds = parse_duration(length)
            rps = float(rate)
            if seconds <= 0 or not (math.isfinite(rps) and rps >= 0):
                raise ValueError
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"stages look like 30s:100,60s:200 (duration:rate, rate >= 0), got {part.strip()!r}"
            ) from None
        steps.append((seconds, rps))
    if not any(rps > 0 for _, rps in steps):
        raise argparse.ArgumentTypeError("every stage has rate 0: nothing would be sent")
    return steps


def slo(text: str) -> SLO:
    """`--slo EXPR`: parsed when the command line is, so a typo costs no run."""
    return _parsed(parse_slo, text)


def bound(text: str) -> Bound:
    """`compare --fail-if BOUND`: parsed with the command line, so a typo costs nothing."""
    return _parsed(parse_bound, text)


def _parsed(parse: Callable[[str], _T], text: str) -> _T:
    """`parse(text)`, its ValueError (SLOError is one) made an argparse error message."""
    try:
        return parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def check_slo_tasks(slos: Sequence[SLO], tasks: Iterable[str]) -> None:
    """Objectives on a task that does not exist: misuse, caught before any load is sent."""
    try:
        check_tasks(slos, tasks)
    except SLOError as e:
        raise UsageError(str(e)) from None


def process_count(text: str) -> int:
    """`--processes N` or `auto` (one per core)."""
    if text == "auto":
        return os.cpu_count() or 1
    if not text.strip().lstrip("+-").isdigit():
        raise argparse.ArgumentTypeError(f"expected a number or auto, got {text!r}")
    return positive_int(text)


def shard_spec(text: str) -> tuple[int, int]:
    """`--shard 2/8`: shard index 2 of 8 (indices from 0, as Kubernetes numbers pods)."""
    index, sep, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        i = n = -1
    if not sep or not 0 <= i < n:
        raise argparse.ArgumentTypeError(f"expected I/N with 0 <= I < N, e.g. 0/4, got {text!r}")
    return i, n


# --start-at further ahead than this is a typo (ms for s, a wrong year), not a plan:
# refused rather than waited for.
MAX_START_AHEAD_S = 366 * 24 * 3600.0


def start_time(text: str) -> float:
    """`--start-at`: epoch seconds, or an ISO 8601 time (UTC unless it names a zone),
    finite and at most `MAX_START_AHEAD_S` from now (the past is refused later, with
    how long ago it was)."""
    try:
        epoch = float(text)
    except ValueError:
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            # The example is tomorrow noon: one that would be taken, never a stale date.
            tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
            raise argparse.ArgumentTypeError(
                "expected epoch seconds or an ISO time like "
                f"{tomorrow:%Y-%m-%d}T12:00:00Z, got {text!r}"
            ) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        epoch = when.timestamp()
    if not math.isfinite(epoch):
        raise argparse.ArgumentTypeError(f"must be a finite time, got {text!r}")
    if epoch - time.time() > MAX_START_AHEAD_S:
        days = MAX_START_AHEAD_S / 86400
        raise argparse.ArgumentTypeError(
            f"{text!r} is more than {days:g} days from now (epoch seconds, not milliseconds?)"
        )
    return epoch


_SIZE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)", re.IGNORECASE)
# Binary units (KiB, Ki) are powers of 1024; decimal ones (kB, k) of 1000.
_SIZE_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
    "ki": 2**10, "kib": 2**10, "mi": 2**20, "mib": 2**20, "gi": 2**30, "gib": 2**30,
}  # fmt: skip


def byte_size(text: str) -> int:
    """`--max-body SIZE`: bytes, as `16MiB`, `512KiB`, `10MB` or a bare `1000000`."""
    m = _SIZE.fullmatch(text.strip())
    unit = (m.group(2) or "").lower() if m else ""
    if m is None or unit not in _SIZE_UNITS:
        raise argparse.ArgumentTypeError(
            f"invalid size {text!r} (use e.g. 16MiB, 512KiB, 10MB or bytes)"
        )
    value = int(float(m.group(1)) * _SIZE_UNITS[unit])
    if value < 1:
        raise argparse.ArgumentTypeError(f"a size is at least 1 byte, got {text!r}")
    return value
