"""The diagnosis of a summary as summary.json keeps it: what the tests read."""

from loadgen.report.diagnosis import diagnose
from loadgen.report.summary_contract import FindingEntry, Summary


def diagnosed(summary: Summary) -> list[FindingEntry]:
    """`diagnose(summary)`'s findings, as their JSON entries."""
    return [f.to_json() for f in diagnose(summary)]
