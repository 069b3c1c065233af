"""The compose stacks: valid Compose-spec files, wired to the Dockerfiles and to each other.

No Docker engine runs here, so the files are validated against the Compose
specification's JSON schema and their structure is checked against what the
Dockerfiles and the app actually do.
"""

import ast
import os
import shlex
import subprocess
import sys
import sysconfig
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from server.logsetup import DEFAULT_LOG_DIR, LOGGING_CONF
from tests.infra.helpers import REPO, final_stage, load_compose, mounts, option, published

TASK_1 = "docker-compose-task-1.yml"
TASK_2 = "docker-compose-task-2.yml"
DOCKERFILE = {TASK_1: "infra/Dockerfile-fastapi", TASK_2: "infra/Dockerfile-gunicorn"}
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


def validate(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_both_files_follow_the_compose_specification(tmp_path: Path) -> None:
    result = validate(REPO / TASK_1, REPO / TASK_2)
    assert result.returncode == 0, result.stdout + result.stderr
    # The validator does reject a wrong file (an unknown service key).
    broken = load_compose(TASK_2)
    broken["services"]["webapi"]["restart_policy"] = "on-failure"
    (tmp_path / "broken.yml").write_text(yaml.safe_dump(broken))
    assert validate(tmp_path / "broken.yml").returncode != 0


@pytest.fixture(params=[TASK_1, TASK_2])
def stack(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    return request.param, load_compose(request.param)


def webapi_port(compose: str) -> int:
    """The port the webapi image listens on, read from its Dockerfile."""
    stage = final_stage(REPO / DOCKERFILE[compose])
    if "--port" in stage.cmd:  # uvicorn
        return int(option(stage.cmd, "--port"))
    return int(stage.env["PORT"])  # gunicorn_conf.py binds HOST:PORT


def test_no_obsolete_version_key_and_the_expected_services(
    stack: tuple[str, dict[str, Any]],
) -> None:
    _, data = stack
    assert "version" not in data
    assert set(data["services"]) == {"webapi", "master", "worker", "loadgen"}


def test_webapi_builds_its_dockerfile_restarts_on_failure_and_publishes_its_port(
    stack: tuple[str, dict[str, Any]],
) -> None:
    name, data = stack
    webapi = data["services"]["webapi"]
    assert webapi["build"]["context"] == "."
    assert webapi["build"]["dockerfile"] == DOCKERFILE[name]
    assert (REPO / DOCKERFILE[name]).is_file()
    assert webapi["restart"] == "on-failure"
    port = webapi_port(name)
    assert port == 8000
    assert published(webapi) == {port: port}


def test_webapi_mounts_server_where_the_image_runs_the_app_from(
    stack: tuple[str, dict[str, Any]],
) -> None:
    name, data = stack
    stage = final_stage(REPO / DOCKERFILE[name])
    # The CMD imports `server.main:app` from the working directory (python -m
    # puts it first on sys.path), where the image also COPYs server/.
    assert "server.main:app" in stage.cmd
    app_dir = stage.workdir / "server"
    assert ("server", app_dir) in stage.copies()
    assert mounts(data["services"]["webapi"]) == {str(app_dir): "./server"}


def test_task_2_reads_env_file_and_its_log_files_land_on_the_host() -> None:
    webapi = load_compose(TASK_2)["services"]["webapi"]
    assert webapi["env_file"] == ".env"
    stage = final_stage(REPO / DOCKERFILE[TASK_2])
    env = stage.env
    # The image's defaults (env_file overrides them): logging.conf from the mount...
    log_config = PurePosixPath(option(shlex.split(env["GUNICORN_CMD_ARGS"]), "--log-config"))
    container_server, host_server = next(iter(mounts(webapi).items()))
    relative = LOGGING_CONF.relative_to(REPO / "server")
    assert log_config == PurePosixPath(container_server) / relative.as_posix()
    # ...which writes beside itself unless LOG_DIR says otherwise: into the mount.
    assert "LOG_DIR" not in env
    assert DEFAULT_LOG_DIR.parent == LOGGING_CONF.parent
    assert (REPO / host_server / relative).is_file()
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PORT"] == "8000"


def test_dotenv_template_documents_the_task_2_variables() -> None:
    stage_env = final_stage(REPO / DOCKERFILE[TASK_2]).env
    template = (REPO / ".env.example").read_text()
    documented = {line.lstrip("# ").partition("=")[0] for line in template.splitlines()}
    for variable in ("PORT", "PYTHONUNBUFFERED", "LOG_LEVEL", "GUNICORN_CMD_ARGS", "SENTRY_DSN"):
        assert variable in documented or variable in stage_env, variable


def checkout_mount(service: dict[str, Any]) -> str:
    """Where the service mounts the repository root."""
    (mount,) = [c for c, h in mounts(service).items() if h in (".", "./")]
    return mount


def _locust_argv(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


@pytest.mark.slow
def test_locust_master_and_worker_run_the_mounted_locustfile_against_webapi(
    stack: tuple[str, dict[str, Any]],
) -> None:
    name, data = stack
    services = data["services"]
    master, worker = services["master"], services["worker"]
    image, _, tag = master["image"].partition(":")
    assert image == "locustio/locust"
    assert tag.count(".") == 2 and tag.replace(".", "").isdigit(), f"unpinned tag {tag!r}"
    assert worker["image"] == master["image"]
    assert published(master) == {8089: 8089}

    for service in (master, worker):
        # The whole checkout, so that locust.py's `import loadgen.scenario.bundled.wagon` resolves.
        mount = checkout_mount(service)
        assert option(_locust_argv(service), "-f") == f"{mount}/locust.py"

    master_argv, worker_argv = _locust_argv(master), _locust_argv(worker)
    assert "--master" in master_argv
    target = urlsplit(option(master_argv, "-H", "--host"))
    assert (target.scheme, target.hostname, target.port) == ("http", "webapi", webapi_port(name))
    assert "--worker" in worker_argv
    assert option(worker_argv, "--master-host") in services


def test_loadgen_runs_on_demand_against_webapi_with_reports_on_the_host(
    stack: tuple[str, dict[str, Any]],
) -> None:
    name, data = stack
    loadgen = data["services"]["loadgen"]
    assert "loadgen" in loadgen["profiles"]
    assert (REPO / loadgen["build"]["dockerfile"]).is_file()
    argv = shlex.split(loadgen["command"])
    assert argv[:3] == ["python", "-m", "loadgen"]
    target = urlsplit(option(argv, "--host"))
    assert (target.scheme, target.hostname, target.port) == ("http", "webapi", webapi_port(name))
    assert option(argv, "--rps") == "100"
    # Each run writes its own folder under reports/ in the working directory (a
    # fixed --out would refuse the second run): that is ./reports on the host.
    assert "--out" not in argv
    workdir = final_stage(REPO / loadgen["build"]["dockerfile"]).workdir
    assert mounts(loadgen)[str(workdir / "reports")] == "./reports"


@pytest.mark.slow
def test_both_stacks_run_the_same_locust_and_loadgen_services() -> None:
    one, two = load_compose(TASK_1)["services"], load_compose(TASK_2)["services"]
    assert one["master"] == two["master"]
    assert one["worker"] == two["worker"]
    assert one["loadgen"]["command"] == two["loadgen"]["command"]


# Locust as the locustio/locust image has it: installed, but not this project.
# -S skips site-packages' .pth files, and with them the editable install's
# import hook; the site-packages directory is then added back as a plain path.
LOCUST_IMAGE_BOOTSTRAP = (
    "import sys; sys.path.append({!r}); sys.argv[0] = 'locust'; "
    "from locust.main import main; main()"
).format(sysconfig.get_paths()["purelib"])


@pytest.mark.slow
@pytest.mark.parametrize("role", ["master", "worker"])
def test_locust_containers_load_the_mounted_locustfile(role: str, tmp_path: Path) -> None:
    """The service's command and environment, the mount mapped to the checkout,
    `--list` to stop once the locustfile (and loadgen.scenario.bundled.wagon with it) is loaded."""
    service = load_compose(TASK_2)["services"][role]
    mount = checkout_mount(service)
    environment = service.get("environment", {})
    assert isinstance(environment, dict)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    env.update({k: str(v).replace(mount, str(REPO)) for k, v in environment.items()})
    argv = [arg.replace(mount, str(REPO)) for arg in _locust_argv(service)]
    result = subprocess.run(
        [sys.executable, "-S", "-c", LOCUST_IMAGE_BOOTSTRAP, *argv, "--list"],
        cwd=tmp_path,  # the image's working directory is not the mount
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "WagonFakeUser" in result.stdout


@pytest.mark.slow
def test_the_shared_mix_imports_with_the_standard_library_alone() -> None:
    """The locust image has Locust's dependencies, not this project's."""
    code = (
        "import sys; before = set(sys.modules); import loadgen.scenario.bundled.wagon; "
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - before}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    imported = set(ast.literal_eval(result.stdout))
    assert imported - sys.stdlib_module_names == {"loadgen"}
