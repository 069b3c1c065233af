"""gunicorn settings for the server, driven by the same environment variables
(and defaults, except PORT) as the deprecated tiangolo/uvicorn-gunicorn image,
so compose stacks written for that image keep working:

    HOST, PORT, BIND          listen address; BIND wins over HOST:PORT
    WEB_CONCURRENCY           worker count; default WORKERS_PER_CORE x cores,
    WORKERS_PER_CORE          at least 2 and at most MAX_WORKERS when set
    MAX_WORKERS
    LOG_LEVEL                 gunicorn.error's level, even under --log-config
    ACCESS_LOG, ERROR_LOG     "-" is stdout/stderr, empty disables; a
                              --log-config replaces both
    TIMEOUT, GRACEFUL_TIMEOUT, KEEP_ALIVE   seconds
    PROMETHEUS_MULTIPROC_DIR  where workers keep /metrics' samples; default a
                              fresh temporary directory, removed on exit
    METRICS_PORT, METRICS_HOST  read as the app reads them (server/config.py):
                              the master serves every worker's /metrics
                              there, off the workers' event loops

GUNICORN_CMD_ARGS and command-line flags override this file (gunicorn applies
them after it). Standard library only at import: gunicorn loads this before
the app. Hooks that run in the master import what they need when they run.
"""

import glob
import logging
import multiprocessing
import os
import shutil
import tempfile
from typing import Any


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _worker_count() -> int:
    web_concurrency = _int_env("WEB_CONCURRENCY", 0)
    if web_concurrency > 0:
        return web_concurrency
    per_core = float(os.environ.get("WORKERS_PER_CORE") or 1)
    workers = max(int(per_core * multiprocessing.cpu_count()), 2)
    max_workers = _int_env("MAX_WORKERS", 0)
    return min(workers, max_workers) if max_workers > 0 else workers


def _log_target(name: str) -> str | None:
    value = os.environ.get(name, "-")
    return value or None


# Workers speak ASGI through uvicorn; gunicorn supervises them and replaces any
# that crash or stop answering for longer than `timeout`.
worker_class = "uvicorn_worker.UvicornWorker"
workers = _worker_count()
bind = os.environ.get("BIND") or (
    f"{os.environ.get('HOST') or '0.0.0.0'}:{os.environ.get('PORT') or '8000'}"
)
# The app (and with it Sentry's client) must start in each worker after the
# fork; preloading would import it in the master. The app starts Sentry in its
# lifespan, which only workers run, so even --preload keeps that per worker.
preload_app = False

# gunicorn >= 25.1 opens a control socket at one fixed per-user path, so a
# second server on the machine (tests, loadgen's embedded target) would take
# it over from the first. Nothing here uses gunicornc.
control_socket_disable = True

loglevel = os.environ.get("LOG_LEVEL") or "info"
accesslog = _log_target("ACCESS_LOG")
errorlog = _log_target("ERROR_LOG")

timeout = _int_env("TIMEOUT", 120)
graceful_timeout = _int_env("GRACEFUL_TIMEOUT", 120)
keepalive = _int_env("KEEP_ALIVE", 5)


def _apply_log_level(server: Any) -> None:
    # --log-config's fileConfig runs after gunicorn applied `loglevel` and
    # resets gunicorn.error to the file's level; put LOG_LEVEL back. Workers
    # forked afterwards copy it to uvicorn.error.
    logging.getLogger("gunicorn.error").setLevel(server.log.loglevel)


# /metrics counts every worker through prometheus_client's multiprocess mode:
# each worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR, and the
# one answering /metrics reads them all. The client picks the mode when it is
# imported, from the environment: the variable is set here, in the master
# before any worker forks, and workers import the app (and the client) after.
_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# The pid of the master that created the directory. In the environment, not in
# a global: a reload (SIGHUP) re-executes this file, while the environment
# stays; a new master started by USR2 inherits it but has another pid.
_METRICS_DIR_OWNER = "WAGON_METRICS_DIR_OWNER_PID"


def _prepare_metrics_dir() -> None:
    path = os.environ.get(_METRICS_DIR)
    if not path:
        os.environ[_METRICS_DIR] = tempfile.mkdtemp(prefix="wagon-metrics-")
        os.environ[_METRICS_DIR_OWNER] = str(os.getpid())
        return
    os.makedirs(path, exist_ok=True)
    # A previous run's files would add its requests to this run's counts.
    for stale in glob.glob(os.path.join(glob.escape(path), "*.db")):
        os.remove(stale)


def on_starting(server: Any) -> None:
    _apply_log_level(server)
    _prepare_metrics_dir()


def on_reload(server: Any) -> None:
    _apply_log_level(server)


def child_exit(server: Any, worker: Any) -> None:
    # Drops the dead worker's live gauges (its requests in progress, its loop
    # lag); its counters and histograms stay in the totals.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# The master's off-loop /metrics server (server/metrics_port.py), kept on the
# arbiter: a reload (SIGHUP) re-executes this file, while the arbiter stays.
_METRICS_SERVER = "wagon_metrics_server"


def when_ready(arbiter: Any) -> None:
    """Serve METRICS_PORT from a thread of the master, which never blocks on a
    request: a scrape answers while a worker's loop is stuck, and reads every
    worker's files. Started before the first fork; each worker closes its copy
    of the listening socket (post_fork), and the thread does not survive a fork."""
    from pydantic import ValidationError

    from server.config import Settings
    from server.metrics_port import start

    try:
        # Settings(), not get_settings(): a cached copy would pass to the
        # workers by fork, and a reload must let them read .env afresh.
        settings = Settings()
    except ValidationError:
        return  # each worker refuses to start, naming the variable
    if settings.metrics_port:
        setattr(arbiter, _METRICS_SERVER, start(settings.metrics_host, settings.metrics_port))


def post_fork(arbiter: Any, worker: Any) -> None:
    metrics_server = getattr(arbiter, _METRICS_SERVER, None)
    if metrics_server is not None:
        metrics_server.close_inherited()


def on_exit(server: Any) -> None:
    metrics_server = getattr(server, _METRICS_SERVER, None)
    if metrics_server is not None:
        metrics_server.stop()
    path = os.environ.get(_METRICS_DIR)
    owner = os.environ.get(_METRICS_DIR_OWNER) == str(os.getpid())
    # After a USR2 upgrade the new master's workers still write there.
    if path and owner and not getattr(server, "reexec_pid", 0):
        shutil.rmtree(path, ignore_errors=True)
