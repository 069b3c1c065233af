"""plots.py: the inline SVG charts draw every point, inside the plot, with no NaN, on
the axis kind that shows it (linear, log), with legends and labels that do not collide."""

import itertools
import math
import re
from html import escape, unescape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadgen.report.plots import (
    Series,
    line_chart,
    log_ticks,
    nice_ticks,
    spectrum_ticks,
    spectrum_x,
    text_width,
    wants_log,
)
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
    grid = re.findall(r'<line x1="([\d.]+)" x2="([\d.]+)" y1="([\d.]+)" y2="\3" class="g"/>', svg)
    ys = [float(y) for _, _, y in grid]
    return float(grid[0][0]), float(grid[0][1]), min(ys), max(ys)


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


def texts(svg: str, cls: str) -> list[tuple[float, float, str]]:
    """(x, y, text) of the chart's <text class=cls> elements."""
    pattern = rf'<text x="([\d.]+)" y="([\d.]+)" class="{cls}"[^>]*>([^<]*)</text>'
    return [(float(x), float(y), t) for x, y, t in re.findall(pattern, svg)]


def y_axis(svg: str) -> list[tuple[float, str]]:
    """(pixel y, label) of the y ticks, top to bottom."""
    return sorted((y, t) for _, y, t in texts(svg, "yl"))


def test_the_automatic_log_axis_switches_past_two_decades():
    assert not wants_log([1.0, 100.0])  # two decades exactly: still linear
    assert wants_log([1.0, 100.5])
    # Zeros, None, NaN and inf have no place on a log axis and take no part.
    assert not wants_log([0.0, 0.0, 2.0, 150.0, None, math.nan, math.inf])
    assert not wants_log([]) and not wants_log([0.0, -5.0])

    def chart(top):
        points = [(0.0, 1.0), (1.0, 0.0), (2.0, top)]
        return line_chart("t", [Series("a", points)], x_label="s", y_label="ms")

    linear, log = chart(100.0), chart(1000.0)
    assert "(log scale)" not in linear and [t for _, t in y_axis(linear)][-1] == "0"
    assert "ms (log scale)" in log
    assert [t for _, t in y_axis(log)][::-1] == [
        "1",
        "2",
        "5",
        "10",
        "20",
        "50",
        "100",
        "200",
        "500",
        "1,000",
    ]
    forced = line_chart(
        "t", [Series("a", [(0, 1), (1, 1000)])], x_label="s", y_label="ms", log_y=False
    )
    assert "(log scale)" not in forced


@pytest.mark.parametrize(
    ("low", "high", "max_ticks", "ticks"),
    [
        (1.0, 100.0, 10, [1, 2, 5, 10, 20, 50, 100]),
        (3.0, 70.0, 10, [2, 5, 10, 20, 50, 100]),  # the 1-2-5 values around the data
        (0.3, 363.0, 10, [0.1, 1, 10, 100, 1000]),  # 11 1-2-5 ticks are too many: decades
        (0.001, 1000.0, 4, [0.001, 0.1, 10, 1000]),  # every other decade
        (1e-9, 10.0, 10, [1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10]),  # MAX_DECADES below the top
        (5.0, 5.0, 10, [5, 10]),  # one value still gets an axis
    ],
)
def test_log_ticks_are_1_2_5_or_decades(low, high, max_ticks, ticks):
    assert log_ticks(low, high, max_ticks) == pytest.approx(ticks)


def test_a_log_axis_spaces_decades_evenly_and_puts_zero_on_its_floor():
    points = [(0.0, 1.0), (1.0, 10.0), (2.0, 100.0), (3.0, 1000.0), (4.0, 0.0)]
    svg = line_chart("t", [Series("a", points)], x_label="s", y_label="ms", log_y=True)
    (line,) = polylines(svg)
    ys = [y for _, y in line]
    assert (
        ys[0] - ys[1]
        == pytest.approx(ys[1] - ys[2], abs=0.2)
        == pytest.approx(ys[2] - ys[3], abs=0.2)
    )
    _, _, top, bottom = plot_area(svg)
    assert ys[0] == pytest.approx(bottom) and ys[3] == pytest.approx(top)
    assert ys[4] == pytest.approx(bottom)  # 0 ms: on the floor, not log(0)
    assert not re.search(r"nan|inf", svg, re.IGNORECASE)


