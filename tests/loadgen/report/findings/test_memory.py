"""memory_growth: a steady climb toward the limit, named with its slope and time left."""

from loadgen.report.findings.memory import fit
from tests.support.diagnosis import diagnosed
from tests.support.summaries import run

MACHINE = {"cpu": 50.0, "steal": 0.0, "cores": 2, "memory_limit_mb": 24000, "others": []}


def test_the_line_through_points_on_a_line():
    line = fit([0, 1, 2, 3], [10, 12, 14, 16])
    assert (line.slope, line.r2) == (2.0, 1.0)


def test_a_leak_reaching_the_limit_within_the_hour_is_named():
    rss = [[92 + 53 * i for i in range(15)]]  # 92 → 834 MB in 15 s
    f = diagnosed(run(15, rss=rss, workers=[30], machine=MACHINE))[0]
    assert f["finding"] == "memory_growth"
    assert f["summary"] == "the server (pid 100)'s memory grows 53 MB/s"
    assert "reach the 24000 MB limit in about 7 min" in f["evidence"]
    assert "(≈ 543 KB per request)" in f["evidence"]


def test_flat_memory_a_one_off_allocation_or_a_slow_creep_are_not():
    machine = MACHINE
    flat = [[90.0 + (i % 2) for i in range(15)]]
    step = [[90.0] * 7 + [400.0] * 8]  # one allocation: not a line
    creep = [[90.0 + 2 * i for i in range(15)]]  # 2 MB/s: 24 GB takes over three hours
    for rss in (flat, step, creep):
        assert diagnosed(run(15, rss=rss, workers=[30], machine=machine))[0]["finding"] == "none"
