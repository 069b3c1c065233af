"""Small services, each with one known bottleneck, for judging loadgen's diagnosis.

Written apart from loadgen and server/ (bare ASGI under uvicorn, WSGI under
gunicorn, raw asyncio), as a user's service would be. Each answers any
method and path. `serving(NAME)` starts one on a free loopback port, waits
until it answers and yields `(url, pid)`, the pid being the process to give
loadgen as --server-pid (gunicorn's master for `sync_workers`); it stops the
service on exit. By hand: `python -m tests.support.bottlenecks NAME --port P`.

The services and their one bottleneck (the constants are in asgi.py, wsgi.py
and backlog.py; the capacity each implies is in their docstrings):
"""

from __future__ import annotations

from tests.support.bottlenecks.process import serving

SERVICES: dict[str, str] = {
    "cpu": "each request burns CPU (one uvicorn process)",
    "blocked_loop": "a blocking sleep on the event loop: one request at a time, CPU idle",
    "dependency_pool": "awaits a slow dependency through a pool of connections",
    "thread_pool": "a blocking call in a small thread pool",
    "sync_workers": "gunicorn sync workers, each waiting on I/O",
    "async_wait": "awaits a slow dependency with no limit: as many at a time as arrive",
    "rate_limiter": "a token bucket answering 429 with Retry-After above its rate",
    "leak": "each request keeps memory forever (up to a cap)",
    "small_backlog": "connections beyond a small cap are reset",
    "errors_5xx": "a share of the requests answer 500",
    "healthy": "answers at once: no bottleneck at a modest rate",
}

__all__ = ["SERVICES", "serving"]
