"""The live page's process: each second as it draws it, and the run's totals for /metrics."""

import http.client
import json
import socket

import pytest

from loadgen.measure.histogram import new_histogram
from loadgen.measure.recorder import Recorder
from loadgen.measure.tick import tick
from loadgen.report.dashboard_server import Live, serve
from loadgen.transports.models import Response


def a_second(latencies_ms, errors=()):
    """A real tick: a recorder's second with these response times and errors."""
    rec = Recorder(100.0)
    for ms in latencies_ms:
        rec.arrival(0.0, measured=True)
        rec.response("a", 100.0, Response(200, b"", 100.0, 100.0 + ms / 1000, 10))
    for kind in errors:
        rec.error("a", kind)
    return tick(rec.close_interval(101.0), rec)


def test_each_second_s_quantiles_are_its_histogram_s_exactly():
    latencies = [1, 2, 2, 3, 5, 8, 40, 41, 300, 900]
    live = Live("r")
    live.add({"tick": {**a_second(latencies), "target": 10.0}})
    expected = new_histogram()
    for ms in latencies:
        expected.record_value(ms * 1000)
    drawn = live.seconds[0]["latency_ms"]
    for q, p in (("0.5", 50), ("0.9", 90), ("0.99", 99)):
        assert drawn[q] == expected.get_value_at_percentile(p) / 1000
    assert drawn["1"] == expected.get_max_value() / 1000


def test_the_end_line_sets_the_run_s_totals_drain_and_all():
    live = Live("r")
    live.add({"tick": {**a_second([1, 2, 3], errors=["timeout"]), "target": 3.0}})
    live.add({"tick": {**a_second([1], errors=["timeout", "reset"]), "target": 3.0}})
    # A timeout or a reset is a request that got no answer: summary.json counts it.
    assert (live.requests, dict(live.errors)) == (7, {"timeout": 2, "reset": 1})
    live.add({"end": {"requests": 9, "errors": {"timeout": 3, "reset": 1}, "stopped": False}})
    live.add({"report": "/tmp/r/report.html"})
    scraped = {m.name: m.samples for m in live.collect()}
    assert scraped["loadgen_requests"][0].value == 9
    assert {s.labels["kind"]: s.value for s in scraped["loadgen_errors"]} == {
        "timeout": 3, "reset": 1
    }  # fmt: skip
    assert scraped["loadgen_run_ended"][0].value == 1
    assert json.loads(live.ticks_json())["end"] == {
        "stopped": False,
        "report": "/tmp/r/report.html",
        "diagnosis": None,
    }
    # A page asks only for the seconds it has not drawn yet.
    everything = json.loads(live.ticks_json())["seconds"]
    later = json.loads(live.ticks_json(since=1))
    assert later["from"] == 1 and later["seconds"] == everything[1:]


@pytest.fixture
def served():
    """A dashboard's HTTP server over a Live on a free loopback port: (live, port, handed)."""
    live, handed = Live("r"), []
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        server = serve(live, sock, None, None, handed.append)
        try:
            yield live, sock.getsockname()[1], handed
        finally:
            server.shutdown()


def test_a_polling_page_keeps_one_connection(served):
    live, port, _ = served
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    for n in range(3):
        live.add({"tick": {**a_second([1, 2]), "target": 2.0}})
        conn.request("GET", f"/ticks?since={n}")
        answer = conn.getresponse()
        assert answer.status == 200 and answer.version == 11
        assert len(json.loads(answer.read())["seconds"]) == 1
    local = conn.sock.getsockname()
    conn.request("GET", "/metrics")
    assert conn.getresponse().read() and conn.sock.getsockname() == local  # the same one
    conn.close()


def raw(port, request):
    """What the server answers to `request` (bytes) before it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("length", ["-5", "x"])
def test_a_bad_content_length_is_400_and_no_hang(served, length):
    _, port, handed = served
    answer = raw(port, f"POST /rate HTTP/1.1\r\nContent-Length: {length}\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 400") and b"Content-Length" in answer
    assert handed == []


def test_a_body_nobody_reads_is_never_taken_for_the_next_request(served):
    _, port, handed = served
    # A saved run's page: /stop answers 409; the body after it must not be read
    # as a request (it would ask for a rate of 7).
    body = b'POST /rate HTTP/1.1\r\nContent-Length: 10\r\n\r\n{"rps": 7}'
    head = f"POST /stop HTTP/1.1\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    answer = raw(port, head + body)
    assert answer.count(b"HTTP/1.1 ") == 1 and answer.startswith(b"HTTP/1.1 409")
    assert handed == []
