"""Shards' ticks: each second passed on once, when every live shard has sent it, added up."""

from loadgen.scale.ticks import ShardTicks


def t(second, arrivals, max_us=100.0, in_flight=1.0, counts=((7, 1),)):
    return {"second": second, "end": float(second), "length": 1.0, "arrivals": arrivals,
            "responses": arrivals, "errors": 0, "max_us": max_us, "total_arrivals": arrivals,
            "in_flight": in_flight, "response_counts": [list(c) for c in counts]}  # fmt: skip


def test_a_second_waits_for_every_live_shard_then_adds_up():
    seen = []
    ticks = ShardTicks(range(2), seen.append)
    ticks.add(0, t(1, 10, max_us=500, counts=[(3, 4), (9, 6)]))
    assert seen == []  # shard 1 has not sent second 1 yet
    ticks.add(1, t(1, 15, max_us=200, counts=[(1, 5), (9, 10)]))
    assert [(s["second"], s["arrivals"], s["max_us"], s["in_flight"]) for s in seen] == [
        (1, 25, 500, 2.0)  # counts add, the worst latency stays the worst
    ]
    # Response times add up bucket by bucket, in value order: a p99 of them is exact.
    assert seen[0]["response_counts"] == [[1, 5], [3, 4], [9, 16]]


def test_a_lost_shard_is_no_longer_waited_for():
    seen = []
    ticks = ShardTicks(range(2), seen.append)
    ticks.add(0, t(1, 10))
    ticks.add(0, t(2, 10))
    ticks.lose(1)
    assert [s["second"] for s in seen] == [1, 2]


def test_without_a_listener_nothing_is_kept():
    ticks = ShardTicks(range(1), None)
    ticks.add(0, t(1, 10))
    assert ticks.pending == {}


def test_shards_errors_by_kind_add_up_and_the_worst_send_lag_stays():
    seen = []
    ticks = ShardTicks(range(2), seen.append)
    ticks.add(0, {**t(1, 10), "errors_by_kind": {"timeout": 2}, "max_lag_us": 300, "requests": 12})
    ticks.add(1, {**t(1, 10), "errors_by_kind": {"timeout": 1, "reset": 4}, "max_lag_us": 90,
                  "requests": 15})  # fmt: skip
    assert seen[0]["errors_by_kind"] == {"timeout": 3, "reset": 4}
    assert seen[0]["max_lag_us"] == 300 and seen[0]["requests"] == 27


def test_shards_service_times_and_time_in_service_add_up():
    seen = []
    ticks = ShardTicks(range(2), seen.append)
    ticks.add(0, {**t(1, 10), "service_counts": [[2, 3]], "busy_s": 0.25})
    ticks.add(1, {**t(1, 10), "service_counts": [[2, 1], [5, 2]], "busy_s": 0.5})
    assert seen[0]["service_counts"] == [[2, 4], [5, 2]]
    assert seen[0]["busy_s"] == 0.75
