"""The target's signals in the summary: on the right second, and summed up."""

import math

from loadgen.report.server_signals import (
    NO_SOURCES,
    ServerSignals,
    attach,
    describe,
    lag_percentile,
)

START = 1_000_000.0  # the run's measured start, epoch s


def summary(seconds=3):
    return {
        "run": {"started_at_epoch": START},
        "timeline": [{"t": float(t), "length": 1.0, "target": 10.0} for t in range(seconds)],
    }


def sample(at, cpu=(50.0, 40.0), **more):
    workers = {str(100 + i): {"cpu": c, "rss_mb": 60.0 + i} for i, c in enumerate(cpu)}
    return {"at": START + at, "generator_cpu": 20.0, "workers": workers, "restarts": 0, **more}


def signals(*samples, missing=None):
    return ServerSignals(list(samples), ["process tree of pid 99"], missing or {}, 1.0, 2)


def test_each_sample_lands_on_the_second_it_describes():
    s = summary()
    # Taken at 1.02 s: it describes 0.02–1.02, so second 0. One before the start is dropped,
    # one straddling the end counts in the last second.
    attach(s, signals(sample(-0.5), sample(1.02, (10.0, 0.0)), sample(2.03, (90.0, 80.0))))
    assert s["timeline"][0]["server"]["workers"]["100"]["cpu"] == 10.0
    assert s["timeline"][1]["server"]["workers"]["100"]["cpu"] == 90.0
    assert "server" not in s["timeline"][2]
    workers = s["server"]["workers"]
    assert workers["100"] == {"cpu_peak": 90.0, "cpu_mean": 50.0, "rss_peak_mb": 60.0}
    assert s["server"]["seconds_sampled"] == 2 and s["server"]["restarts"] == 0
    assert s["server"]["cores"] == 2


def test_two_samples_in_one_second_add_their_counts_and_keep_the_worst_lag():
    s = summary(1)
    a = sample(0.6, requests={"/": {"2xx": 5}}, loop_lag_max_ms={"100": 3.0}, error_log_errors=1)
    b = sample(1.4, requests={"/": {"2xx": 2, "5xx": 1}}, loop_lag_max_ms={"100": 1.0})
    attach(s, signals(a, b))
    server = s["timeline"][0]["server"]
    assert server["requests"] == {"/": {"2xx": 7, "5xx": 1}}
    assert server["loop_lag_max_ms"] == {"100": 3.0}
    assert server["error_log_errors"] == 1


def test_run_totals_per_endpoint_weigh_each_second_by_its_requests():
    s = summary(2)
    attach(
        s,
        signals(
            sample(1.0, requests={"/fib": {"2xx": 1}}, server_ms={"/fib": 100.0}),
            sample(2.0, requests={"/fib": {"2xx": 3, "5xx": 1}}, server_ms={"/fib": 10.0}),
        ),
    )
    assert s["server"]["endpoints"] == {
        "/fib": {"requests": 5, "errors_5xx": 1, "server_ms": (100 + 4 * 10) / 5}
    }


def test_loop_lag_p99_is_the_upper_bound_of_its_bucket():
    buckets = {"1": 980.0, "100": 995.0, "2500": 1000.0, "+Inf": 1000.0}
    assert lag_percentile(buckets, 50.0) == 1.0
    assert lag_percentile(buckets, 99.0) == 100.0
    assert lag_percentile(buckets, 99.9) == 2500.0
    assert lag_percentile({"1": 0.0, "+Inf": 0.0}, 99.0) is None
    assert math.isinf(lag_percentile({"1": 0.0, "+Inf": 5.0}, 99.0))


def test_a_lag_past_the_last_bucket_reports_the_worst_seen_instead():
    s = summary(1)
    lag = {"loop_lag_buckets_ms": {"10000": 0, "+Inf": 2}, "loop_lag_max_ms": {"100": 12_500.0}}
    attach(s, signals(sample(0.9, **lag)))
    assert s["server"]["loop_lag_ms"] == {"p99": 12_500.0, "max": 12_500.0}


def test_a_p99_bucket_above_the_worst_lag_seen_says_the_worst_seen():
    # Before: "p99 ≤ 500 ms, max 250 ms", a p99 over the max.
    s = summary(1)
    lag = {"loop_lag_buckets_ms": {"100": 0, "500": 2, "+Inf": 2}, "loop_lag_max_ms": {"7": 250.0}}
    attach(s, signals(sample(0.9, **lag)))
    assert s["server"]["loop_lag_ms"] == {"p99": 250.0, "max": 250.0}


def test_without_sources_the_note_says_how_to_get_them():
    s = summary()
    attach(s, None)
    assert s["server"] == {"sources": [], "note": NO_SOURCES}
    assert describe(s["server"]) == [NO_SOURCES]
    assert all("server" not in e for e in s["timeline"])


def test_when_every_sample_went_missing_the_note_says_why():
    s = summary()
    gone = {"at": START + 1.0, "generator_cpu": 5.0, "missing": {"metrics": "x: HTTP 404"}}
    attach(s, signals(gone, missing={"metrics": "x: HTTP 404"}))
    assert s["server"]["note"] == "no server signals were available (x: HTTP 404)"
    assert describe(s["server"]) == [s["server"]["note"]]


def test_described_in_a_few_lines():
    s = summary(1)
    attach(
        s,
        signals(
            sample(
                0.9,
                requests={"/addNumbers": {"5xx": 4}},
                server_ms={"/addNumbers": 0.5},
                loop_lag_max_ms={"100": 7.0},
                loop_lag_buckets_ms={"5": 10, "+Inf": 10},
                error_log_errors=4,
            ),
            missing={"metrics": "once: timed out"},
        ),
    )
    text = "\n".join(describe(s["server"]))
    assert "server: 2 workers, CPU peak 50 %, 40 %" in text
    assert "event-loop lag p99 ≤ 5 ms, max 7 ms" in text
    assert "/addNumbers 0.5 ms (4 5xx)" in text
    assert "error log: 4 ERROR lines" in text
    assert "samples missing (metrics): once: timed out" in text


def machine_sample(at, others=0.0):
    top = [{"pid": 7, "name": "burn", "cpu": others}] if others else []
    return {
        "at": START + at,
        "generator_cpu": 20.0,
        "generator_cpu_max": 20.0,
        "machine": {
            "cpu": 40.0 + others,
            "steal": 0.0,
            "cores": 2,
            "others": top,
            "memory_limit_mb": 24000,
        },
    }


def test_the_machine_is_placed_and_summed_up_even_with_no_server_source():
    s = summary()
    alone = ServerSignals([machine_sample(1.0, 98.0), machine_sample(2.0, 96.0)], [], {}, 1.0, 2)
    attach(s, alone)
    assert s["server"] == {"sources": [], "note": NO_SOURCES}  # the server was not seen
    assert all("server" not in e for e in s["timeline"])
    assert s["timeline"][1]["machine"]["others"][0]["name"] == "burn"
    assert s["timeline"][0]["machine"]["generator_cpu"] == 20.0
    assert s["machine"]["others_median"] == 97.0
    assert s["machine"]["top_others"] == [{"name": "burn", "pid": 7, "cpu_mean": 97.0}]
    assert s["machine"]["memory_limit_mb"] == 24000


def test_machine_and_server_parts_of_one_sample_go_their_own_ways():
    s = summary()
    both = {**sample(1.0), **machine_sample(1.0)}
    attach(s, signals(both))
    first = s["timeline"][0]
    assert "machine" not in first["server"] and "workers" in first["server"]
    assert first["machine"]["cpu"] == 40.0
