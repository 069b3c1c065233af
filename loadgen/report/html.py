"""HTML pages: `report.html` for a run, `capacity.html` for a capacity search.

Each is one self-contained file (inline SVG and CSS, no scripts). The run page
shows, top to bottom: the verdict line (rates, errors, generator
health, SLOs); latency over time (response and service time per second);
the percentile spectrum per task on the 1/(1−q) axis; throughput (target vs
achieved arrivals) and errors by kind over time; the numbers as tables; the
run's parameters.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from loadgen.measure.histogram import Histogram, merged, ms
from loadgen.report.diagnosis import headline, how_sure
from loadgen.report.notes import Note, notes
from loadgen.report.plots import (
    CHART_CSS,
    PALETTE,
    Series,
    line_chart,
    spectrum_ticks,
    spectrum_x,
    wants_log,
)
from loadgen.report.run_data import KINDS, RunData, concurrency, rate_intervals
from loadgen.report.server_signals import describe
from loadgen.report.setup import arrivals_text, setup_lines, target_rate_text
from loadgen.report.slo import SLO, SLOError, parse_slo
from loadgen.report.summary import (
    LATENCY_STATS,
    asked_note,
    failed_checks,
    others_label,
    spectrum,
    task_groups,
    task_rows,
)
from loadgen.report.summary_contract import LATENCY_KINDS, Summary, TimelineEntry
from loadgen.report.usl import describe as describe_usl
from loadgen.report.usl import n_text

PAGE_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1220px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 6px; }
.sub { color: #555; } .warn { background: #fff4d6; border-left: 4px solid #e0a800;
  padding: 6px 10px; margin: 10px 0; } .fail { color: #b00020; font-weight: 600; }
.pass { color: #1b7f3b; font-weight: 600; }
table { border-collapse: collapse; margin: 6px 0; } td, th { padding: 3px 10px;
  border-bottom: 1px solid #e6e6e6; text-align: right; } th { background: #f6f6f6; }
td:first-child, th:first-child, .k { text-align: left; }
.charts { display: flex; flex-wrap: wrap; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 12px; }
ul.diag { padding-left: 20px; } ul.diag li { margin: 4px 0; }
table.setup td { border: 0; padding: 1px 10px 1px 0; text-align: left; color: #333; }
table.setup td.k { color: #777; }
"""


# Said in place of a chart when no response was timed (every request an error):
# axes round nothing would read as a chart of zeros.
_NOTHING_TIMED = '<p class="sub nothing-timed">{}: no response was timed, nothing to draw.</p>'


def _latency_charts(run: RunData) -> str:
    stats = ("p50", "p90", "p99", "max")
    if not any(s[kind].get("max") is not None for _, s in run.seconds for kind in KINDS):
        return _NOTHING_TIMED.format("Latency per second")
    # One axis kind for both charts, so that they read side by side: log once a
    # spike puts p50 two decades under the max.
    log = wants_log(s[kind][stat] for _, s in run.seconds for kind in KINDS for stat in stats)
    charts = []
    for kind, title in (
        ("response", "Response time per second (from intended send)"),
        ("service", "Service time per second (from actual send)"),
    ):
        series = [Series(stat, [(t, s[kind][stat]) for t, s in run.seconds]) for stat in stats]
        charts.append(line_chart(title, series, x_label="seconds", y_label="ms", log_y=log))
    return "".join(charts)


