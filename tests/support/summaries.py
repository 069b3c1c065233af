"""Summaries as `build_summary` and `attach` make them, built from a few numbers,
for the diagnosis's tests: each second alike unless told otherwise."""

from __future__ import annotations

from typing import Any

from loadgen.report.server_signals import machine_totals


def run(
    seconds: int = 10,
    *,
    offered: float = 100.0,
    answered: float | None = None,
    service_ms: float = 2.0,
    unloaded_ms: float | None = 1.0,
    connections: int = 512,
    errors: dict[str, int] | None = None,
    waits: int = 0,
    workers: list[float] | None = None,
    cpu_wait: float | None = None,
    rss: list[list[float]] | None = None,
    machine: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A run at `offered` requests/s answered at `answered`/s, each answer taking
    `service_ms` (`unloaded_ms` the fastest); `workers` their CPU each second
    (`cpu_wait` what each waited for on the run queue);
    `rss[i]` worker i's RSS in each second; `machine` each second's machine sample."""
    answered = offered if answered is None else answered
    requests = int(answered * seconds)
    errors = errors or {}
    timeline = []
    for i in range(seconds):
        entry: dict[str, Any] = {
            "t": float(i),
            "length": 1.0,
            "target": offered,
            "arrivals": int(offered),
            "responses": int(answered),
            "errors": {k: n // seconds for k, n in errors.items()},
            "busy_s": answered * service_ms / 1000,
        }
        if workers is not None or rss is not None:
            cpus = workers or [10.0] * len(rss or [])
            entry["server"] = {
                "workers": {
                    str(100 + w): {
                        "cpu": cpu,
                        "rss_mb": rss[w][i] if rss else 50.0,
                        "cpu_wait": cpu_wait,
                    }
                    for w, cpu in enumerate(cpus)
                },
                "generator_cpu": 10.0,
            }
        if machine is not None:
            entry["machine"] = machine
        timeline.append(entry)
    server: dict[str, Any] = {"sources": [], "note": "no server signals"}
    if workers is not None or rss is not None:
        server = {"sources": ["process tree of pid 99"], "cores": 2, "workers": {}}
    summary: dict[str, Any] = {
        "target": "http://127.0.0.1:9/",
        "target_rps": offered,
        "achieved_rps": offered,
        "throughput_rps": answered,
        "requests": requests,
        "errors": {
            "total": sum(errors.values()),
            "by_kind": dict(errors),
            "first": {},
            "retry_after": {"responses": 0, "values": {}},
        },
        "latency_ms": {
            "response": {"p50": service_ms, "p99": 2 * service_ms, "mean": service_ms},
            "service": {"p50": service_ms, "p99": 2 * service_ms, "mean": service_ms},
        },
        "tasks": {
            "get": {
                "requests": requests,
                "errors_by_kind": dict(errors),
                "service_min_ms": unloaded_ms,
            }
        },
        "generator": {
            "behind": False,
            "send_lag_ms": {"p50": 0.01, "p99": 0.05, "max": 0.2},
            "connect_ms": {"p50": 0.1, "p99": 0.2, "max": 0.3},
            "unsent": 0,
            "connection_waits": waits,
        },
        "run": {"timeout_s": 10.0, "connections": connections, "embedded_server": None},
        "timeline": timeline,
        "server": server,
    }
    if machine is not None:
        summary["machine"] = machine_totals([machine] * seconds)
    return summary
