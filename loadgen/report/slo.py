"""Service-level objectives: `p99<50ms`, `task:compute_fib:p99.9<=200ms`, `errors<1%`, ….

Grammar (case-insensitive, no spaces needed):

    slo     := [ [ "task:" ] NAME ":" ] [ "response:" | "service:" ] metric op value
    metric  := "p" NUMBER | "max" | "mean"      latency (response time unless service:)
             | "errors"                           % of requests, or a count without %
             | "achieved"                         % of the target arrival rate, or req/s
    op      := "<" | "<=" | ">" | ">="
    value   := NUMBER [ "us" | "ms" | "s" | "%" | "/s" ]   latency defaults to ms

A task's objective names it before a colon: `GET /real/t.json: p99<500ms`
(the name as the reports show it, spaces and all), or, as before,
`task:NAME:…`. Every expression is parsed before any load is sent (a typo
must not waste a run), and so are task names (`check_tasks`), then judged
against the run's summary; percentiles the summary does not carry (say p95)
are read from the run's histograms. Nothing passes vacuously: with no
requests in scope, or no timed response for a latency, the measured value is
"n/a" and the SLO fails.

A task with a latency objective of its own is judged by it alone: the run's
latency objectives of the same kind (response or service time, without a
task) are then judged over the other tasks' responses together, so a
known-slow endpoint given its own SLO does not fail the others' (errors and
achieved stay the whole run's). A task's own service-time objective leaves
it in the run's response-time ones: it says nothing about what users waited.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from loadgen.measure.histogram import LatencyMs
from loadgen.report.summary_contract import LatencyKind, Summary, latency_stat

# (task, tasks merged, or None: all; "response" | "service"; percentile 0–100) → milliseconds
PercentileOf = Callable[[str | frozenset[str] | None, str, float], float]
# (tasks, "response" | "service") → those tasks' latency block, merged (ms)
LatencyOf = Callable[[frozenset[str], str], LatencyMs]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_SLO = re.compile(
    r"""^(?:task:(?P<task>[^:]+):)?
        (?:(?P<kind>response|service):)?
        (?P<metric>p\d+(?:\.\d+)?|max|mean|errors|achieved)
        (?P<op><=|>=|<|>)
        (?P<value>\d+(?:\.\d*)?|\.\d+)
        (?P<unit>us|ms|s|%|/s)?$""",
    re.VERBOSE | re.IGNORECASE,
)


_TASK = re.compile(r"task:([^:]+):(.*)$", re.IGNORECASE | re.DOTALL)
# What may not name a task before a colon: the grammar's own prefixes.
_PREFIXES = ("task", "response", "service")


def _squeezed(text: str) -> str:
    """The expression without its spaces (`p99 < 50 ms`), save those inside a
    task's name (a --targets task is `GET /items`)."""
    text = text.strip()
    m = _TASK.match(text)
    if m is None:
        return text.replace(" ", "")
    return f"task:{m[1].strip()}:{m[2].replace(' ', '')}"


class SLOError(ValueError):
    """An expression that is not an SLO; the message says why, in one line."""


