"""docs/grafana/loadgen-live.json: a Grafana dashboard naming only what /metrics exposes."""

import json
import re

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from loadgen.measure.recorder import Recorder
from loadgen.measure.tick import tick
from loadgen.report.dashboard_server import Live
from loadgen.transports.models import Response
from tests.support.cli import ROOT

DASHBOARD = ROOT / "docs" / "grafana" / "loadgen-live.json"


def exposed_names() -> set[str]:
    """The metric names the dashboard process exposes, as a scrape reads them."""
    from prometheus_client import CollectorRegistry

    rec = Recorder(0.0)  # one second of a run: an answer and an error
    rec.arrival(0.0001, measured=True)
    rec.response("GET /", 0.0, Response(200, b"", 0.0, 0.002, 10))
    rec.error("GET /", "reset")
    live = Live("run0")
    live.add({"tick": {**tick(rec.close_interval(1.0), rec), "target": 2.0}})
    registry = CollectorRegistry(auto_describe=False)
    registry.register(live)
    text = generate_latest(registry).decode()
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {sample.name for sample in family.samples}
    return names


def test_every_query_names_a_metric_the_live_endpoint_exposes():
    board = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in board["panels"] for t in panel["targets"]]
    exprs.append(board["templating"]["list"][0]["query"])
    used = {name for expr in exprs for name in re.findall(r"\bloadgen_[a-z_]+\b", expr)}
    exposed = exposed_names()
    assert used and used <= exposed, used - exposed
    assert all('run="$run"' in e for e in exprs[:-1])  # one run at a time
