"""The dashboard process (`dashboard.py` starts it): the live page, its ticks and `/metrics`.

Its first stdin line says which listening socket it inherited, the run's id,
the token asked of every request (None on loopback), loadgen's pid and why
the rate is fixed (None: it may change live); then a line a second
(`{"tick": …}`), the rate's steps so far when they change (`{"steps": …}`),
what loadgen could not do (`{"notice": …}`), `{"end": …}` with the run's totals
and `{"report": PATH}`. The end of stdin ends it. Each tick's percentiles are
read here, from the second's response-time buckets: exact, and off the
engine's loop. A new rate goes back to loadgen as a line on stdout.

    GET /         the page (page HTML, inline JS and SVG: nothing fetched elsewhere)
    GET /ticks    every second so far as JSON, and the end when it came
    GET /metrics  Prometheus text exposition, labelled with the run's id
    POST /stop    SIGINT to loadgen: the run ends as on Ctrl-C
    POST /rate    {"rps": R}: the target rate is R from now on (400 and why if R is not one)
"""

from __future__ import annotations

import json
import math
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from loadgen.core.stepped_rate import check_rate
from loadgen.measure.aside import yield_the_cpu
from loadgen.measure.histogram import Distribution
from loadgen.measure.tick import Tick
from loadgen.report.dashboard_page import PAGE
from loadgen.report.live_diagnosis import LiveDiagnosis
from loadgen.report.summary_contract import RateStep

# How often the findings so far are read again (when something new came).
FINDINGS_EVERY_S = 3.0
# A page that polled this recently is open (a scraper that scraped this recently
# scrapes often): at the end, it is given this long to fetch the run's last words
# (its end and report; the final totals) before the dashboard goes.
PAGE_OPEN_S = 1.5

# The latency quantiles of the last second, as /metrics labels them (1: the max).
QUANTILES = {"0.5": 50.0, "0.9": 90.0, "0.99": 99.0}


def second(t: Tick) -> dict[str, Any]:
    """What the page draws of tick `t`: rates per second, latencies in ms."""
    length = max(t["length"], 1e-9)
    counts = [(i, n) for i, n in t["response_counts"]]
    total = sum(n for _, n in counts)
    values = Distribution(counts, total).percentiles_us(QUANTILES.values()) if total else {}
    latency = {q: values[p] / 1000 for q, p in QUANTILES.items() if p in values}
    if total:
        latency["1"] = t["max_us"] / 1000
    return {
        "end": t["end"],
        "target": t.get("target"),
        "achieved": t["arrivals"] / length,
        "responses": t["responses"] / length,
        "errors": {k: n / length for k, n in t.get("errors_by_kind", {}).items()},
        "in_flight": t["in_flight"],
        "lag_ms": t.get("max_lag_us", 0) / 1000,
        "latency_ms": latency,
    }


def server_point(sample: dict[str, Any]) -> dict[str, Any] | None:
    """What the page draws of one sample: each worker's CPU (% of a core) and memory
    (MB), and the worst event-loop lag a worker reported (ms); `at` its epoch. None
    when it holds nothing of the server's (the machine alone was sampled)."""
    workers = {
        pid: {"cpu": w.get("cpu"), "rss_mb": w.get("rss_mb")}
        for pid, w in sample.get("workers", {}).items()
    }
    lags = sample.get("loop_lag_max_ms", {})
    if not workers and not lags:
        return None
    return {"at": sample["at"], "workers": workers, "lag_ms": max(lags.values(), default=None)}


