import logging
import multiprocessing
import os
from pathlib import Path

import pytest

from server.logsetup import (
    DEFAULT_LOG_DIR,
    LOGGING_CONF,
    DropPaths,
    LogFileHandler,
    get_logger,
    hide_from_access_log,
    log_dir,
)


def test_default_log_dir_is_next_to_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOG_DIR", raising=False)
    assert log_dir() == DEFAULT_LOG_DIR == LOGGING_CONF.parent / "logs"
    assert LOGGING_CONF.is_file()


def test_log_dir_env_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "elsewhere"))
    handler = LogFileHandler("error.log")
    try:
        assert Path(handler.baseFilename) == tmp_path / "elsewhere" / "error.log"
    finally:
        handler.close()


def _append(path: str, writer: int, lines: int, width: int) -> None:
    os.environ["LOG_DIR"] = path
    handler = LogFileHandler("shared.log")
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(f"writer{writer}")
    logger.addHandler(handler)
    logger.propagate = False
    for i in range(lines):
        logger.warning("%d %d %s", writer, i, chr(ord("a") + writer) * width)
    handler.close()


def test_processes_appending_at_once_lose_and_tear_no_line(tmp_path: Path) -> None:
    # Lines far longer than io's 8 KiB buffers: were a record split over
    # several writes, the pieces would interleave with other processes' lines.
    writers, lines, width = 4, 200, 20_000
    # spawn, not fork: forking the test runner with its threads can deadlock.
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_append, args=(str(tmp_path), w, lines, width)) for w in range(writers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    seen = set()
    for line in (tmp_path / "shared.log").read_text().splitlines():
        writer, i, payload = line.split(" ")
        assert payload == chr(ord("a") + int(writer)) * width
        seen.add((int(writer), int(i)))
    assert seen == {(w, i) for w in range(writers) for i in range(lines)}
    assert len((tmp_path / "shared.log").read_text().splitlines()) == writers * lines


def test_app_loggers_live_under_gunicorn_error() -> None:
    assert get_logger("server.main").name == "gunicorn.error.server.main"


def test_access_records_for_hidden_paths_are_dropped(tmp_path: Path) -> None:
    logger = logging.getLogger("uvicorn.access")
    saved = (logger.handlers[:], logger.filters[:], logger.propagate, logger.level)
    handler = logging.FileHandler(tmp_path / "access.log")
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    try:
        hide_from_access_log("/metrics")
        hide_from_access_log("/metrics")  # again, as a second lifespan in one process would
        assert sum(isinstance(f, DropPaths) for f in logger.filters) == 1
        for path in ("/metrics", "/metrics?name[]=x", "/", "/metricsx", "/a/metrics"):
            # uvicorn's own call (uvicorn/protocols/http/*_impl.py)
            logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
        logger.info("not a request line")
    finally:
        handler.close()
        logger.handlers, logger.filters, logger.propagate = saved[0], saved[1], saved[2]
        logger.setLevel(saved[3])
    paths = [line.split()[3] for line in (tmp_path / "access.log").read_text().splitlines()[:-1]]
    assert paths == ["/", "/metricsx", "/a/metrics"]
    assert (tmp_path / "access.log").read_text().endswith("not a request line\n")
