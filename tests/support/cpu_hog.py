"""Another process burning one core beside a test: the machine busy with other work."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

# The child spins until its own deadline, so even a test killed before its
# `finally` leaves it running no longer than that.
_SPIN = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass\n"


@contextlib.contextmanager
def burning_a_core(seconds: float) -> Iterator[int]:
    """A child spinning on one core for at most `seconds`; yields its pid, kills it after."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SPIN.format(seconds=seconds)], stdin=subprocess.DEVNULL
    )
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()
