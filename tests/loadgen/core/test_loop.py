"""The event loop runner: uvloop, with glibc's malloc kept off fresh mmaps for TLS reads."""

import subprocess
import sys

import pytest

from loadgen.core.loop import run

# Where a fresh 256 KiB block (the size of uvloop's TLS read buffer) lands: on
# the heap, or in a mapping of its own. A fresh process, as no earlier free of
# a large block may have moved glibc's threshold.
WHERE = """
import ctypes, sys
if sys.argv[1] == "kept":  # importing loadgen may itself free a large block: not by default
    from loadgen.core.loop import keep_reads_on_the_heap
    assert keep_reads_on_the_heap()
block = bytearray(256 * 1024)
address = ctypes.addressof((ctypes.c_char * len(block)).from_buffer(block))
for line in open("/proc/self/maps"):
    span, *rest = line.split()
    low, high = (int(x, 16) for x in span.split("-"))
    if rest[-1] == "[heap]":
        print("heap" if low <= address < high else "mapped")
"""


def where(mode: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", WHERE, mode], capture_output=True, text=True, check=True
    ).stdout
    return out.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_a_tls_read_buffer_comes_from_the_heap_not_a_mapping_of_its_own():
    assert where("default") == "mapped"  # what glibc does unless told
    assert where("kept") == "heap"


def test_run_runs_the_coroutine_to_its_result():
    async def answer() -> int:
        return 42

    assert run(answer()) == 42
