"""server/logging.conf: its structure, and the logs it produces under a real gunicorn."""

import asyncio
import configparser
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.logsetup import LOGGING_CONF
from tests.server.conftest import StartServer, worker_pids


@pytest.fixture
def conf() -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    assert parser.read(LOGGING_CONF) == [str(LOGGING_CONF)]
    return parser


def keys(conf: configparser.RawConfigParser, section: str) -> list[str]:
    return [k.strip() for k in conf.get(section, "keys").split(",")]


def test_declares_exactly_the_required_sections(conf: configparser.RawConfigParser) -> None:
    assert keys(conf, "loggers") == ["root", "gunicorn.error", "gunicorn.access"]
    assert keys(conf, "handlers") == ["console", "error_file", "access_file"]
    assert keys(conf, "formatters") == ["generic", "access"]
    expected = {"loggers", "handlers", "formatters"}
    expected |= {f"logger_{k}" for k in keys(conf, "loggers")}
    expected |= {f"handler_{k}" for k in keys(conf, "handlers")}
    expected |= {f"formatter_{k}" for k in keys(conf, "formatters")}
    assert set(conf.sections()) == expected


def test_root_logs_everything_to_the_console(conf: configparser.RawConfigParser) -> None:
    assert conf.get("logger_root", "level") == "DEBUG"
    assert conf.get("logger_root", "handlers") == "console"
    assert "sys.std" in conf.get("handler_console", "args")


@pytest.mark.parametrize(
    ("logger", "handler", "filename", "formatter"),
    [
        ("gunicorn.error", "error_file", "error.log", "generic"),
        ("gunicorn.access", "access_file", "access.log", "access"),
    ],
)
def test_gunicorn_loggers_write_their_file_and_propagate(
    conf: configparser.RawConfigParser, logger: str, handler: str, filename: str, formatter: str
) -> None:
    section = f"logger_{logger}"
    assert conf.get(section, "qualname") == logger
    assert conf.get(section, "level") in {"DEBUG", "INFO"}
    assert conf.get(section, "handlers") == handler
    assert conf.get(section, "propagate") == "1"  # root is their parent
    assert conf.get(f"handler_{handler}", "formatter") == formatter
    assert filename in conf.get(f"handler_{handler}", "args")


@pytest.mark.slow
def test_loads_with_plain_fileconfig(tmp_path: Path) -> None:
    """No gunicorn-only interpolation: uvicorn --log-config or fileConfig can use it too."""
    script = (
        "import logging, logging.config, sys;"
        f"logging.config.fileConfig({str(LOGGING_CONF)!r}, disable_existing_loggers=False);"
        "logging.getLogger('gunicorn.error').info('an error line');"
        "logging.getLogger('gunicorn.access').info('an access line')"
    )
    env = {"LOG_DIR": str(tmp_path), "PYTHONPATH": str(LOGGING_CONF.parent.parent)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "an error line" in (tmp_path / "error.log").read_text()
    assert "an access line" in (tmp_path / "access.log").read_text()
    assert "an error line" in done.stdout  # propagated to root's console handler


ACCESS_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \[(\d+)\] 127\.0\.0\.1:\d+ - "
    r'"(GET|POST) (/\S*) HTTP/1\.1" (\d{3})$'
)


async def _fire(base_url: str, n: int) -> list[int]:
    # No keep-alive: each request is a new accept, which either worker may win;
    # with pooled connections one worker tends to accept them all.
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def one(i: int) -> int:
            if i % 3 == 0:
                response = await client.post("/computeFib", json={"iteration": i % 31})
            elif i % 3 == 1:
                response = await client.post("/addNumbers", json={"a": i, "b": -i})
            else:
                # Long lines: a torn write would show as a line that fails to parse.
                response = await client.get(f"/?id={i}&pad={'x' * 6000}")
            return response.status_code

        return await asyncio.gather(*(one(i) for i in range(n)))


@pytest.mark.slow
def test_gunicorn_access_and_error_logs(start_server: StartServer) -> None:
    server = start_server()
    before = len(server.access_lines)  # the readiness probe's
    n = 300
    assert asyncio.run(_fire(server.url, n)) == [200] * n
    assert httpx.get(server.url + "/sentry").status_code == 500

    lines = server.access_lines[before:]
    assert len(lines) == n + 1
    parsed = [ACCESS_LINE.match(line) for line in lines]
    assert all(parsed), [line[:200] for line, m in zip(lines, parsed, strict=True) if not m]
    ids = sorted(
        int(m.group(3).split("id=")[1].split("&")[0]) for m in parsed if m and "id=" in m.group(3)
    )
    assert ids == [i for i in range(n) if i % 3 == 2]  # every request logged exactly once
    assert parsed[-1] and parsed[-1].group(3, 4) == ("/sentry", "500")

    # uvicorn logs the traceback after the 500 has gone out: wait for it.
    error_log = server.wait_for_error_log(lambda log: "Test sentry integration" in log)
    workers = worker_pids(error_log)
    assert len(workers) == 2
    assert server.proc.pid not in workers
    # Both workers appended to the one access.log (fresh connections spread the load).
    assert {int(m.group(1)) for m in parsed if m} == set(workers)
    assert "Exception: Test sentry integration" in error_log
    assert "Traceback (most recent call last)" in error_log
    assert "compute_fast cache: CacheInfo(hits=" in error_log  # app logs land here too
    assert "[DEBUG]" not in error_log  # LOG_LEVEL=info
    # Everything gunicorn.error writes also reaches root's console handler.
    assert "Booting worker with pid" in server.output