class Live:
    """The run as the dashboard knows it: its seconds, totals and end (one lock)."""

    def __init__(self, run_id: str, fixed: str | None = None) -> None:
        self.run_id = run_id
        self.fixed = fixed  # why the rate cannot change live; None: it can
        self.steps: list[RateStep] = []
        self.notice: str | None = None
        self.diagnosis = LiveDiagnosis()
        self.server: list[dict[str, Any]] = []  # the server's side, a point per sample
        self.findings: list[dict[str, Any]] = []
        self.findings_at = 0.0  # the measured seconds they were read over
        self.findings_of: str | None = None  # whose they are, when not the run's so far
        # A capacity search: its levels (the last may be running), bracket and answer.
        self.levels: list[dict[str, Any]] = []
        self.bracket: dict[str, Any] | None = None
        self.capacity: dict[str, Any] | None = None
        self.lock = threading.Lock()
        self.seconds: list[dict[str, Any]] = []
        self.requests = 0
        self.errors: Counter[str] = Counter()
        self.end: dict[str, Any] | None = None
        self._read = (0, 0)  # ticks and samples the findings were last read over
        self.polled_at = -math.inf  # monotonic time of the last GET /ticks
        self.told_the_end = False  # a /ticks answer carried the end and the report
        self.scraped_at = -math.inf  # monotonic time of the last GET /metrics
        self.scraped_the_end = False  # a /metrics answer carried the run's totals

    def add(self, message: dict[str, Any]) -> None:
        """One line from loadgen."""
        with self.lock:
            if "tick" in message:
                t = message["tick"]
                self.seconds.append(second(t))
                self.diagnosis.add_tick(t)
                self.requests += t.get("requests", t["responses"])
                self.errors.update(t.get("errors_by_kind", {}))
            elif "end" in message:
                end = message["end"]
                self.requests = end["requests"]  # the drain's responses, as summary.json's
                self.errors = Counter(end["errors"])
                self.end = {"stopped": end["stopped"], "report": None}
            elif "sample" in message:
                self.diagnosis.add_sample(message["sample"])
                point = server_point(message["sample"])
                if point is not None:
                    self.server.append(point)
            elif "signals" in message:
                d, signals = self.diagnosis, message["signals"]
                d.sources, d.interval = signals["sources"], signals["interval"]
                d.cores = signals["cores"]
                d.meta = dict(message.get("meta", {}))
            elif "level" in message:
                self._level(message)
            elif "capacity" in message:
                self.capacity = message["capacity"]
            elif "steps" in message:
                self.steps = message["steps"]
            elif "notice" in message:
                self.notice = str(message["notice"])
            elif "report" in message and self.end is not None:
                self.end["report"] = message["report"]
                self.end["diagnosis"] = message.get("diagnosis")

    def _level(self, message: dict[str, Any]) -> None:
        """A capacity level begun, or measured (its diagnosis, the report's, is then
        the page's findings: a search's seconds mix levels, a diagnosis over them
        all would say nothing true)."""
        level = message["level"]
        if self.levels and self.levels[-1]["verdict"] == "running":
            self.levels.pop()
        self.levels.append(level)
        if "bracket" in message:
            self.bracket = message["bracket"]
        if "diagnosis" in level:
            self.findings = level["diagnosis"]
            self.findings_of = f"diagnosis of the level at {level['rps']:g}/s (its report's)"

    def read_findings(self) -> bool:
        """The findings over what is known now (outside the lock: the run's seconds
        go on arriving meanwhile); False if nothing new came since the last time."""
        with self.lock:
            d = self.diagnosis
            if self.levels or not d.seconds or (d.seconds, len(d.samples)) == self._read:
                return False
            self._read = (d.seconds, len(d.samples))
            snapshot = d.copy()
        found = [f.to_json() for f in snapshot.findings()]
        with self.lock:
            self.findings = [dict(f) for f in found]
            self.findings_at = snapshot.elapsed
        return True

    def linger(self) -> bool:
        """Loadgen is done: a page still open gets the end, and a scraper that scrapes
        often the totals, before the port closes (loadgen waits for this process, so
        it exits after they know). True if it waited for one."""
        deadline = time.monotonic() + PAGE_OPEN_S
        waited = False
        while time.monotonic() < deadline:
            with self.lock:
                now = time.monotonic()
                page = not self.told_the_end and now - self.polled_at <= PAGE_OPEN_S
                scraper = not self.scraped_the_end and now - self.scraped_at <= PAGE_OPEN_S
                if not page and not scraper:
                    return waited
            waited = True
            time.sleep(0.05)
        return waited

    def server_since(self, since: int) -> list[dict[str, Any]]:
        """The server's points from the `since`-th on, timed from the measured start."""
        start = self.diagnosis.started_at
        if start is None:
            return []
        return [{**p, "at": round(p["at"] - start, 3)} for p in self.server[since:]]

    def ticks_json(self, since: int = 0, server_since: int = 0) -> bytes:
        """GET /ticks?since=N: the seconds from the N-th on (N = 0: all of them, so
        that a page opened mid-run has the history), and the end when it came. A
        page asks only for what it has not drawn: an hour's soak polled each
        second does not send the hour each second."""
        with self.lock:
            self.polled_at = time.monotonic()
            self.told_the_end = self.end is not None and self.end.get("report") is not None
            return json.dumps(
                {
                    "run": self.run_id,
                    "from": since,
                    "seconds": self.seconds[since:],
                    "server_from": server_since,
                    "server": self.server_since(server_since),
                    "findings": self.findings,
                    "findings_at": self.findings_at,
                    "findings_of": self.findings_of,
                    "levels": self.levels,
                    "bracket": self.bracket,
                    "capacity": self.capacity,
                    "steps": self.steps,
                    "fixed": self.fixed,
                    "notice": self.notice,
                    "end": self.end,
                }
            ).encode()

    def collect(self) -> Iterator[Metric]:
        """The metrics, read from the latest state on each scrape."""
        with self.lock:
            self.scraped_at = time.monotonic()
            self.scraped_the_end = self.end is not None
            last = self.seconds[-1] if self.seconds else None
            run, requests, errors, ended = self.run_id, self.requests, dict(self.errors), self.end
        c = CounterMetricFamily(
            "loadgen_requests",
            "requests so far (answered or not), as summary.json counts them",
            labels=["run"],
        )
        c.add_metric([run], requests)
        yield c
        e = CounterMetricFamily("loadgen_errors", "errors so far, by kind", labels=["run", "kind"])
        for kind, n in sorted(errors.items()):
            e.add_metric([run, kind], n)
        yield e
        gauges = {
            "loadgen_target_rps": ("arrivals/s asked for in the last second", "target"),
            "loadgen_achieved_rps": ("arrivals/s sent in the last second", "achieved"),
            "loadgen_in_flight": ("requests in flight at the last second's end", "in_flight"),
            "loadgen_send_lag_ms": ("the worst send lag of the last second", "lag_ms"),
        }
        for name, (doc, key) in gauges.items():
            g = GaugeMetricFamily(name, doc, labels=["run"])
            if last is not None and last[key] is not None:
                g.add_metric([run], last[key])
            yield g
        lat = GaugeMetricFamily(
            "loadgen_latency_ms",
            "response time quantiles of the last second (1: its max), from its histogram",
            labels=["run", "quantile"],
        )
        for q, v in (last or {}).get("latency_ms", {}).items():
            lat.add_metric([run, q], v)
        yield lat
        done = GaugeMetricFamily("loadgen_run_ended", "1 once the run has ended", labels=["run"])
        done.add_metric([run], 1 if ended else 0)
        yield done