def _spectrum_charts(run: RunData) -> str:
    charts = []
    groups = [("all tasks", {k: run.total(k) for k in KINDS}), *_task_spectra_groups(run)]
    spectra = [
        (name, [(spectrum_x(q), ms) for q, ms in spectrum(hs[kind])], kind)
        for name, hs in groups
        for kind in ("response", "service")
    ]
    # All on one y axis, kind and range, as the tasks are compared with each other.
    values = [ms for _, points, _ in spectra for _, ms in points]
    if not values:
        return _NOTHING_TIMED.format("Percentile spectrum")
    log = wants_log(values)
    extent = (min(values), max(values)) if values else ()
    for name, _ in groups:
        series = [
            Series(f"{kind} time", points, dashed=kind == "service")
            for n, points, kind in spectra
            if n == name
        ]
        max_x = max((x for s in series for x, _ in s.points), default=0.0)
        charts.append(
            line_chart(
                f"Percentile spectrum: {name}",
                series,
                x_label="percentile",
                y_label="ms",
                x_ticks=spectrum_ticks(max_x),
                log_y=log,
                y_extent=extent,
            )
        )
    return "".join(charts)


def _task_spectra_groups(run: RunData) -> list[tuple[str, dict[str, Histogram]]]:
    """(name, kind → histogram) of the tasks the tables show, in their order, then
    the rest merged in one (`task_groups`); tasks missing from the summary last."""
    tasks = run.summary.get("tasks", {})
    shown, rest = task_groups({n: t for n, t in tasks.items() if n in run.histograms})
    shown += sorted(n for n in run.histograms if n not in tasks)
    groups = [(name, run.histograms[name]) for name in shown]
    if rest:
        others = {k: merged(run.histograms[n][k] for n in rest) for k in KINDS}
        groups.append((others_label(len(rest)), others))
    return groups


def _throughput_charts(summary: Summary) -> str:
    # Seconds after sending stopped (a long drain) are kept: their target is 0 (see
    # summary.py), so target and achieved fall together while responses trickle in.
    timeline = rate_intervals(summary)

    def steps(counts: list[float]) -> list[tuple[float, float]]:
        """Per second of each interval; the last one held until its interval ends."""
        points = [
            (e["t"], n / max(float(e["length"]), 1e-9))
            for e, n in zip(timeline, counts, strict=True)
        ]
        if points:
            points.append((timeline[-1]["t"] + timeline[-1]["length"], points[-1][1]))
        return points

    # Each entry is a count over an interval, so each value holds until the next
    # one: steps, not ramps (a stage change is a step at its boundary, where the
    # achieved rate steps too). Drawn bottom to top: responses, which trail the
    # arrivals, then the arrivals, then the target dashed in its own colour, so
    # that a line matching the one under it still shows.
    arrivals = [
        Series("responses", steps([e["responses"] for e in timeline]), PALETTE[1], step=True),
        Series(
            "achieved arrivals", steps([e["arrivals"] for e in timeline]), PALETTE[0], step=True
        ),
        Series(
            "target",
            steps([e.get("target", 0) for e in timeline]),
            color="#222",
            dashed=True,
            step=True,
        ),
    ]
    kinds = sorted({k for e in timeline for k in e.get("errors", {})})
    errors = [
        Series(kind, steps([e.get("errors", {}).get(kind, 0) for e in timeline]), step=True)
        for kind in kinds
    ]
    # Rates stay linear: they are read by difference (target minus achieved),
    # which a log axis shrinks as the rate grows.
    return (
        line_chart(
            "Throughput: target vs achieved",
            arrivals,
            x_label="seconds",
            y_label="per second",
            log_y=False,
        )
        + (
            line_chart(
                "Errors by kind", errors, x_label="seconds", y_label="per second", log_y=False
            )
            if errors
            else '<p class="sub errors-none">Errors by kind: none in any second.</p>'
        )
        + _held_chart(timeline)
    )


def _held_chart(timeline: list[TimelineEntry]) -> str:
    """Requests the target held at once, each second (Little's law): flat while it
    keeps up, climbing while it queues. Each answer's service time is booked to
    the second it came back, so a growing queue shows a second or so late.
    "" for a summary written before busy_s was kept."""
    held = [(e["t"], n) for e in timeline if (n := concurrency(e)) is not None]
    if not held:
        return ""
    if not any(n for _, n in held):  # no answer's service time in any second
        return _NOTHING_TIMED.format("Requests in the server at once")
    return line_chart(
        "Requests in the server at once (Little's law)",
        [Series("Σ service time of the second's answers / 1 s", held, PALETTE[2], markers=True)],
        x_label="seconds",
        y_label="requests",
    )


