"""Runs side by side: loadgen run directories and Locust `--csv` output, as one shape,
and the page that compares them (`compare-A-vs-B.html`).

Numbers mean little without what produced them, so the page sets the runs'
set-ups (report/setup.py), diagnosis headlines and errors over time side by
side above their overlaid spectra. Changes against the baseline read as
people say them: percentages while small, factors (×174, ÷12) past twofold,
where a percentage (+17343 %) is a number nobody reads.

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
import datetime as dt
import hashlib
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path, PurePath

from loadgen.report.diagnosis import headline, how_sure
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
from loadgen.report.run_data import RunData, rate_intervals
from loadgen.report.run_dir import load_run
from loadgen.report.setup import setup_lines
from loadgen.report.summary import behind_reasons, spectrum
from loadgen.report.summary_contract import FindingEntry, Summary, latency_values

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


# A page's name past this many characters is cut, a digest keeping it apart.
MAX_NAME = 120
# Past twofold either way, a change reads as a factor (×2.5, ÷12), not a percentage.
FACTOR_FROM = 2.0

Points = list[tuple[float, float]]


@dataclass
class Comparable:
    """One run as compare reads it, whichever tool made it."""

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
    throughput: Points = field(default_factory=list)
    setup: list[tuple[str, str]] = field(default_factory=list)  # (label, text), as known
    # The findings, most explanatory first; None: the tool diagnoses nothing (Locust).
    diagnosis: list[FindingEntry] | None = None
    errors_by_kind: dict[str, int] = field(default_factory=dict)  # kind → count
    errors_over_time: dict[str, Points] = field(default_factory=dict)  # kind → per second
    # The run's own files read back, for the regression gate (None: not loadgen's).
    run: RunData | None = None

    @property
    def error_rate(self) -> float:
        """Errors per request (0 with no requests)."""
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


def page_name(labels: Sequence[str]) -> str:
    """`compare-A-vs-B.html`, after the runs' labels (their directories' names; a
    run compared with itself by its name), safe as a file name; past MAX_NAME
    characters the first run's and a digest of them all."""
    if len(set(labels)) < len(labels):
        labels = [PurePath(label).name or label for label in labels]
    slugs = [
        re.sub(r"[^\w.-]+", "_", label, flags=re.ASCII).strip("._-") or "run" for label in labels
    ]
    name = "-vs-".join(slugs)
    if len(name) > MAX_NAME:
        digest = hashlib.sha1("\0".join(labels).encode()).hexdigest()[:8]
        name = f"{slugs[0][: MAX_NAME // 2]}-vs-{len(slugs) - 1}-more-{digest}"
    return f"compare-{name}.html"


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
        setup=setup_lines(s),
        diagnosis=s.get("diagnosis", []),
        errors_by_kind=dict(s["errors"]["by_kind"]),
        errors_over_time=errors_per_second(s),
        run=run,
    )


def errors_per_second(summary: Summary) -> dict[str, Points]:
    """Each error kind's count per second over the timeline, as steps: each interval's
    value from its start, the last held to its end."""
    timeline = rate_intervals(summary)
    kinds = sorted({k for e in timeline for k in e.get("errors", {})})
    out = {}
    for kind in kinds:
        points = [(e["t"], e.get("errors", {}).get(kind, 0) / e["length"]) for e in timeline]
        out[kind] = [*points, (timeline[-1]["t"] + timeline[-1]["length"], points[-1][1])]
    return out


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
    prefix = stats.name[: -len("stats.csv")]  # its sibling files: PREFIX_...
    history = _locust_history(stats.with_name(prefix + "stats_history.csv"))
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
        throughput=history.responses,
        setup=_locust_setup(stats, history),
        errors_by_kind=_locust_failures(stats.with_name(prefix + "failures.csv")),
        errors_over_time={"failures, all kinds": history.failures}
        if failures and history.failures
        else {},
    )


@dataclass
class _LocustHistory:
    """What PREFIX_stats_history.csv tells: rates between its rows, users, when."""

    responses: Points = field(default_factory=list)  # per second
    failures: Points = field(default_factory=list)  # per second, as steps
    users: int = 0  # the most at once
    started_epoch: float | None = None
    seconds: float = 0.0


