"""A run's verdicts as JUnit XML (`--junit FILE`), the test report every CI shows.

The layout is the one JUnit's Ant task wrote and every CI reads (GitLab's
`artifacts:reports:junit`, GitHub's JUnit reporters, Jenkins' `junit` step):

    <testsuites name tests failures errors skipped time>
      <testsuite name tests failures errors skipped time timestamp hostname id package>
        <properties><property name value/>…</properties>
        <testcase name classname time>
          <failure message type>details</failure>   (or <error>, <skipped>, or nothing: passed)
        </testcase>…
        <system-out/><system-err/>
      </testsuite>…
    </testsuites>

with each count the number of its cases so marked (a suite's, then their sum),
times in seconds, and `timestamp` ISO 8601 in UTC without a zone (the strictest
of the schemas in use allows no other). A run is one suite: one case per SLO
(a failing one saying the measured value, the threshold and the task) and a
case `run` that fails when the run could not be completed as asked. A
capacity search is a suite for the answer and one per level: a case per SLO
and the level's verdict (a level above the limit fails by design: the search
must overshoot to find the limit; the `capacity` case says whether it did).
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from loadgen.report.slo import parse_slo
from loadgen.report.summary_contract import SLOVerdict, Summary

Outcome = Literal["passed", "failure", "error", "skipped"]
# What XML 1.0 cannot carry at all (a task's name or an error text might).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A capacity level's verdict as a test outcome: the generator's limit, or a
# stop, is not the target's failure.
_LEVEL_OUTCOMES: dict[str, Outcome] = {
    "pass": "passed",
    "fail": "failure",
    "saturated": "error",
    "interrupted": "skipped",
}


@dataclass
class Case:
    """One test case: passed, or a failure (an objective missed), an error (not
    judged: the run or level could not be made as asked) or skipped."""

    name: str
    classname: str
    time_s: float = 0.0
    outcome: Outcome = "passed"
    message: str = ""  # one line: why it did not pass
    details: str = ""  # the element's text, lines of `key: value`
    kind: str = ""  # the failure's `type`


@dataclass
class Suite:
    """A <testsuite>: its cases, how long it took, and the run's properties."""

    name: str
    cases: list[Case]
    time_s: float = 0.0
    started_epoch: float | None = None
    properties: dict[str, str] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> int:
        """How many of its cases ended in `outcome` (the suite's counts attributes)."""
        return sum(c.outcome == outcome for c in self.cases)


def slo_cases(verdicts: Sequence[SLOVerdict], classname: str, context: str = "") -> list[Case]:
    """A case per SLO verdict (as the summary keeps them); a failing one says the
    measured value, the threshold and the task (`context`: where it was measured)."""
    cases = []
    for verdict in verdicts:
        slo, measured = parse_slo(verdict["slo"]), verdict["measured"]
        case = Case(slo.text, classname, kind="SLO")
        if not verdict["passed"]:
            scope = f"task {slo.task}" if slo.task else "all tasks"
            case.outcome = "failure"
            case.message = (
                f"{slo.text} missed: measured {measured}, threshold {slo.limit()} ({scope})"
            )
            case.details = _lines(
                {
                    "objective": slo.text,
                    "measured": measured,
                    "threshold": slo.limit(),
                    "task": slo.task or "(all tasks)",
                    "where": context,
                }
            )
        cases.append(case)
    return cases


def run_suite(summary: Summary, problem: str | None, name: str = "loadgen run") -> Suite:
    """A run as a suite: its SLOs (as judged in `summary["slo"]`), then `run`, an
    error with `problem` (why the run was not completed as asked) if there is one."""
    where = summary["target"]
    cases = slo_cases(summary.get("slo", []), "loadgen.slo", where)
    run = Case("run", "loadgen.run", summary["duration_s"])
    if problem:
        run.outcome, run.message, run.kind = "error", problem, "incomplete"
        run.details = _lines({"target": where, "why": problem})
    cases.append(run)
    return Suite(
        f"{name}: {where}",
        cases,
        summary["duration_s"],
        summary["run"].get("started_at_epoch"),
        _run_properties(summary),
    )


