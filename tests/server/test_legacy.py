import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.legacy import UINT16_MAX, add_uint16, to_uint16

uint16 = st.integers(min_value=0, max_value=UINT16_MAX)


@given(uint16, uint16)
def test_sums_that_fit_in_uint16_are_exact(a: int, b: int) -> None:
    if a + b <= UINT16_MAX:
        assert add_uint16(a, b) == a + b
    else:
        with pytest.raises(FloatingPointError, match="overflow"):
            add_uint16(a, b)


@pytest.mark.parametrize("value", [-1, -150, UINT16_MAX + 1, 2**63 - 1])
def test_values_outside_uint16_raise_like_numpy(value: int) -> None:
    with pytest.raises(OverflowError, match="out of bounds for uint16"):
        to_uint16(value)
    with pytest.raises(OverflowError):
        add_uint16(value, 0)
    with pytest.raises(OverflowError):
        add_uint16(0, value)
