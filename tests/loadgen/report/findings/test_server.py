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
