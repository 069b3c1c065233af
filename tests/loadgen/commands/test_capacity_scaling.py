"""capacity.json's scaling fields: each level's served rate and concurrency (N, N₀)
by Little's law, the USL fit, and a pool's plateau seen end to end."""

import asyncio
import contextlib
import json
import threading

import pytest

from loadgen.commands.capacity import capacity_json
from loadgen.commands.capacity_search import FAIL, INTERRUPTED, PASS, Capacity, Level
from tests.support.cli import GET_SCENARIO
from tests.support.cli import loadgen as run_cli
from tests.support.http_server import raw_server, read_request


def level_summary(rps, served, service_ms, fastest_ms=20.0):
    """A 2 s level at `rps` that served `served`/s while loaded; every response came
    back (the backlog in the drain), so throughput_rps is the offered rate."""
    latency = {"p50": service_ms, "p90": service_ms, "p99": service_ms, "p99.9": service_ms,
               "max": service_ms, "mean": service_ms}  # fmt: skip
    seconds = [{"t": float(t), "length": 1.0, "responses": round(served)} for t in range(2)]
    drain = {"t": 2.0, "length": 0.5, "responses": round(2 * (rps - served))}
    return {
        "achieved_rps": rps,
        "throughput_rps": rps,
        "duration_s": 2.0,
        "errors": {"total": 0, "rate": 0.0, "by_kind": {}},
        "latency_ms": {"response": latency, "service": latency},
        "tasks": {
            "get": {
                "requests": 2 * rps,
                "errors": 0,
                "errors_by_kind": {},
                "service_min_ms": fastest_ms,
                "latency_ms": {"response": latency, "service": latency},
            }
        },
        "generator": {},
        "timeline": [*seconds, drain],
    }


def pool_levels():
    """A pool of 4 at 20 ms: 200/s at most, then the queue grows."""
    out = []
    for rps, verdict in (
        (25, PASS),
        (50, PASS),
        (100, PASS),
        (150, PASS),
        (400, FAIL),
        (300, FAIL),
    ):
        served = min(rps, 196.0)
        service = 20.5 if rps <= 150 else 20.5 * rps / served * 4  # the queue inside
        out.append(Level(rps, verdict, summary=level_summary(rps, served, service)))
    return out


def test_each_level_carries_served_rate_and_concurrency():
    report = capacity_json(Capacity(pool_levels(), 150, 300), ["p99<=100ms"])
    levels = {lv["target_rps"]: lv for lv in report["levels"]}
    assert levels[400]["throughput_rps"] == 400  # the backlog counts there …
    assert levels[400]["served_rps"] == 196  # … not in what the server could do
    assert levels[50]["concurrency"] == pytest.approx(50 * 0.0205, abs=1e-3)
    assert levels[400]["concurrency"] == pytest.approx(196 * 0.0205 * 400 / 196 * 4, abs=1e-2)
    # The work without the queue: a plateau at the pool's size past the knee.
    assert levels[400]["concurrency_unloaded"] == pytest.approx(196 * 0.020, abs=1e-3)
    assert levels[300]["concurrency_unloaded"] == levels[400]["concurrency_unloaded"]
    usl = report["usl"]
    assert usl["levels"] == 6 and usl["limited_by"] in ("contention", "coherency")
    # The pool's hard 200/s, seen through a smooth curve that rounds its corner.
    assert 150 < usl["peak_rps"] < 400
    json.dumps(report)  # as written


def test_an_interrupted_level_is_no_point_of_the_fit_and_few_levels_say_why():
    levels = pool_levels()[:3]
    levels.append(Level(1000, INTERRUPTED, summary=level_summary(1000, 196, 60.0)))
    report = capacity_json(Capacity.stopped(levels), ["p99<=100ms"])
    assert report["usl"] == {"note": "3 level(s) at distinct concurrency, 4 needed for 3 unknowns"}
    assert report["levels"][-1]["concurrency"] == pytest.approx(196 * 0.060)


@contextlib.contextmanager
def pool_server(size, wait):
    """A loopback HTTP server that works on `size` requests at a time, `wait` s each
    (an asyncio.Semaphore round an await: a pool of connections to a dependency)."""
    ready, stop = threading.Event(), None
    url = []

    async def serve():
        nonlocal stop
        stop = asyncio.Event()
        pool = asyncio.Semaphore(size)

        async def handler(reader, writer):
            with contextlib.suppress(Exception):
                while True:
                    await read_request(reader)
                    async with pool:
                        await asyncio.sleep(wait)
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            writer.close()

        async with raw_server(handler) as base:
            url.append(base)
            ready.set()
            await stop.wait()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield url[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


@pytest.mark.slow
@pytest.mark.alone  # a search judged end to end: the other tests would make the machine busy
def test_a_pool_of_four_shows_its_plateau_and_the_usl_in_every_output(tmp_path):
    with pool_server(4, 0.02) as url:  # 200/s at most
        proc = run_cli(
            "capacity", "--host", url, "--scenario", GET_SCENARIO, "--level", "1s",
            "--cooldown", "0.2s", "--start", "50", "--max-rps", "400", "--precision", "50%",
            "--min-responses", "0",
            "--out", str(tmp_path), timeout=100,  # under pytest's 120 s
        )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "capacity.json").read_text())
    levels = sorted(report["levels"], key=lambda lv: lv["target_rps"])
    assert all(lv["concurrency"] > 0 and lv["concurrency_unloaded"] > 0 for lv in levels)
    # Below the limit N follows the rate (about rate × 20 ms); at the top the
    # work held sits near the pool's 4 while the queue makes N several times that.
    assert levels[0]["concurrency"] == pytest.approx(50 * 0.02, rel=0.5)
    top = levels[-1]
    assert top["target_rps"] == 400 and top["served_rps"] < 0.75 * 400
    assert 2.5 <= top["concurrency_unloaded"] <= 5.0, top
    assert top["concurrency"] > 2 * top["concurrency_unloaded"]
    assert "usl" in report and ("note" in report["usl"] or report["usl"]["lambda_rps"] > 0)
    out = proc.stdout
    assert "served/s" in out and "N0" in out  # the levels table's columns
    assert "scaling: " in out and ("USL fit to" in out or "no USL fit" in out)
    page = (tmp_path / "capacity.html").read_text()
    assert "Server concurrency vs offered rate" in page and "Throughput vs offered rate" in page