def capacity_suites(
    report: Mapping[str, Any],
    levels: Sequence[tuple[float, str, Sequence[str], Summary]],
    problem: str | None,
) -> list[Suite]:
    """A capacity search: the answer (`report` is capacity.json; `problem` why it
    found no limit, None when it did), then each level (rate, verdict, reasons,
    summary) with its SLOs and its verdict."""
    answer = Case("capacity", "loadgen.capacity", sum(s["duration_s"] for *_, s in levels))
    if problem:
        answer.outcome, answer.message, answer.kind = "failure", problem, "capacity"
        answer.details = _lines({"answer": str(report["answer"]), "why": report.get("why") or ""})
    suites = [
        Suite(
            "loadgen capacity",
            [answer],
            answer.time_s,
            levels[0][3]["run"].get("started_at_epoch") if levels else None,
            {k: str(report[k]) for k in ("sustained_rps", "failed_rps", "answer")},
        )
    ]
    for i, (rps, verdict, reasons, summary) in enumerate(levels, 1):
        name = f"level {i}: {rps:g}/s"
        suite = run_suite(summary, None, name)
        suite.name = name
        classname = f"loadgen.capacity.level_{i}"
        for case in suite.cases:
            case.classname = classname
        outcome = _LEVEL_OUTCOMES.get(verdict, "error")
        last = suite.cases[-1]  # the `run` case, made the level's verdict
        last.name, last.outcome, last.kind = "verdict", outcome, f"level {verdict}"
        if outcome != "passed":
            why = "; ".join(reasons)
            last.message = f"{rps:g}/s: {verdict}: {why}"
            last.details = _lines({"rate": f"{rps:g}/s", "verdict": verdict, "why": why})
        suites.append(suite)
    return suites


def junit_xml(suites: Sequence[Suite], name: str) -> str:
    """The document (see the module docstring), with its XML declaration."""
    counts = {k: 0 for k in ("tests", "failures", "errors", "skipped")}
    root = ET.Element("testsuites", name=_text(name))
    host = socket.gethostname()
    for i, suite in enumerate(suites):
        el = ET.SubElement(root, "testsuite", name=_text(suite.name))
        numbers = {
            "tests": len(suite.cases),
            "failures": suite.count("failure"),
            "errors": suite.count("error"),
            "skipped": suite.count("skipped"),
        }
        for key, n in numbers.items():
            el.set(key, str(n))
            counts[key] += n
        el.set("time", _seconds(suite.time_s))
        el.set("timestamp", _timestamp(suite.started_epoch))
        el.set("hostname", _text(host))
        el.set("id", str(i))
        el.set("package", "loadgen")
        props = ET.SubElement(el, "properties")
        for key, value in suite.properties.items():
            ET.SubElement(props, "property", name=_text(key), value=_text(value))
        for case in suite.cases:
            _case(el, case)
        ET.SubElement(el, "system-out")
        ET.SubElement(el, "system-err")
    for key, n in counts.items():
        root.set(key, str(n))
    root.set("time", _seconds(sum(s.time_s for s in suites)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def write_junit(path: Path, suites: Sequence[Suite], name: str) -> None:
    """Write the document whole (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(junit_xml(suites, name), encoding="utf-8")
    tmp.replace(path)


def _case(parent: ET.Element, case: Case) -> None:
    el = ET.SubElement(
        parent,
        "testcase",
        name=_text(case.name),
        classname=_text(case.classname),
        time=_seconds(case.time_s),
    )
    if case.outcome == "passed":
        return
    if case.outcome == "skipped":
        ET.SubElement(el, "skipped", message=_text(case.message))
        return
    child = ET.SubElement(el, case.outcome, message=_text(case.message), type=_text(case.kind))
    child.text = _text(case.details)


def _run_properties(summary: Summary) -> dict[str, str]:
    """What the run was, for a reader of the report alone."""
    latency = summary["latency_ms"]["response"]
    return {
        "target": summary["target"],
        "target_rps": f"{summary['target_rps']:g}",
        "achieved_rps": f"{summary['achieved_rps']:g}",
        "requests": str(summary["requests"]),
        "errors": str(summary["errors"]["total"]),
        "p99_ms": "n/a" if latency["p99"] is None else f"{latency['p99']:g}",
    }


def _lines(fields: Mapping[str, str]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in fields.items() if v)


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _timestamp(epoch: float | None) -> str:
    when = dt.datetime.now(dt.UTC) if epoch is None else dt.datetime.fromtimestamp(epoch, dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S")