def _latency_table(summary: Summary) -> str:
    head = "".join(f"<th>{s}</th>" for s in LATENCY_STATS)
    rows = []
    for name, t in task_rows(summary):
        for kind in LATENCY_KINDS:
            lat = t["latency_ms"][kind]
            cells = "".join(f"<td>{ms(lat[s])}</td>" for s in LATENCY_STATS)
            first = kind == "response"
            label = f"<td rowspan=2>{escape(name)}</td><td rowspan=2>{t['requests']}</td>" \
                f"<td rowspan=2>{t['errors']}</td>" if first else ""  # fmt: skip
            rows.append(f'<tr>{label}<td class="k">{kind}</td>{cells}</tr>')
    return (
        "<table><tr><th>task</th><th>requests</th><th>errors</th><th>time (ms)</th>"
        f"{head}</tr>{''.join(rows)}</table>"
    )


def _setup(summary: Summary) -> str:
    """What was run: the target and how it was started, the rate as asked, when."""
    rows = "".join(
        f'<tr><td class="k">{escape(label)}</td><td>{escape(text)}</td></tr>'
        for label, text in setup_lines(summary)
    )
    return f'<table class="setup">{rows}</table>'


def _asked(summary: Summary) -> str:
    note = asked_note(summary)
    return f' <span class="warn">({escape(note)})</span>' if note else ""


def _verdict(summary: Summary) -> str:
    gen = summary["generator"]
    errors = summary["errors"]
    by_kind = ", ".join(f"{k} {v}" for k, v in errors["by_kind"].items()) or "none"
    lag = gen["send_lag_ms"]
    parts = [
        f"<p>{arrivals_text(summary['arrival'])}, target <b>{escape(target_rate_text(summary))}</b>"
        f"{_asked(summary)}, achieved <b>{summary['achieved_rps']:.1f}/s</b> "
        f"over {summary['duration_s']:.1f} s; "
        f"{summary['requests']} requests, errors {errors['total']} "
        f"({100 * errors.get('rate', 0):.2f}%: {escape(by_kind)}).</p>",
        f"<p>Generator: send lag p50 {ms(lag['p50'], 3)} ms, p99 {ms(lag['p99'], 3)} ms, "
        f"max {ms(lag['max'], 3)} ms; max in flight {gen['max_in_flight']}; "
        f"connections opened {gen['connections_opened']}.</p>",
    ]
    parts.extend(_note(n) for n in notes(summary))
    parts.append(_checks_table(summary))
    for result in summary.get("slo", []):
        css = "pass" if result["passed"] else "fail"
        verdict = "pass" if result["passed"] else "FAIL"
        over = f" over {', '.join(result['over'])}" if "over" in result else ""
        parts.append(
            f'<p><span class="{css}">{verdict}</span> {escape(result["slo"])} '
            f"(measured {escape(result['measured'] + over)})</p>"
        )
    return "".join(parts)


def _note(note: Note) -> str:
    """A note as a paragraph: "Connect: …." (a warning stands out)."""
    look = ' class="warn"' if note.level == "warning" else ""
    said = f"{note.label}: {note.text}" if note.label else note.text
    return f"<p{look}>{escape(said[0].upper() + said[1:].rstrip('.'))}.</p>"


