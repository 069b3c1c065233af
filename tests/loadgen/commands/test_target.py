"""The embedded server: started on a free loopback port, and cleaned up however it ends."""

import tempfile

import pytest

from loadgen.commands.target import EmbeddedServer, TargetError


@pytest.mark.slow
def test_a_server_that_fails_to_start_leaves_no_temporary_directory(tmp_path, monkeypatch):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    # An invalid DSN: the server refuses to start, naming the variable.
    server = EmbeddedServer(1, {"SENTRY_DSN": "not-a-dsn"}, None, "uvicorn")
    with pytest.raises(TargetError, match="did not start"):
        server.__enter__()
    assert list(temp.iterdir()) == []
