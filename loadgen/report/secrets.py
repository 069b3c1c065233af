"""Keeping secrets out of everything loadgen writes or prints.

A run's parameters are kept in summary.json and report.html and printed in
the terminal: settings passed to the bundled server (`--server-env`) and the
target URL among them. Values of settings whose name says they are secret,
and the password of a URL, are replaced by `***` there; the run itself uses
them as given.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

HIDDEN = "***"
# A setting whose name holds one of these (in any case) is a secret.
SECRET_WORDS = (
    "KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "DSN", "CREDENTIAL", "AUTH", "COOKIE",
)  # fmt: skip


def is_secret(name: str) -> bool:
    """Whether a setting's name says its value is a secret (see SECRET_WORDS)."""
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS)


def redact_env(env: Mapping[str, str]) -> dict[str, str]:
    """The settings, with the values of the secret ones hidden."""
    return {name: HIDDEN if is_secret(name) else value for name, value in env.items()}


def redact_url(url: str) -> str:
    """The URL with its password, if it has one, hidden: http://user:***@host."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:{HIDDEN}@{host}"))
