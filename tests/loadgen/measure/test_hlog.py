"""The interval log: written by us, read back by us and by hdrh's own reader."""

import io

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

from loadgen.measure.hlog import read_hlog, write_hlog
from tests.support.shard_states import latencies, recorder


def test_every_interval_and_tag_round_trips(tmp_path):
    rec = recorder([latencies(100, 1), latencies(50, 2)])
    path = tmp_path / "intervals.hlog"
    with path.open("w") as f:
        write_hlog(f, 1_700_000_000.25, rec.intervals)
    logged = list(read_hlog(path))
    assert [(iv.tag, iv.start, iv.length) for iv in logged] == [
        (tag, iv.start, iv.end - iv.start) for iv in rec.intervals for tag in iv.histograms
    ]
    assert sum(iv.histogram.get_total_count() for iv in logged if iv.tag.startswith("response:"))
    assert logged[0].histogram.get_total_count() == 100
    # hdrh reads the headers we write (its own writer's StartTime line is broken).
    reader = HistogramLogReader(str(path), HdrHistogram(1, 3_600_000_000, 3))
    assert reader.get_next_interval_histogram() is not None
    assert reader.start_time_sec == 1_700_000_000.25


def test_the_header_says_what_the_values_are():
    out = io.StringIO()
    write_hlog(out, 0.0, [])
    assert out.getvalue().startswith("#[Histogram log format version 1.2]\n")
    assert "#[Values in microseconds" in out.getvalue()
