"""The live progress line, shown while a run goes on when stdout is a terminal."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.live import Live
from rich.text import Text

from loadgen.recorder import Interval, Recorder

# One second of a run as the progress line needs it: plain numbers, so that
# shards in other processes can send theirs (a few dozen bytes a second).
Tick = dict[str, float]
_SUMMED = ("arrivals", "responses", "errors", "total_arrivals", "in_flight")


def tick(iv: Interval, rec: Recorder) -> Tick:
    worst = max((v for tag, v in iv.maxima.items() if tag.startswith("response:")), default=0)
    return {
        "second": round(iv.end),  # intervals close on the second: shards' ticks line up by it
        "end": iv.end,
        "length": iv.end - iv.start,
        "arrivals": iv.arrivals,
        "responses": iv.responses,
        "errors": sum(iv.errors.values()),
        "max_us": worst,
        "total_arrivals": rec.arrivals,
        "in_flight": rec.in_flight,
    }


def merge_ticks(ticks: Iterable[Tick]) -> Tick:
    """The same second of several shards: counts add, the worst latency is the worst."""
    first, *rest = ticks
    out = dict(first)
    for t in rest:
        for key in _SUMMED:
            out[key] += t[key]
        for key in ("end", "length", "max_us"):
            out[key] = max(out[key], t[key])
    return out


class ShardTicks:
    """Collects shards' ticks and yields each second once every live shard has sent it."""

    def __init__(self, shards: Iterable[int]) -> None:
        self.live = set(shards)
        self.pending: dict[float, dict[int, Tick]] = {}

    def add(self, shard: int, t: Tick) -> list[Tick]:
        self.pending.setdefault(t["second"], {})[shard] = t
        return self._complete()

    def lose(self, shard: int) -> list[Tick]:
        """A shard ended (or died): stop waiting for it."""
        self.live.discard(shard)
        return self._complete()

    def _complete(self) -> list[Tick]:
        done = []
        for second in sorted(self.pending):
            got = self.pending[second]
            if self.live <= set(got):
                done.append(merge_ticks(got.values()))
                del self.pending[second]
        return done


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
