"""/metrics on a port of its own (METRICS_PORT), served by a thread, off the event loop.

The app's own `GET /metrics` is answered by the event loop whose lag it
reports: while a handler blocks that loop, a scrape waits behind it and times
out in exactly the seconds that matter. Here a plain HTTP server in a daemon
thread answers instead:

- under gunicorn, in the master (`infra/gunicorn_conf.py`), which runs no
  requests and never blocks: it reads every worker's samples from
  PROMETHEUS_MULTIPROC_DIR (MultiProcessCollector), as the app's /metrics does.
  Workers are in multiprocess mode, and never serve this themselves;
- with one uvicorn process, in that process (the app's lifespan): a thread
  gets the GIL at the interpreter's switch interval even while the loop runs
  CPU-bound Python, so a scrape answers within milliseconds of a blocked loop.

Standard library and prometheus_client only, and none of the app's metrics:
gunicorn's master imports this, and a metric created in the master would be
reported as one more worker's.
"""

import glob
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

# prometheus_client's own switch: set, its metrics live in files, one set per process.
MULTIPROC_DIR: Final = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_mode() -> bool:
    """Whether this process's metrics are kept in PROMETHEUS_MULTIPROC_DIR's files
    (a gunicorn worker, or its master), rather than in its memory."""
    return bool(os.environ.get(MULTIPROC_DIR))


# A worker's file holds a 4-byte length before anything else: shorter, it is being made.
_HEADER_BYTES: Final = 8


class SettledFilesCollector(MultiProcessCollector):
    """MultiProcessCollector that passes over a file a worker is creating.

    prometheus_client creates a worker's file empty and then sizes it; a scrape
    that reads it in between fails on the empty header and answers 500, which a
    scrape just after the workers start (or restart) meets. Such a file holds no
    sample yet, so leaving it out loses nothing.
    """

    def collect(self) -> Iterable[Metric]:
        files = []
        for path in glob.glob(os.path.join(self._path, "*.db")):
            try:
                if os.path.getsize(path) >= _HEADER_BYTES:
                    files.append(path)
            except FileNotFoundError:
                continue  # a dead worker's live gauge, removed since the glob
        merged: Iterable[Metric] = self.merge(files, accumulate=True)  # type: ignore[no-untyped-call]
        return merged


def registry(path: str | None = None) -> CollectorRegistry:
    """Every worker's samples in multiprocess mode (or of the files in `path`);
    else this process's registry."""
    if path is None and not multiprocess_mode():
        return REGISTRY
    collected = CollectorRegistry()
    SettledFilesCollector(collected, path)  # type: ignore[no-untyped-call]
    return collected


@dataclass
class MetricsServer:
    """A running off-loop /metrics server (any path answers; /metrics is the one documented)."""

    httpd: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        port: int = self.httpd.server_address[1]
        return port

    def stop(self) -> None:
        """Stop serving and free the port (from the process that started it)."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def close_inherited(self) -> None:
        """In a process forked from the one serving: close its copy of the listening
        socket. Not `stop()`: the serving thread was not forked, shutdown would wait on it."""
        self.httpd.socket.close()


def start(host: str, port: int) -> MetricsServer | None:
    """Serve /metrics on host:port from a daemon thread; None if the port cannot be had.

    A port taken by another process is logged, not raised: the app still serves
    /metrics on its own port, and the off-loop one is an addition to it.
    """
    try:
        httpd, thread = start_http_server(port, host, registry=registry())
    except OSError as exc:
        logger.error("Not serving /metrics off the event loop on %s:%d: %s", host, port, exc)
        return None
    thread.name = "metrics-port"
    server = MetricsServer(httpd, thread)
    logger.info("Serving /metrics off the event loop on http://%s:%d/metrics", host, server.port)
    return server
