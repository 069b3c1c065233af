"""What a task mix sends, summarised the same way for locust.py and loadgen.

Standard library only: tests/infra/locust_probe.py imports it inside a
gevent-patched Locust process, the test suite in its own.
"""

from collections.abc import Iterable, Mapping
from typing import Any

Call = tuple[str, str, Mapping[str, Any] | None]  # method, path, JSON body


def summarise(calls: Iterable[Call]) -> dict[str, Any]:
    """The distinct (method, path, body keys) sent, and each body field's [min, max]."""
    shapes: set[tuple[str, str, tuple[str, ...]]] = set()
    ranges: dict[str, list[int]] = {}
    for method, path, body in calls:
        shapes.add((method, path, tuple(sorted(body or {}))))
        for key, value in (body or {}).items():
            low, high = ranges.get(key, [value, value])
            ranges[key] = [min(low, value), max(high, value)]
    # Lists throughout, so that a summary survives a JSON round trip unchanged.
    requests = [[method, path, list(keys)] for method, path, keys in sorted(shapes)]
    return {"requests": requests, "ranges": ranges}
