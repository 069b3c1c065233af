"""The live progress line, shown while a run goes on when stdout is a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.live import Live
from rich.text import Text

from loadgen.measure.recorder import Interval, Recorder
from loadgen.measure.tick import Tick, tick


class Progress:
    """Updated once a second from the engine's interval callback (or shards' ticks)."""

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
        self.on_tick(tick(iv, rec))

    def on_tick(self, t: Tick) -> None:
        self.errors += int(t["errors"])
        length = max(t["length"], 1e-9)
        line = (
            f"{t['end']:5.0f}s/{self.planned:.0f}s  arrivals {t['total_arrivals']:.0f} "
            f"({t['arrivals'] / length:.0f}/s)  responses {t['responses'] / length:.0f}/s  "
            f"in flight {t['in_flight']:.0f}  errors {self.errors}  max {t['max_us'] / 1000:.1f} ms"
        )
        self.live.update(Text(line), refresh=True)
