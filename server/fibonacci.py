"""Fibonacci numbers, the slow way (the exercise's original) and the fast way."""

import functools
from typing import Final

# The API refuses larger iterations. compute_fast(10_000) takes well under a
# millisecond, and its result (2 090 digits) stays below Python's 4 300-digit
# int-to-str limit that JSON encoding hits near n = 20 500.
MAX_ITERATION: Final = 10_000


def compute(n: int) -> int:
    """The original naive recursion: O(phi**n) calls, so n ≈ 35 already takes seconds."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n < 2:
        return n
    return compute(n - 1) + compute(n - 2)


@functools.lru_cache(maxsize=16_384)
def compute_fast(n: int) -> int:
    """Memoised fast doubling.

    Each call depends on n // 2 and n // 2 + 1 only, so a cold call recurses
    log2(n) frames deep (never near the recursion limit, unlike memoising the
    naive F(n-1) + F(n-2), which recurses n frames on a cold cache) and fills
    the cache with O(log n) entries.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if n < 3:
        return (0, 1, 1)[n]
    k, odd = divmod(n, 2)
    f_k, f_k1 = compute_fast(k), compute_fast(k + 1)
    if odd:
        return f_k * f_k + f_k1 * f_k1  # F(2k+1) = F(k)² + F(k+1)²
    return f_k * (2 * f_k1 - f_k)  # F(2k) = F(k)·(2F(k+1) − F(k))