def _checks_table(summary: Summary) -> str:
    """Failed checks by task and reason, the most frequent first (nothing: none failed)."""
    rows = []
    for task, failed, reasons in failed_checks(summary):
        for i, (reason, n) in enumerate(reasons):
            label = f"<td rowspan={len(reasons)}>{escape(task)}</td>" \
                f"<td rowspan={len(reasons)}>{failed}</td>" if i == 0 else ""  # fmt: skip
            rows.append(f'<tr>{label}<td class="k">{escape(reason)}</td><td>{n}</td></tr>')
    if not rows:
        return ""
    return (
        "<p>Failed checks (answered and timed, but wrong: errors of kind <b>check</b>):</p>"
        '<table><tr><th>task</th><th>failed</th><th class="k">reason</th><th>count</th></tr>'
        f"{''.join(rows)}</table>"
    )


def _diagnosis(summary: Summary) -> str:
    """The findings, most explanatory first (absent from summaries older than them)."""
    items = []
    for f in summary.get("diagnosis", []):
        if f["finding"] == "none":
            look = "pass" if not summary["errors"]["total"] else "fail"
            items.append(
                f'<li><span class="{look}">{escape(f["summary"])}</span> '
                f"({escape(f['evidence'])})</li>"
            )
            continue
        items.append(
            f"<li><b>{escape(f['finding'])}</b>{escape(how_sure(f))}: {escape(f['summary'])} → "
            f'{escape(f["advice"])}<br><span class="sub">{escape(f["evidence"])}</span></li>'
        )
    return f'<h2>Diagnosis</h2><ul class="diag">{"".join(items)}</ul>' if items else ""


def _server_section(summary: Summary) -> str:
    """The target's own signals: in words, then CPU and loop lag on the latency's time axis."""
    server = summary.get("server")
    if server is None:
        return ""
    lines = "".join(f"<p>{escape(line)}</p>" for line in describe(server))
    seconds = [(e["t"], e["server"]) for e in summary["timeline"] if "server" in e]
    charts = []
    pids = sorted({pid for _, s in seconds for pid in s.get("workers", {})})
    if pids:
        cpu = [
            Series(
                f"worker {pid}",
                [
                    (t, cpu)
                    for t, s in seconds
                    if (w := s.get("workers", {}).get(pid)) is not None
                    and (cpu := w.get("cpu")) is not None
                ],
                step=True,
            )
            for pid in pids
        ]
        cpu.append(
            Series(
                "loadgen",
                [(t, s["generator_cpu"]) for t, s in seconds if "generator_cpu" in s],
                dashed=True,
                step=True,
            )
        )
        charts.append(
            line_chart(
                "Server CPU per worker (100 = one core)",
                cpu,
                x_label="seconds",
                y_label="% of a core",
                log_y=False,
            )
        )
    loops = sorted({w for _, s in seconds for w in s.get("loop_lag_max_ms", {})})
    if loops:
        lag = [
            Series(
                f"worker {w}" if w else "the worker",
                [
                    (t, s["loop_lag_max_ms"][w])
                    for t, s in seconds
                    if w in s.get("loop_lag_max_ms", {})
                ],
                step=True,
            )
            for w in loops
        ]
        charts.append(
            line_chart(
                "Event-loop lag, the worst of the last 2 s",
                lag,
                x_label="seconds",
                y_label="ms",
            )
        )
    return f"""<h2>The server's side</h2>
<p class="sub">Sampled once a second beside the load, off its path: the server's workers
(CPU in % of one core), its /metrics and its error log.</p>
{lines}<div class="charts">{"".join(charts)}</div>"""


def render_html(run: RunData, name: str = "") -> str:
    """The run's page; `name` (its directory's) titles it."""
    s = run.summary
    params = s.get("run", {})
    run_params = json.dumps(params, indent=2, default=str)
    title = f"loadgen report: {name}" if name else "loadgen report"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{PAGE_CSS}{CHART_CSS}</style></head>
