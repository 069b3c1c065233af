"""Secrets stay out of what loadgen writes and prints."""

from loadgen.report.secrets import redact_env, redact_url


def test_settings_whose_name_says_secret_are_hidden():
    env = {"SENTRY_DSN": "https://k@o0.ingest.sentry.io/0", "api_token": "t", "DB_PASSWORD": "p",
           "AWS_SECRET_ACCESS_KEY": "s", "LEGACY_BUGS": "1", "LOG_LEVEL": "debug"}  # fmt: skip
    assert redact_env(env) == {
        "SENTRY_DSN": "***", "api_token": "***", "DB_PASSWORD": "***",
        "AWS_SECRET_ACCESS_KEY": "***", "LEGACY_BUGS": "1", "LOG_LEVEL": "debug",
    }  # fmt: skip


def test_a_url_keeps_its_user_but_not_its_password():
    assert redact_url("http://ann:hunter2@host:8000/api") == "http://ann:***@host:8000/api"
    assert redact_url("http://host:8000") == "http://host:8000"
    assert redact_url("https://ann@host") == "https://ann@host"  # no password to hide
