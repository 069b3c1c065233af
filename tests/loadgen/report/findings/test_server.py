"""What the server's own signals say: its CPU, wanted and got."""

from loadgen.report.server_signals import machine_totals
from tests.support.diagnosis import diagnosed
from tests.support.summaries import run


def test_a_server_starved_of_cpu_whose_requests_queued_is_server_cpu_though_it_kept_up():
    # The bundled server at 1 250/s beside loadgen on 2 cores: its two workers used a
    # third of a core each and waited on the run queue for 75 % more; answers kept up
    # with the rate but each took 66 ms against 1.7 ms unloaded. Before: nothing
    # stood out (the starved-server rule wanted a shortfall of answers too).
    s = run(
        offered=1250.0,
        answered=1237.0,
        service_ms=66.0,
        unloaded_ms=1.7,
        workers=[32.0, 31.0],
        cpu_wait=75.0,
    )
    second = {"cpu": 200.0, "steal": 0.0, "cores": 2, "memory_limit_mb": 24000,
              "generator_cpu": 62.0, "generator_cpu_max": 62.0,
              "others": [{"pid": 706, "name": "python", "cpu": 16.0}]}  # fmt: skip
    s["machine"] = machine_totals([second] * len(s["timeline"]))
    top = diagnosed(s)[0]
    assert top["finding"] == "server_cpu", top
    assert top["summary"].startswith("the server wanted 100 % of a core per worker")


def test_one_threaded_process_on_two_cores_is_said_in_cores_not_a_percent_of_one():
    s = run(offered=20.0, answered=16.0, service_ms=450.0, unloaded_ms=280.0, workers=[182.0])
    s["server"]["workers"] = {"100": {"cpu_peak": 185.0, "cpu_mean": 180.0, "rss_peak_mb": 73.0}}
    top = diagnosed(s)[0]
    assert top["finding"] == "server_cpu", top
    assert top["summary"] == "one process using 1.8 cores (threads)"
    assert "96 % of the 2.0 cores left by loadgen" in top["evidence"]
    assert "%" not in top["summary"] and top["advice"] == "add cores or machines"


def test_a_threaded_process_with_cores_to_spare_is_not_cpu_bound():
    """120 % of a core on 2 free cores: 60 % of what it could have, not saturated."""
    s = run(offered=20.0, service_ms=50.0, unloaded_ms=45.0, workers=[120.0])
    s["server"]["workers"] = {"100": {"cpu_peak": 125.0, "cpu_mean": 120.0, "rss_peak_mb": 73.0}}
    assert all(f["finding"] != "server_cpu" for f in diagnosed(s))


def test_a_threaded_process_starved_of_cpu_is_said_in_cores():
    """Datasette at 10/s beside other work: one process using half a core and waiting
    on the run queue for two more (its threads runnable at once), 8 of 10/s answered."""
    s = run(offered=10.0, answered=8.0, service_ms=400.0, unloaded_ms=280.0,
            workers=[52.0], cpu_wait=211.0)  # fmt: skip
    s["server"]["workers"] = {"100": {"cpu_peak": 78.0, "cpu_mean": 50.0, "rss_peak_mb": 73.0}}
    top = diagnosed(s)[0]
    assert top["finding"] == "server_cpu", top
    assert top["summary"] == (
        "the server (one process, threads) wanted 2.6 cores and got 0.5: it is CPU-bound on "
        "a busy machine"
    )