<body>
<h1>{escape(title)}</h1>
{_setup(s)}
{_verdict(s)}
{_diagnosis(s)}
<h2>Latency over time</h2>
<p class="sub">Response time counts from each request's intended send time (what a user
arriving then waits); service time from the moment it was written to the socket. A gap
between them is queueing.</p>
<div class="charts">{_latency_charts(run)}</div>
{_server_section(s)}
<h2>Percentile spectrum</h2>
<p class="sub">Each percentile on a log axis of 1/(1−q), as HdrHistogram plots it: the
tail gets the room. Solid: response time; dashed: service time.</p>
<div class="charts">{_spectrum_charts(run)}</div>
<h2>Throughput and errors</h2>
<div class="charts">{_throughput_charts(s)}</div>
<h2>Latency by task (ms)</h2>
{_latency_table(s)}
<h2>Run parameters</h2>
<pre>{escape(run_params)}</pre>
</body></html>
"""


def _timed(levels: list[dict[str, Any]], kind: str, stat: str) -> list[tuple[float, float]]:
    """(throughput, latency) of the levels that timed any response."""
    points = [(lv["throughput_rps"], lv["latency_ms"][kind].get(stat)) for lv in levels]
    return [(x, y) for x, y in points if y is not None]


_OP_SIGNS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥"}
# A percentile keeps its colour whichever others an SLO adds to the chart.
_STAT_COLORS = dict(zip(("p50", "p99", "p99.9", "p90", "max", "mean"), PALETTE, strict=False))


def _latency_slos(texts: list[str]) -> list[SLO]:
    """The objectives a line on the chart can stand for: latency of every task's
    response time (the curves); one task's, or service time, is not drawn."""
    slos = []
    for text in texts:
        try:
            slo = parse_slo(text)
        except SLOError:  # a hand-edited capacity.json: the table still says it
            continue
        if slo.metric == "latency" and slo.task is None and slo.kind == "response":
            slos.append(slo)
    return slos


def _limits(report: dict[str, Any]) -> list[tuple[float, str]]:
    """Markers at the limit found, where its level's responses per second put it."""
    at = {lv["target_rps"]: lv["throughput_rps"] for lv in report["levels"]}
    marks = []
    for key, label in (
        ("sustained_rps", "sustains {}/s"),
        ("failed_rps", "fails at {}/s"),
        ("saturated_at_rps", "generator saturated at {}/s"),
    ):
        rate = report.get(key)
        if rate is not None:
            # Four digits at most (a bisected rate is 1.97917), whole from 1000/s.
            shown = f"{rate:.4g}" if rate < 1000 else f"{rate:.0f}"
            marks.append((float(at.get(rate, rate)), label.format(shown)))
    return marks


def _bottleneck(level: dict[str, Any]) -> str:
    """A level's first finding, in a few words ("—" when nothing stood out)."""
    found = level.get("diagnosis", [])
    if not any(f["finding"] != "none" and not f.get("context") for f in found):
        return "—"
    return headline(found, advice=False)


# A level's throughput "follows" the offered rate while within 5 % of it.
FOLLOWS = 0.95
# Levels past the knee whose N₀ is within this ratio of each other: a plateau.
PLATEAU_SPREAD = 1.3
_OFFERED_GREY = "#888888"
_HELD = ("concurrency", "concurrency_unloaded")


def _knee(levels: list[dict[str, Any]]) -> float | None:
    """The highest offered rate throughput followed before the first level it did
    not; None when it followed them all, or none."""
    followed = None
    for lv in levels:  # by offered rate
        if _served(lv) < FOLLOWS * lv["target_rps"]:
            return followed
        followed = lv["target_rps"]
    return None


