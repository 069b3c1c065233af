"""The live progress line, shown while a run goes on when stdout is a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.live import Live
from rich.text import Text

from loadgen.recorder import Interval, Recorder


class Progress:
    """Updated once a second from the engine's interval callback."""

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
        self.errors += sum(iv.errors.values())
        length = max(iv.end - iv.start, 1e-9)
        worst = max((v for tag, v in iv.maxima.items() if tag.startswith("response:")), default=0)
        line = (
            f"{iv.end:5.0f}s/{self.planned:.0f}s  arrivals {rec.arrivals} "
            f"({iv.arrivals / length:.0f}/s)  responses {iv.responses / length:.0f}/s  "
            f"in flight {rec.in_flight}  errors {self.errors}  max {worst / 1000:.1f} ms"
        )
        self.live.update(Text(line), refresh=True)
