"""A tick: one closed second of a run in a few plain numbers.

What the live progress line shows, and what shards in other processes send
their parent each second (a few dozen bytes), so it is plain data.
"""

from __future__ import annotations

from loadgen.measure.recorder import Interval, Recorder

Tick = dict[str, float]


def tick(iv: Interval, rec: Recorder) -> Tick:
    """The second `iv` that just closed, as a `Tick`; `rec` gives the run's totals so far."""
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