def _plateau(levels: list[dict[str, Any]], knee: float | None) -> float | None:
    """The N₀ the levels past the knee share (their median), when they do."""
    past = sorted(
        lv["concurrency_unloaded"]
        for lv in levels
        if knee is not None
        and lv["target_rps"] > knee
        and (lv.get("concurrency_unloaded") or 0) > 0
    )
    if len(past) < 2 or past[-1] > PLATEAU_SPREAD * past[0]:
        return None
    return float(past[len(past) // 2])


def _served(level: dict[str, Any]) -> float:
    """Responses per second while the load was on (older files: all of them)."""
    return float(level.get("served_rps", level["throughput_rps"]))


def _points(levels: list[dict[str, Any]], key: str) -> list[tuple[float, float]]:
    return [(lv["target_rps"], lv[key]) for lv in levels if lv.get(key) is not None]


def _scaling_charts(levels: list[dict[str, Any]]) -> str:
    """Throughput and the server's concurrency against the offered rate, stacked on
    one x scale: the knee where throughput stops following, and the plateau of N₀."""
    # Rates on a linear axis from 0: a limit is read as a distance from nothing,
    # and the ladder's early levels, close together there, matter least.
    rates = [0.0, *(lv["target_rps"] for lv in levels)]
    log = False
    knee = _knee(levels)
    marks = [] if knee is None else [(knee, f"knee: follows up to {knee:g}/s")]
    throughput = line_chart(
        "Throughput vs offered rate",
        [
            Series("offered", [(r, r) for r in rates], color=_OFFERED_GREY, dashed=True),
            Series(
                "served: responses/s while loaded",
                [(r["target_rps"], _served(r)) for r in levels],
                markers=True,
            ),
        ],
        x_label="offered rate, requests per second",
        y_label="responses/s",
        width=760,
        height=260,
        log_x=log,
        log_y=log,
        vlines=marks,
        x_extent=rates,
    )
    plateau = _plateau(levels, knee)
    # Log once N spans a decade: a plateau of a few under a queue of hundreds stays legible.
    held = [v for lv in levels for k in _HELD if (v := lv.get(k) or 0) > 0]
    concurrency = line_chart(
        "Server concurrency vs offered rate (Little's law)",
        [
            Series(
                "N: requests in the server",
                _points(levels, "concurrency"),
                markers=True,
                color=PALETTE[3],
            ),
            Series(
                "N₀: at the fastest service time (the work)",
                _points(levels, "concurrency_unloaded"),
                color=PALETTE[2],
                dashed=True,
                markers=True,
                hollow=True,  # rings: N's dots stay visible where no queue parts them
            ),
        ],
        x_label="offered rate, requests per second",
        y_label="requests at once",
        width=760,
        height=260,
        log_x=log,
        log_y=bool(held) and max(held) > 10 * min(held),
        hlines=[] if plateau is None else [(plateau, f"plateau: N₀ ≈ {n_text(plateau)}")],
        vlines=marks,
        x_extent=rates,
    )
    return f"<div>{throughput}{concurrency}</div>"


def _usl_chart(levels: list[dict[str, Any]], usl: dict[str, Any]) -> str:
    """The levels' (N, throughput) and the USL curve fitted to them, to the peak."""
    pts = sorted(
        (lv["concurrency"], _served(lv))
        for lv in levels
        if (lv.get("concurrency") or 0) > 0 and _served(lv) > 0
    )
    if not pts:
        return ""
    series = [Series("levels", pts, color=PALETTE[0], scatter=True)]
    vlines, hlines = [], []
    if "note" not in usl:
        lo, hi = min(n for n, _ in pts), usl["max_concurrency"]
        peak_n, peak_x = usl["peak_concurrency"], usl["peak_rps"]
        if peak_n is not None and peak_n <= 4 * hi:  # the peak, unless far past the data
            hi = max(hi, peak_n * 1.25)
            vlines.append((peak_n, f"peak {n_text(peak_x)}/s at N ≈ {n_text(peak_n)}"))
        elif peak_n is None and peak_x is not None and peak_x <= 2 * max(x for _, x in pts):
            hlines.append((peak_x, f"USL ceiling {n_text(peak_x)}/s"))
        steps = 80
        curve = [lo * (hi / lo) ** (i / steps) for i in range(steps + 1)]
        lam, sigma, kappa = usl["lambda_rps"], usl["sigma"], usl["kappa"]
        fitted = [(n, lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))) for n in curve]
        series.append(Series("USL fit", fitted, color=PALETTE[1]))
    return line_chart(
        "Throughput vs concurrency: the Universal Scalability Law",
        series,
        x_label="N, requests in the server",
        y_label="responses/s",
        width=760,
        height=300,
        log_x=None,
        log_y=False,
        hlines=hlines,
        vlines=vlines,
    )


