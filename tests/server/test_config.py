from pathlib import Path

import pytest
from pydantic import ValidationError

from server.config import InvalidSettings, Settings, get_settings
from tests.server.conftest import StartServer

VALID_DSN = "http://publickey@127.0.0.1:9/1"


def test_defaults_without_environment(clean_settings: None) -> None:
    settings = get_settings()
    assert settings.legacy_bugs is False
    assert settings.sentry_dsn is None
    assert settings.sentry_traces_sample_rate == 0.0


def test_reads_environment(clean_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEGACY_BUGS", "1")
    monkeypatch.setenv("SENTRY_DSN", VALID_DSN)
    monkeypatch.setenv("SENTRY_TRACES_SAMPLE_RATE", "0.25")
    settings = get_settings()
    assert settings.legacy_bugs is True
    assert settings.sentry_dsn is not None
    assert settings.sentry_dsn.get_secret_value() == VALID_DSN
    assert settings.sentry_traces_sample_rate == 0.25


def test_reads_dotenv_and_ignores_unknown_keys(clean_settings: None) -> None:
    Path(".env").write_text(
        "LEGACY_BUGS=true\nSENTRY_KEY=" + VALID_DSN + "\nPORT=8000\nSOMETHING_ELSE=x\n"
    )
    settings = get_settings()
    assert settings.legacy_bugs is True
    assert settings.sentry_dsn is not None  # SENTRY_KEY is the exercise's name for it


def test_environment_wins_over_dotenv(
    clean_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    Path(".env").write_text("LEGACY_BUGS=1\n")
    monkeypatch.setenv("LEGACY_BUGS", "0")
    assert get_settings().legacy_bugs is False


def test_settings_are_cached(clean_settings: None) -> None:
    assert get_settings() is get_settings()


def test_empty_values_mean_defaults(clean_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LEGACY_BUGS", "SENTRY_DSN", "SENTRY_TRACES_SAMPLE_RATE"):
        monkeypatch.setenv(name, "")
    assert get_settings() == Settings.model_validate({})
    assert Settings.model_validate({"SENTRY_DSN": "  "}).sentry_dsn is None


def test_dsn_is_kept_secret() -> None:
    settings = Settings.model_validate({"SENTRY_DSN": VALID_DSN})
    assert "publickey" not in repr(settings)
    assert "publickey" not in str(settings.model_dump())


@pytest.mark.parametrize("dsn", ["not-a-dsn", "http://127.0.0.1/1", "ftp://k@host/1"])
def test_invalid_dsn_names_the_variable_not_the_value(
    clean_settings: None, monkeypatch: pytest.MonkeyPatch, dsn: str
) -> None:
    monkeypatch.setenv("SENTRY_DSN", dsn)
    with pytest.raises(InvalidSettings) as excinfo:
        get_settings()
    assert "SENTRY_DSN" in str(excinfo.value)
    assert dsn not in str(excinfo.value)


def test_invalid_sample_rate_is_refused() -> None:
    with pytest.raises(ValidationError, match="sentry_traces_sample_rate"):
        Settings.model_validate({"sentry_traces_sample_rate": 1.5})


@pytest.mark.slow
def test_gunicorn_refuses_to_start_with_an_invalid_dsn(start_server: StartServer) -> None:
    server = start_server({"SENTRY_DSN": "https://topsecret@/1"}, wait=False)
    assert server.proc.wait(timeout=60) != 0
    output = server.output
    assert "Refusing to start: invalid settings: SENTRY_DSN: not a valid Sentry DSN" in output
    assert "Worker failed to boot" in output
    assert "topsecret" not in output + server.error_log


def test_the_body_cap_is_a_setting_with_a_floor(
    clean_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert get_settings().max_body_bytes == 4096
    get_settings.cache_clear()
    monkeypatch.setenv("MAX_BODY_BYTES", "65536")
    assert get_settings().max_body_bytes == 65536
    get_settings.cache_clear()
    monkeypatch.setenv("MAX_BODY_BYTES", "10")
    with pytest.raises(InvalidSettings, match="MAX_BODY_BYTES"):
        get_settings()
