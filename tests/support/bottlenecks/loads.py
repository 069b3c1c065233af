"""Each bottleneck service's load, and one run of loadgen against it.

Rates: each service's capacity follows from its constants (asgi.py, wsgi.py,
backlog.py); the rates below offer about 1.5 times it for a few seconds, so
the queue (and the run's drain after its last arrival) stays short; --timeout
bounds the drain. tests/loadgen/test_bottlenecks.py asserts what loadgen
names for each; bench/bottlenecks.py prints it as a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import cli
from tests.support.bottlenecks.process import serving

TIMEOUT_S = 5


@dataclass(frozen=True)
class Load:
    service: str
    rps: int
    seconds: int
    connections: int | None = None  # loadgen's --connections; None: its default
    sampled: bool = True  # with --server-pid; else the client side alone


LOADS = {
    "cpu": Load("cpu", 375, 3),  # 1 / CPU_BURN_S = 250/s on a free core
    "blocked_loop": Load("blocked_loop", 75, 3),  # 1 / BLOCK_S = 50/s
    # POOL_SIZE / DEPENDENCY_S = 160/s. 64 connections (8 times the pool) fill
    # while the server queues: raising them cannot help.
    "dependency_pool": Load("dependency_pool", 240, 3, connections=64),
    # THREADS / DEPENDENCY_S = 80/s; not sampled: the client side alone must find it.
    "thread_pool": Load("thread_pool", 120, 3, sampled=False),
    "sync_workers": Load("sync_workers", 60, 3),  # WORKERS / IO_WAIT_S = 40/s
    "rate_limiter": Load("rate_limiter", 200, 3),  # RATE_LIMIT = 100/s: half refused
    # LEAK_BYTES a request: 25 MiB/s, steeper than the 7 MiB/s that fills 24 GiB in an hour.
    "leak": Load("leak", 100, 3),
    "small_backlog": Load("small_backlog", 300, 3),  # MAX_CONNECTIONS / SERVE_S = 200/s
    "errors_5xx": Load("errors_5xx", 200, 3),
    "healthy": Load("healthy", 200, 3),
    # Unbounded on the server; 4 connections at DEPENDENCY_S carry 80/s.
    "connection_capped": Load("async_wait", 120, 3, connections=4),
}


def drive(load: Load, out: Path) -> dict[str, Any]:
    """Run loadgen against a fresh instance of the load's service; its summary.json."""
    targets = out.parent / f"{out.name}.targets"
    targets.write_text("GET /\n")
    with serving(load.service) as (url, pid):
        args = ["--host", url, "--rps", load.rps,
                "--duration", f"{load.seconds}s", "--timeout", f"{TIMEOUT_S}s",
                "--targets", targets, "--seed", 1, "--out", out, "--quiet"]  # fmt: skip
        if load.sampled:
            args += ["--server-pid", pid]
        if load.connections is not None:
            args += ["--connections", load.connections]
        proc = cli.loadgen(*args, timeout=60)
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen exited {proc.returncode}: {proc.stderr[-3000:]}")
    return cli.summary(out)
