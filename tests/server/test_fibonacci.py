import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.fibonacci import MAX_ITERATION, compute, compute_fast


def reference(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def test_compute_matches_reference_for_small_n() -> None:
    assert [compute(n) for n in range(20)] == [reference(n) for n in range(20)]


@given(st.integers(min_value=0, max_value=MAX_ITERATION))
def test_compute_fast_matches_reference(n: int) -> None:
    assert compute_fast(n) == reference(n)


def test_compute_fast_cold_at_large_n_stays_shallow() -> None:
    # Memoising the naive F(n-1) + F(n-2) would need ~n frames on a cold cache,
    # far past the default recursion limit of 1000; fast doubling needs ~log2(n).
    compute_fast.cache_clear()
    n = 100_000
    assert n > 10 * sys.getrecursionlimit()
    assert compute_fast(n) == reference(n)


def test_compute_fast_is_memoised() -> None:
    compute_fast.cache_clear()
    compute_fast(MAX_ITERATION)
    first = compute_fast.cache_info()
    compute_fast(MAX_ITERATION)
    second = compute_fast.cache_info()
    assert first.misses > 0
    assert second.misses == first.misses
    assert second.hits == first.hits + 1


@pytest.mark.parametrize("function", [compute, compute_fast])
def test_negative_n_is_refused(function: object) -> None:
    with pytest.raises(ValueError):
        function(-1)  # type: ignore[operator]
