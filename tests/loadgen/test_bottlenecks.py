"""loadgen names the bottleneck of services it did not start (issue 21).

Each service of tests/support/bottlenecks has one known bottleneck; each is
loaded above its capacity (or, for `healthy`, at a modest rate) through the
real command line with --host and --server-pid, and the test reads the top
finding of summary.json's `diagnosis`. A test first checks that the run did
what it was meant to (the service overloaded, the errors it makes made), so
that a failure is loadgen's diagnosis, not the harness.

The loads (rates, connections) are in tests/support/bottlenecks/loads.py,
which bench/bottlenecks.py runs too, for docs/measuring.md's table.

Each service runs once per module; its tests share the run.
"""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from tests.support.bottlenecks import asgi, wsgi
from tests.support.bottlenecks.loads import LOADS, drive

pytestmark = [pytest.mark.slow, pytest.mark.alone]

# How far the estimated concurrency may be from the pool's size: the
# estimate rests on a few seconds of a noisy, shared machine.
CONCURRENCY_TOLERANCE = 0.3


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """`run(name)`: the summary of LOADS[name]'s run, made on first use."""
    done: dict[str, dict[str, Any]] = {}

    def get(name: str) -> dict[str, Any]:
        if name not in done:
            done[name] = drive(LOADS[name], tmp_path_factory.mktemp(name))
        return done[name]

    return get


def findings(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return summary["diagnosis"]


def said(summary: dict[str, Any]) -> str:
    """The top findings as the failure message: what loadgen said instead."""
    return "; ".join(
        f"{f['finding']} ({f['weight']}): {f['summary']}" for f in findings(summary)[:3]
    )


def assert_top(summary: dict[str, Any], name: str) -> dict[str, Any]:
    top = findings(summary)[0]
    assert top["finding"] == name, said(summary)
    return top


def assert_concurrency(summary: dict[str, Any], size: float) -> None:
    """The top finding is `concurrency_limit` with N within the tolerance of `size`."""
    top = assert_top(summary, "concurrency_limit")
    n = top.get("concurrency")
    assert isinstance(n, int | float), f"no concurrency in {top}"
    assert abs(n - size) <= CONCURRENCY_TOLERANCE * size, said(summary)
    assert "requests at a time" in top["summary"], said(summary)


def assert_overloaded(summary: dict[str, Any]) -> None:
    """The harness's part: while load was offered, the service answered well below its rate.

    Per second, not the run's throughput_rps: that counts the answers of the
    drain after the last arrival too, and a queue drained within --timeout
    makes it the offered rate."""
    loaded = [e for e in summary["timeline"] if e.get("target", 0) > 0]
    answered = statistics.median(e["responses"] for e in loaded)
    assert answered < 0.85 * summary["target_rps"], [e["responses"] for e in loaded]


def share(summary: dict[str, Any], kinds: tuple[str, ...]) -> float:
    by_kind = summary["errors"]["by_kind"]
    return sum(by_kind.get(k, 0) for k in kinds) / summary["requests"]


def unanswered(summary: dict[str, Any]) -> float:
    """The share of requests that got no HTTP answer (refused, reset, closed, timed out)."""
    by_kind = summary["errors"]["by_kind"]
    n = sum(v for k, v in by_kind.items() if not k.startswith("http_") and k != "check")
    return n / summary["requests"]


def test_cpu_bound_is_server_cpu(run):
    s = run("cpu")
    assert_overloaded(s)
    assert_top(s, "server_cpu")


def test_blocking_call_on_the_loop_is_serialized(run):
    s = run("blocked_loop")
    assert_overloaded(s)
    assert max(w["cpu_mean"] for w in s["server"]["workers"].values()) < 50  # its CPU idle
    assert_top(s, "serialized")


def test_dependency_pool_is_a_concurrency_limit_of_its_size(run):
    s = run("dependency_pool")
    assert_overloaded(s)
    assert_concurrency(s, asgi.POOL_SIZE)


def test_full_connections_of_a_saturated_server_are_not_a_connection_limit(run):
    """The server's queue fills loadgen's connections; more of them would only queue more."""
    s = run("dependency_pool")
    assert s["generator"]["connection_waits"] > 0.05 * s["requests"]
    assert "connection_limit" not in [f["finding"] for f in findings(s)], said(s)


def test_thread_pool_is_a_concurrency_limit_of_its_size_from_the_client_side_alone(run):
    s = run("thread_pool")
    assert_overloaded(s)
    assert_concurrency(s, asgi.THREADS)
    top = findings(s)[0]
    # Without --server-pid it says what it could not see, and how sure it is.
    assert top["confidence"] == "inferred"
    assert "its CPU was not sampled (--server-pid PID" in top["summary"]


def test_sync_workers_are_a_concurrency_limit_of_their_count(run):
    s = run("sync_workers")
    assert_overloaded(s)
    assert_concurrency(s, wsgi.WORKERS)


def test_connection_cap_below_what_the_server_takes_is_a_connection_limit(run):
    """An unbounded server behind 4 connections: raising --connections is the fix."""
    s = run("connection_capped")
    assert_overloaded(s)
    assert s["generator"]["connection_waits"] > 0.05 * s["requests"]
    assert_top(s, "connection_limit")


def test_rate_limiter_is_rate_limited(run):
    s = run("rate_limiter")
    assert share(s, ("http_429",)) >= 0.3
    assert_top(s, "rate_limited")


def test_leak_is_memory_growth(run):
    s = run("leak")
    assert max(w["rss_peak_mb"] for w in s["server"]["workers"].values()) < 500
    assert_top(s, "memory_growth")


def test_connections_reset_beyond_a_cap_are_connection_refused(run):
    s = run("small_backlog")
    assert unanswered(s) >= 0.05, s["errors"]
    assert_top(s, "connection_refused")


def test_five_hundreds_are_server_errors(run):
    s = run("errors_5xx")
    assert 0.05 <= share(s, ("http_500",)) <= 0.11
    assert_top(s, "server_errors")


def test_healthy_service_is_none(run):
    s = run("healthy")
    assert s["errors"]["total"] == 0
    assert s["throughput_rps"] >= 0.95 * s["target_rps"]
    assert_top(s, "none")
