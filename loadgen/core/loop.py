"""Running a coroutine to completion on its own event loop: uvloop where available.

The fast client was measured and tuned on uvloop; every way of running the
engine (the command line, a shard in a worker process or a Dask task) goes
through here.
"""

from __future__ import annotations

import asyncio
import ctypes
from collections.abc import Coroutine
from typing import Any, TypeVar

_T = TypeVar("_T")

# glibc's mallopt(3) parameters, and the values set for them (see keep_reads_on_the_heap).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 1 << 20
_TRIM_THRESHOLD = 2 * _MMAP_THRESHOLD


def keep_reads_on_the_heap() -> bool:
    """Have glibc serve the 256 KiB blocks of TLS reads from the heap; True if it took.

    uvloop's TLS transport reads every record into a new 256 KiB bytes object,
    then shrinks it to the record's size. Above glibc's mmap threshold
    (128 KiB until a large block is freed, which raises it) malloc maps such a
    block from the kernel and free unmaps it: three system calls and fresh
    zeroed pages per response, which cost most of a TLS exchange. Fixing the
    threshold above that size (and the trim threshold above it, as glibc's own
    adjustment does) keeps them on the heap. Elsewhere than glibc, a no-op.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc-like (macOS has no mallopt)
        return False
    return bool(
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD)
    )


def run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run `coro` on a new event loop in this thread and return its result."""
    keep_reads_on_the_heap()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.run(coro)
    result: _T = uvloop.run(coro)
    return result
