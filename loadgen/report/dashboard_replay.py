"""`loadgen report DIR --serve`: the live page again, over a saved run.

A colleague opens what the live page showed: the same page, served from the
run's files, as it looked at the run's end. Each second comes from
summary.json's timeline (target, arrivals, responses, errors by kind, the
server's samples) and its latencies from the interval log's histograms (the
percentiles `loadgen report` computes: exact per second, or per bucket of
seconds past `run_data.MAX_POINTS`); the diagnosis is the run's, the rate
changes made live are its profile's steps. What a run keeps no trace of per
second (in flight, send lag) is not drawn. Nothing can be stopped or changed:
the run is over.
"""

from __future__ import annotations

import threading
from pathlib import Path

from loadgen.report.dashboard import Listening
from loadgen.report.dashboard_server import Live, serve, server_point
from loadgen.report.run_data import RunData, rate_intervals

WHY_FIXED = "a saved run: its rate was what it was"


def replayed(run: RunData, name: str, report: Path | None) -> Live:
    """`Live` as it stood at the run's end, from its files."""
    summary = run.summary
    live = Live(name, WHY_FIXED)
    latency = {round(start, 3): stats["response"] for start, stats in run.seconds}
    for e in rate_intervals(summary):
        length = e["length"]
        lat = latency.get(round(e["t"], 3)) if e["responses"] else None
        live.seconds.append(
            {
                "end": e["t"] + length,
                "target": e["target"] / length,
                "achieved": e["arrivals"] / length,
                "responses": e["responses"] / length,
                "errors": {k: n / length for k, n in e["errors"].items()},
                "in_flight": None,
                "lag_ms": None,
                "latency_ms": {}
                if lat is None
                else {"0.5": lat["p50"], "0.9": lat["p90"], "0.99": lat["p99"], "1": lat["max"]},
            }
        )
        server = e.get("server")
        if server is not None:
            point = server_point({**server, "at": e["t"] + length})
            if point is not None:
                live.server.append(point)
    live.diagnosis.started_at = 0.0  # the points' times are the run's already
    live.steps = list(summary["run"].get("rate_profile", {}).get("steps", []))
    live.requests = summary["requests"]
    live.errors.update(summary["errors"]["by_kind"])
    live.end = {
        "stopped": bool(summary["run"].get("interrupted")),
        "report": str(report.resolve()) if report is not None else None,
        "diagnosis": list(summary.get("diagnosis", [])),
    }
    return live


class Replay:
    """A saved run's page on `host:port`, bound at once (OSError if it cannot be)."""

    def __init__(self, host: str, port: int, live: Live) -> None:
        self._listening = Listening(host, port)
        self.url = self._listening.url
        self.live = live

    def serve_forever(self) -> None:
        """Serve until interrupted (Ctrl-C: KeyboardInterrupt in the main thread)."""
        server = serve(self.live, self._listening.socket, self._listening.token, None)
        try:
            threading.Event().wait()
        finally:
            server.shutdown()
