import pytest
from pydantic import ValidationError

from server.fibonacci import MAX_ITERATION
from server.request_models import INT64_MAX, INT64_MIN, FibonacciRequest, Numbers


def test_int64_bounds_are_inclusive() -> None:
    assert Numbers(a=INT64_MIN, b=INT64_MAX).model_dump() == {"a": INT64_MIN, "b": INT64_MAX}
    with pytest.raises(ValidationError):
        Numbers(a=INT64_MAX + 1, b=0)
    with pytest.raises(ValidationError):
        Numbers(a=0, b=INT64_MIN - 1)


def test_numbers_are_strict_json_integers() -> None:
    for raw in ('{"a": 1.0, "b": 1}', '{"a": "1", "b": 1}', '{"a": true, "b": 1}'):
        with pytest.raises(ValidationError):
            Numbers.model_validate_json(raw)


def test_iteration_cap_is_in_the_schema() -> None:
    schema = FibonacciRequest.model_json_schema()["properties"]["iteration"]
    assert (schema["minimum"], schema["maximum"]) == (0, MAX_ITERATION)