def _locust_history(history: Path) -> _LocustHistory:
    """Responses and failures per second between the history's rows (Locust's own
    Requests/s there is a moving average, 0 until its window fills, so the
    cumulative counts are used), its users and when it ran."""
    if not history.is_file():
        return _LocustHistory()
    try:
        with history.open(newline="") as f:
            rows = [
                (float(r["Timestamp"]), int(r["Total Request Count"]),
                 int(r["Total Failure Count"]), int(r["User Count"]))
                for r in csv.DictReader(f)
                if r.get("Name") == "Aggregated"
            ]  # fmt: skip
    except (KeyError, ValueError) as e:
        raise ValueError(f"{history}: unexpected Locust CSV layout ({e})") from None
    if not rows:
        return _LocustHistory()
    t0 = rows[0][0]
    spans = [(a, b) for a, b in itertools.pairwise(rows) if b[0] > a[0]]
    failures = [(a[0] - t0, (b[2] - a[2]) / (b[0] - a[0])) for a, b in spans]
    if failures:
        failures.append((rows[-1][0] - t0, failures[-1][1]))
    return _LocustHistory(
        responses=[(a[0] - t0, (b[1] - a[1]) / (b[0] - a[0])) for a, b in spans],
        failures=failures,
        users=max(r[3] for r in rows),
        started_epoch=t0,
        seconds=rows[-1][0] - t0,
    )


def _locust_setup(stats: Path, history: _LocustHistory) -> list[tuple[str, str]]:
    """What Locust's CSVs say of how the run was made (no target, no rate: a
    closed model has users, each waiting for its answer before the next)."""
    users = f"up to {history.users} users" if history.users else "users"
    lines = [
        ("rate", f"none asked: {users}, each sending after its last answer (closed model)"),
        ("scenario", f"a Locust user class; its CSV: {stats}"),
    ]
    if history.started_epoch is not None:
        when = dt.datetime.fromtimestamp(history.started_epoch, dt.UTC)
        lines.append(("started", f"{when:%Y-%m-%d %H:%M:%S} UTC, {history.seconds:g} s logged"))
    return lines


def _locust_failures(failures: Path) -> dict[str, int]:
    """Failures by what Locust said of them (PREFIX_failures.csv; none without it)."""
    if not failures.is_file():
        return {}
    out: dict[str, int] = {}
    try:
        with failures.open(newline="") as f:
            for r in csv.DictReader(f):
                out[r["Error"]] = out.get(r["Error"], 0) + int(r["Occurrences"])
    except (KeyError, ValueError) as e:
        raise ValueError(f"{failures}: unexpected Locust CSV layout ({e})") from None
    return out


def delta(value: float, base: float) -> str:
    """The change against the baseline, as people read it: a percentage within
    twofold (one decimal under 10 %: +5.0 %, -18 %), a factor past it (×174, ÷12);
    -100 % is gone (0), new is from nothing."""
    if base == 0:
        return "" if value == 0 else "new"
    if value == 0:
        return "-100%"
    ratio = value / base
    if ratio > FACTOR_FROM:
        return f"×{_factor(ratio)}"
    if 0 < ratio < 1 / FACTOR_FROM:
        return f"÷{_factor(1 / ratio)}"
    change = ratio - 1
    if abs(change) < 0.0005:
        return "±0%"
    return f"{change:+.1%}" if abs(change) < 0.0995 else f"{change:+.0%}"


def _factor(x: float) -> str:
    """Two significant digits at least: 2.4, 12, 174."""
    return f"{x:.1f}" if x < 9.95 else f"{x:.0f}"


# The page's width for the runs' columns (its body's, less the label column), in
# px, and the narrowest an errors chart is drawn (a narrower column shrinks it).
RUNS_WIDTH = 1100
MIN_CHART_WIDTH = 320
# The side-by-side table of the runs: a narrow label column, the runs in equal
# columns, each chart shrunk to its column's width.
RUNS_CSS = """
table.runs { table-layout: fixed; width: 100%; }
table.runs td, table.runs th { text-align: left; vertical-align: top; }
table.runs col.k { width: 84px; } table.runs td.k { color: #777; }
table.runs svg { width: 100%; height: auto; margin: 0; }
table.runs ul { padding-left: 18px; margin: 4px 0 0; } table.runs li { margin: 2px 0; }
.swatch { display: inline-block; width: 12px; height: 12px; margin-right: 6px; }
"""


def render_comparison(runs: list[Comparable], rows: list[tuple[str, list[str]]]) -> str:
    """The compare page: the runs side by side (set-up, diagnosis, errors over
    time), the table of numbers, then their spectra (response and service time)
    and throughput overlaid. Each run keeps its colour throughout."""
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
    names = escape(" vs ".join(r.label for r in runs))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>loadgen compare: {names}</title>
