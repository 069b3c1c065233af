"""Numbers read from a file are checked: finite, and not negative where they cannot be.

Python's `json` reads `NaN`, `Infinity` and `1e999` (which overflows to
infinity) as floats, and writes them back as `NaN`/`Infinity`, which no other
JSON reader accepts. A counter, a time or a rate that is one of those (or is
negative) in a file means the file was damaged or not written by loadgen;
passed on, it would make a report of nonsense that is not even valid JSON.
So every reader of a loadgen file (shard states, summaries) runs
`finite_numbers` on what it read, and says what is wrong, in one line; and
every writer writes `json_text`, in which such a number is null (no value).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from typing import Any


def json_text(value: Any, indent: int | None = None) -> str:
    """`value` as standard JSON: a NaN or an infinity in it (a bug, but a file
    of the run is worth keeping) is written as null, not as `NaN`."""
    try:
        return json.dumps(value, indent=indent, allow_nan=False)
    except ValueError:  # only then is the walk worth its cost
        return json.dumps(_finite(value), indent=indent, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def finite_numbers(
    value: Any, where: str = "", *, signed: Collection[str] = (), negative: bool = False
) -> None:
    """Raise ValueError naming the first number in `value` that is not finite, or is negative.

    `value` is what `json.loads` gave (dicts, lists, numbers, ...). A negative
    number is refused unless `negative`, or it sits under a key in `signed`
    (e.g. a clock skew, which is negative as often as not). Booleans are not
    numbers here.
    """
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"{where or 'a number'} is {value}, not a finite number")
        if value < 0 and not negative:
            raise ValueError(f"{where or 'a number'} is {value}, where it cannot be negative")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            finite_numbers(item, path, signed=signed, negative=negative or key in signed)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            finite_numbers(item, f"{where}[{i}]", signed=signed, negative=negative)
