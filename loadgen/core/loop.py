"""Running a coroutine to completion on its own event loop: uvloop where available.

The fast client was measured and tuned on uvloop; every way of running the
engine (the command line, a shard in a worker process or a Dask task) goes
through here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")


def run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run `coro` on a new event loop in this thread and return its result."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.run(coro)
    result: _T = uvloop.run(coro)
    return result
