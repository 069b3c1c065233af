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
