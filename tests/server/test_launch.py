import socket
from pathlib import Path

from server.launch import (
    APP,
    GUNICORN_CONF,
    SOURCE_ROOT,
    free_port,
    gunicorn_command,
    gunicorn_env,
)
from server.logsetup import LOGGING_CONF


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_command_uses_the_bundled_configs() -> None:
    argv = gunicorn_command("127.0.0.1:8123", 3, extra_args=["--timeout", "9"])
    assert GUNICORN_CONF.is_file()
    assert argv[argv.index("--config") + 1] == str(GUNICORN_CONF)
    assert argv[argv.index("--log-config") + 1] == str(LOGGING_CONF)
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8123"
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[-3:] == ["--timeout", "9", APP]
    assert "--log-config" not in gunicorn_command("127.0.0.1:1", log_config=None)


def test_env_sets_log_dir_import_path_and_settings(tmp_path: Path) -> None:
    env = gunicorn_env(
        tmp_path, {"LEGACY_BUGS": "1", "LOG_DIR": "ignored"}, base={"PYTHONPATH": "/x"}
    )
    assert env["LOG_DIR"] == str(tmp_path)  # the argument wins over settings
    assert env["LEGACY_BUGS"] == "1"
    assert env["PYTHONPATH"].split(":") == [str(SOURCE_ROOT), "/x"]
    assert "LOG_DIR" not in gunicorn_env(base={})
