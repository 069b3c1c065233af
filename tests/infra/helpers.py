"""Reading the Dockerfiles and compose files, and running their commands natively.

The Dockerfile reader knows the instructions these files use (FROM, ARG, ENV,
WORKDIR, COPY, USER, CMD...) in the forms they use them; anything it cannot
read is a test failure, not a guess.
"""

import json
import os
import shlex
import signal
import subprocess
import sys
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from server.launch import SOURCE_ROOT, stop_gunicorn

REPO = SOURCE_ROOT
INFRA = REPO / "infra"

# Settings a developer's shell or .env may carry that would change what a test sees.
SERVER_SETTINGS = (
    "LEGACY_BUGS",
    "SENTRY_DSN",
    "SENTRY_KEY",
    "SENTRY_TRACES_SAMPLE_RATE",
    "SENTRY_ENVIRONMENT",
    "LOG_DIR",
    "GUNICORN_CMD_ARGS",
    "HOST",
    "PORT",
    "BIND",
    "WEB_CONCURRENCY",
    "WORKERS_PER_CORE",
    "MAX_WORKERS",
    "LOG_LEVEL",
    "ACCESS_LOG",
    "ERROR_LOG",
    "LOCUST_WAIT_SCALE",
)


def clean_env() -> dict[str, str]:
    """os.environ without the settings above: a fresh machine's environment."""
    return {k: v for k, v in os.environ.items() if k not in SERVER_SETTINGS}


# --- Dockerfiles ---


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"stage {self.name or self.base} has no {keyword}"
        return found[-1]

    @property
    def workdir(self) -> PurePosixPath:
        return PurePosixPath(self.last("WORKDIR"))

    @property
    def cmd(self) -> list[str]:
        """CMD in exec (JSON) form, the only form that runs without a shell."""
        argv = json.loads(self.last("CMD"))
        assert isinstance(argv, list) and all(isinstance(a, str) for a in argv), argv
        return argv

    @property
    def env(self) -> dict[str, str]:
        """ENV KEY=VALUE pairs, later ones winning; `$NAME` left as written."""
        env: dict[str, str] = {}
        for args in self.all("ENV"):
            for pair in shlex.split(args):
                key, sep, value = pair.partition("=")
                assert sep, f"ENV in legacy `ENV KEY VALUE` form: {args!r}"
                env[key] = value
        return env

    def copies(self) -> list[tuple[str, PurePosixPath]]:
        """(source in the build context, absolute destination) of each COPY
        from the context (not --from another stage)."""
        result = []
        for args in self.all("COPY"):
            words = shlex.split(args)
            flags = [w for w in words if w.startswith("--")]
            if any(f.startswith("--from=") for f in flags):
                continue
            *sources, dest = [w for w in words if not w.startswith("--")]
            for source in sources:
                target = self.workdir / dest
                if dest.endswith("/"):
                    target = target / PurePosixPath(source).name
                result.append((source, target))
        return result


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    assert not current, "Dockerfile ends inside a continued line"
    return lines


def parse_dockerfile(path: Path) -> list[Stage]:
    """Stages in order; FROM's ${ARG} resolved from the ARGs before the first FROM."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in _logical_lines(path.read_text()):
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = args.split()
            base = words[0]
            for name, value in global_args.items():
                base = base.replace("${" + name + "}", value).replace("$" + name, value)
            alias = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            assert len(words) in (1, 3), f"unexpected FROM {args!r}"
            stages.append(Stage(base=base, name=alias))
        elif not stages:
            assert keyword == "ARG", f"{keyword} before the first FROM"
            name, _, value = args.partition("=")
            global_args[name] = value
        else:
            stages[-1].instructions.append((keyword, args))
    assert stages, f"{path} has no FROM"
    return stages


def final_stage(path: Path) -> Stage:
    return parse_dockerfile(path)[-1]


def container_layout(stage: Stage, root: Path) -> Path:
    """Recreate `stage`'s WORKDIR under `root` as symlinks to what it COPYs from
    the build context, so a command runs natively on exactly those files."""
    workdir = root / stage.workdir.relative_to("/")
    workdir.mkdir(parents=True)
    for source, target in stage.copies():
        local = root / target.relative_to("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.symlink_to(REPO / source)
    return workdir


def native_env(stage: Stage, workdir: Path, base: dict[str, str]) -> dict[str, str]:
    """`base` plus the stage's ENV, with the image's paths mapped to this machine:
    its WORKDIR to `workdir`, /opt/venv to this interpreter's environment."""
    env = dict(base)
    for key, value in stage.env.items():
        value = value.replace("$PATH", base.get("PATH", "")).replace(
            "${PATH}", base.get("PATH", "")
        )
        value = value.replace("/opt/venv", sys.prefix).replace(str(stage.workdir), str(workdir))
        env[key] = value
    return env


# --- compose files ---


def load_compose(name: str) -> dict[str, Any]:
    data = yaml.safe_load((REPO / name).read_text())
    assert isinstance(data, dict), name
    return data


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path → host path of the service's short-syntax bind mounts."""
    result = {}
    for volume in service.get("volumes", []):
        assert isinstance(volume, str), f"long-syntax volume {volume!r}"
        host, container, *_ = volume.split(":")
        result[container] = host
    return result


def published(service: dict[str, Any]) -> dict[int, int]:
    """Container port → host port of the service's short-syntax port mappings."""
    result = {}
    for port in service.get("ports", []):
        host, _, container = str(port).rpartition(":")
        result[int(container)] = int(host)
    return result


def option(argv: list[str], *names: str) -> str:
    """The value following the first of `names` in argv."""
    for i, word in enumerate(argv[:-1]):
        if word in names:
            return argv[i + 1]
    raise AssertionError(f"none of {names} in {argv}")


# --- processes ---


def stop_group(proc: "subprocess.Popen[bytes]") -> None:
    """Stop a process started with start_new_session=True and anything it left behind."""
    stop_gunicorn(proc)
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
