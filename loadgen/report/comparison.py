"""Runs side by side: loadgen run directories and Locust `--csv` output, as one shape,
and the page that compares them (`compare.html`).

Locust is a closed-loop tool: it times each request from its actual send, so
its "response time" is what loadgen calls *service time*; the response time
from an intended send time does not exist for it (`response` is None). Its
CSV percentiles are whole milliseconds (rounded to about two significant
digits), so sub-millisecond differences against it mean nothing. Its
`PREFIX_stats_history.csv` gives the throughput over time, from the
cumulative request count it logs about once a second (whole-second
timestamps, so that curve is coarser than loadgen's).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from loadgen.report.html import PAGE_CSS
from loadgen.report.plots import (
    CHART_CSS,
    PALETTE,
    Series,
    line_chart,
    spectrum_ticks,
    spectrum_x,
    wants_log,
)
from loadgen.report.run_data import rate_intervals
from loadgen.report.run_dir import load_run
from loadgen.report.summary import behind_reasons, spectrum
from loadgen.report.summary_contract import latency_values

# Locust's percentile columns, as (our key, its column, quantile).
_LOCUST_COLUMNS = [
    ("p50", "50%", 50.0),
    (None, "66%", 66.0),
    (None, "75%", 75.0),
    (None, "80%", 80.0),
    ("p90", "90%", 90.0),
    (None, "95%", 95.0),
    (None, "98%", 98.0),
    ("p99", "99%", 99.0),
    ("p99.9", "99.9%", 99.9),
    (None, "99.99%", 99.99),
]


@dataclass
class Comparable:
    label: str
    tool: str  # "loadgen" or "locust"
    requests: int
    achieved_rps: float
    errors: int
    response: Mapping[str, float | None] | None  # None: not measurable by this tool
    service: Mapping[str, float | None]
    spectra: dict[str, list[tuple[float, float]]]  # kind → (percentile, ms)
    notes: list[str] = field(default_factory=list)
    # (seconds since the start, responses per second), when the run logged it
    throughput: list[tuple[float, float]] = field(default_factory=list)

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


def short_labels(args: list[str]) -> list[str]:
    """The shortest path suffixes that tell the runs apart (runs are often
    directories of the same name under different parents)."""
    parts = [Path(a).parts for a in args]
    for k in range(1, max(len(p) for p in parts) + 1):
        labels = ["/".join(p[-k:]) for p in parts]
        if len(set(labels)) == len(labels):
            return labels
    return list(args)


def load_comparable(arg: str, label: str) -> Comparable:
    """A run directory, or a Locust --csv prefix (PREFIX_stats.csv; one of its
    files named in full works too, as shell completion offers them)."""
    path = Path(arg)
    if path.is_dir():
        return _from_loadgen(path, label)
    for suffix in ("_stats.csv", "_stats_history.csv"):
        arg = arg.removesuffix(suffix)
    stats = Path(f"{arg}_stats.csv")
    if stats.is_file():
        return _from_locust(label, stats)
    raise ValueError(f"{arg}: neither a loadgen run directory nor a Locust --csv prefix")


def _from_loadgen(path: Path, label: str) -> Comparable:
    run = load_run(path)
    s = run.summary
    return Comparable(
        label=label,
        tool="loadgen",
        requests=s["requests"],
        achieved_rps=s["achieved_rps"],
        errors=s["errors"]["total"],
        response=latency_values(s["latency_ms"]["response"]),
        service=latency_values(s["latency_ms"]["service"]),
        spectra={k: spectrum(run.total(k)) for k in ("response", "service")},
        notes=[f"behind: {'; '.join(behind_reasons(s))}"] if s["generator"]["behind"] else [],
        throughput=[(iv["t"], iv["responses"] / iv["length"]) for iv in rate_intervals(s)],
    )


def _from_locust(label: str, stats: Path) -> Comparable:
    with stats.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("Name") == "Aggregated"]
    if not rows:
        raise ValueError(f"{stats}: no Aggregated row (is this Locust's --csv output?)")
    row = rows[-1]
    if row.get("Request Count") == "0":  # its percentiles are then "N/A"
        raise ValueError(f"{stats}: Locust recorded no requests")
    try:
        service = {key: float(row[col]) for key, col, _ in _LOCUST_COLUMNS if key}
        service["max"] = float(row["Max Response Time"])
        service["mean"] = float(row["Average Response Time"])
        points = [(q, float(row[col])) for _, col, q in _LOCUST_COLUMNS]
        requests = int(row["Request Count"])
        failures = int(row["Failure Count"])
        rps = float(row["Requests/s"])
    except (KeyError, ValueError) as e:
        raise ValueError(f"{stats}: unexpected Locust CSV layout ({e})") from None
    return Comparable(
        label=label,
        tool="locust",
        requests=requests,
        achieved_rps=rps,
        errors=failures,
        response=None,
        service=service,
        spectra={"service": points},
        notes=[
            "Locust (closed model): its response time is loadgen's service time; "
            "time from an intended send is not measured",
            "Locust rounds percentiles to whole ms (about two significant digits)",
        ],
        throughput=_locust_throughput(
            stats.with_name(stats.name[: -len("stats.csv")] + "stats_history.csv")
        ),
    )


def _locust_throughput(history: Path) -> list[tuple[float, float]]:
    """Responses per second between the history's rows (Locust's own Requests/s
    there is a moving average, 0 until its window fills, so the counts are used)."""
    if not history.is_file():
        return []
    try:
        with history.open(newline="") as f:
            rows = [
                (float(r["Timestamp"]), int(r["Total Request Count"]))
                for r in csv.DictReader(f)
                if r.get("Name") == "Aggregated"
            ]
    except (KeyError, ValueError) as e:
        raise ValueError(f"{history}: unexpected Locust CSV layout ({e})") from None
    if not rows:
        return []
    t0 = rows[0][0]
    return [
        (t_before - t0, (n - n_before) / (t - t_before))
        for (t_before, n_before), (t, n) in itertools.pairwise(rows)
        if t > t_before
    ]


def delta(value: float, base: float) -> str:
    """Relative change against the baseline, as people read it."""
    if base == 0:
        return "" if value == 0 else "new"
    change = (value - base) / base
    if abs(change) < 0.005:
        return "±0%"
    # Whole percents, except that -100% means gone: a 99.5 % drop is not that.
    return f"{change:+.1%}" if value and round(change, 2) == -1 else f"{change:+.0%}"


def render_comparison(runs: list[Comparable], rows: list[tuple[str, list[str]]]) -> str:
    """The compare page: spectra overlaid (response and service time), throughput
    over time, and the table. Each run keeps its colour across the charts."""
    colors = {id(r): PALETTE[i % len(PALETTE)] for i, r in enumerate(runs)}
    charts = []
    # Both spectra on one kind of y axis: log when the runs span more than two
    # decades, or a fixed run is a flat line on zero under a legacy one.
    log = wants_log(ms for r in runs for points in r.spectra.values() for _, ms in points)
    for kind, title in (
        ("response", "Response time (from intended send)"),
        ("service", "Service time (from actual send; Locust's response time)"),
    ):
        series = [
            Series(
                f"{r.label} ({r.tool})",
                [(spectrum_x(q), ms) for q, ms in r.spectra[kind]],
                color=colors[id(r)],
            )
            for r in runs
            if r.spectra.get(kind)
        ]
        if not series:
            continue
        max_x = max(x for s in series for x, _ in s.points)
        charts.append(
            line_chart(
                title,
                series,
                x_label="percentile",
                y_label="ms",
                x_ticks=spectrum_ticks(max_x),
                log_y=log,
            )
        )
    throughput = [
        Series(f"{r.label} ({r.tool})", r.throughput, color=colors[id(r)])
        for r in runs
        if r.throughput
    ]
    if throughput:
        charts.append(
            line_chart(
                "Throughput over time",
                throughput,
                x_label="seconds",
                y_label="responses per second",
                log_y=False,
            )
        )
    head = "".join(f"<th>{escape(r.label)} ({r.tool})</th>" for r in runs)
    body = "".join(
        f"<tr><td>{escape(name)}</td>{''.join(f'<td>{escape(c)}</td>' for c in cells)}</tr>"
        for name, cells in rows
    )
    notes = "".join(f"<li>{escape(r.label)}: {escape(note)}</li>" for r in runs for note in r.notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>loadgen compare: {escape(", ".join(r.label for r in runs))}</title>
<style>{PAGE_CSS}{CHART_CSS}</style></head>
<body>
<h1>loadgen compare</h1>
<div class="sub">baseline: {escape(runs[0].label)}; changes are against it.</div>
<h2>Percentile spectra</h2>
<div class="charts">{"".join(charts)}</div>
<h2>Numbers</h2>
<table><tr><th>metric</th>{head}</tr>{body}</table>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
</body></html>
"""
