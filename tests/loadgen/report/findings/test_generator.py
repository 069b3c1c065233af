"""Was it loadgen or the machine? Told by loadgen's own CPU and the others'."""

from loadgen.report.diagnosis import headline
from loadgen.report.server_signals import machine_totals
from tests.support.diagnosis import diagnosed
from tests.support.summaries import run


def late(s, lag_p99=3.0, achieved=None):
    s["generator"]["behind"] = True
    s["generator"]["send_lag_ms"]["p99"] = lag_p99
    if achieved is not None:
        s["achieved_rps"] = achieved
    return s


def machine(generator, others=0.0, top=()):
    return {
        "cpu": generator + others,
        "steal": 0.0,
        "cores": 2,
        "memory_limit_mb": 24000,
        "generator_cpu": generator,
        "generator_cpu_max": generator,
        "others": [{"pid": 4242, "name": "burn", "cpu": others}] if others else [],
    }


def with_machine(s, m):
    s["machine"] = machine_totals([m] * len(s["timeline"]))
    return s


def test_loadgen_out_of_cpu_is_generator_saturated_advising_processes():
    s = with_machine(late(run(), achieved=80.0), machine(97.0))
    f = diagnosed(s)[0]
    assert f["finding"] == "generator_saturated"
    assert "busiest process at 97 % of a core" in f["evidence"]
    assert "--processes 2" in f["advice"]
    s["run"]["processes"] = 2  # more processes than cores would not help
    assert "--processes" not in diagnosed(s)[0]["advice"]


def test_late_with_cpu_to_spare_beside_a_hog_is_the_machine():
    s = with_machine(late(run()), machine(16.0, others=98.0))
    found = diagnosed(s)
    assert "generator_saturated" not in [f["finding"] for f in found]
    busy = next(f for f in found if f["finding"] == "machine_busy")
    assert "burn (pid 4242, 98 %)" in busy["evidence"]
    assert "with CPU to spare" in busy["evidence"]


def test_late_and_short_of_cpu_beside_a_hog_is_not_said_to_have_cpu_to_spare():
    s = with_machine(late(run()), machine(92.0, others=98.0))
    found = {f["finding"]: f for f in diagnosed(s)}
    assert "busiest process at 92 % of a core" in found["generator_saturated"]["evidence"]
    busy = found["machine_busy"]["evidence"]
    assert "CPU to spare" not in busy and "short of CPU itself" in busy


def test_a_busy_machine_never_hides_that_the_target_was_healthy():
    s = with_machine(run(service_ms=20.0), machine(16.0, others=98.0))  # not late at all
    found = diagnosed(s)
    assert [f["finding"] for f in found] == ["none", "machine_busy"]
    assert headline(found) == "nothing stood out"  # the machine is no headline


def test_late_with_cpu_to_spare_on_a_quiet_machine_is_timer_noise():
    s = with_machine(late(run(service_ms=20.0), lag_p99=1.3), machine(16.0))
    found = diagnosed(s)
    assert [f["finding"] for f in found] == ["none"]
    assert "had CPU to spare" in found[0]["evidence"]


def test_a_late_send_beside_refusals_is_not_the_first_thing_to_say():
    s = with_machine(late(run(errors={"http_429": 360}), lag_p99=1.3), machine(97.0))
    assert diagnosed(s)[0]["finding"] == "rate_limited"


def test_lateness_warns_only_when_it_weighs_in_the_run():
    from loadgen.report.diagnosis import lateness

    assert lateness(run()) is None
    s = late(run(service_ms=185.0), lag_p99=1.26)  # 1.26 ms late beside a 370 ms p99
    text, warn = lateness(s)
    assert not warn
    assert text.startswith("some requests were sent late (send-lag p99 1.260 ms > 1 ms), 0.3 %")
    text, warn = lateness(late(run(), achieved=80.0))  # the rate asked for was not sent
    assert warn and text.startswith("the generator fell behind (achieved 80.0/s of 100.0/s;")


def test_a_few_arrivals_left_unsent_at_the_end_are_not_loadgen_falling_behind():
    # A capacity level on a full machine: 1 of 2 500 due at the window's end never
    # went. Before: generator_saturated at weight 1, heading the level's findings.
    s = with_machine(late(run(offered=250.0), lag_p99=7.4), machine(62.0))
    s["arrivals"], s["generator"]["unsent"] = 2500, 1
    assert "generator_saturated" not in [f["finding"] for f in diagnosed(s)]
    s["generator"]["unsent"] = 100  # 4 %: what was measured is not what was asked
    assert diagnosed(s)[0]["finding"] == "generator_saturated"


def test_loadgen_late_beside_a_server_that_took_the_cores_says_they_shared_the_machine():
    """Datasette's one process at 182 % of a core on 2 cores, loadgen at 12 %: loadgen
    did not fall behind for want of processes; the server's load took its CPU."""
    s = run(offered=20.0, answered=16.0, service_ms=450.0, unloaded_ms=280.0, workers=[182.0])
    s["server"]["workers"] = {"100": {"cpu_peak": 185.0, "cpu_mean": 180.0, "rss_peak_mb": 73.0}}
    s = with_machine(late(s, lag_p99=40.0, achieved=18.0), machine(12.0))
    found = {f["finding"]: f for f in diagnosed(s)}
    gen = found["generator_saturated"]
    assert gen["summary"] == "loadgen shared the machine with the server, and fell behind"
    assert "the server used 1.8 cores and loadgen 0.1, of this machine's 2" in gen["evidence"]
    assert "another machine" in gen["advice"] and "--processes" not in gen["advice"]
    assert found["server_cpu"]["summary"] == "one process using 1.8 cores (threads)"
