import pytest


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
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("saved-run")
    proc = subprocess.run(
        [sys.executable, "-m", "loadgen", "--rps", "80", "--duration", "3s", "--seed", "9",
         "--timeout", "3s", "--server-env", "LEGACY_BUGS=1", "--out", str(out), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return out
