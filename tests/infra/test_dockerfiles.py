"""The images: what they start is what the native tests start, and it runs.

Without a Docker engine, each image's CMD is read from its Dockerfile and run
on this machine inside a directory laid out like the image's WORKDIR (symlinks
to exactly what the Dockerfile COPYs), with the image's ENV mapped to local
paths. A file the image forgot to COPY, or a CMD that does not serve, fails here.
"""

import fnmatch
import json
import shlex
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from server.launch import (
    APP,
    GUNICORN_CONF,
    free_port,
    gunicorn_command,
    uvicorn_command,
    wait_until_serving,
)
from tests.infra.helpers import (
    INFRA,
    REPO,
    Stage,
    clean_env,
    container_layout,
    final_stage,
    load_compose,
    mounts,
    native_env,
    option,
    parse_dockerfile,
    stop_group,
)

DOCKERFILES = [INFRA / "Dockerfile-fastapi", INFRA / "Dockerfile-gunicorn"]
GUNICORN = INFRA / "Dockerfile-gunicorn"
FASTAPI = INFRA / "Dockerfile-fastapi"


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore drops `path` (its patterns here have no `!` exceptions)."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(
        fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
        or fnmatch.fnmatch(PurePosixPath(prefix).name, pattern.removeprefix("**/"))
        for pattern in patterns
        for prefix in prefixes
    )


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_image_is_multi_stage_pinned_and_runs_as_non_root(dockerfile: Path) -> None:
    builder, final = parse_dockerfile(dockerfile)
    assert builder.name == "builder"
    # The Python the tests run on, at a pinned tag.
    name, _, tag = final.base.partition(":")
    assert name == "python"
    assert tag.startswith(f"{sys.version_info.major}.{sys.version_info.minor}-"), tag
    assert tag != "latest" and builder.base == final.base
    # The builder installs the project (runtime dependencies, no dev extras)...
    assert any(run.endswith("/pip install .") for run in builder.all("RUN"))
    # ...and the final stage takes only its environment.
    assert final.all("COPY")[0].split() == ["--from=builder", "/opt/venv", "/opt/venv"]
    users = final.all("USER")
    assert users and users[-1] not in ("root", "0")
    user_at = max(i for i, (kw, _) in enumerate(final.instructions) if kw == "USER")
    cmd_at = max(i for i, (kw, _) in enumerate(final.instructions) if kw == "CMD")
    assert user_at < cmd_at


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_image_copies_only_what_it_needs_and_the_context_keeps_it(dockerfile: Path) -> None:
    patterns = dockerignore_patterns()
    for stage in parse_dockerfile(dockerfile):
        for source, _ in stage.copies():
            assert (REPO / source).exists(), source
            assert not ignored(source, patterns), f"{source} is in .dockerignore"
    # Secrets, local environments, caches and run output stay out of the context.
    for path in (".env", ".venv/bin/python", ".git/HEAD", "server/logs/error.log",
                 "reports/summary.json", "server/__pycache__/main.cpython-311.pyc",
                 ".pytest_cache/README.md", "tests/infra/helpers.py"):  # fmt: skip
        assert ignored(path, patterns), path
    # /app belongs to root: the app user writes no .pyc files there, only logs.
    assert final_stage(dockerfile).env.get("PYTHONDONTWRITEBYTECODE") == "1"


def test_both_images_install_the_project_the_same_way() -> None:
    """Either image runs the compose stacks' loadgen service (each stack builds
    its webapi's); the native run below covers the gunicorn one."""
    fastapi_builder, _ = parse_dockerfile(FASTAPI)
    gunicorn_builder, _ = parse_dockerfile(GUNICORN)
    assert fastapi_builder == gunicorn_builder


def test_gunicorn_image_runs_the_command_server_launch_builds() -> None:
    """Same interpreter module, config file and app as gunicorn_command; bind,
    workers and --log-config come from the environment (PORT, WEB_CONCURRENCY,
    GUNICORN_CMD_ARGS) in the container rather than from flags."""
    stage = final_stage(GUNICORN)
    native = gunicorn_command("127.0.0.1:8000", 2, log_config=None)
    for flag in ("--bind", "--workers"):
        i = native.index(flag)
        del native[i : i + 2]
    assert native[0] == sys.executable
    config = PurePosixPath(option(stage.cmd, "--config"))
    assert stage.workdir / config == stage.workdir / GUNICORN_CONF.relative_to(REPO).as_posix()
    expected = ["python", *native[1:]]
    expected[expected.index(str(GUNICORN_CONF))] = str(config)
    assert stage.cmd == expected
    assert stage.cmd[-1] == APP


