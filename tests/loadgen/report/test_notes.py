"""The notes under a run's numbers: the same facts, in the same order, for every view."""

from loadgen.report.notes import notes
from tests.support.summaries import run


def test_a_quiet_run_has_only_the_notes_it_measured():
    summary = run()
    summary["generator"]["connect_ms"] = {"p50": 0.2, "p99": 0.5, "max": 0.7}
    assert [(n.label, n.level) for n in notes(summary)] == [("connect", "info")]


def test_each_note_in_order_with_its_level():
    summary = run()
    summary["generator"]["connect_ms"] = {"p50": 0.2, "p99": 0.5, "max": 0.7}
    summary["phases_ms"] = {
        "first_byte": {"p50": 1.0, "p99": 2.0, "max": 3.0, "mean": 1.1},
        "body": {"p50": 0.1, "p99": 0.2, "max": 0.3, "mean": 0.1},
    }
    summary["errors"]["first"] = {"reset": "connection reset by peer"}
    summary["run"]["tls"] = {"verify": False}
    summary["retries"], summary["requests"] = 50, 1000  # 5 %: worth a warning
    said = notes(summary)
    assert [(n.label, n.level) for n in said] == [
        ("connect", "info"),
        ("phases", "info"),
        ("first of its kind", "note"),
        ("", "warning"),
        ("", "warning"),
    ]
    assert said[2].text == "connection reset by peer"
    assert "not verified" in said[3].text and "sent a second time" in said[4].text


def test_each_error_kind_of_the_client_is_said_for_what_it_means_and_where_it_came_from():
    summary = run(errors={"reset": 130, "http_500": 20, "timeout": 5})
    summary["requests"] = 1000
    summary["errors"]["first"] = {"reset": "Connection reset by peer"}
    said = {n.label: n.text for n in notes(summary)}
    assert "http_500" not in said  # an answer, said by the findings and the tables
    assert said["reset"].startswith("130 (13 % of requests): the server reset the connection")
    assert "beside 20 5xx answers" in said["reset"]
    assert said["reset"].endswith("the first said: Connection reset by peer")
    assert said["timeout"].startswith("5 (0.50 % of requests): no complete answer within --timeout")
    summary["server"] = {"sources": ["process tree"], "restarts": 2}
    restarted = {n.label: n.text for n in notes(summary)}
    assert "2 workers restarted during the run" in restarted["reset"]
