"""Line charts as inline SVG: no JavaScript, no CDN, a few kB each.

A report must open anywhere, offline, years later; plain SVG in the HTML
does. Three axis kinds are enough for load testing:

- linear (time, throughput), with "nice" 1-2-5 ticks;
- logarithmic (latency, and throughput across a capacity search's levels),
  so that 1 ms and 1 s are both readable on one chart (`log_ticks`);
- the percentile spectrum axis of HdrHistogram's plotter, x = log₁₀(1/(1−q)),
  so p90, p99, p99.9 … are evenly spaced and the tail gets the room.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
# A log axis spans at most this many decades: anything smaller sits on its floor
# (a stray 1 µs does not squash a chart of seconds into its top inch).
MAX_DECADES = 6
# Pixels a tick label needs along each axis, so labels never touch.
_Y_TICK_PX, _X_TICK_PX = 20, 45
LEGEND_ROW = 14


@dataclass
class Series:
    """One line of a chart: its points (x, y) and how it is drawn."""

    name: str
    points: Sequence[tuple[float, float]]
    color: str = ""
    dashed: bool = False
    markers: bool = False
    # Per-interval data (a target rate): each value holds until the next point's x.
    step: bool = False
    # Markers as rings: drawn over another series' dots, both stay visible.
    hollow: bool = False
    # Markers only, no line: measured points beside the curve a model draws.
    scatter: bool = False


def spectrum_x(percentile: float) -> float:
    """x position of a percentile (0–100) on the 1/(1−q) log axis."""
    q = min(percentile / 100.0, 1 - 1e-7)
    return math.log10(1.0 / (1.0 - q))


def spectrum_ticks(max_x: float) -> list[tuple[float, str]]:
    """The x-axis labels of a percentile spectrum, whose x is the count of nines."""
    labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"]
    return [(float(i), label) for i, label in enumerate(labels) if i <= max_x + 1e-9]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values (1, 2 or 5 × 10ⁿ apart) covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    ticks = [math.floor(low / step) * step]
    while ticks[-1] < high - step * 1e-9:  # the last tick reaches past the data
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def wants_log(values: Iterable[float | None]) -> bool:
    """The automatic axis rule: logarithmic when the positive values span more than
    two decades (max / min > 100), as latency does once a tail or a stall appears.

    Zeros, negatives, None, NaN and ±inf take no part: they cannot be placed on a
    log axis at all and sit on its floor instead. On a linear axis spanning more
    than two decades, the lower 1 % of the range (p50 under a spiking max, a
    fixed run under a legacy one) is a flat line on zero.
    """
    positive = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    return bool(positive) and max(positive) > 100 * min(positive)


def _decade_steps(exponent: int) -> list[float]:
    return [round(m * 10.0**exponent, 12) for m in (1, 2, 5)]


def log_ticks(low: float, high: float, max_ticks: int = 10) -> list[float]:
    """Tick values of a log axis whose first tick is ≤ `low` and last ≥ `high` (> 0).

    1-2-5 ticks (1, 2, 5, 10, 20, 50 …: gaps of log₁₀2 ≈ 0.30 and log₁₀2.5 ≈ 0.40
    decade, near even) when at most `max_ticks` of them cover the range; otherwise
    powers of ten, every k-th decade with k the smallest that keeps to `max_ticks`.
    The range is cut to `MAX_DECADES` below `high`. A y axis runs from the first
    tick to the last, so the data never touch its ends unless they are round.
    """
    high = max(high, low)
    low = max(low, high / 10**MAX_DECADES)
    e_low, e_high = math.floor(math.log10(low)), math.ceil(math.log10(high))
    steps = [v for e in range(e_low, e_high + 1) for v in _decade_steps(e)]
    # The 1-2-5 values around the data: the largest ≤ low, up to the smallest ≥ high.
    first = max(i for i, v in enumerate(steps) if v <= low * (1 + 1e-9))
    last = min(i for i, v in enumerate(steps) if v >= high * (1 - 1e-9))
    last = max(last, first + 1)  # a one-value range still gets an axis
    if last - first + 1 <= max_ticks:
        return steps[first : last + 1]
    decades = e_high - e_low
    stride = max(1, math.ceil(decades / max(max_ticks - 1, 1)))
    return [10.0**e for e in range(e_low, e_low + stride * -(-decades // stride) + 1, stride)]


def text_width(text: str, size: float = 11.0) -> float:
    """An upper estimate of `text`'s width in px, for laying out labels without a
    browser: DejaVu Sans' advance widths (what system-ui is on Debian, and wider
    than Arial, Helvetica or Segoe UI) rounded up by kind of character."""
    em = 0.0
    for c in text:
        if c in "fijlrt .,:;()[]/-'|!·":
            em += 0.41
        elif c in "mwMW%@":
            em += 1.0
        elif c.isdigit() or c.islower():
            em += 0.64
        elif c.isupper():
            em += 0.8
        else:  # ≤, ≥, =, <, > and the like
            em += 0.85
    return em * size


def _legend(series: Sequence[Series], x0: float, width: float) -> list[tuple[float, int]]:
    """(x, row) of each legend item, laid out by its text width; a row wraps
    before an item would pass `width`."""
    out: list[tuple[float, int]] = []
    x, row = x0, 0
    for s in series:
        item = 24 + text_width(s.name)  # the swatch and its gap, then the label
        if x > x0 and x + item > x0 + width:
            x, row = x0, row + 1
        out.append((x, row))
        x += item + 16
    return out


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v / 1000:g}k" if abs(v) >= 10_000 else f"{v:,.0f}"
    return f"{v:g}"


def _finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


@dataclass(frozen=True)
class _Axis:
    low: float
    high: float
    log: bool

    def inside(self, v: float) -> bool:
        slack = 1e-9 * max(abs(self.low), abs(self.high), 1.0)
        return self.low - slack <= v <= self.high + slack

    def frac(self, v: float) -> float:
        """Where `v` lies between the ends, 0–1; on a log axis ≤ 0 is the floor."""
        if self.log:
            v = max(v, self.low)
            return math.log10(v / self.low) / math.log10(self.high / self.low)
        return (v - self.low) / (self.high - self.low)


def _y_axis(values: list[float], log: bool, length: float) -> tuple[_Axis, list[float]]:
    positive = [v for v in values if v > 0]
    if log and positive:
        ticks = log_ticks(min(positive), max(positive), max(2, int(length // _Y_TICK_PX)))
        return _Axis(ticks[0], ticks[-1], True), ticks
    # A little headroom: a constant rate is not drawn along the plot's top edge.
    ticks = nice_ticks(0.0, 1.02 * max(values, default=1.0) or 1.0)
    return _Axis(0.0, ticks[-1], False), ticks


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    x_ticks: Sequence[tuple[float, str]] | None = None,
    width: int = 560,
    height: int = 300,
    log_y: bool | None = None,
    log_x: bool | None = False,
    hlines: Sequence[tuple[float, str]] = (),
    vlines: Sequence[tuple[float, str]] = (),
    x_extent: Sequence[float] = (),
    y_extent: Sequence[float] = (),
) -> str:
    """An SVG line chart; series are drawn in order, so the last one is on top.

    `x_ticks` fixes the x axis (e.g. `spectrum_ticks`). `log_y`, `log_x`: True,
    False, or None for `wants_log` over that axis' values (x defaults to linear:
    it is usually time). `hlines` are labelled dashed reference lines (an SLO
    threshold), `vlines` labelled markers (a limit found); the axes reach them,
    and the x axis reaches `x_extent` too (charts stacked on one x scale), the
    y axis `y_extent` (charts compared by eye on one y scale).
    """
    left, right, bottom = 62, 34, 44
    pw = width - left - right
    legend = _legend(series, left, pw)
    top = 30 + LEGEND_ROW * (1 + max((row for _, row in legend), default=-1))
    ph = height - top - bottom
    xs = [x for s in series for x, y in s.points if _finite(x) and _finite(y)]
    xs += [x for x, _ in vlines if _finite(x)]
    xs += [x for x in x_extent if _finite(x)]
    ys = [y for s in series for _, y in s.points if _finite(y)]
    ys += [y for y, _ in hlines if _finite(y)]
    ys += [y for y in y_extent if _finite(y)]

    if x_ticks:
        # The axis reaches the last point even past the last tick: on the spectrum
        # axis that is the tail (and the max), the part the plot is for.
        high = max([x_ticks[-1][0], *xs])
        # A single tick and no data (a spectrum of nothing timed): one unit wide.
        xa = _Axis(x_ticks[0][0], high if high > x_ticks[0][0] else x_ticks[0][0] + 1, False)
        xt = list(x_ticks)
    else:
        positive = [x for x in xs if x > 0]
        if (wants_log(xs) if log_x is None else log_x) and positive:
            # The data's own range, the 1-2-5 or decade ticks within it.
            lo, hi = min(positive), max(positive)
            xa = _Axis(lo, hi, True) if hi > lo else _Axis(lo / 2, lo * 2, True)
            ticks = log_ticks(xa.low, xa.high, max(2, int(pw // _X_TICK_PX)))
        else:
            # The data's own range (a 6 s run is not drawn on 0–8 s), round ticks within it.
            lo, hi = min(xs, default=0.0), max(xs, default=1.0)
            if hi <= lo:  # one x (a capacity search's single level): in the middle
                pad = abs(lo) / 2 or 0.5
                lo, hi = (lo - pad if lo - pad >= 0 or lo < 0 else 0.0), hi + pad
            xa = _Axis(lo, hi, False)
            ticks = nice_ticks(xa.low, xa.high)
        xt = [(t, _fmt(t)) for t in ticks if xa.inside(t)]

    def px(x: float) -> float:
        return left + xa.frac(x) * pw

    marks = _mark_labels([(px(v), label) for v, label in vlines if _finite(v)], left, width)
    log = wants_log(ys) if log_y is None else log_y
    if marks and ys:
        # The markers' labels sit in rows along the top: the y axis reaches high
        # enough that the data stay below them (a label over a curve's peak hides it).
        band = _mark_y(top, max(row for _, _, row, _ in marks)) + 4 - top
        ys.append(_above(ys, log, min(band / ph, 0.5)))
    ya, yticks = _y_axis(ys, log, ph)
    if ya.log:
        y_label += " (log scale)"

    def py(y: float) -> float:
        return top + ph - ya.frac(y) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="18" class="t">{escape(title)}</text>',
    ]
    for t in yticks:
        y = py(t)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" class="g"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="yl">{_fmt(t)}</text>')
    for t, label in xt:
        x = px(t)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" class="g"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" class="xl">{escape(label)}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 6}" class="xl">{escape(x_label)}</text>')
    out.append(
        f'<text transform="translate(14 {top + ph / 2}) rotate(-90)" class="xl">'
        f"{escape(y_label)}</text>"
    )
    # Reference lines go under the data, their labels over it (on a white halo).
    labels: list[str] = []
    for value, label in hlines:
        if not _finite(value):
            continue
        y = py(value)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{y:.1f}" y2="{y:.1f}" class="ref"/>')
        # At the left, where latency curves are low (a hockey stick rises on the
        # right); under the line when it runs along the top.
        ly = y + 13 if y - top < LEGEND_ROW else y - 4
        labels.append(_label(left + 4, ly, "start", label))
    for x, anchor, row, label in marks:
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" class="ref"/>')
        labels.append(
            _label(x + 4 if anchor == "start" else x - 4, _mark_y(top, row), anchor, label)
        )
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        data = sorted(s.points) if s.step else s.points
        pts = [
            (px(x), py(y))
            for x, y in data
            if _finite(x) and _finite(y) and xa.inside(max(x, xa.low) if xa.log else x)
        ]
        if not pts:
            continue
        line = pts[:1]
        for (_, y), (nx, ny) in itertools.pairwise(pts):
            if s.step and f"{y:.1f}" != f"{ny:.1f}":
                line.append((nx, y))  # the value holds until the next point's x
            line.append((nx, ny))
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in line)
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        if not s.scatter:
            out.append(f'<polyline points="{path}" stroke="{color}"{dash} class="l"/>')
        if s.markers or s.scatter or len(pts) == 1:
            out.extend(_marker(x, y, color, s.hollow) for x, y in pts)
    out.extend(labels)
    for i, (s, (x, row)) in enumerate(zip(series, legend, strict=True)):
        color = s.color or PALETTE[i % len(PALETTE)]
        y = 32 + LEGEND_ROW * row
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        if not s.scatter:
            out.append(
                f'<line x1="{x:.1f}" x2="{x + 18:.1f}" y1="{y}" y2="{y}" stroke="{color}"{dash} '
                'class="l"/>'
            )
        if s.markers or s.scatter:
            out.append(_marker(x + 9, y, color, s.hollow))
        out.append(f'<text x="{x + 24:.1f}" y="{y + 4}" class="lg">{escape(s.name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _mark_labels(
    markers: list[tuple[float, str]], left: float, width: float
) -> list[tuple[float, str, int, str]]:
    """Where each marker's label goes: (x, text-anchor, row, label). Right of the
    marker, or left of it where the chart ends or another marker is in the way
    (two close markers read as a bracket); a row lower where an earlier label
    still is."""
    rows: list[list[tuple[float, float]]] = []  # per label row, the x extents taken
    placed = []
    for x, label in markers:
        w = text_width(label)
        sides = [("start", x + 4), ("end", x - 4 - w)]
        fits = [(n, a) for n, a in sides if left <= a and a + w <= width - 2] or sides[:1]
        clear = [(n, a) for n, a in fits if not any(a <= m <= a + w for m, _ in markers if m != x)]
        anchor, a = (clear or fits)[0]
        free = (
            i for i, taken in enumerate(rows) if all(a > e + 6 or a + w < s - 6 for s, e in taken)
        )
        row = next(free, len(rows))
        if row == len(rows):
            rows.append([])
        rows[row].append((a, a + w))
        placed.append((x, anchor, row, label))
    return placed


def _mark_y(top: float, row: int) -> float:
    """The baseline of a marker label's row."""
    return top + 12 + 13 * row


