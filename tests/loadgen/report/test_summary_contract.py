"""summary.json's contract: the check of a file read back agrees with the types
mypy reads the summary by, and names what is wrong with a damaged one."""

import typing
from typing import Any, NotRequired, Required

import pytest

from loadgen.measure.histogram import LATENCY_KEYS
from loadgen.report import summary_contract as contract
from loadgen.report.summary_contract import (
    SCHEMA,
    Errors,
    Generator,
    Latencies,
    Summary,
    TaskEntry,
    TimelineEntry,
    check_summary,
)


def required(typed: Any) -> set[str]:
    """A TypedDict's required keys, read from its annotations (with `from __future__
    import annotations` the runtime's own `__required_keys__` cannot tell)."""
    hints = typing.get_type_hints(typed, include_extras=True)
    wrapper = {k: typing.get_origin(h) for k, h in hints.items()}
    if typed.__total__:
        return {k for k, w in wrapper.items() if w is not NotRequired}
    return {k for k, w in wrapper.items() if w is Required}


@pytest.mark.parametrize(
    ("typed", "where"),
    [
        (Summary, []),
        (Errors, ["errors"]),
        (Latencies, ["latency_ms"]),
        (TaskEntry, ["tasks", str]),
        (Generator, ["generator"]),
        (TimelineEntry, ["timeline", 0]),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_the_read_back_check_asks_for_the_keys_every_summary_has(typed, where):
    shape: Any = contract._SHAPE
    for step in where:
        shape = shape[step]
    assert set(shape) == required(typed)


def test_each_latency_block_is_checked_for_every_statistic():
    assert set(contract._LATENCY) == set(LATENCY_KEYS)


def latency() -> dict[str, float | None]:
    return dict.fromkeys(LATENCY_KEYS, None)


def minimal() -> dict[str, Any]:
    return {
        "schema": SCHEMA, "target": "http://127.0.0.1:9/", "arrival": "constant",
        "target_rps": 10, "duration_s": 1.0, "requests": 1, "arrivals": 1,
        "achieved_rps": 1.0, "throughput_rps": 1.0,
        "errors": {"total": 0, "rate": 0.0, "by_kind": {}},
        "latency_ms": {"response": latency(), "service": latency()},
        "tasks": {"get": {"requests": 1, "errors": 0, "errors_by_kind": {},
                          "latency_ms": {"response": latency(), "service": latency()}}},
        "generator": {"send_lag_ms": {"p50": 0.1, "p99": 0.2, "max": None},
                      "max_in_flight": 1, "connections_opened": 1, "behind": False},
        "run": {},
        "timeline": [{"t": 0.0, "length": 1.0, "arrivals": 1, "responses": 1}],
    }  # fmt: skip


def test_a_summary_with_the_keys_every_summary_has_passes_as_it_is():
    summary = minimal()
    assert check_summary(summary) is summary


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda s: s.pop("schema"), "not a loadgen summary"),
        (lambda s: s.update(schema="loadgen.summary/0"), "not a loadgen summary"),
        (lambda s: s.pop("timeline"), "timeline is missing"),
        (lambda s: s["errors"]["by_kind"].update(timeout="3"), "errors.by_kind.timeout has the wr"),
        (lambda s: s["tasks"]["get"].pop("errors"), "tasks.get.errors is missing"),
        (lambda s: s["generator"].update(behind=1), "generator.behind has the wrong type"),
        (lambda s: s.update(requests=True), "requests has the wrong type"),  # a bool is no count
        (lambda s: s["timeline"].append([]), r"timeline\[1\] is not an object"),
        (lambda s: s.update(tasks=[]), "tasks is not an object"),
        (lambda s: s["latency_ms"]["service"].update(p99="fast"), "latency_ms.service.p99"),
    ],
    ids=["no schema", "another schema", "missing", "a count as text", "a task's", "a flag as 1",
         "a flag as a count", "an entry", "a list for an object", "a latency"],
)  # fmt: skip
def test_a_damaged_summary_is_refused_naming_the_first_key_that_is_wrong(damage, said):
    summary = minimal()
    damage(summary)
    with pytest.raises(ValueError, match=said):
        check_summary(summary)
