"""Request and response bodies of the API."""

from typing import Annotated, Final

from pydantic import BaseModel, Field, StrictInt

from server.fibonacci import MAX_ITERATION

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

# Strict: JSON 1.0, "1" and true are not integers here (lax pydantic would coerce them).
Int64 = Annotated[StrictInt, Field(ge=INT64_MIN, le=INT64_MAX)]


class Numbers(BaseModel):
    """Body of POST /addNumbers: two signed 64-bit integers."""

    a: Int64
    b: Int64


class AdditionResult(BaseModel):
    # a + b of two int64 may exceed int64; Python ints and JSON numbers do not care.
    result: int


class FibonacciRequest(BaseModel):
    """Body of POST /computeFib."""

    iteration: Annotated[StrictInt, Field(ge=0, le=MAX_ITERATION)]


class FibonacciResult(BaseModel):
    result: int


class Message(BaseModel):
    message: str
