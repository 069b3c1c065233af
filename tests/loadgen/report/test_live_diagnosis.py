"""The diagnosis as it forms: the report's findings over the ticks and samples so far."""

import pytest

from loadgen.measure.histogram import summary_ms
from loadgen.measure.recorder import Recorder
from loadgen.measure.tick import tick
from loadgen.report.live_diagnosis import LiveDiagnosis
from loadgen.transports.models import Response


def run_ticks(seconds, per_second=100, status=lambda i: 200, service_ms=lambda i: 2.0):
    """Ticks of a real recorder: `per_second` requests each second, answered with
    `status(i)` after `service_ms(i)`; and the recorder."""
    rec = Recorder(0.0)
    ticks = []
    for s in range(seconds):
        for i in range(per_second):
            start = s + i / per_second
            rec.arrival(0.0, measured=True)
            done = start + service_ms(i) / 1000
            rec.response("a", start, Response(status(i), b"", start, done, 10))
            rec.departure()
        ticks.append({**tick(rec.close_interval(s + 1.0), rec), "target": float(per_second)})
    return ticks, rec


def live_over(ticks, samples=(), meta=None):
    live = LiveDiagnosis({"connections": 512, "timeout_s": 10.0, **(meta or {})})
    for t in ticks:
        live.add_tick(t, now=1000.0 + t["end"])
    for s in samples:
        live.add_sample(s)
    return live


def test_its_latency_is_the_whole_run_s_exactly():
    ticks, rec = run_ticks(4, service_ms=lambda i: 1.0 + i % 37)
    rec.settle_all()
    summary = live_over(ticks).summary()
    assert summary is not None
    assert summary["latency_ms"]["response"] == summary_ms(rec.total("response"))
    assert summary["latency_ms"]["service"]["p99"] == summary_ms(rec.total("service"))["p99"]
    assert summary["requests"] == 400 and summary["achieved_rps"] == pytest.approx(100)


def test_a_quiet_run_finds_nothing_and_one_answering_500s_finds_it_so_far():
    quiet, _ = run_ticks(5)
    assert [f.finding for f in live_over(quiet).findings()] == ["none"]
    failing, _ = run_ticks(5, status=lambda i: 500 if i % 3 == 0 else 200)
    found = live_over(failing).findings()
    assert found[0].finding == "server_errors"
    assert "34 %" in found[0].summary or "34 %" in found[0].evidence


def test_the_server_s_samples_go_on_its_seconds_as_the_report_s_do():
    ticks, _ = run_ticks(4)
    samples = [
        {"at": 1000.0 + s, "workers": {"7": {"cpu": 20.0, "rss_mb": 50.0 + s}}} for s in range(1, 5)
    ]
    live = live_over(ticks, samples)
    assert live.summary()["server"]["sources"] == []  # not sampled: its note says so
    live.sources = ["process tree of pid 7"]
    summary = live.summary()
    assert [e["server"]["workers"]["7"]["rss_mb"] for e in summary["timeline"]] == [
        51.0, 52.0, 53.0, 54.0
    ]  # fmt: skip


def test_before_a_second_it_says_nothing():
    assert LiveDiagnosis().findings() == []


def test_a_copy_reads_what_was_known_while_more_comes():
    ticks, _ = run_ticks(3, status=lambda i: 500 if i % 2 else 200)
    live = live_over(ticks[:2])
    live.sources = ["process tree of pid 7"]
    before = live.copy()
    live.add_tick(ticks[2], now=1000.0 + ticks[2]["end"])
    live.add_sample({"at": 1001.5, "workers": {"7": {"cpu": 20.0, "rss_mb": 50.0}}})
    old, new = before.summary(), live.summary()
    assert (old["requests"], old["errors"]["total"], len(old["timeline"])) == (200, 100, 2)
    assert (new["requests"], new["errors"]["total"], len(new["timeline"])) == (300, 150, 3)
    # Reading puts the samples on copies of its seconds: a second reading is the same.
    assert "server" in new["timeline"][1] and live.summary() == new
    assert before.summary() == old