def asked_rate(body: bytes) -> float:
    """The rate a POST /rate asks for (`{"rps": R}`); ValueError, said for the page, if
    it is none."""
    try:
        rps = json.loads(body or b"{}")["rps"]
        if isinstance(rps, bool):
            raise TypeError
        value = float(rps)
    except (ValueError, KeyError, TypeError):
        raise ValueError("give the rate as a number of requests per second, e.g. 250") from None
    return check_rate(value)


def serve(
    live: Live,
    listening: socket.socket,
    token: str | None,
    loadgen_pid: int | None,
    to_loadgen: Callable[[dict[str, Any]], None] = lambda message: None,
) -> ThreadingHTTPServer:
    """The HTTP server on the inherited socket, serving in a thread of its own;
    `to_loadgen` takes what loadgen must act on (a new rate); no `loadgen_pid`: a
    saved run's page (`loadgen report --serve`), with no run to stop."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(live)  # a collector: it has `collect`
    stopping = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        # Kept alive: a page polling twice a second opens no connection (and no
        # thread here) per poll. Every reply says its length.
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None  # quiet: loadgen's terminal is the run's

        def _allowed(self) -> str | None:
            """The request's path if its token is right (or none is asked), else None."""
            url = urlsplit(self.path)
            if token is not None:
                given = parse_qs(url.query).get("token", [""])[0]
                if not secrets.compare_digest(given, token):
                    self._reply(403, "text/plain", b"forbidden: the URL's ?token= is needed\n")
                    return None
            return url.path

        def _reply(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self._allowed()
            if path == "/":
                self._reply(200, "text/html; charset=utf-8", PAGE.encode())
            elif path == "/ticks":
                query = parse_qs(urlsplit(self.path).query)
                n, m = (query.get(k, ["0"])[0] for k in ("since", "server_since"))
                since = int(n) if n.isdigit() else 0
                server_since = int(m) if m.isdigit() else 0
                self._reply(200, "application/json", live.ticks_json(since, server_since))
            elif path == "/metrics":
                self._reply(200, "text/plain; version=0.0.4", generate_latest(registry))
            elif path is not None:
                self._reply(404, "text/plain", b"not found\n")

        def do_POST(self) -> None:
            path = self._allowed()
            if path != "/rate" and self.headers.get("Content-Length", "0") != "0":
                self.close_connection = True  # a body nobody reads: not a next request
            if path == "/stop" and loadgen_pid is None:
                error = {"error": "a saved run: there is nothing to stop"}
                self._reply(409, "application/json", json.dumps(error).encode())
            elif path == "/stop" and loadgen_pid is not None:
                first = not stopping.is_set()  # a second SIGINT would cut the drain short
                stopping.set()
                if first:
                    os.kill(loadgen_pid, signal.SIGINT)
                self._reply(202, "application/json", json.dumps({"stopping": True}).encode())
            elif path == "/rate":
                self._rate()
            elif path is not None:
                self._reply(404, "text/plain", b"not found\n")

        def _rate(self) -> None:
            given = self.headers.get("Content-Length") or "0"
            if not given.isdigit():
                self.close_connection = True
                self._reply(400, "application/json", b'{"error": "a bad Content-Length"}')
                return
            length = int(given)
            body = self.rfile.read(min(length, 4096))
            if length > len(body):  # the rest would be read as the next request
                self.close_connection = True
            why = live.fixed or (live.end is not None and "the run is over") or None
            if why:
                self._reply(409, "application/json", json.dumps({"error": why}).encode())
                return
            try:
                rps = asked_rate(body)
            except ValueError as e:
                self._reply(400, "application/json", json.dumps({"error": str(e)}).encode())
                return
            with live.lock:
                live.notice = None  # a notice answers the change before this one
            to_loadgen({"rate": rps})
            self._reply(202, "application/json", json.dumps({"rps": rps}).encode())

    server = ThreadingHTTPServer(listening.getsockname()[:2], Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = listening
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="dashboard-http", daemon=True).start()
    return server


def read_findings(live: Live) -> None:
    """The findings thread: the diagnosis so far, every few seconds, until the end."""
    while True:
        time.sleep(FINDINGS_EVERY_S)
        try:
            live.read_findings()
        except Exception:  # a rule that trips on half a run: the page goes on without it
            continue


def main() -> None:
    """The dashboard process: options on stdin's first line, then loadgen's lines until EOF."""
    yield_the_cpu(whole_session=True)  # the page is never as urgent as a request
    first = sys.stdin.readline()
    if not first:
        return
    options = json.loads(first)
    listening = socket.socket(fileno=options["fd"])
    live = Live(options["run"], options.get("fixed"))
    out = sys.stdout.buffer
    out_lock = threading.Lock()

    def to_loadgen(message: dict[str, Any]) -> None:
        with out_lock:
            try:
                out.write(json.dumps(message).encode() + b"\n")
                out.flush()
            except OSError:
                pass  # loadgen is gone: nothing to change

    server = serve(live, listening, options["token"], options["loadgen_pid"], to_loadgen)
    threading.Thread(target=read_findings, args=(live,), name="findings", daemon=True).start()
    for line in sys.stdin:  # until loadgen closes the pipe (or is gone)
        try:
            live.add(json.loads(line))
        except (ValueError, KeyError, TypeError):
            continue
    if live.linger():
        time.sleep(0.2)  # its last answer, read as it was made, is still being written
    server.shutdown()


if __name__ == "__main__":
    main()
