"""Shared fixtures: the ASGI app in-process, a loopback Sentry receiver, and
real gunicorn servers on free loopback ports (always stopped afterwards)."""

import os
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from server.config import Settings, get_settings
from server.launch import free_port, start_gunicorn, stop_gunicorn, wait_until_serving
from server.main import app, current_settings
from tests.server.sentry_receiver import SentryReceiver, running_receiver

# Variables a developer's shell may carry that would change what a test sees.
SETTINGS_ENV = ("LEGACY_BUGS", "SENTRY_DSN", "SENTRY_KEY", "SENTRY_TRACES_SAMPLE_RATE", "LOG_DIR",
                "MAX_BODY_BYTES", "METRICS_PORT", "METRICS_HOST")  # fmt: skip


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """get_settings() as on a fresh machine: no settings in the environment, no .env."""
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _client_for(settings: Settings) -> httpx.AsyncClient:
    async def override() -> Settings:
        return settings

    app.dependency_overrides[current_settings] = override
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """The app with default settings (bugs fixed, monitoring off)."""
    async with _client_for(Settings.model_validate({})) as c:
        yield c
    app.dependency_overrides.clear()


@pytest.fixture
async def legacy_client() -> AsyncIterator[httpx.AsyncClient]:
    """The app with LEGACY_BUGS=1."""
    async with _client_for(Settings.model_validate({"legacy_bugs": True})) as c:
        yield c
    app.dependency_overrides.clear()


@pytest.fixture
def receiver() -> Iterator[SentryReceiver]:
    with running_receiver() as r:
        yield r


@dataclass
class GunicornServer:
    url: str
    proc: "subprocess.Popen[bytes]"
    log_dir: Path
    output_path: Path

    @property
    def error_log(self) -> str:
        return (self.log_dir / "error.log").read_text()

    @property
    def access_lines(self) -> list[str]:
        return (self.log_dir / "access.log").read_text().splitlines()

    @property
    def output(self) -> str:
        """gunicorn's own stdout and stderr (the console handler, crash reports)."""
        return self.output_path.read_text()

    def stop(self) -> int:
        return stop_gunicorn(self.proc)

    def wait_for_error_log(self, predicate: Callable[[str], bool], timeout: float = 20.0) -> str:
        """error.log once `predicate` holds for it: serving starts with the first
        worker ready, while the others may still be booting."""
        deadline = time.monotonic() + timeout
        while not predicate(text := self.error_log):
            if time.monotonic() > deadline:
                raise AssertionError(f"error.log never matched:\n{text}")
            time.sleep(0.05)
        return text


StartServer = Callable[..., GunicornServer]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Factory: start(settings={...}, workers=2, extra_args=(), wait=True).

    Runs in an empty working directory (no .env), with monitoring off and bugs
    fixed unless `settings` says otherwise; every server is stopped at teardown.
    """
    started: list[GunicornServer] = []

    def start(
        settings: Mapping[str, str] | None = None,
        workers: int = 2,
        extra_args: Sequence[str] = (),
        wait: bool = True,
    ) -> GunicornServer:
        n = len(started)
        log_dir, cwd = tmp_path / f"logs{n}", tmp_path / f"cwd{n}"
        cwd.mkdir()
        output_path = tmp_path / f"gunicorn{n}.out"
        base = {name: "" for name in SETTINGS_ENV if name != "LOG_DIR"}
        # Short graceful timeout: teardown should not wait two minutes on a stuck worker.
        base |= {"GUNICORN_CMD_ARGS": "", "LOG_LEVEL": "info", "GRACEFUL_TIMEOUT": "5"}
        port = free_port()
        with output_path.open("wb") as output:
            proc = start_gunicorn(
                f"127.0.0.1:{port}",
                workers,
                log_dir,
                {**base, **(settings or {})},
                cwd=cwd,
                extra_args=extra_args,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        server = GunicornServer(f"http://127.0.0.1:{port}", proc, log_dir, output_path)
        started.append(server)
        if wait:
            try:
                wait_until_serving(server.url, proc)
            except Exception as exc:
                raise AssertionError(f"gunicorn did not serve:\n{server.output}") from exc
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def worker_pids(error_log: str) -> list[int]:
    """pids from gunicorn's 'Booting worker with pid: N' lines, in boot order."""
    marker = "Booting worker with pid: "
    return [int(line.split(marker)[1]) for line in error_log.splitlines() if marker in line]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