@dataclass(frozen=True)
class SLO:
    """An objective parsed (see the module docstring): a metric, a comparison and a
    threshold, for the run or one task."""

    text: str
    metric: str  # "latency", "errors" or "achieved"
    op: str
    threshold: float  # ms for latency, a fraction for % values, else a count or req/s
    task: str | None = None
    kind: LatencyKind = "response"
    stat: str = ""  # latency: "p99.9", "max", "mean"
    percent: bool = False

    def measure(
        self,
        summary: Summary,
        percentile_of: PercentileOf | None = None,
        over: frozenset[str] | None = None,
        latency_of: LatencyOf | None = None,
    ) -> float:
        """The measured value, in the threshold's unit; NaN when there is nothing to judge.

        NaN fails every comparison, so an SLO cannot pass vacuously: a task
        that got no requests, or a latency objective where no response came
        back at all (every request a connect error or timeout, which are
        counted but not timed), is a failure, not a 0 ms success.

        `over`: the tasks a run-wide latency objective is judged over (the
        others have their own); several need `latency_of` (their merged block).
        """
        if over is not None and self.metric == "latency":
            return self._measure_over(summary, over, percentile_of, latency_of)
        scope = summary if self.task is None else summary["tasks"].get(self.task)
        if scope is None or not scope["requests"]:
            return math.nan
        if self.metric == "errors":
            errors = scope["errors"]
            count = errors["total"] if isinstance(errors, dict) else errors
            if not self.percent:
                return float(count)
            return float(count / scope["requests"])
        if self.metric == "achieved":
            if not self.percent:
                return float(summary["achieved_rps"])
            target = summary["target_rps"]
            return summary["achieved_rps"] / target if target else 1.0
        return self._latency(scope["latency_ms"][self.kind], self.task, percentile_of)

    def _measure_over(
        self,
        summary: Summary,
        over: frozenset[str],
        percentile_of: PercentileOf | None,
        latency_of: LatencyOf | None,
    ) -> float:
        """The latency of the tasks `over` together (see `measure`)."""
        tasks = summary["tasks"]
        if not any(tasks[t]["requests"] for t in over if t in tasks):
            return math.nan
        if len(over) == 1:
            (task,) = over
            return self._latency(tasks[task]["latency_ms"][self.kind], task, percentile_of)
        if latency_of is None:
            raise SLOError(f"{self.text}: judged over several tasks, it needs the run's histograms")
        return self._latency(latency_of(over, self.kind), over, percentile_of)

    def _latency(
        self, latency: LatencyMs, scope: str | frozenset[str] | None, of: PercentileOf | None
    ) -> float:
        if not latency["max"]:  # no timed response: at least 1 µs when there is one
            return math.nan
        value = latency_stat(latency, self.stat)
        if value is not None:
            return float(value)
        if of is None:
            raise SLOError(f"{self.text}: {self.stat} needs the run's histograms")
        return of(scope, self.kind, float(self.stat[1:]))

    def passes(self, measured: float) -> bool:
        """Whether `measured` meets the objective."""
        return _OPS[self.op](measured, self.threshold)

    def limit(self) -> str:
        """The threshold as the SLO states it, with its comparison: `< 50ms`, `>= 99%`."""
        if self.metric == "latency":
            value = f"{self.threshold:g}ms"
        elif self.percent:
            value = f"{100 * self.threshold:g}%"
        else:
            value = f"{self.threshold:g}" + ("/s" if self.metric == "achieved" else "")
        return f"{self.op} {value}"

    def show(self, measured: float) -> str:
        """The measured value as the SLO states it: `312.4ms`, `0.52%`, `99.8%`."""
        if math.isnan(measured):
            return "n/a"
        if self.metric == "latency":
            return f"{measured:.3f}ms"
        if self.percent:
            return f"{100 * measured:.2f}%"
        return f"{measured:g}" + ("/s" if self.metric == "achieved" else "")


def _named(text: str) -> SLO | None:
    """`NAME: expr`, a task's objective (None: not of that form). The name ends at
    the first colon after which an objective of no task follows, so a path with a
    colon in it (`GET /a:b: p99<1s`) keeps it."""
    for i, c in enumerate(text):
        name = text[:i].strip()
        if c != ":" or not name or name.lower() in _PREFIXES:
            continue
        m = _SLO.match(_squeezed(text[i + 1 :]))
        if m is not None and m["task"] is None:
            if m["metric"].lower() == "achieved":
                raise SLOError(f"{text!r}: achieved is for the whole run, not one task")
            rest = text[i + 1 :]
            try:
                return replace(parse_slo(rest), text=text.strip(), task=name)
            except SLOError as e:  # said of the whole expression, as typed
                raise SLOError(str(e).replace(repr(rest), repr(text))) from None
    return None


