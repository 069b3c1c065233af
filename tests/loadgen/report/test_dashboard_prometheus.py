"""A real Prometheus scrapes a live run's /metrics: at the end it holds summary.json's count."""

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from server.launch import free_port
from tests.loadgen.report.test_dashboard import Run, wait_for
from tests.support.cli import GET_SCENARIO, summary
from tests.support.http_server import server_process

CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: loadgen
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


def prometheus_path():
    path = shutil.which("prometheus")
    if path is None:
        pytest.skip("Debian's prometheus is not installed (make test installs it with apt-get)")
    return path


def query(api, expression):
    url = f"{api}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())["data"]["result"]


@pytest.mark.slow
def test_prometheus_scrapes_a_run_and_ends_at_the_summary_s_count(tmp_path):
    binary = prometheus_path()
    with server_process() as url:  # a loopback target: no bundled server to boot
        scrape_a_run(binary, url, tmp_path)


def scrape_a_run(binary, url, tmp_path):
    run = Run(tmp_path / "scraped", "--host", url, "--scenario", GET_SCENARIO, "--rps", 50,
              "--duration", "6s", "--dashboard")  # fmt: skip
    prometheus = None
    try:
        port = int(run.url().rsplit(":", 1)[1].strip("/"))
        (tmp_path / "prometheus.yml").write_text(CONFIG.format(port=port))
        web = free_port()
        prometheus = subprocess.Popen(
            [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{web}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        api = f"http://127.0.0.1:{web}"
        up = wait_for(lambda: _quiet(query, api, 'up{job="loadgen"} == 1'), timeout=30)
        assert up
        assert run.wait(60) == 0, "".join(run.stderr)
        time.sleep(1.5)  # its next scrape finds the run gone: the series go stale
        # The run's last value: stale series are left out of an instant query, not a range.
        final = query(api, 'max_over_time(loadgen_requests_total{run="scraped"}[10m])')
    finally:
        run.kill()
        if prometheus is not None:
            prometheus.terminate()
            prometheus.wait(10)
    assert len(final) == 1, final
    assert float(final[0]["value"][1]) == summary(run.out)["requests"]


def _quiet(fn, *args):
    try:
        return fn(*args)
    except OSError:
        return None
