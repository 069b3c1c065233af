"""Sentry: started once in each serving process, plus the app's custom instrumentation."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import sentry_sdk
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration

from server.config import Settings
from server.logsetup import get_logger

logger = get_logger(__name__)

# pid of the process that initialised Sentry. A pid rather than a flag: a child
# forked after init inherits the flag but not the SDK's transport thread.
_initialised_pid: int | None = None


def init_monitoring(settings: Settings) -> bool:
    """Start Sentry in this process if a DSN is configured; True if it is on.

    Called from the app's lifespan, which runs in each gunicorn worker after the
    fork (and never in the master, which does not run the app), so every worker
    gets its own client and transport thread. Repeat calls in a process are no-ops.
    """
    global _initialised_pid
    pid = os.getpid()
    if _initialised_pid == pid:
        return True
    if settings.sentry_dsn is None:
        logger.info("Sentry monitoring off: SENTRY_DSN is not set (pid %d)", pid)
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        # send_default_pii is left unset: off is its default, and SDK 2.7x
        # deprecates passing it at all in favour of data_collection.
        integrations=[StarletteIntegration(), FastApiIntegration()],
    )
    _initialised_pid = pid
    logger.info(
        "Sentry monitoring on (pid %d, traces_sample_rate=%s)",
        pid,
        settings.sentry_traces_sample_rate,
    )
    return True


def flush_monitoring(timeout: float = 2.0) -> None:
    """Send what is queued before the worker exits (a no-op when monitoring is off)."""
    if _initialised_pid == os.getpid():
        sentry_sdk.flush(timeout=timeout)


@contextmanager
def traced_addition(a: int, b: int) -> Iterator[None]:
    """Run an addition in a custom span, with its operands attached for Sentry.

    Tags and context go on the request's scope, so an exception escaping the
    block is reported by the FastAPI integration with `a` and `b` on the event;
    the span carries them as data for the performance view.
    """
    sentry_sdk.set_tags({"a": str(a), "b": str(b)})  # tag values are strings
    sentry_sdk.set_context("addNumbers", {"a": a, "b": b})
    with sentry_sdk.start_span(op="function", name="addNumbers.add") as span:
        span.set_data("a", a)
        span.set_data("b", b)
        yield
