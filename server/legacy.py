"""The original exercise's addition, bugs included, for LEGACY_BUGS=1.

The original summed `numpy.uint16` values. This emulates the failures numpy
raised, without depending on numpy: `numpy.uint16(x)` refuses any x outside
0..65535 with OverflowError, and a scalar sum past 65535 overflows, which
numpy raises as FloatingPointError under `errstate(over="raise")`. Either way
the endpoint answered 500, which is what load tests of legacy mode reproduce.
"""

from typing import Final

UINT16_MAX: Final = 0xFFFF


def to_uint16(value: int) -> int:
    """`numpy.uint16(value)`: only values that fit are accepted."""
    if not 0 <= value <= UINT16_MAX:
        raise OverflowError(f"Python integer {value} out of bounds for uint16")
    return value


def add_uint16(a: int, b: int) -> int:
    """`numpy.uint16(a) + numpy.uint16(b)` with overflow raising instead of wrapping."""
    total = to_uint16(a) + to_uint16(b)
    if total > UINT16_MAX:
        raise FloatingPointError("overflow encountered in scalar add")
    return total
