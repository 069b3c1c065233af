"""The notes under a run's numbers, said alike by the terminal and by report.html.

Among them, each error kind that is not an HTTP answer, said for what it
means and, where the run shows it, where it came from: a `reset` is a count
until someone says it is the server tearing down connections, and why.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from loadgen.report.findings.finding import pct
from loadgen.report.findings.generator import lateness
from loadgen.report.summary import connect_note, phases_note, retries_note
from loadgen.report.summary_contract import Summary
from loadgen.transports.models import (
    BODY_TOO_LARGE,
    CLOSED,
    CONNECT,
    CONNECT_TIMEOUT,
    FLOW_CONTROL,
    GOAWAY,
    PROTOCOL,
    RESET,
    RST_STREAM,
    SERVER_CLOSED,
    TIMEOUT,
    TLS,
)

# What each error kind of the client means, for the person reading the report.
MEANINGS = {
    CONNECT: "no connection could be opened (refused, unreachable, or a name that does not "
    "resolve): nothing listening there, or the server turning connections away",
    CONNECT_TIMEOUT: "the connection was still opening when the request's timeout expired: "
    "its SYN went unanswered, as when the server's accept backlog is full",
    RESET: "the server reset the connection (a TCP RST) before its answer was complete: a "
    "worker that died or was restarted, a cap on connections, or a kept-alive connection "
    "it closed as the request arrived",
    SERVER_CLOSED: "the server closed the connection after the request was written, with no "
    "complete answer: a worker that died, or a server that closes after an error",
    TIMEOUT: "no complete answer within --timeout: the server stuck, or its queue longer "
    "than the timeout (these requests are not in the latency percentiles)",
    PROTOCOL: "what came back is not valid HTTP (HTTP/1.1, or HTTP/2 with --http2)",
    RST_STREAM: "the server reset the request's HTTP/2 stream (RST_STREAM, its error code "
    "first of its kind): refused (too many streams), cancelled, or an error of its own",
    GOAWAY: "the server sent GOAWAY before processing the request's stream, and the request "
    "could not be sent again (not idempotent, or already retried once)",
    FLOW_CONTROL: "HTTP/2 flow control: the request's body waited on the server's window "
    "until the timeout (a stall: the server reads slowly or not at all), or one end "
    "overran the other's window",
    TLS: "the TLS handshake failed",
    BODY_TOO_LARGE: "the answer's body passed --max-body, so the connection was closed",
    CLOSED: "the run ended before the request could be sent",
}
# The kinds a server's end of the connection causes: where they came from is worth saying.
_TORN_DOWN = (RESET, SERVER_CLOSED)


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
    out.extend(error_notes(summary))
    tls = summary["run"].get("tls")
    if tls is not None and tls.get("verify") is False:
        out.append(Note("", "TLS certificates were not verified (--insecure)", "warning"))
    retries = retries_note(summary)
    if retries is not None:
        text, warn = retries
        out.append(Note("", text, "warning" if warn else "note"))
    return out


def error_notes(summary: Summary) -> list[Note]:
    """One note per error kind of the client, the most frequent first: how many,
    what it means, where the run shows it came from, and what the first said."""
    errors = summary["errors"]
    first = errors.get("first", {})
    requests = summary["requests"] or 1
    out = []
    by_count = sorted(errors["by_kind"].items(), key=lambda kv: -kv[1])
    for kind, n in by_count:
        meaning = MEANINGS.get(kind)
        if meaning is None:
            continue  # an HTTP status, a failed check, the task's own exception
        text = f"{n} ({pct(n / requests)} of requests): {meaning}"
        if kind in _TORN_DOWN:
            text += _where_from(summary)
        if first.get(kind):  # said as the client put it, its kind once
            text += f"; the first said: {first[kind].removeprefix(f'{kind}: ')}"
        out.append(Note(kind, text, "note"))
    for kind, detail in first.items():  # a kind said but not counted (an older summary)
        if kind not in errors["by_kind"]:
            out.append(Note("first of its kind", detail, "note"))
    return out


def _where_from(summary: Summary) -> str:
    """What the run shows of why the server tore connections down ("": nothing)."""
    restarts = summary.get("server", {}).get("restarts", 0)
    if restarts:
        return f" — here {restarts} worker{'s' if restarts > 1 else ''} restarted during the run"
    errors_5xx = sum(n for k, n in summary["errors"]["by_kind"].items() if k.startswith("http_5"))
    if errors_5xx:
        return f" — here beside {errors_5xx} 5xx answers: servers close a connection after an error"
    return ""