def _above(values: list[float], log: bool, share: float) -> float:
    """The value an axis must reach for the data to keep off its top `share`."""
    high = max(values)
    positive = [v for v in values if v > 0]
    if log and positive:
        low = min(positive)
        return low * (high / low) ** (1 / (1 - share)) if high > low else high
    return high / (1 - share)


def _marker(x: float, y: float, color: str, hollow: bool) -> str:
    if hollow:  # a ring around the dot of a series it coincides with, not over it
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="none" stroke="{color}" class="ring"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>'


def _label(x: float, y: float, anchor: str, text: str) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" class="rl" text-anchor="{anchor}">{escape(text)}</text>'


CHART_CSS = """
svg { background: #fff; font: 11px system-ui, sans-serif; margin: 6px 12px 6px 0; }
svg .t { font-weight: 600; font-size: 13px; }
svg .g { stroke: #e4e4e4; stroke-width: 1; }
svg .xl { text-anchor: middle; fill: #444; }
svg .yl { text-anchor: end; fill: #444; }
svg .lg { fill: #222; }
svg .l { fill: none; stroke-width: 1.6; }
svg .ref { stroke: #555; stroke-width: 1.2; stroke-dasharray: 6 4; }
svg .ring { stroke-width: 1.5; }
svg .rl { fill: #333; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
"""
