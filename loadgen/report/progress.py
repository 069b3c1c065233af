"""Progress while a run goes on: a live line on a terminal, a plain line every
10 s elsewhere (a CI log, a pipe), so that a long run is not silent until its end.

Both read the run's ticks (one a second, shards' added up: `measure/tick.py`).
The plain line is text alone, no control characters, one line each time:

    [20s/60s] last 10 s: target 100/s, achieved 99.9/s; so far: p99 2.41 ms, errors 3

Its p99 is of every response so far, exact: the ticks carry each second's
response-time buckets, added up here as the run's histogram would hold them.
"""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.live import Live
from rich.text import Text

from loadgen.core.rates import RateProfile
from loadgen.measure.histogram import Distribution, ms
from loadgen.measure.recorder import Interval, Recorder
from loadgen.measure.tick import Tick, add_responses, tick

# How often the plain line is printed (seconds of the measured window).
PLAIN_EVERY_S = 10.0


class Progress:
    """The live line on a terminal, updated once a second from the engine's
    interval callback (or shards' ticks); gone when the run ends."""

    def __init__(self, console: Console, planned: float) -> None:
        self.planned = planned
        self.live = Live(Text("starting…"), console=console, transient=True, auto_refresh=False)
        self.errors = 0

    def __enter__(self) -> Progress:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)

    def on_interval(self, iv: Interval, rec: Recorder) -> None:
        """The engine's callback: a second closed, shown as its `Tick`."""
        self.on_tick(tick(iv, rec))

    def on_tick(self, t: Tick) -> None:
        """Show second `t` on the live line."""
        self.errors += int(t["errors"])
        length = max(t["length"], 1e-9)
        line = (
            f"{t['end']:5.0f}s/{self.planned:.0f}s  arrivals {t['total_arrivals']:.0f} "
            f"({t['arrivals'] / length:.0f}/s)  responses {t['responses'] / length:.0f}/s  "
            f"in flight {t['in_flight']:.0f}  errors {self.errors}  max {t['max_us'] / 1000:.1f} ms"
        )
        self.live.update(Text(line), refresh=True)


class PlainProgress:
    """A plain line every `PLAIN_EVERY_S` of the measured window (see the module's doc).

    `profile` and `warmup` give the target rate of each stretch: the profile's
    time starts with the warm-up, the ticks' with the measured window.
    """

    def __init__(
        self, console: Console, planned: float, profile: RateProfile, warmup: float
    ) -> None:
        self.console = console
        self.planned = planned
        self.profile = profile
        self.warmup = warmup
        self.errors = 0
        self.responses: Counter[int] = Counter()  # bucket index → count, the run so far
        self.since = 0.0  # where the stretch the next line covers began
        self.sent = 0  # arrivals sent in it

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def on_tick(self, t: Tick) -> None:
        """Add second `t`; print a line when a stretch of `PLAIN_EVERY_S` is complete."""
        self.errors += int(t["errors"])
        self.sent += int(t["arrivals"])
        add_responses(self.responses, t)
        if t["end"] - self.since >= PLAIN_EVERY_S - 1e-6:
            self.console.print(self.line(t["end"]), markup=False, highlight=False, soft_wrap=True)
            self.since, self.sent = t["end"], 0

    def line(self, end: float) -> str:
        """The line for the stretch from the last one to `end` (seconds measured)."""
        length = max(end - self.since, 1e-9)
        planned = self.profile.arrivals(self.warmup + end) - self.profile.arrivals(
            self.warmup + self.since
        )
        return (
            f"[{end:.0f}s/{self.planned:.0f}s] last {length:.0f} s: "
            f"target {_rate(planned / length)}/s, achieved {_rate(self.sent / length)}/s; "
            f"so far: p99 {ms(self.p99_ms())} ms, errors {self.errors}"
        )

    def p99_ms(self) -> float | None:
        """The 99th percentile of every response so far (None: none yet), as hdrh gives it."""
        total = sum(self.responses.values())
        if not total:
            return None
        counts = sorted(self.responses.items())
        return Distribution(counts, total).percentiles_us([99.0])[99.0] / 1000


def _rate(rps: float) -> str:
    """A rate as the line shows it: 0.33, 17.5, 100, 3400."""
    if rps >= 100:
        return f"{rps:.0f}"
    return f"{rps:.1f}" if rps >= 1 else f"{rps:.2f}"


def make_progress(
    console: Console, planned: float, profile: RateProfile, warmup: float
) -> Progress | PlainProgress:
    """The live line on a terminal, else the plain line every 10 s."""
    if console.is_terminal:
        return Progress(console, planned)
    return PlainProgress(console, planned, profile, warmup)
