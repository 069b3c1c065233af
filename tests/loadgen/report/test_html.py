"""report.html and capacity.html: their charts as SVG, and in real headless
Chromium: they render offline, and what is drawn reads at a glance."""

import itertools
import re

import pytest
from PIL import Image

from loadgen.report.html import (
    _held_chart,
    _latency_charts,
    _spectrum_charts,
    _throughput_charts,
    render_capacity,
)
from loadgen.report.plots import text_width
from loadgen.report.run_data import RunData
from tests.support.chromium import (
    CHART_TEXTS_JS,
    legend_collisions,
    measure,
    page_requests,
    render,
)


@pytest.mark.slow
def test_report_is_self_contained(saved_run):
    html = (saved_run / "report.html").read_text()
    # No scripts, stylesheets, images or fonts from anywhere: all inline.
    assert not re.search(r"""(src|href)\s*=|@import|url\(""", html)
    assert len(html) < 200_000


@pytest.mark.browser
@pytest.mark.slow
def test_report_renders_its_plots_in_chromium_without_network(saved_run, tmp_path):
    shot = tmp_path / "report.png"
    requests, log = render(saved_run / "report.html", shot, tmp_path / "profile")
    assert page_requests(requests) == [], "the page tried to reach the network"
    assert "CONSOLE" not in log and "Uncaught" not in log, log
    image = Image.open(shot).convert("RGB")
    width, height = image.size
    # The charts' area: lines in several colours, not a blank page.
    charts = image.crop((0, 250, width, min(height, 1400)))
    colours = charts.getcolors(maxcolors=1 << 20) or []
    non_white = sum(n for n, rgb in colours if rgb != (255, 255, 255))
    assert non_white > 0.03 * charts.width * charts.height
    palette = {(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14)}
    seen = {rgb for _, rgb in colours}
    assert len(palette & seen) >= 3, "the series colours are missing: no plotted lines"
    texts = measure(saved_run / "report.html", CHART_TEXTS_JS, tmp_path)
    assert len(texts) >= 6 and legend_collisions(texts) == []
    assert all(t["w"] <= text_width(t["text"]) for chart in texts for t in chart)


