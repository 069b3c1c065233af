"""A strict check of a JUnit XML report against the schema CI systems read.

No JUnit XSD ships with a package installable here, so the rules of the
strictest one in use (Apache Ant's JUnit.xsd, which Jenkins' is a looser form
of; GitLab and GitHub's reporters read a subset) are checked by hand: the
elements and attributes each may have, the required ones, their types, and
every count equal to the cases it counts.
"""

import re
import xml.etree.ElementTree as ET

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")  # ISO 8601, no zone
DECIMAL = re.compile(r"\d+(\.\d+)?")
COUNTS = ("tests", "failures", "errors", "skipped")
SUITES_ATTRS = {"name", "time", *COUNTS}
SUITE_ATTRS = {"name", "time", "timestamp", "hostname", "id", "package", *COUNTS}
SUITE_REQUIRED = {"name", "tests", "failures", "errors", "time", "timestamp", "hostname"}
CASE_ATTRS = {"name", "classname", "time"}
COUNTED = {"failure": "failures", "error": "errors", "skipped": "skipped"}
CASE_CHILDREN = {"failure", "error", "skipped", "system-out", "system-err"}


def check_junit(text: str) -> ET.Element:
    """The document's root, after asserting it keeps every rule; AssertionError says which not."""
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text.encode())
    assert root.tag == "testsuites", root.tag
    assert set(root.attrib) <= SUITES_ATTRS, root.attrib
    totals = dict.fromkeys(COUNTS, 0)
    assert len(root), "no testsuite"
    for suite in root:
        assert suite.tag == "testsuite", suite.tag
        assert set(suite.attrib) <= SUITE_ATTRS, suite.attrib
        assert set(suite.attrib) >= SUITE_REQUIRED, suite.attrib
        assert TIMESTAMP.fullmatch(suite.get("timestamp", "")), suite.get("timestamp")
        assert DECIMAL.fullmatch(suite.get("time", "")), suite.get("time")
        counted = dict.fromkeys(COUNTS, 0)
        tags = [child.tag for child in suite]
        # Ant's order: properties, then the cases, then system-out and system-err.
        cases = [c for c in suite if c.tag == "testcase"]
        assert tags == ["properties", *["testcase"] * len(cases), "system-out", "system-err"], tags
        for prop in suite.find("properties") or []:
            assert prop.tag == "property" and set(prop.attrib) == {"name", "value"}, prop.attrib
        for case in cases:
            assert set(case.attrib) <= CASE_ATTRS and {"name", "classname"} <= set(case.attrib)
            assert DECIMAL.fullmatch(case.get("time", "0")), case.get("time")
            assert {c.tag for c in case} <= CASE_CHILDREN, [c.tag for c in case]
            verdicts = [c for c in case if c.tag in ("failure", "error", "skipped")]
            assert len(verdicts) <= 1, "a case is one of passed, failed, errored, skipped"
            counted["tests"] += 1
            for v in verdicts:
                assert set(v.attrib) <= {"message", "type"}, v.attrib
                if v.tag != "skipped":
                    assert v.get("message") and v.get("type"), v.attrib
                counted[COUNTED[v.tag]] += 1
        for key in COUNTS:
            assert int(suite.get(key, "0")) == counted[key], (suite.get("name"), key)
            totals[key] += counted[key]
    for key in COUNTS:
        assert int(root.get(key, "0")) == totals[key], key
    return root


def failing(root: ET.Element) -> list[str]:
    """The names of the cases that failed (a <failure>), in order."""
    return [c.get("name", "") for c in root.iter("testcase") if c.find("failure") is not None]
