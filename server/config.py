"""Settings read from the environment and `.env` (pydantic-settings)."""

import functools
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sentry_sdk.utils import BadDsn, Dsn


class Settings(BaseSettings):
    """Everything the app reads at run time; `.env.example` documents each variable."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        # A shared .env also carries gunicorn's and loadgen's variables: ignore them.
        extra="ignore",
        # VAR= (as compose writes ${VAR:-}) means "use the default", not "invalid".
        env_ignore_empty=True,
        # Validation errors would otherwise echo the input, i.e. the secret DSN.
        hide_input_in_errors=True,
        populate_by_name=True,
    )

    legacy_bugs: bool = Field(
        default=False,
        description="LEGACY_BUGS=1 restores the original exercise's bugs (uint16 sums, "
        "slow Fibonacci on the event loop) so load tests can show the before/after.",
    )
    sentry_dsn: SecretStr | None = Field(
        default=None,
        # SENTRY_KEY is the exercise's name for the same thing.
        validation_alias=AliasChoices("SENTRY_DSN", "SENTRY_KEY"),
        description="Sentry DSN; unset or empty turns monitoring off.",
    )
    sentry_traces_sample_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    sentry_environment: str = "development"
    max_body_bytes: Annotated[int, Field(ge=64)] = Field(
        default=4096,
        description="MAX_BODY_BYTES: request bodies larger than this are refused with 413 "
        "before they are read (the endpoints take a few dozen bytes).",
    )

    metrics_port: Annotated[int, Field(ge=0, le=65535)] = Field(
        default=0,
        description="METRICS_PORT: also serve /metrics on this port from a thread (gunicorn's "
        "master, or the one uvicorn process), off the event loop, so that a scrape answers "
        "while a handler blocks the loop; 0 (the default) serves it only on the app's port.",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="METRICS_HOST: the address METRICS_PORT listens on; loopback by default "
        "(0.0.0.0 for a scraper outside the machine or container).",
    )

    @field_validator("sentry_dsn", mode="before")
    @classmethod
    def _empty_dsn_means_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("sentry_dsn")
    @classmethod
    def _dsn_must_parse(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                Dsn(value.get_secret_value())
            except (BadDsn, ValueError) as exc:  # ValueError: e.g. a non-numeric port
                # Name the variable, never its value: the DSN is a credential.
                raise ValueError(
                    f"not a valid Sentry DSN ({exc}; SENTRY_KEY is read when SENTRY_DSN is unset)"
                ) from None
        return value


class InvalidSettings(ValueError):
    """Settings that cannot be used; the message names each bad variable."""


def describe(error: ValidationError) -> str:
    """One line per bad variable, by its environment name, without its value."""
    problems = []
    for detail in error.errors(include_input=False):
        name = ".".join(str(part) for part in detail["loc"]).upper()
        message = detail["msg"].removeprefix("Value error, ")
        problems.append(f"{name}: {message}")
    return "; ".join(problems)


@functools.lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once (FastAPI's recommended pattern).

    Raises InvalidSettings, whose message names the offending variables.
    """
    try:
        return Settings()
    except ValidationError as exc:
        raise InvalidSettings(f"invalid settings: {describe(exc)}") from None