def test_log_x_runs_over_the_data_with_ticks_inside_it():
    rates = [10.0 * 2**k for k in range(10)]  # 10 … 5120: the ladder of a capacity search
    svg = line_chart(
        "c", [Series("a", [(r, 1.0) for r in rates])], x_label="rps", y_label="ms", log_x=None
    )
    (line,) = polylines(svg)
    xs = [x for x, _ in line]
    steps = [b - a for a, b in itertools.pairwise(xs)]
    assert max(steps) - min(steps) < 0.2  # each doubling the same width
    labels = [t for _, _, t in texts(svg, "xl")]
    assert labels[:-1] == ["10", "20", "50", "100", "200", "500", "1,000", "2,000", "5,000"]
    linear = line_chart("c", [Series("a", [(r, 1.0) for r in rates])], x_label="rps", y_label="ms")
    assert "5,000" not in linear  # x stays linear unless asked: it is usually time


def test_a_step_series_holds_each_value_until_the_next_point():
    points = [(0.0, 100.0), (1.0, 100.0), (2.0, 200.0), (3.0, 50.0)]
    svg = line_chart(
        "t", [Series("target", points, step=True)], x_label="s", y_label="/s", log_y=False
    )
    (line,) = polylines(svg)
    for (x0, y0), (x1, y1) in itertools.pairwise(line):
        assert x0 == x1 or y0 == y1, "only horizontal and vertical segments"
    # Across at the old value, then up (or down) at the next point's x.
    _, (x_rise, y_before), (x_after, y_after) = line[1], line[2], line[3]
    assert x_rise == x_after and y_before == line[0][1] and y_after < y_before
    assert line[-2][0] == line[-1][0] and line[-1][1] > line[-2][1]  # down to 50 at x=3
    ramp = line_chart("t", [Series("a", points)], x_label="s", y_label="/s", log_y=False)
    assert len(polylines(ramp)[0]) == len(points)  # an ordinary series joins the points


def test_reference_lines_are_labelled_and_inside_the_axes():
    points = [(t, 5.0 + t) for t in range(10)]
    svg = line_chart(
        "t",
        [Series("a", points)],
        x_label="rps",
        y_label="ms",
        log_y=False,
        hlines=[(100.0, "SLO p99 ≤ 100 ms")],
        vlines=[(4.0, "sustains 4/s"), (4.3, "fails at 5/s")],
    )
    refs = re.findall(
        r'<line x1="([\d.]+)" x2="([\d.]+)" y1="([\d.]+)" y2="([\d.]+)" class="ref"/>', svg
    )
    assert len(refs) == 3
    left, right, top, bottom = plot_area(svg)
    (h_x1, h_x2, h_y, _), *verticals = (tuple(map(float, r)) for r in refs)
    assert (h_x1, h_x2) == (left, right)
    # The axis reaches 100 though the data stop at 14.
    assert top <= h_y < bottom and dict((t, y) for y, t in y_axis(svg))["100"] == h_y + 4
    labels = {t: (x, y) for x, y, t in texts(svg, "rl")}
    assert set(labels) == {"SLO p99 ≤ 100 ms", "sustains 4/s", "fails at 5/s"}
    assert all(y1 == top and y2 == bottom for _, _, y1, y2 in verticals)
    # Two close markers: their labels face away from each other, like a bracket.
    (x4, _, _, _), (x43, _, _, _) = verticals
    assert 'text-anchor="end">sustains 4/s' in svg and labels["sustains 4/s"][0] < x4
    assert 'text-anchor="start">fails at 5/s' in svg and labels["fails at 5/s"][0] > x43


def test_crowded_marker_labels_take_another_row():
    svg = line_chart(
        "t",
        [Series("a", [(0.0, 1.0), (100.0, 2.0)])],
        x_label="x",
        y_label="y",
        vlines=[(40.0, "first marker"), (41.0, "second"), (42.0, "third")],
    )
    rows = sorted({y for _, y, _ in texts(svg, "rl")})
    assert len(rows) == 2  # left of the first, right of the last, and one row down between