def test_fastapi_image_runs_the_command_server_launch_builds_with_reload() -> None:
    """uvicorn_command (loadgen's embedded task-1 target), console logging as
    in the exercise's task 1, plus --reload watching the mounted server/."""
    cmd = final_stage(FASTAPI).cmd
    native = uvicorn_command("0.0.0.0", 8000, log_config=None)
    assert native[0] == sys.executable
    assert cmd == ["python", *native[1:], "--reload", "--reload-dir", "server"]
    assert APP in cmd
    assert "--workers" not in cmd  # one process


def _run_cmd(
    stage: Stage, tmp_path: Path, argv: list[str], env: dict[str, str]
) -> "subprocess.Popen[bytes]":
    return subprocess.Popen(
        argv,
        cwd=tmp_path / stage.workdir.relative_to("/"),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "stderr.txt").open("wb"),
        start_new_session=True,
    )


def _post(url: str, body: dict[str, int]) -> dict[str, int]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        result: dict[str, int] = json.load(response)
        return result


@pytest.mark.slow
def test_fastapi_image_command_serves_natively(tmp_path: Path) -> None:
    stage = final_stage(FASTAPI)
    workdir = container_layout(stage, tmp_path)
    port = free_port()
    argv = list(stage.cmd)
    argv[argv.index("--host") + 1] = "127.0.0.1"  # loopback only, here
    argv[argv.index("--port") + 1] = str(port)
    env = native_env(stage, workdir, clean_env())
    proc = _run_cmd(stage, tmp_path, argv, env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, proc)
        assert _post(base + "/addNumbers", {"a": -150, "b": 150}) == {"result": 0}
    finally:
        stop_group(proc)


@pytest.fixture(scope="module")
def gunicorn_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """Dockerfile-gunicorn's CMD running natively on the image's layout and ENV,
    with what compose's .env would add: (base URL, LOG_DIR, image root)."""
    stage = final_stage(GUNICORN)
    root = tmp_path_factory.mktemp("image")
    workdir = container_layout(stage, root)
    port = free_port()
    log_dir = root / "logs"
    env = native_env(stage, workdir, clean_env())
    # The image logs into its server/ directory; here that is the checkout's.
    env.update(HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="1", LOG_DIR=str(log_dir))
    proc = _run_cmd(stage, root, stage.cmd, env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, proc)
        yield base, log_dir, root
    finally:
        stop_group(proc)


@pytest.mark.slow
def test_gunicorn_image_command_serves_and_logs_to_files(
    gunicorn_image: tuple[str, Path, Path],
) -> None:
    base, log_dir, _ = gunicorn_image
    assert _post(base + "/computeFib", {"iteration": 30}) == {"result": 832040}
    # GUNICORN_CMD_ARGS' --log-config (the image's default) wrote the request line.
    deadline = time.monotonic() + 5
    access_log = log_dir / "access.log"
    while "/computeFib" not in (access_log.read_text() if access_log.exists() else ""):
        assert time.monotonic() < deadline, f"no request line in {access_log}"
        time.sleep(0.05)
    assert (log_dir / "error.log").exists()


@pytest.mark.slow
def test_compose_loadgen_command_runs_against_the_gunicorn_image(
    gunicorn_image: tuple[str, Path, Path],
) -> None:
    """The loadgen service's command, with the compose network's name and the
    reports mount mapped to this machine, for one second instead of 30."""
    base, _, root = gunicorn_image
    service = load_compose("docker-compose-task-2.yml")["services"]["loadgen"]
    assert service["build"]["dockerfile"] == "infra/Dockerfile-gunicorn"
    stage = final_stage(GUNICORN)
    argv = shlex.split(service["command"])
    # No --out: each run writes reports/<time>/ under the working directory,
    # which the compose file mounts from ./reports.
    assert "--out" not in argv
    assert mounts(service)[str(stage.workdir / "reports")] == "./reports"
    argv[argv.index("--host") + 1] = base
    argv += ["--duration", "1s", "--quiet"]
    workdir = root / stage.workdir.relative_to("/")
    env = native_env(stage, workdir, clean_env())
    result = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    [out] = (workdir / "reports").iterdir()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["requests"] >= 90
    assert summary["errors"]["total"] == 0
    assert set(summary["tasks"]) == {"index", "compute_addition", "compute_fib"}


def test_what_keeps_secrets_out_of_images_keeps_them_out_of_git_too() -> None:
    # A .env.production must no more be committed than built into an image.
    env_files = [".env", ".env.local", ".env.production"]
    proc = subprocess.run(
        ["git", "check-ignore", "--no-index", *env_files],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.stdout.split() == env_files
    example = subprocess.run(["git", "check-ignore", "--no-index", ".env.example"], cwd=REPO)
    assert example.returncode == 1  # documented, committed
