"""Running the real command line (`python -m loadgen ...`) in its own process."""

import subprocess
import sys


def loadgen(*args, timeout=90, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "loadgen", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )
