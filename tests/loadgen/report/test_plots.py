"""plots.py: the inline SVG charts draw every point, inside the plot, with no NaN."""

import itertools
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadgen.report.plots import Series, line_chart, nice_ticks, spectrum_ticks, spectrum_x
from loadgen.report.summary import spectrum
from tests.support.shard_states import latencies, recorder

WIDTH, HEIGHT = 560, 300


def polylines(svg: str) -> list[list[tuple[float, float]]]:
    return [
        [tuple(map(float, p.split(","))) for p in m.split()]
        for m in re.findall(r'<polyline points="([^"]*)"', svg)
    ]


def plot_area(svg: str) -> tuple[float, float, float, float]:
    """(left, right, top, bottom) of the plot, from its horizontal grid lines."""
    x1, x2 = re.search(r'<line x1="([\d.]+)" x2="([\d.]+)"', svg).groups()
    ys = [float(v) for v in re.findall(r'<line x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)"', svg)]
    return float(x1), float(x2), min(ys), max(ys)


@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(1e-3, 1e6, allow_nan=False),
    st.integers(2, 10),
)
def test_nice_ticks_cover_the_range_in_round_steps(low, span, count):
    high = low + span
    ticks = nice_ticks(low, high, count)
    slack = 1e-9 * max(abs(low), abs(high), span)  # floating-point rounding, nothing more
    assert ticks[0] <= low + slack and ticks[-1] >= high - slack
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    step = max(steps)
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert min(abs(mantissa - m) for m in (1, 2, 5, 10)) < 1e-3
    assert 2 <= len(ticks) <= 2 * count + 2


def test_spectrum_axis_puts_each_nine_one_decade_further():
    assert [spectrum_x(q) for q in (0, 90, 99, 99.9)] == pytest.approx([0, 1, 2, 3])
    assert [label for _, label in spectrum_ticks(2.5)] == ["0%", "90%", "99%"]


def test_the_spectrum_is_drawn_to_its_tail_and_max():
    """The points past the last decade tick (the tail, the max) are the point of it."""
    rec = recorder([latencies(900, seed=1)])
    h = rec.tasks["get"].response
    points = [(spectrum_x(q), ms) for q, ms in spectrum(h)]
    svg = line_chart(
        "spectrum",
        [Series("response", points)],
        x_label="percentile",
        y_label="ms",
        x_ticks=spectrum_ticks(points[-1][0]),
    )
    (line,) = polylines(svg)
    assert len(line) == len(points)  # none cut off
    left, right, top, bottom = plot_area(svg)
    assert line[-1][0] == pytest.approx(right, abs=0.1)  # the max, at the right edge
    assert max(y for _, y in points) == pytest.approx(h.get_max_value() / 1000, rel=1e-3)
    assert all(left - 0.1 <= x <= right + 0.1 and top - 0.1 <= y <= bottom + 0.1 for x, y in line)


def test_time_axis_spans_the_data():
    points = [(t, 10.0 * t) for t in (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.3)]  # a 6.3-second run
    svg = line_chart("t", [Series("a", points)], x_label="s", y_label="ms")
    (line,) = polylines(svg)
    left, right, _, _ = plot_area(svg)
    assert line[0][0] == pytest.approx(left, abs=0.1) and line[-1][0] == pytest.approx(
        right, abs=0.1
    )


@pytest.mark.parametrize(
    "series",
    [
        [],
        [Series("empty", [])],
        [Series("one", [(3.0, 5.0)])],
        [Series("zeros", [(0.0, 0.0), (1.0, 0.0)])],
        [Series("gap", [(0.0, 1.0), (1.0, math.nan), (2.0, math.inf), (3.0, 2.0)])],
        [Series("flat x", [(2.0, 1.0), (2.0, 3.0)])],
    ],
)
def test_degenerate_data_never_puts_nan_into_the_svg(series):
    svg = line_chart("edge", series, x_label="x", y_label="y")
    assert not re.search(r"nan|inf", svg, re.IGNORECASE), svg
    for line in polylines(svg):
        assert all(math.isfinite(v) for point in line for v in point)
