"""Line charts as inline SVG: no JavaScript, no CDN, a few kB each.

A report must open anywhere, offline, years later; plain SVG in the HTML
does. Two axes kinds are enough for load testing:

- linear (time, throughput), with "nice" 1-2-5 ticks;
- the percentile spectrum axis of HdrHistogram's plotter, x = log₁₀(1/(1−q)),
  so p90, p99, p99.9 … are evenly spaced and the tail gets the room.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


@dataclass
class Series:
    name: str
    points: Sequence[tuple[float, float]]
    color: str = ""
    dashed: bool = False
    markers: bool = False


def spectrum_x(percentile: float) -> float:
    """x position of a percentile (0–100) on the 1/(1−q) log axis."""
    q = min(percentile / 100.0, 1 - 1e-7)
    return math.log10(1.0 / (1.0 - q))


def spectrum_ticks(max_x: float) -> list[tuple[float, str]]:
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


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v / 1000:g}k" if abs(v) >= 10_000 else f"{v:,.0f}"
    return f"{v:g}"


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    x_ticks: Sequence[tuple[float, str]] | None = None,
    width: int = 560,
    height: int = 300,
) -> str:
    """An SVG line chart; `x_ticks` fixes the x axis (e.g. `spectrum_ticks`)."""
    # The legend sits in rows above the plot, never over the lines.
    legend_cols = 4
    legend_rows = -(-len(series) // legend_cols)
    left, right, top, bottom = 62, 34, 30 + 14 * legend_rows, 44
    pw, ph = width - left - right, height - top - bottom
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points if math.isfinite(y)]
    if x_ticks:
        # The axis reaches the last point even past the last tick: on the spectrum
        # axis that is the tail (and the max), the part the plot is for.
        x0, x1 = x_ticks[0][0], max([x_ticks[-1][0], *xs])
        xt = list(x_ticks)
    else:
        # The data's own range (a 6 s run is not drawn on 0–8 s), round ticks within it.
        x0, x1 = min(xs, default=0.0), max(xs, default=1.0)
        xt = [(t, _fmt(t)) for t in nice_ticks(x0, x1) if x0 - 1e-9 <= t <= x1 + 1e-9]
    yticks = nice_ticks(0.0, max(ys, default=1.0) or 1.0)
    y1 = yticks[-1]
    x1 = x1 if x1 > x0 else x0 + 1

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + ph - y / y1 * ph

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
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        pts = [(px(x), py(y)) for x, y in s.points if math.isfinite(y) and x0 <= x <= x1]
        if not pts:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        out.append(f'<polyline points="{path}" stroke="{color}"{dash} class="l"/>')
        if s.markers or len(pts) == 1:
            out.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in pts)
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        y = 32 + 14 * (i // legend_cols)
        x = left + (i % legend_cols) * pw / legend_cols
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        out.append(
            f'<line x1="{x:.1f}" x2="{x + 18:.1f}" y1="{y}" y2="{y}" stroke="{color}"{dash} '
            'class="l"/>'
        )
        out.append(f'<text x="{x + 24:.1f}" y="{y + 4}" class="lg">{escape(s.name)}</text>')
    out.append("</svg>")
    return "\n".join(out)


CHART_CSS = """
svg { background: #fff; font: 11px system-ui, sans-serif; margin: 6px 12px 6px 0; }
svg .t { font-weight: 600; font-size: 13px; }
svg .g { stroke: #e4e4e4; stroke-width: 1; }
svg .xl { text-anchor: middle; fill: #444; }
svg .yl { text-anchor: end; fill: #444; }
svg .lg { fill: #222; }
svg .l { fill: none; stroke-width: 1.6; }
"""