<style>{PAGE_CSS}{CHART_CSS}{RUNS_CSS}</style></head>
<body>
<h1>loadgen compare: {names}</h1>
<div class="sub">baseline: {escape(runs[0].label)}; changes are against it, as percentages
within twofold and as factors past it (×3.2 is 3.2 times the baseline, ÷12 a twelfth).</div>
<h2>The runs</h2>
{_runs_table(runs, colors)}
<h2>Numbers</h2>
<table><tr><th>metric</th>{head}</tr>{body}</table>
<h2>Percentile spectra and throughput</h2>
<div class="charts">{"".join(charts)}</div>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
</body></html>
"""


def _runs_table(runs: list[Comparable], colors: dict[int, str]) -> str:
    """Each run in a column: its set-up row by row (a row it does not know: —),
    its diagnosis, its errors by kind over time on one scale for all."""
    labels = list(dict.fromkeys(label for r in runs for label, _ in r.setup))
    setup = [
        f'<tr><td class="k">{escape(label)}</td>'
        + "".join(f"<td>{escape(dict(r.setup).get(label, '—'))}</td>" for r in runs)
        + "</tr>"
        for label in labels
    ]
    head = "".join(
        f'<th><span class="swatch" style="background:{colors[id(r)]}"></span>'
        f"{escape(r.label)} ({r.tool})</th>"
        for r in runs
    )
    errors = _error_charts(runs)
    return (
        f'<table class="runs"><colgroup><col class="k">{"<col>" * len(runs)}</colgroup>'
        f"<tr><th></th>{head}</tr>{''.join(setup)}"
        f'<tr><td class="k">diagnosis</td>{"".join(_diagnosis(r) for r in runs)}</tr>'
        f'<tr><td class="k">errors</td>{"".join(f"<td>{e}</td>" for e in errors)}</tr>'
        "</table>"
    )


def _diagnosis(run: Comparable) -> str:
    """The headline, then the other findings (the run's conditions among them)."""
    if run.diagnosis is None:
        return (
            f'<td class="sub">none: {run.tool.capitalize()} keeps no signals to diagnose from</td>'
        )
    if not run.diagnosis:
        return '<td class="sub">none: its summary.json is older than the diagnosis</td>'
    top = next((f for f in run.diagnosis if f["finding"] != "none" and not f.get("context")), None)
    others = "".join(
        f"<li><b>{escape(f['finding'])}</b>{escape(how_sure(f))}: {escape(f['summary'])}</li>"
        for f in run.diagnosis
        if f is not top and f["finding"] != "none"
    )
    look = "fail" if top is not None or run.errors else "pass"
    return (
        f'<td><span class="{look}">{escape(headline(run.diagnosis))}</span>'
        f"{f'<ul>{others}</ul>' if others else ''}</td>"
    )


def _error_charts(runs: list[Comparable]) -> list[str]:
    """Each run's errors by kind per second, on one x and y scale so that they
    compare by eye, each kind in one colour across the runs; under each its
    totals by kind."""
    kinds = sorted({k for r in runs for k in r.errors_over_time})
    # After the runs' colours: a kind is not mistaken for a run.
    kind_colors = {k: PALETTE[(len(runs) + i) % len(PALETTE)] for i, k in enumerate(kinds)}
    points = [p for r in runs for pts in r.errors_over_time.values() for p in pts]
    x_extent = [0.0, max((x for x, _ in points), default=0.0)]
    y_extent = [0.0, max((y for _, y in points), default=0.0)]
    # Drawn about as wide as its column, so that its text is not shrunk with it.
    width = max(MIN_CHART_WIDTH, min(560, RUNS_WIDTH // len(runs)))
    out = []
    for r in runs:
        totals = sorted(r.errors_by_kind.items(), key=lambda kv: -kv[1])
        said = "; ".join(f"{_short(k)}: {n}" for k, n in totals) or f"{r.errors} in all"
        series = [
            Series(kind, pts, kind_colors[kind], step=True)
            for kind, pts in r.errors_over_time.items()
            if pts
        ]
        if not r.errors:
            out.append('<span class="sub">none in any second</span>')
        elif not series:
            out.append(f'<span class="sub">not logged over time</span><br>{escape(said)}')
        else:
            chart = line_chart(
                f"Errors by kind: {r.label}",
                series,
                x_label="seconds",
                y_label="per second",
                width=width,
                log_y=False,
                x_extent=x_extent,
                y_extent=y_extent,
            )
            out.append(f'{chart}<div class="sub">{escape(said)}</div>')
    return out


def _short(text: str, most: int = 80) -> str:
    """An error kind as a label: Locust's are whole exception texts."""
    return text if len(text) <= most else text[: most - 1] + "…"
