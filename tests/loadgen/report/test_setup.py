"""How a run was made, in words: the target and how it started, the rate as asked, when."""

from loadgen.report.setup import arrivals_text, rate_text, setup_lines, started_how
from tests.support.summaries import run


def test_a_rate_profile_reads_as_it_was_asked():
    assert rate_text({"kind": "constant", "rps": 100.0}) == "100/s"
    assert rate_text({"kind": "ramp", "segments": [[60.0, 10.0, 500.0]]}) == (
        "ramp 10 → 500/s over 60 s"
    )
    stages = {"kind": "stages", "segments": [[30.0, 100.0, 100.0], [30.0, 200.0, 200.0]]}
    assert rate_text(stages) == "stages: 100/s for 30 s, 200/s for 30 s"
    many = {"kind": "stages", "segments": [[10.0, float(r), float(r)] for r in range(1, 9)]}
    assert rate_text(many).endswith("… (8 steps over 80 s, peak 8/s)")


def test_the_target_says_how_it_was_started():
    summary = run()
    summary["run"]["embedded_server"] = {
        "server": "gunicorn",
        "workers": 2,
        "env": {"LEGACY_BUGS": "1"},
        "log_dir": None,
    }
    assert started_how(summary) == "the bundled server: gunicorn, 2 workers, LEGACY_BUGS=1"
    summary["run"]["embedded_server"] = None
    assert started_how(summary) == "given by --host"


def test_the_lines_name_target_rate_scenario_and_start():
    summary = run()
    summary["run"].update(
        rate_profile={"kind": "ramp", "segments": [[10.0, 1.0, 50.0]]},
        scenario="loadgen.scenario.bundled.wagon:WagonMix",
        client="fast",
        connections=64,
        started_at_epoch=1796518800.0,
        warmup_s=2.0,
    )
    lines = dict(setup_lines(summary))
    assert list(lines) == ["target", "rate", "scenario", "started"]
    assert lines["rate"].startswith("ramp 1 → 50/s over 10 s")
    assert lines["scenario"].endswith("client fast, 64 connections")
    assert (
        lines["started"].startswith("2026-12-06 01:00:00 UTC") and "2 s warm-up" in lines["started"]
    )


def test_a_ramp_is_headlined_as_a_ramp_with_its_mean():
    from loadgen.report.setup import target_rate_text

    summary = run()
    summary["target_rps"] = 155.0
    summary["run"]["rate_profile"] = {"kind": "ramp", "segments": [[5.0, 10.0, 300.0]]}
    assert target_rate_text(summary) == "ramp 10 → 300/s over 5 s, 155.0/s on average"
    summary["run"]["rate_profile"] = {"kind": "constant", "rps": 155.0}
    assert target_rate_text(summary) == "155.0/s"


def test_the_steps_a_run_took_live_follow_what_was_asked():
    profile = {"kind": "constant", "rps": 50.0, "steps": [{"at_s": 2.5, "rps": 150.0}]}
    assert rate_text(profile) == "50/s, changed live: 150/s from 2.5 s"
    many = {**profile, "steps": [{"at_s": float(i), "rps": float(i)} for i in range(1, 10)]}
    assert rate_text(many).endswith("5/s from 5 s, … 9 changes in all, 9/s from 9 s")


def test_the_arrivals_spacing_is_not_read_as_the_rate_s():
    summary = run()
    summary["run"]["rate_profile"] = {"kind": "ramp", "segments": [[10.0, 1.0, 50.0]]}
    for arrival, said in (("constant", "evenly spaced arrivals"), ("poisson", "Poisson arrivals")):
        summary["arrival"] = arrival
        assert dict(setup_lines(summary))["rate"].endswith(f"over 10 s, {said}")
        assert arrivals_text(arrival) == said
