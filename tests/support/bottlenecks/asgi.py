"""ASGI services, each with one bottleneck, written apart from loadgen and server/.

Bare ASGI (no framework), so that the only work a request costs is the work
the service is about. Each answers any method and path with a short body.
One process of uvicorn serves one of them (`python -m tests.support.bottlenecks
NAME`); every constant is a per-request cost, and its capacity follows:

- cpu: CPU_BURN_S of CPU per request, so one core serves 1 / CPU_BURN_S a second.
- blocked_loop: BLOCK_S of `time.sleep` in the handler, on the event loop: one
  request at a time (1 / BLOCK_S a second), the CPU idle.
- dependency_pool: an `await` of DEPENDENCY_S through a semaphore of POOL_SIZE
  (a pool of connections to a slow dependency): POOL_SIZE / DEPENDENCY_S a second.
- thread_pool: a blocking DEPENDENCY_S call in a pool of THREADS threads:
  THREADS / DEPENDENCY_S a second.
- async_wait: the same DEPENDENCY_S await with no limit: as many at a time as
  arrive, so only the client's connection cap can bound it.
- rate_limiter: a token bucket of RATE_LIMIT tokens a second (BURST deep); a
  request finding it empty gets 429 with `Retry-After: 1`.
- leak: each request keeps LEAK_BYTES, written to (resident, not just
  reserved), up to LEAK_CAP_BYTES in all so that memory stays bounded.
- errors_5xx: ERROR_EVERY[0] of every ERROR_EVERY[1] requests answer 500.
- healthy: answers at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
# What a service does for one request: its status and extra headers.
Handler = Callable[[], Awaitable[tuple[int, list[tuple[bytes, bytes]]]]]

CPU_BURN_S = 0.004
BLOCK_S = 0.02
DEPENDENCY_S = 0.05
POOL_SIZE = 8
THREADS = 4
RATE_LIMIT = 100.0
BURST = 10.0
LEAK_BYTES = 256 * 1024
LEAK_CAP_BYTES = 400 * 1024 * 1024
ERROR_EVERY = (2, 25)

OK: tuple[int, list[tuple[bytes, bytes]]] = (200, [])


def serve(handler: Handler) -> App:
    """An ASGI app answering every HTTP request with `handler`'s status and b"ok"."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        status, headers = await handler()
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"2"), *headers]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


async def healthy() -> tuple[int, list[tuple[bytes, bytes]]]:
    return OK


async def cpu() -> tuple[int, list[tuple[bytes, bytes]]]:
    # Thread CPU time, not wall time: the request costs CPU_BURN_S of CPU even
    # when another process shares the core.
    start = time.thread_time()
    while time.thread_time() - start < CPU_BURN_S:
        pass
    return OK


async def blocked_loop() -> tuple[int, list[tuple[bytes, bytes]]]:
    time.sleep(BLOCK_S)  # the bug on purpose: a blocking call on the event loop
    return OK


def dependency_pool() -> Handler:
    pool: asyncio.Semaphore | None = None

    async def handler() -> tuple[int, list[tuple[bytes, bytes]]]:
        nonlocal pool
        pool = pool or asyncio.Semaphore(POOL_SIZE)  # made in the serving loop
        async with pool:
            await asyncio.sleep(DEPENDENCY_S)
        return OK

    return handler


def thread_pool() -> Handler:
    threads = ThreadPoolExecutor(THREADS)

    async def handler() -> tuple[int, list[tuple[bytes, bytes]]]:
        await asyncio.get_running_loop().run_in_executor(threads, time.sleep, DEPENDENCY_S)
        return OK

    return handler


async def async_wait() -> tuple[int, list[tuple[bytes, bytes]]]:
    await asyncio.sleep(DEPENDENCY_S)
    return OK


def rate_limiter() -> Handler:
    """Tokens refill at RATE_LIMIT a second up to BURST; each request takes one."""
    tokens, last = BURST, time.monotonic()

    async def handler() -> tuple[int, list[tuple[bytes, bytes]]]:
        nonlocal tokens, last
        now = time.monotonic()
        tokens, last = min(BURST, tokens + (now - last) * RATE_LIMIT), now
        if tokens < 1:
            return 429, [(b"retry-after", b"1")]
        tokens -= 1
        return OK

    return handler


def leak() -> Handler:
    kept: list[bytes] = []

    async def handler() -> tuple[int, list[tuple[bytes, bytes]]]:
        if len(kept) * LEAK_BYTES < LEAK_CAP_BYTES:
            kept.append(b"\x01" * LEAK_BYTES)  # filled, so its pages are resident
        return OK

    return handler


def errors_5xx() -> Handler:
    count = 0

    async def handler() -> tuple[int, list[tuple[bytes, bytes]]]:
        nonlocal count
        count += 1
        failing, every = ERROR_EVERY
        return (500, []) if count % every < failing else OK

    return handler


# Each service's handler, made fresh per process (the stateful ones hold their state).
HANDLERS: dict[str, Callable[[], Handler]] = {
    "healthy": lambda: healthy,
    "cpu": lambda: cpu,
    "blocked_loop": lambda: blocked_loop,
    "dependency_pool": dependency_pool,
    "thread_pool": thread_pool,
    "async_wait": lambda: async_wait,
    "rate_limiter": rate_limiter,
    "leak": leak,
    "errors_5xx": errors_5xx,
}
