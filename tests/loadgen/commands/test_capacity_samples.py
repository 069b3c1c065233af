"""Enough responses per capacity level: a level's length, and when its verdict is weak."""

import pytest

from loadgen.commands.capacity_samples import (
    MAX_LEVEL_S,
    MIN_RESPONSES,
    level_length,
    lowest_rate,
    weak_ends,
    weak_text,
)
from loadgen.commands.capacity_search import FAIL, PASS, Capacity, Level
from tests.loadgen.commands.test_capacity import summary


@pytest.mark.parametrize(
    ("rps", "length"),
    [(200.0, 10.0), (10.0, 10.0), (5.0, 20.0), (1.0, 60.0), (0.1, 60.0)],
)
def test_low_rate_levels_run_longer_for_their_responses(rps, length):
    """100 responses at least, --level 10s at least, --max-level 60s at most."""
    assert level_length(rps, 10.0, MIN_RESPONSES, MAX_LEVEL_S) == length
    assert level_length(rps, 10.0, 0, MAX_LEVEL_S) == 10.0  # --min-responses 0: off


def test_an_answer_resting_on_too_few_responses_says_so():
    def level(rps, verdict, n):
        s = summary()
        s["tasks"] = {"get": {"requests": n, "errors_by_kind": {}}}
        return Level(rps, verdict, [], s)

    result = Capacity([level(4, PASS, 40), level(8, FAIL, 300), level(2, PASS, 20)], 4, 8)
    assert [lv.rps for lv in weak_ends(result, 100)] == [4]
    said = weak_text(weak_ends(result, 100), 100)
    assert said.startswith("low confidence: judged on fewer than 100 responses (4/s on 40)")
    assert weak_ends(result, 40) == []


def test_the_search_down_stops_where_a_level_would_hold_too_few_responses():
    assert lowest_rate(20.0, 0.1, MIN_RESPONSES, MAX_LEVEL_S) == MIN_RESPONSES / MAX_LEVEL_S
    assert lowest_rate(20.0, 0.1, 100, 1000.0) == 0.1  # --min-rps, with levels long enough
    assert lowest_rate(20.0, 0.1, 0, MAX_LEVEL_S) == 0.1  # --min-responses 0: off
    assert lowest_rate(1.0, 0.1, MIN_RESPONSES, MAX_LEVEL_S) == 1.0  # never above the start
