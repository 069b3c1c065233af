"""Numbers read from a file are checked: finite, and not negative where they cannot be.

Python's `json` reads `NaN`, `Infinity` and `1e999` (which overflows to
infinity) as floats, and writes them back as `NaN`/`Infinity`, which no other
JSON reader accepts. A counter, a time or a rate that is one of those (or is
negative) in a file means the file was damaged or not written by loadgen;
passed on, it would make a report of nonsense that is not even valid JSON.
So every reader of a loadgen file (shard states, summaries) runs
`finite_numbers` on what it read, and says what is wrong, in one line.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any


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
