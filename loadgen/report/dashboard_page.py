"""The live page the dashboard serves: one HTML file, its script and SVG charts inline.

Nothing is fetched but the dashboard's own `/ticks` (twice a second, the seconds
not drawn yet: a page opened mid-run draws the history), `/stop` and `/rate`; the token
of the page's URL goes along with each. `body[data-seconds]` says how many seconds are
drawn (the browser test reads it), `body[data-ended]` that the run is over.
"""

from __future__ import annotations

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>loadgen live</title>
<link rel="icon" href="data:,">
<style>
[hidden]{display:none !important}
body{font:14px system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
h1{font-size:18px;margin:0 0 8px}
#status{margin:6px 0 12px;padding:8px;background:#eef;border-radius:4px}
#status.ended{background:#efe}
.chart{background:#fff;border:1px solid #ddd;border-radius:4px;margin:0 0 12px;padding:6px}
.chart h2{font-size:14px;margin:0 0 4px}
.legend span{margin-right:12px;white-space:nowrap}
.legend i{display:inline-block;width:12px;height:3px;vertical-align:middle;margin-right:4px}
svg text{font-size:11px;fill:#555}
button{font-size:14px;padding:4px 12px}
#controls{margin:0 0 12px}
#controls form{display:inline;margin-left:16px}
#rps{width:7em;font-size:14px}
#rate-msg.bad{color:#b00}
#steps{color:#555;margin-left:8px}
#diagnosis{background:#fff;border:1px solid #ddd;border-radius:4px;margin:0 0 12px;padding:6px 10px}
#diagnosis h2{font-size:14px;margin:0 0 4px}
#diagnosis ul{margin:0;padding-left:20px}
#diagnosis .how{color:#777}
#capacity{background:#fff;border:1px solid #ddd;border-radius:4px;margin:0 0 12px;padding:6px 10px}
#capacity h2{font-size:14px;margin:0 0 4px}
#answer{font-weight:bold;margin:4px 0}
</style></head>
<body data-seconds="0">
<h1>loadgen live: <span id="run">…</span></h1>
<div id="status"><span id="state">waiting for the first second…</span></div>
<div id="controls"><button id="stop">stop the run</button>
<form id="rate" novalidate><label>target rate <input id="rps" type="number" step="any"> /s</label>
<button id="set-rate">set</button> <span id="rate-msg"></span></form><span id="steps"></span></div>
<div id="capacity" hidden><h2>capacity search: p99 against the offered rate, a point per level</h2>
<div id="bracket"></div><div id="answer"></div><div id="hockey"></div></div>
<div id="diagnosis"><h2>diagnosis so far</h2>
<ul id="findings"><li>waiting for a few seconds…</li></ul></div>
<div id="charts"></div>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token");
const q = token ? "?token=" + encodeURIComponent(token) : "";
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"];
const W = 1180, H = 220, L = 60, R = 10, T = 10, B = 24;
const CHARTS = [
  ["rates", "offered vs achieved rate, responses (per second)", s => ({
    "target": s.target, "achieved": s.achieved, "responses": s.responses})],
  ["latency", "response time per second, ms (exact, from each second's histogram)", s => ({
    "p50": s.latency_ms["0.5"], "p90": s.latency_ms["0.9"],
    "p99": s.latency_ms["0.99"], "max": s.latency_ms["1"]})],
  ["errors", "errors per second, by kind", s => s.errors],
  ["inflight", "in flight", s => ({"in flight": s.in_flight})],
  ["lag", "send lag, worst of each second, ms", s => ({"send lag": s.lag_ms})],
];
// The server's side, a point per sample (when it is sampled): x is its time.
const SERVER_CHARTS = [
  ["cpu", "server CPU per worker, % of one core", p => perWorker(p, "cpu")],
  ["memory", "server memory per worker, MB (RSS)", p => perWorker(p, "rss_mb")],
  ["looplag", "server event-loop lag, worst of each sample, ms", p =>
    p.lag_ms === null ? {} : {"loop lag": p.lag_ms}],
];
function perWorker(p, key) {
  const out = {};
  for (const pid in p.workers) {
    if (p.workers[pid][key] !== null) out[`pid ${pid}`] = p.workers[pid][key];
  }
  return out;
}
const NS = "http://www.w3.org/2000/svg";
// Twice a second: a second is drawn at most half a second after it closed (each
// poll asks only for what is new, served by the dashboard's own process).
const POLL_MS = 500;
function el(name, attrs, parent) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function draw(id, title, pick, seconds, at = s => s.end) {
  let box = document.getElementById(id);
  if (!box) {
    box = document.createElement("div");
    box.className = "chart"; box.id = id;
    box.innerHTML = "<h2></h2><div class=legend></div>";
    box.querySelector("h2").textContent = title;
    document.getElementById("charts").appendChild(box);
  }
  const old = box.querySelector("svg");
  if (old) old.remove();
  const series = {};
  for (const s of seconds) for (const name in pick(s) || {}) series[name] = [];
  for (const s of seconds) {
    const values = pick(s) || {};
    for (const name in series) {
      // An error kind absent from a second had none in it; a latency absent, no response.
      const v = name in values ? values[name] : (id === "errors" ? 0 : null);
      if (v !== null && v !== undefined) series[name].push([at(s), v]);
    }
  }
  const all = Object.values(series).flat();
  const svg = all.length ? el("svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`}, box) : null;
  // A chart with nothing to draw yet waits (a saved run keeps no in-flight or lag
  // per second); the errors' stays as one line, to say there were none.
  if (!all.length && id === "errors") {
    box.querySelector(".legend").textContent = "none so far";
    return;
  }
  if (!all.length) {
    box.remove();
    return;
  }
  const xs = seconds.map(at);
  const x0 = Math.min(0, ...xs), x1 = Math.max(1, ...xs);
  const positive = all.map(p => p[1]).filter(v => v > 0);
  const lo = Math.min(...positive), hi = Math.max(...all.map(p => p[1])) || 1;  // all 0: 0–1
  const log = id === "latency" && positive.length && hi / lo >= 100;  // spans decades
  const f = log ? v => Math.log10(Math.max(v, lo)) : v => v;
  const y0 = log ? Math.floor(f(lo)) : 0, y1 = log ? Math.ceil(f(hi)) : hi * 1.1;
  const px = x => L + (x - x0) / (x1 - x0) * (W - L - R);
  const py = y => H - B - (f(y) - y0) / Math.max(y1 - y0, 1e-9) * (H - T - B);
  el("line", {x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999"}, svg);
  el("line", {x1: L, y1: T, x2: L, y2: H - B, stroke: "#999"}, svg);
  const ticks = log ? Array.from({length: y1 - y0 + 1}, (_, i) => 10 ** (y0 + i))
                    : [0, y1 / 2, y1];
  for (const v of ticks) {
    const y = log ? H - B - (Math.log10(v) - y0) / Math.max(y1 - y0, 1e-9) * (H - T - B) : py(v);
    el("text", {x: L - 4, y: y + 4, "text-anchor": "end"}, svg).textContent =
      v >= 100 ? v.toFixed(0) : +v.toPrecision(2);
    el("line", {x1: L, y1: y, x2: W - R, y2: y, stroke: "#eee"}, svg);
  }
  el("text", {x: W - R, y: H - 6, "text-anchor": "end"}, svg).textContent = `${x1.toFixed(0)} s`;
  const scale = log ? " (log scale)" : "";
  el("text", {x: L, y: H - 6}, svg).textContent = `${x0.toFixed(0)} s${scale}`;
  const legend = box.querySelector(".legend");
  legend.innerHTML = "";
  Object.keys(series).forEach((name, i) => {
    const color = COLORS[i % COLORS.length], pts = series[name];
    el("polyline", {points: pts.map(p => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(" "),
      fill: "none", stroke: color, "stroke-width": 2, "data-series": name,
      "stroke-dasharray": name === "target" ? "6 4" : "none"}, svg);
    const last = pts.length ? pts[pts.length - 1][1] : null;
    const span = document.createElement("span");
    span.innerHTML = `<i style="background:${color}"></i>`;
    span.append(`${name}: ${last === null ? "–" : +last.toPrecision(4)}`);
    legend.appendChild(span);
  });
  // The target on top, dashed: where achieved meets it, both stay visible.
  const target = svg.querySelector('[data-series="target"]');
  if (target) svg.appendChild(target);
}
let ended = false;
const seen = [];  // every second so far: each poll asks only for the ones after
const served = [];  // the server's points so far, likewise
let drawn = "";  // what the page last drew (its seconds, points and state)
async function poll() {
  try {
    const r = await fetch("/ticks" + (q ? q + "&" : "?") + "since=" + seen.length +
                          "&server_since=" + served.length, {cache: "no-store"});
    const data = await r.json();
    if (data.from === seen.length) seen.push(...data.seconds);
    if (data.server_from === served.length) served.push(...data.server);
    data.seconds = seen;
    // Drawn again only when something came: a poll between two seconds costs
    // the browser (on a busy machine, the target's core) nothing more.
    const {seconds: _s, server: _p, from: _f, server_from: _g, ...rest} = data;
    const state = `${seen.length} ${served.length} ${JSON.stringify(rest)}`;
    if (state === drawn) return later();
    drawn = state;
    document.body.dataset.draws = +(document.body.dataset.draws || 0) + 1;
    document.getElementById("run").textContent = data.run;
    for (const [id, title, pick] of CHARTS) draw(id, title, pick, data.seconds);
    if (served.length)
      for (const [id, title, pick] of SERVER_CHARTS) draw(id, title, pick, served, p => p.at);
    document.body.dataset.server = served.length;
    showFindings(data);
    if (data.levels && data.levels.length) showCapacity(data);
    document.body.dataset.seconds = data.seconds.length;
    const status = document.getElementById("status");
    rateControls(data);
    if (data.end) {
      ended = true;
      document.body.dataset.ended = "1";
      document.getElementById("controls").hidden = true;
      status.className = "ended";
      status.textContent = (data.end.stopped ? "the run was stopped" : "the run ended") +
        ` after ${data.seconds.length} s. ` +
        (data.end.report ? "Its report: " : "Its report is being written…");
      if (data.end.report) {
        const a = document.createElement("a");
        a.href = "file://" + data.end.report; a.textContent = data.end.report;
        document.body.dataset.report = data.end.report;
        status.appendChild(a);
      }
    } else if (data.seconds.length) {
      document.getElementById("state").textContent = `running: ${data.seconds.length} s measured`;
    }
  } catch (e) {
    if (!ended) document.getElementById("state").textContent =
      "the dashboard is gone (loadgen ended)";
    return;
  }
  later();
}
function later() {
  if (!ended || !document.body.dataset.report) setTimeout(poll, POLL_MS);
}
function showFindings(data) {
  const verdict = data.end && data.end.diagnosis;
  const found = verdict || data.findings;
  if (!found || !found.length) return;
  document.querySelector("#diagnosis h2").textContent = verdict
    ? "diagnosis of the whole run (as its report says)"
    : data.findings_of ? data.findings_of
    : `diagnosis so far (over the first ${Math.round(data.findings_at)} s; ` +
      "the report has the last word)";
  const list = document.getElementById("findings");
  list.innerHTML = "";
  for (const f of found) {
    const li = document.createElement("li");
    const b = document.createElement("b");
    b.textContent = f.finding.replaceAll("_", " ");
    const how = document.createElement("span");
    how.className = "how";
    how.textContent = ` (${f.confidence})`;
    li.append(b, `: ${f.summary}`, how);
    li.title = f.evidence;
    list.appendChild(li);
  }
  document.body.dataset.findings = found.map(f => f.finding).join(" ");
}
const VERDICT_COLORS = {pass: "#2ca02c", fail: "#d62728", saturated: "#ff7f0e",
                        interrupted: "#999", running: "#1f77b4"};
function showCapacity(data) {
  const box = document.getElementById("capacity");
  box.hidden = false;
  const levels = data.levels, b = data.bracket || {};
  const running = levels.filter(lv => lv.verdict === "running");
  const done = levels.filter(lv => lv.verdict !== "running" && lv.p99_ms !== null &&
                                   lv.p99_ms !== undefined);
  document.body.dataset.levels = done.length;
  const rate = r => r === null || r === undefined ? "–" : `${+r.toPrecision(6)}/s`;
  document.getElementById("bracket").textContent =
    `${done.length} level(s) measured; bracket: passed ${rate(b.passed)}, ` +
    `failed ${rate(b.failed)}` + (running.length ? `; measuring ${rate(running[0].rps)}…` : "");
  const answer = document.getElementById("answer");
  if (data.capacity) {
    answer.textContent = "capacity: " + data.capacity.answer +
      (data.capacity.why ? ". Why: " + data.capacity.why : "");
    document.body.dataset.answer = "1";
  }
  const holder = document.getElementById("hockey");
  holder.innerHTML = "";
  const svg = el("svg", {width: W, height: H + 20, viewBox: `0 0 ${W} ${H + 20}`}, holder);
  const rates = levels.map(lv => lv.rps), p99s = done.map(lv => lv.p99_ms).filter(v => v > 0);
  const x1 = Math.max(...rates) * 1.15, lo = Math.min(...p99s, 1), hi = Math.max(...p99s, 1);
  const log = hi / lo >= 100;
  const f = log ? v => Math.log10(Math.max(v, lo)) : v => v;
  const y0 = log ? Math.floor(f(lo)) : 0, y1 = log ? Math.ceil(f(hi)) : hi * 1.1;
  const px = x => L + x / x1 * (W - L - R);
  const py = v => H - B - (f(v) - y0) / Math.max(y1 - y0, 1e-9) * (H - T - B);
  el("line", {x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999"}, svg);
  el("line", {x1: L, y1: T, x2: L, y2: H - B, stroke: "#999"}, svg);
  const ticks = log ? Array.from({length: y1 - y0 + 1}, (_, i) => 10 ** (y0 + i)) : [0, y1 / 2, y1];
  for (const v of ticks) {
    const y = log ? H - B - (Math.log10(v) - y0) / Math.max(y1 - y0, 1e-9) * (H - T - B) : py(v);
    el("text", {x: L - 4, y: y + 4, "text-anchor": "end"}, svg).textContent =
      v >= 100 ? v.toFixed(0) : +v.toPrecision(2);
    el("line", {x1: L, y1: y, x2: W - R, y2: y, stroke: "#eee"}, svg);
  }
  el("text", {x: L, y: H - 6}, svg).textContent = "0/s" + (log ? " (p99 ms, log scale)" : "");
  el("text", {x: W - R, y: H - 6, "text-anchor": "end"}, svg).textContent =
    `${x1.toFixed(0)}/s offered`;
  for (const [key, color] of [["passed", "#2ca02c"], ["failed", "#d62728"]]) {
    if (b[key] === null || b[key] === undefined) continue;
    el("line", {x1: px(b[key]), y1: T, x2: px(b[key]), y2: H - B, stroke: color,
                "stroke-dasharray": "4 3", "data-bracket": key}, svg);
  }
  const sorted = [...done].sort((a, c) => a.rps - c.rps);
  el("polyline", {points: sorted.map(lv => `${px(lv.rps).toFixed(1)},${py(lv.p99_ms).toFixed(1)}`)
    .join(" "), fill: "none", stroke: "#888", "stroke-width": 1.5}, svg);
  for (const lv of done) {
    el("circle", {cx: px(lv.rps), cy: py(lv.p99_ms), r: 5, fill: VERDICT_COLORS[lv.verdict],
                  "data-level": lv.rps}, svg);
  }
  for (const lv of running) {
    el("line", {x1: px(lv.rps), y1: T, x2: px(lv.rps), y2: H - B, stroke: "#1f77b4",
                "stroke-width": 2}, svg);
    el("text", {x: px(lv.rps) - 4, y: T + 12, "text-anchor": "end"}, svg).textContent =
      `measuring ${rate(lv.rps)}`;
  }
  const legend = el("text", {x: L, y: H + 14}, svg);
  legend.textContent = "● pass (green)  ● fail (red)  ● saturated (orange); " +
    "dashed: the bracket's ends";
}
function rateMessage(text, bad) {
  const msg = document.getElementById("rate-msg");
  msg.textContent = text;
  msg.className = bad ? "bad" : "";
}
let stepsShown = 0;
function rateControls(data) {
  if (data.fixed) {
    document.getElementById("rate").hidden = true;
    return;
  }
  const steps = data.steps || [];
  document.body.dataset.steps = steps.length;
  if (steps.length !== stepsShown) {
    stepsShown = steps.length;
    const last = steps[steps.length - 1];
    rateMessage(`${+last.rps.toPrecision(6)}/s from ${last.at_s.toFixed(1)} s`, false);
    document.getElementById("steps").textContent = "changes so far: " +
      steps.map(s => `${+s.rps.toPrecision(6)}/s at ${s.at_s.toFixed(1)} s`).join(", ");
  }
  if (data.notice) rateMessage(data.notice, true);
}
document.getElementById("rate").onsubmit = async (event) => {
  event.preventDefault();
  const value = document.getElementById("rps").value.trim();
  // Sent as typed: the dashboard judges it and says why it is no rate.
  const rps = value === "" || isNaN(Number(value)) ? value : Number(value);
  try {
    const r = await fetch("/rate" + q, {method: "POST", body: JSON.stringify({rps}),
                                        headers: {"Content-Type": "application/json"}});
    const answer = await r.json();
    if (r.ok) rateMessage(`asked for ${answer.rps}/s…`, false);
    else rateMessage(answer.error, true);
  } catch (e) {
    rateMessage("the dashboard is gone (loadgen ended)", true);
  }
};
document.getElementById("stop").onclick = async () => {
  document.getElementById("stop").disabled = true;
  await fetch("/stop" + q, {method: "POST"});
};
poll();
</script></body></html>
"""