def parse_slo(text: str) -> SLO:
    """An --slo expression as an SLO; SLOError says what is wrong, in one line."""
    m = _SLO.match(_squeezed(text))
    if m is None and (named := _named(text)) is not None:
        return named
    if m is None:
        raise SLOError(
            f"not an SLO: {text!r} (examples: p99<50ms, 'GET /items: p99<500ms', "
            "task:compute_fib:p99.9<=200ms, errors<1%, achieved>=99%)"
        )
    metric = m["metric"].lower()
    unit = (m["unit"] or "").lower()
    value = float(m["value"])
    task, op = m["task"], m["op"]
    if metric in ("errors", "achieved"):
        if m["kind"]:
            raise SLOError(f"{text!r}: response:/service: only go with latency metrics")
        if metric == "achieved" and task:
            raise SLOError(f"{text!r}: achieved is for the whole run, not one task")
        if unit not in ("", "%", "/s") or (unit == "/s" and metric == "errors"):
            raise SLOError(f"{text!r}: {metric} takes a % or a plain number")
        percent = unit == "%"
        return SLO(text, metric, op, value / 100 if percent else value, task, percent=percent)
    if unit in ("%", "/s"):
        raise SLOError(f"{text!r}: a latency takes us, ms or s")
    stat = metric
    if stat.startswith("p"):
        q = float(stat[1:])
        if not 0 < q <= 100:
            raise SLOError(f"{text!r}: percentiles lie in (0, 100]")
        stat = f"p{q:g}"
    return SLO(
        text,
        "latency",
        op,
        value * _UNITS_MS[unit or "ms"],
        task,
        "service" if (m["kind"] or "").lower() == "service" else "response",
        stat,
    )


@dataclass(frozen=True)
class Outcome:
    """An objective judged: what was measured and whether it passed."""

    slo: SLO
    measured: float
    passed: bool
    # The tasks a run-wide latency objective was judged over (None: all of them).
    over: frozenset[str] | None = None

    def line(self) -> str:
        """The verdict, the objective and what was measured, in one line."""
        verdict = "pass" if self.passed else "FAIL"
        return f"{verdict}  {self.slo.text}  ({self._measured()})"

    def reason(self) -> str:
        """The objective and what was measured, without the verdict."""
        return f"{self.slo.text} ({self._measured()})"

    def _measured(self) -> str:
        said = f"measured {self.slo.show(self.measured)}"
        if self.over is None:
            return said
        return f"{said} over {', '.join(sorted(self.over))}"


def apart(slos: Sequence[SLO], kind: str) -> frozenset[str]:
    """The tasks with a latency objective of their own of `kind` (judged by it alone)."""
    return frozenset(
        s.task for s in slos if s.task is not None and s.metric == "latency" and s.kind == kind
    )


def run_wide_scope(
    slos: Sequence[SLO], tasks: Iterable[str], kind: str = "response"
) -> frozenset[str] | None:
    """The tasks a run-wide latency objective of `kind` judges: those without one of
    their own of that kind (None: every task; so too when every task has its own)."""
    names = frozenset(tasks)
    own = apart(slos, kind) & names
    rest = names - own
    return rest if own and rest else None


def evaluate(
    slos: Sequence[SLO],
    summary: Summary,
    percentile_of: PercentileOf | None = None,
    latency_of: LatencyOf | None = None,
) -> list[Outcome]:
    """Each objective judged (a run-wide latency one over the tasks without their own)."""
    outcomes = []
    for slo in slos:
        run_wide = slo.task is None and slo.metric == "latency"
        scoped = run_wide_scope(slos, summary["tasks"], slo.kind) if run_wide else None
        measured = slo.measure(summary, percentile_of, scoped, latency_of)
        outcomes.append(Outcome(slo, measured, slo.passes(measured), scoped))
    return outcomes


def check_tasks(slos: Sequence[SLO], known: Iterable[str]) -> None:
    """Refuse objectives on tasks the scenario (or the saved run) does not have.

    A misspelt task name is a usage error, found before any load is sent,
    not a surprise after the run.
    """
    names = list(known)
    for slo in slos:
        if slo.task is not None and slo.task not in names:
            raise SLOError(
                f"{slo.text!r}: no task {slo.task!r} (tasks: {', '.join(names) or 'none'})"
            )