@pytest.mark.parametrize("log_y", [False, True])
def test_marker_labels_stay_above_the_data(log_y):
    # capacity.html's latency chart: its peak is at the last levels, where the
    # limit's markers and their labels are.
    latency = [(50.0, 13.7), (75.0, 26.7), (87.5, 11.9), (94.0, 292.1), (100.0, 234.1)]
    svg = line_chart(
        "Latency vs throughput",
        [Series("p99.9", latency, markers=True), Series("p50", [(x, 4.0) for x, _ in latency])],
        x_label="responses per second",
        y_label="ms",
        log_y=log_y,
        vlines=[
            (87.5, "sustains 87.5/s"),
            (100.0, "fails at 100/s"),
            (94.0, "generator saturated at 93.75/s"),
        ],
    )
    rows = [y for _, y, _ in texts(svg, "rl")]
    assert len(rows) == 3 and len(set(rows)) > 1  # crowded: a second row
    points = [y for line in polylines(svg) for _, y in line]
    _, _, top, bottom = plot_area(svg)
    assert all(max(rows) + 3 < y <= bottom for y in points), (rows, min(points))
    assert all(y >= top for y in rows)


def test_legend_items_are_laid_out_by_their_width():
    names = [
        "legacy-gunicorn-lenient (loadgen)",
        "p50",
        "fixed-uvicorn (loadgen)",
        "x",
        "Locust's response time (closed model)",
        "service p99",
    ]
    width = 560
    svg = line_chart(
        "t", [Series(n, [(0, 1), (1, 2)]) for n in names], x_label="x", y_label="y", width=width
    )
    items = texts(svg, "lg")
    assert [t for _, _, t in items] == [escape(n) for n in names]
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, name in items:
        rows.setdefault(y, []).append((x, name))
    assert len(rows) >= 2  # wrapped: they do not fit one row
    for row in rows.values():
        for (x, name), (next_x, _) in itertools.pairwise(sorted(row)):
            assert x + text_width(unescape(name)) < next_x - 24, "runs into the next swatch"
        x, name = max(row)
        assert x + text_width(unescape(name)) <= width
    # Short names stay on one row, and the plot starts below the legend.
    one = line_chart("t", [Series(n, [(0, 1)]) for n in "abcd"], x_label="x", y_label="y")
    assert len({y for _, y, _ in texts(one, "lg")}) == 1
    assert plot_area(svg)[2] > plot_area(one)[2]


def test_text_width_is_an_upper_estimate_of_a_wide_font():
    """DejaVu Sans at 11 px: 'm' is 10.7 px, 'i' 3.1, a digit 7.0 (its advance widths)."""
    assert text_width("m") >= 10.6 and text_width("i") >= 3.0 and text_width("0") >= 7.0
    assert text_width("mmmm") > text_width("iiii") * 2
    assert text_width("service p99", size=22) == pytest.approx(2 * text_width("service p99"))


def test_series_are_drawn_in_order_and_rings_do_not_hide_dots():
    svg = line_chart(
        "t",
        [
            Series("response p99", [(1, 5), (2, 9)], markers=True),
            Series("service p99", [(1, 5), (2, 9)], color="#9467bd", markers=True, hollow=True),
        ],
        x_label="x",
        y_label="y",
    )
    first, second = svg.index('stroke="#1f77b4" class="l"'), svg.index('stroke="#9467bd" class="l"')
    assert first < second  # the last series on top
    rings = re.findall(r'<circle [^>]*r="([\d.]+)" fill="none" stroke="#9467bd"', svg)
    dots = re.findall(r'<circle [^>]*r="([\d.]+)" fill="#1f77b4"', svg)
    assert len(rings) == 3 and len(dots) == 3  # two points and the legend swatch each
    assert float(rings[0]) > float(dots[0])  # a ring around the dot, not a disc over it


def test_a_spectrum_of_nothing_timed_draws_an_empty_chart():
    svg = line_chart(
        "nothing", [Series("response time", [])], x_label="percentile", y_label="ms",
        x_ticks=spectrum_ticks(0.0),
    )  # fmt: skip
    assert svg.startswith("<svg") and "0%" in svg and "nan" not in svg.lower()