@pytest.mark.browser
@pytest.mark.slow
def test_the_browser_check_catches_a_broken_page(tmp_path):
    """The check above can fail: a bad path, a script error, a remote image are all seen."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!doctype html><svg width="90" height="90"><path d="M NaN,1 L 5,5" stroke="red"/></svg>'
        '<script>console.error("boom")</script><img src="http://example.invalid/x.png">'
    )
    requests, log = render(page, tmp_path / "broken.png", tmp_path / "profile")
    assert page_requests(requests) == ["GET http://example.invalid/x.png HTTP/1.1"]
    console = [line for line in log.splitlines() if "CONSOLE" in line]
    assert any("attribute d: Expected number" in line for line in console), log
    assert any('"boom"' in line for line in console), log


def polylines(svg):
    """(stroke, dashed, points) of each drawn line, in drawing order."""
    return [
        (stroke, bool(dash), [tuple(map(float, p.split(","))) for p in points.split()])
        for points, stroke, dash in re.findall(
            r'<polyline points="([^"]*)" stroke="([^"]*)"( stroke-dasharray="[^"]*")?', svg
        )
    ]


def charts(page):
    return re.findall(r"<svg .*?</svg>", page, re.DOTALL)


def capacity_report(levels=tuple(10.0 * 2**k for k in range(10)), sustained=2560.0, failed=5120.0):
    """capacity.json as `loadgen capacity` writes it: latency rising with the rate,
    flat up to the limit and a hockey stick past it; service p99 equal to response
    p99 below the limit (no queueing), as it is on a healthy target."""

    def latency(rate, queueing):
        p99 = 1.0 + rate / 1000 + queueing
        return {"p50": 0.5 + queueing / 10, "p90": 0.8 + queueing / 2, "p99": p99,
                "p99.9": 2 * p99, "max": 3 * p99, "mean": 0.6 + queueing / 8}  # fmt: skip

    out = []
    for rate in levels:
        queueing = 3000.0 if rate > sustained else 0.0
        response = latency(rate, queueing)
        service = latency(rate, 0.0)
        out.append({
            "target_rps": rate, "verdict": "fail" if queueing else "pass",
            "reasons": ["p99<=100ms (measured 3001ms)"] if queueing else [],
            "achieved_rps": rate, "throughput_rps": rate * (0.97 if queueing else 1.0),
            "errors": {"total": 0, "rate": 0.0, "by_kind": {}},
            "latency_ms": {"response": response, "service": service}, "generator": {},
        })  # fmt: skip
    return {
        "schema": "loadgen.capacity/1",
        "slo": ["p99<=100ms", "errors<1%", "task:compute_fib:p99.9<=200ms", "service:p90<=5ms"],
        "sustained_rps": sustained, "failed_rps": failed, "saturated_at_rps": None,
        "found": True, "answer": "sustains …",
        "levels": out,
    }  # fmt: skip


def ref_lines(svg):
    return [
        tuple(map(float, m))
        for m in re.findall(
            r'<line x1="([\d.]+)" x2="([\d.]+)" y1="([\d.]+)" y2="([\d.]+)" class="ref"/>', svg
        )
    ]


def test_capacity_chart_has_the_slo_line_and_the_limit_found():
    page = render_capacity(capacity_report())
    (chart,) = charts(page)
    lines = ref_lines(chart)
    horizontal = [ln for ln in lines if ln[2] == ln[3]]
    vertical = [ln for ln in lines if ln[0] == ln[1]]
    # One threshold: p99 of every task's response time. The task's and the
    # service-time objectives are not what the curves show.
    assert len(horizontal) == 1 and "SLO p99 ≤ 100 ms" in chart
    assert "200 ms" not in chart and "5 ms" not in chart
    y_100 = horizontal[0][2]
    ticks = dict(
        (label, float(y)) for y, label in re.findall(r'y="([\d.]+)" class="yl">([^<]*)<', chart)
    )
    assert y_100 == pytest.approx(ticks["100"] - 4, abs=0.2)  # on the axis' 100 ms
    # The limit: where the last passing and the first failing level sit.
    assert "sustains 2560/s" in chart and "fails at 5120/s" in chart
    dots = re.findall(r'<circle cx="([\d.]+)" cy="[\d.]+" r="3" fill="#1f77b4"', chart)
    p50_x = [float(x) for x in dots][:-1]  # the last dot is the legend's
    assert sorted(ln[0] for ln in vertical) == pytest.approx([p50_x[8], p50_x[9]], abs=0.1)


def test_capacity_charts_read_rates_on_a_linear_axis_from_zero():
    # Issue 24: levels from 10/s to 1 000/s read as distances from nothing.
    page = render_capacity(capacity_report())
    for chart in charts(page):
        if "rate, requests per second" not in chart and "responses per second" not in chart:
            continue
        ticks = {
            label: float(x)
            for x, label in re.findall(r'x="([\d.]+)" y="[\d.]+" class="xl">([\d,]+)<', chart)
        }
        assert "0" in ticks and min(ticks.values()) == ticks["0"], ticks
        assert "(log" not in chart.split("responses per second")[0][-200:]
    few = capacity_report(levels=(100.0, 200.0, 400.0), sustained=400.0, failed=None)
    assert "1,000" not in render_capacity(few)


def test_service_p99_stays_visible_where_it_equals_response_p99():
    report = capacity_report()
    report["slo"].append("p90<=50ms")  # a percentile an SLO judges is drawn too
    (chart,) = charts(render_capacity(report))
    lines = polylines(chart)
    names = re.findall(r'class="lg">([^<]*)<', chart)
    expected = ["response p50", "response p90", "response p99", "response p99.9", "service p99"]
    assert names == expected
    response, service = lines[names.index("response p99")], lines[-1]
    assert service[0] != response[0] and service[1] and not response[1]
    assert service[2][:8] == response[2][:8]  # they coincide below the limit …
    assert re.search(rf'r="4.5" fill="none" stroke="{service[0]}"', chart)  # … in rings on top


def test_capacity_verdict_header_is_aligned_like_its_cells():
    page = render_capacity(capacity_report())
    assert '<th class="k">verdict</th>' in page
    assert re.search(r"\.k \{ text-align: left; \}", page)


@pytest.mark.browser
def test_capacity_page_in_chromium(tmp_path):
    page = tmp_path / "capacity.html"
    page.write_text(render_capacity(capacity_report()))
    shot = tmp_path / "capacity.png"
    requests, log = render(page, shot, tmp_path / "profile", size="1280,900")
    assert page_requests(requests) == [] and "CONSOLE" not in log, log
    colours = {rgb for _, rgb in Image.open(shot).convert("RGB").getcolors(1 << 20)}
    assert (85, 85, 85) in colours  # the reference lines' grey: the SLO and the limit
    assert (148, 103, 189) in colours  # service p99's own colour
    found = measure(page, CHART_TEXTS_JS, tmp_path)
    assert legend_collisions(found) == []
    assert all(t["w"] <= text_width(t["text"]) for chart in found for t in chart)
    assert {t["text"] for t in found[0] if t["cls"] == "rl"} == {
        "SLO p99 ≤ 100 ms", "sustains 2560/s", "fails at 5120/s"}  # fmt: skip
    # The verdict header starts where its cells' text does.
    lefts = measure(page, VERDICT_LEFTS_JS, tmp_path)
    assert len(lefts) == 11 and max(lefts) - min(lefts) < 1, lefts


# The left edge of the verdict column's text: its header's, then each cell's.
VERDICT_LEFTS_JS = """
const rows = [...document.querySelectorAll('tr')];
const col = [...rows[0].children].findIndex(c => c.textContent === 'verdict');
return rows.map(r => {
  const range = document.createRange();
  range.selectNodeContents(r.children[col]);
  return range.getClientRects()[0].left;
});
"""


def test_latency_per_second_goes_log_past_two_decades_for_both_charts():
    def run(max_ms):
        second = {"p50": 1.0, "p90": 2.0, "p99": 4.0, "max": max_ms}
        calm = {"p50": 1.0, "p90": 2.0, "p99": 4.0, "max": 5.0}
        seconds = [(float(t), {"response": second if t == 3 else calm, "service": calm})
                   for t in range(8)]  # fmt: skip
        return charts(_latency_charts(RunData({}, {}, seconds)))

    spike = run(900.0)  # only response time spikes; service time stays within a decade
    assert all("ms (log scale)" in chart for chart in spike)  # both, to read side by side
    p50, _, p99, _ = (points for _, _, points in polylines(spike[0]))
    # 1 ms and 4 ms apart, not both flat on zero under a 900 ms max.
    assert all(y50 - y99 > 15 for (_, y50), (_, y99) in zip(p50, p99, strict=True))
    assert all("(log scale)" not in chart for chart in run(90.0))


def test_the_target_rate_is_a_step_line_drawn_on_top():
    timeline = [{"t": float(t), "length": 1.0, "target": 100.0 if t < 4 else 200.0,
                 "arrivals": 99 if t < 4 else 198, "responses": 98 if t < 4 else 190,
                 "errors": {}} for t in range(8)]  # fmt: skip
    page = _throughput_charts({"timeline": timeline})
    [throughput] = charts(page)  # no errors: a line, not an empty chart
    assert "Errors by kind: none in any second." in page
    names = re.findall(r'class="lg">([^<]*)<', throughput)
    assert names == ["responses", "achieved arrivals", "target"]  # bottom to top
    stroke, dashed, points = polylines(throughput)[-1]  # the last drawn: on top
    assert dashed and stroke not in {s for s, _, _ in polylines(throughput)[:-1]}
    assert all(a[0] == b[0] or a[1] == b[1] for a, b in itertools.pairwise(points))
    rise = [(a, b) for a, b in itertools.pairwise(points) if a[0] == b[0]]
    assert len(rise) == 1  # the stage change: one vertical step at t=4
    assert points[-1][1] == points[-2][1] and points[-1][0] > points[-2][0]  # the last second too
    achieved = polylines(throughput)[1][2]
    achieved_rise = [a[0] for a, b in itertools.pairwise(achieved) if a[0] == b[0]]
    assert achieved_rise == [rise[0][0][0]]  # per-interval counts step where the target does
    assert "(log scale)" not in throughput


@pytest.mark.browser
def test_a_run_that_timed_nothing_says_so_in_one_line_instead_of_empty_charts():
    # Every request an error (a target answering garbage): nothing to plot.
    none = {"p50": None, "p90": None, "p99": None, "max": None, "mean": None, "count": 0}
    seconds = [(float(t), {"response": none, "service": none}) for t in range(2)]
    timeline = [{"t": float(t), "length": 1.0, "target": 20.0, "arrivals": 20, "responses": 0,
                 "errors": {"protocol": 20}, "busy_s": 0.0} for t in range(2)]  # fmt: skip
    run = RunData({"tasks": {}, "timeline": timeline}, {}, seconds)
    for part, said in (
        (_latency_charts(run), "Latency per second"),
        (_spectrum_charts(run), "Percentile spectrum"),
        (_held_chart(timeline), "Requests in the server at once"),
    ):
        assert "<svg" not in part and part.count("<p") == 1, part
        assert f"{said}: no response was timed, nothing to draw." in part
    # The errors still are a chart: they are what the run has to show.
    assert 'aria-label="Errors by kind"' in _throughput_charts({"timeline": timeline})


def test_the_legend_check_sees_a_label_run_into_the_next_swatch(tmp_path):
    page = tmp_path / "legend.html"
    page.write_text(
        '<!doctype html><html><body><svg width="400" height="40" style="font: 11px sans-serif">'
        '<text x="24" y="20" class="lg">response p99.9 (legacy)</text>'
        '<text x="120" y="20" class="lg">service p99</text>'
        '<text x="24" y="34" class="lg">p50</text><text x="80" y="34" class="lg">p90</text>'
        "</svg></body></html>"
    )
    assert legend_collisions(measure(page, CHART_TEXTS_JS, tmp_path)) == [
        ("response p99.9 (legacy)", "service p99")
    ]


@pytest.mark.slow
def test_the_report_shows_the_diagnosis_and_the_servers_side(saved_run):
    html = (saved_run / "report.html").read_text()
    # The saved run is the legacy server: its 500s are the finding to act on.
    diagnosis = html[html.index("<h2>Diagnosis</h2>") : html.index("<h2>Latency over time</h2>")]
    assert "<b>server_errors</b>: /addNumbers returns 500" in diagnosis
    side = html[html.index("<h2>The server's side</h2>") : html.index("Percentile spectrum")]
    assert "server: 2 workers, CPU peak" in side
    cpu = side[side.index("Server CPU per worker") :]
    cpu = cpu[: cpu.index("</svg>")]
    # A line per worker and loadgen's own, dashed.
    assert len(re.findall(r">worker \d+<", cpu)) == 2 and ">loadgen<" in cpu
    assert "Event-loop lag, the worst of the last 2 s" in side


def test_capacity_levels_say_their_bottleneck():
    report = capacity_report()
    report["levels"][-1]["diagnosis"] = [
        {"finding": "server_cpu", "summary": "both workers at 98 % CPU", "weight": 0.98},
        {"finding": "timeouts", "summary": "3 % of requests timed out", "weight": 0.03},
    ]
    report["levels"][0]["diagnosis"] = [{"finding": "none", "summary": "nothing stood out"}]
    page = render_capacity(report)
    assert '<th class="k">bottleneck</th>' in page
    rows = re.findall(r"<tr>(.*?)</tr>", page)[1:]
    assert rows[-1].endswith('<td class="k">server_cpu: both workers at 98 % CPU</td>')
    assert rows[0].endswith('<td class="k">—</td>')


def test_failed_checks_are_a_table_of_tasks_and_reasons_escaped():
    from loadgen.report.html import _checks_table

    summary = {"errors": {"checks": {"add": {"wrong result": 3, "<b>raw</b>": 1}, "fib": {"x": 2}}}}
    table = _checks_table(summary)
    rows = re.findall(r"<tr>(.*?)</tr>", table)
    assert rows[1:] == [
        '<td rowspan=2>add</td><td rowspan=2>4</td><td class="k">wrong result</td><td>3</td>',
        '<td class="k">&lt;b&gt;raw&lt;/b&gt;</td><td>1</td>',
        '<td rowspan=1>fib</td><td rowspan=1>2</td><td class="k">x</td><td>2</td>',
    ]
    assert _checks_table({"errors": {"checks": {}}}) == ""


def scaling_report():
    """capacity.json of a pool of 8 at 40 ms (200/s at most): served follows the
    offered rate to 160/s, then stays near 196/s; N₀ sits at about 8 past the knee
    while N climbs with the queue; and the USL fitted to the levels."""
    from loadgen.report.usl import fit_json

    report = capacity_report(levels=(20.0, 40.0, 80.0, 160.0, 320.0, 240.0), sustained=160.0,
                             failed=240.0)  # fmt: skip
    for lv in report["levels"]:
        rate = lv["target_rps"]
        lv["served_rps"] = min(rate, 196.0)
        lv["concurrency"] = round(lv["served_rps"] * 0.041 * max(1.0, (rate / 160) ** 3), 3)
        lv["concurrency_unloaded"] = round(lv["served_rps"] * 0.040, 3)
    report["usl"] = fit_json((lv["concurrency"], lv["served_rps"]) for lv in report["levels"])
    report["why"] = "fails at 240/s: concurrency_limit (N ≈ 7.8): about 8 at a time — raise it"
    return report


def test_capacity_page_shows_the_knee_the_plateau_and_the_usl():
    report = scaling_report()
    page = render_capacity(report)
    _, throughput, held, usl = charts(page)
    # Both charts against the offered rate, on one x scale, mark the same knee.
    assert "Throughput vs offered rate" in throughput and "knee: follows up to 160/s" in throughput
    assert "knee: follows up to 160/s" in held
    assert [ln[0] for ln in ref_lines(throughput)] == [ln[0] for ln in ref_lines(held)][-1:]
    assert "plateau: N₀ ≈ 7.8" in held  # 196/s × 40 ms, the pool of 8
    assert "(log scale)" in held  # N from 0.8 to about 20: a decade and more
    # The USL: the levels as dots (no line), the fitted curve, its peak.
    assert report["usl"]["peak_rps"] is not None
    assert "USL fit" in usl and "levels" in usl and len(polylines(usl)) == 1
    assert "Why: fails at 240/s: concurrency_limit (N ≈ 7.8)" in page
    assert "USL fit to 6 levels" in page
    rows = re.findall(r"<tr>(.*?)</tr>", page)
    assert "<th>served/s</th>" in page and "<th>N</th><th>N₀</th>" in page
    assert "<td>320.0</td><td>320.0</td><td>310.4</td><td>196.0</td>" in rows[4]


def test_a_page_without_a_fit_says_why_and_an_old_one_has_no_scaling_charts():
    report = scaling_report()
    report["usl"] = {"note": "3 level(s) at distinct concurrency, 4 needed for 3 unknowns"}
    page = render_capacity(report)
    assert "no USL fit: 3 level(s)" in page and "USL fit" not in page.replace("no USL fit", "")
    assert len(charts(page)) == 4  # the levels still drawn against N, with no curve
    old = capacity_report()  # before concurrency and the fit were written
    assert len(charts(render_capacity(old))) == 1 and "Scalability" not in render_capacity(old)


def test_the_knee_is_the_last_rate_followed_before_the_first_that_was_not():
    from loadgen.report.html import _knee

    def lv(rate, served):
        return {"target_rps": rate, "served_rps": served, "throughput_rps": rate}

    assert _knee([lv(10, 10), lv(20, 19.5), lv(40, 30), lv(80, 80)]) == 20
    assert _knee([lv(10, 10), lv(20, 20)]) is None  # followed them all
    assert _knee([lv(10, 5), lv(20, 6)]) is None  # followed none


@pytest.mark.browser
def test_capacity_scaling_charts_in_chromium(tmp_path):
    page = tmp_path / "capacity.html"
    page.write_text(render_capacity(scaling_report()))
    shot = tmp_path / "capacity.png"
    requests, log = render(page, shot, tmp_path / "profile", size="1280,1900")
    assert page_requests(requests) == [] and "CONSOLE" not in log, log
    found = measure(page, CHART_TEXTS_JS, tmp_path)
    assert len(found) == 4 and legend_collisions(found) == []
    assert all(t["w"] <= text_width(t["text"]) for chart in found for t in chart)
    labels = {t["text"] for chart in found[1:] for t in chart if t["cls"] == "rl"}
    assert {"knee: follows up to 160/s", "plateau: N₀ ≈ 7.8"} <= labels
    # The stacked charts put each offered rate at one x: the knee lines align.
    knees = [t["x"] for chart in found[1:3] for t in chart if t["text"].startswith("knee")]
    assert len(knees) == 2 and abs(knees[0] - knees[1]) < 1


def test_the_requests_held_at_once_are_charted_when_the_summary_has_them():
    from loadgen.report.html import _held_chart

    timeline = [{"t": float(t), "length": 1.0, "busy_s": 2.0 * t} for t in range(4)]
    chart = _held_chart(timeline)
    assert "Requests in the server at once (Little&#x27;s law)" in chart
    assert chart.count("<circle") >= 4  # a marker a second
    assert _held_chart([{"t": 0.0, "length": 1.0}]) == ""  # an older summary
