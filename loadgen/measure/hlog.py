"""The HdrHistogram interval log (`.hlog`), written by us, read by hdrh.

Format (HdrHistogram log format 1.2): comment headers, a legend, then one
line per interval and tag:

    Tag=response:index,0.000,1.000,12.345,HISTFAAAA…

= tag, start (seconds since StartTime), length (s), interval max (ms), the
compressed histogram (µs). hdrh's own `output_start_time` is broken, so the
headers are written here; its `HistogramLogReader` reads the file back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hdrh.histogram import HdrHistogram

from loadgen.measure.histogram import decode
from loadgen.measure.recorder import Interval

LEGEND = '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"'


def write_hlog(out: TextIO, start_epoch: float, intervals: Iterable[Interval]) -> None:
    """The log of `intervals` into `out`: the headers, the legend, then one line per
    interval and tag (`response:TASK`, `service:TASK`).
    """
    iso = dt.datetime.fromtimestamp(start_epoch, dt.UTC).isoformat()
    out.write("#[Histogram log format version 1.2]\n")
    out.write(f"#[StartTime: {start_epoch:.3f} (seconds since epoch), {iso}]\n")
    out.write("#[Values in microseconds; Interval_Max in milliseconds]\n")
    out.write(LEGEND + "\n")
    for iv in intervals:
        for tag, payload in iv.histograms.items():
            out.write(
                f"Tag={tag},{iv.start:.3f},{iv.end - iv.start:.3f},"
                f"{iv.maxima[tag] / 1000.0:.3f},{payload.decode('ascii')}\n"
            )


@dataclass
class LoggedInterval:
    """One line of an interval log: its tag, start and length (s), and its histogram."""

    tag: str
    start: float
    length: float
    histogram: HdrHistogram


def read_hlog(path: Path) -> Iterator[LoggedInterval]:
    """Intervals of a log we wrote, in file order (relative start times).

    A line that is not one (of ours) is a ValueError naming the file and line.
    """
    with path.open() as f:
        for number, line in enumerate(f, 1):
            if not line.startswith("Tag="):
                continue
            try:
                tag, start, length, _max, payload = line[4:].rstrip("\n").split(",", 4)
                interval = LoggedInterval(tag, float(start), float(length), decode(payload))
            except Exception as e:  # a short line, a number or a histogram that is not one
                what = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
                raise ValueError(f"{path}:{number}: not an interval of this log ({what})") from None
            yield interval
