"""Numbers in loadgen's files: checked finite when read, written as standard JSON."""

import json
import math

import pytest

from loadgen.measure.numbers import finite_numbers, json_text


def test_a_number_that_is_not_finite_or_is_negative_is_named():
    with pytest.raises(ValueError, match=r"a\.b\[1\] is nan"):
        finite_numbers({"a": {"b": [1, math.nan]}})
    with pytest.raises(ValueError, match=r"x is -1, where it cannot be negative"):
        finite_numbers({"x": -1})
    finite_numbers({"skew": -0.5, "ok": True}, signed={"skew"})


def test_what_is_written_is_standard_json_whatever_it_holds():
    value = {"duration_s": math.nan, "rates": [1.5, math.inf, -math.inf], "n": 3, "ok": None}
    text = json_text(value, indent=2)
    assert "NaN" not in text and "Infinity" not in text
    # A strict reader (any but Python's) accepts it: nothing but standard constants.
    back = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the file"))
    assert back == {"duration_s": None, "rates": [1.5, None, None], "n": 3, "ok": None}
    assert json_text({"a": [1, 2.5]}) == json.dumps({"a": [1, 2.5]})
