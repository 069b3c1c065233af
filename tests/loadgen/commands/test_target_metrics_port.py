"""The embedded server's metrics are scraped off its event loop (METRICS_PORT)."""

import urllib.request

import pytest

from loadgen.commands.target import EmbeddedServer


def get(url: str) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=5) as response:
        text: str = response.read().decode()
        return text


@pytest.mark.slow
def test_metrics_are_scraped_from_a_port_of_their_own() -> None:
    with EmbeddedServer(2, {}, None, "gunicorn") as server:
        assert server.metrics_url.startswith("http://127.0.0.1:")
        assert not server.metrics_url.startswith(server.url + "/")
        assert "event_loop_lag_max_seconds" in get(server.metrics_url)


@pytest.mark.slow
def test_metrics_port_0_in_server_env_scrapes_the_apps_own_metrics() -> None:
    with EmbeddedServer(1, {"METRICS_PORT": "0"}, None, "uvicorn") as server:
        assert server.metrics_url == server.url + "/metrics"
        assert "event_loop_lag_max_seconds" in get(server.metrics_url)