def render_capacity(report: dict[str, Any]) -> str:
    """The capacity page: latency against throughput (the hockey stick) and the levels."""
    levels = sorted(report["levels"], key=lambda lv: lv["target_rps"])
    objectives = _latency_slos(report["slo"])
    # The percentiles every page shows, and any other the SLO judges on (p90, max).
    shown = {"p50", "p99", "p99.9"} | {slo.stat for slo in objectives}
    stick = [
        Series(
            f"response {stat}",
            _timed(levels, "response", stat),
            color=_STAT_COLORS[stat],
            markers=True,
        )
        for stat in LATENCY_STATS
        if stat in shown
    ]
    # Service p99 often equals response p99 below the limit: dashed, in a colour
    # of its own, with rings, and drawn last, it shows where they coincide.
    stick.append(
        Series(
            "service p99",
            _timed(levels, "service", "p99"),
            color="#9467bd",
            dashed=True,
            markers=True,
            hollow=True,
        )
    )
    chart = line_chart(
        "Latency vs throughput",
        stick,
        x_label="responses per second",
        y_label="ms",
        width=760,
        height=340,
        log_x=False,
        x_extent=(0.0,),
        hlines=[
            (slo.threshold, f"SLO {slo.stat} {_OP_SIGNS[slo.op]} {slo.threshold:g} ms")
            for slo in objectives
        ],
        vlines=_limits(report),
    )
    rows = "".join(
        f"<tr><td>{_rate(lv['target_rps'])}</td><td>{_rate(lv['achieved_rps'])}</td>"
        f"<td>{_rate(lv['throughput_rps'])}</td><td>{_rate(_served(lv))}</td>"
        f"<td>{_n(lv.get('concurrency'))}</td>"
        f"<td>{_n(lv.get('concurrency_unloaded'))}</td>"
        f"<td>{ms(lv['latency_ms']['response']['p50'])}</td>"
        f"<td>{ms(lv['latency_ms']['response']['p99'])}</td>"
        f"<td>{ms(lv['latency_ms']['response']['p99.9'])}</td>"
        f"<td>{100 * lv['errors']['rate']:.2f}%</td>"
        f"<td>{lv.get('responses', '')}</td>"
        f'<td class="k"><span class="{"pass" if lv["verdict"] == "pass" else "fail"}">'
        f"{escape(lv['verdict'])}</span>{_weak_level(lv)} {escape('; '.join(lv['reasons']))}</td>"
        f'<td class="k">{escape(_bottleneck(lv))}</td></tr>'
        for lv in report["levels"]
    )
    slos = ", ".join(report["slo"])
    why = f"<p>Why: {escape(report['why'])}</p>" if report.get("why") else ""
    if report.get("first_to_fail"):
        why += f"<p>Tasks: {escape(report['first_to_fail'])}</p>"
    if report.get("low_confidence"):
        why += f'<p class="warn">{escape(report["low_confidence"])}</p>'
    usl = report.get("usl")
    scaling = ""
    if any(lv.get("concurrency") is not None for lv in levels):  # older files have none
        scaling = f"""<h2>Where throughput stops following the offered rate</h2>
<p class="sub">Served: responses per second while a level's load was on (its backlog,
answered after, does not count). N is the requests the server held at once, by Little's
law (served per second × mean service time): it counts those queued inside it. N₀ prices
each response at its task's fastest service time, so it counts only the work: where
throughput stops rising, a server that handles a fixed number at a time (a pool of
workers, threads or connections) holds N₀ on a plateau at about that number.</p>
{_scaling_charts(levels)}"""
    if usl is not None:
        scaling += f"""<h2>Scalability</h2>
<p>{escape(describe_usl(usl))}</p>
<p class="sub">X(N) = λN / (1 + σ(N − 1) + κN(N − 1)) fitted to the levels: σ is
contention (a shared resource; throughput levels off), κ coherency (throughput peaks
and then falls).</p>
{_usl_chart(levels, usl)}"""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>loadgen capacity</title>
<style>{PAGE_CSS}{CHART_CSS}</style></head>
<body>
<h1>loadgen capacity</h1>
<p><b>{escape(report["answer"])}</b></p>
{why}
<p class="sub">A level passes when it meets: {escape(slos)}. Latency is measured from
intended send times, so past the limit it climbs steeply (the "hockey stick") instead of
flattening out as a closed-loop tool would show it.</p>
{chart}
{scaling}
<h2>Levels, in the order run</h2>
<table><tr><th>target/s</th><th>achieved/s</th><th>responses/s</th><th>served/s</th>
<th>N</th><th>N₀</th>
<th>p50 ms</th>
<th>p99 ms</th><th>p99.9 ms</th><th>errors</th><th>responses</th><th class="k">verdict</th>
<th class="k">bottleneck</th></tr>{rows}</table>
{_capacity_tasks(report)}
</body></html>
"""


def _capacity_tasks(report: dict[str, Any]) -> str:
    """Each task against the latency objective that judges it, by level (rate, low to
    high), the first to fail first: where it fails in red ("" with under two tasks)."""
    limits = report.get("tasks", [])
    if len({lim["task"] for lim in limits}) < 2:
        return ""
    levels = sorted(
        (lv for lv in report["levels"] if lv["verdict"] in ("pass", "fail")),
        key=lambda lv: lv["target_rps"],
    )
    head = "".join(f"<th>{_rate(lv['target_rps'])}/s</th>" for lv in levels)
    rows = []
    for lim in limits:
        cells = []
        for lv in levels:
            row = next(
                (r for r in lv.get("tasks", []) if (r["task"], r["objective"]) ==
                 (lim["task"], lim["objective"])),
                None,
            )  # fmt: skip
            if row is None or row["measured_ms"] is None:
                cells.append("<td>—</td>")
                continue
            css = "pass" if row["passed"] else "fail"
            value = row["measured_ms"]  # three digits, whole from 1000 ms
            shown = f"{value:.3g}" if value < 1000 else f"{value:.0f}"
            cells.append(f'<td><span class="{css}">{shown}</span></td>')
        fails = lim["fails_from_rps"]
        where = "never" if fails is None else f"{fails:g}/s"
        rows.append(
            f'<tr><td class="k">{escape(lim["task"])}</td><td class="k">'
            f"{escape(lim['objective'])}</td><td>{where}</td>{''.join(cells)}</tr>"
        )
    return f"""<h2>Each task against its objective</h2>
<p class="sub">Each task is held to its own latency objective, or the run's when it has
none; ms at each level, in red where it missed it. The first to fail comes first.</p>
<table><tr><th class="k">task</th><th class="k">objective</th><th>fails from</th>{head}</tr>
{"".join(rows)}</table>"""


def _rate(rps: float) -> str:
    """A rate in the levels' table: three digits below 1/s (0.125 and 0.1 apart)."""
    return f"{rps:.1f}" if rps >= 1 else f"{rps:.3g}"


def _weak_level(lv: dict[str, Any]) -> str:
    """A level judged on fewer responses than its percentiles need, marked."""
    if not lv.get("low_confidence"):
        return ""
    return ' <span class="warn">(low confidence: too few responses)</span>'


def _n(value: float | None) -> str:
    return "—" if value is None else n_text(value)
