"""The notes under a run's numbers, said alike by the terminal and by report.html."""

from __future__ import annotations

from typing import Literal, NamedTuple

from loadgen.report.findings.generator import lateness
from loadgen.report.summary import connect_note, phases_note, retries_note
from loadgen.report.summary_contract import Summary


class Note(NamedTuple):
    """A line the reports add under the run's numbers: the terminal and the page
    say the same notes, each in its own markup."""

    label: str  # "connect", "first of its kind"; "" for a sentence of its own
    text: str
    level: Literal["info", "note", "warning"]


def notes(summary: Summary) -> list[Note]:
    """What the reports say under the generator's numbers, in order: how late
    arrivals were sent, opening connections, the phases of a response, the first
    error of each kind, TLS not verified, retries."""
    out = []
    late = lateness(summary)
    if late is not None:
        text, warn = late
        out.append(Note("", text, "warning" if warn else "note"))
    connect = connect_note(summary)
    if connect is not None:
        out.append(Note("connect", connect, "info"))
    phases = phases_note(summary)
    if phases is not None:
        out.append(Note("phases", phases, "info"))
    for detail in summary["errors"].get("first", {}).values():
        out.append(Note("first of its kind", detail, "note"))
    tls = summary["run"].get("tls")
    if tls is not None and tls.get("verify") is False:
        out.append(Note("", "TLS certificates were not verified (--insecure)", "warning"))
    retries = retries_note(summary)
    if retries is not None:
        text, warn = retries
        out.append(Note("", text, "warning" if warn else "note"))
    return out
