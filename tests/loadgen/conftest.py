"""Fixtures shared by loadgen's tests: event loops, and runs that are costly to make."""

import os
import subprocess
import sys

import pytest

from server.launch import free_port, start_gunicorn, stop_gunicorn, wait_until_serving
from tests.support.cli import ROOT, loadgen


@pytest.fixture(
    params=[
        pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
        pytest.param(("asyncio", {}), id="asyncio"),
    ]
)
def anyio_backend(request):
    return request.param


@pytest.fixture(scope="session")
def saved_run(tmp_path_factory):
    """One short run against the embedded server in legacy mode (so it has errors
    and a tail), saved with --out; shared by the report and HTML tests."""
    out = tmp_path_factory.mktemp("saved-run")
    args = ("--rps", 80, "--duration", "3s", "--seed", 9, "--timeout", "3s",
            "--server-env", "LEGACY_BUGS=1", "--out", out, "--quiet")  # fmt: skip
    proc = loadgen(*args, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="session")
def locust_csv(tmp_path_factory):
    """A real headless Locust run (its own process: it patches with gevent) with --csv."""
    out = tmp_path_factory.mktemp("locust")
    port = free_port()
    server = start_gunicorn(f"127.0.0.1:{port}", 2, out / "logs")
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", server)
        proc = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "locust"), "-f", ROOT / "locust.py",
             "--headless", "-u", "20", "-r", "20", "-t", "3s", "-H", f"http://127.0.0.1:{port}",
             "--csv", str(out / "run"), "--only-summary"],
            env={**os.environ, "LOCUST_WAIT_SCALE": "0.05"},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
    finally:
        stop_gunicorn(server)
    return str(out / "run")
