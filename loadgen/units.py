"""Parsing what people type: durations like `30s`, `2m`, `1h30m`, `250ms`, or bare seconds."""

from __future__ import annotations

import math
import re

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
