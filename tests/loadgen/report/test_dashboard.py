"""--dashboard: real runs of the command line, their live page, /ticks and /metrics on loopback."""

import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from loadgen.report.dashboard import Listening
from loadgen.report.dashboard_page import PAGE
from loadgen.report.dashboard_server import Live, serve
from tests.support.chromium import FLAGS, chromium_path
from tests.support.cli import GET_SCENARIO, ROOT, loadgen, summary
from tests.support.http_server import server_process


class Run:
    """`python -m loadgen ARGS --out DIR` started, its stderr read as it comes."""

    def __init__(self, out, *args):
        self.out = out
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "loadgen", *map(str, args), "--out", str(out), "--quiet"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.stderr: list[str] = []
        self._url = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.stderr.append(line)
            if line.startswith("live: "):
                self._url.set()
        self._url.set()

    def url(self):
        """The address printed on stderr (`live: URL`), waited for."""
        assert self._url.wait(30), "no live: line"
        found = [line.split(" ", 1)[1].strip() for line in self.stderr if line.startswith("live: ")]
        assert found, "".join(self.stderr)
        return found[0]

    def wait(self, timeout=60):
        self.proc.wait(timeout)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def static():
    """A loopback target for the runs whose claim is the dashboard's, not the bundled
    server's: no gunicorn to boot for each."""
    with server_process() as url:
        yield ("--host", url, "--scenario", GET_SCENARIO)


def get(url, method="GET"):
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=5) as r:
        return r.read()


def post(url, body):
    """POST `body` as JSON: (status, the answer's JSON)."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def seconds(base):
    return json.loads(get(f"{base}ticks"))["seconds"]


def wait_for(check, timeout=15.0, every=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("not in time")


def dom_and_screenshot(url, shot, profile, size):
    """The page at `url` as Chromium draws it a few seconds on: its DOM (a finished
    process: `.stdout`, `.stderr`), and its screenshot in `shot`."""
    common = [chromium_path(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}",
              "--virtual-time-budget=3000"]  # fmt: skip
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=60)
    subprocess.run([*common, f"--screenshot={shot}", url], capture_output=True, timeout=60)
    return dom


def metrics(base):
    """/metrics parsed by prometheus_client's own parser: name → {labels: value}."""
    out = {}
    for family in text_string_to_metric_families(get(f"{base}metrics").decode()):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


@pytest.mark.slow
def test_ticks_grow_mid_run_and_metrics_end_at_the_summary_s_count(tmp_path):
    run = Run(tmp_path / "live", "--rps", 50, "--duration", "6s", "--dashboard")
    try:
        base = run.url()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", base)
        first = wait_for(lambda: seconds(base))
        assert len(first) >= 1
        wait_for(lambda: len(seconds(base)) > len(first))
        s = seconds(base)[-1]
        assert s["target"] == pytest.approx(50) and s["latency_ms"]["0.99"] > 0
        mid = metrics(base)
        run_label = (("run", "live"),)
        assert mid["loadgen_target_rps"][run_label] == pytest.approx(50)
        assert mid["loadgen_requests_total"][run_label] > 0
        quantiles = {dict(labels)["quantile"] for labels in mid["loadgen_latency_ms"]}
        assert quantiles == {"0.5", "0.9", "0.99", "1"}
        # The bundled server is sampled: its workers' CPU and memory, and the findings so far.
        state = wait_for(lambda: (d := json.loads(get(f"{base}ticks"))).get("findings") and d)
        assert state["findings"][0]["finding"] and state["findings_at"] >= 1
        worker = next(iter(state["server"][-1]["workers"].values()))
        assert worker["rss_mb"] > 0 and worker["cpu"] is not None
        # The end line comes before the files are written; it is served until loadgen exits.
        ended = wait_for(
            lambda: (m := metrics(base))["loadgen_run_ended"][run_label] == 1 and m, every=0.02
        )
        assert run.wait() == 0, "".join(run.stderr)
    finally:
        run.kill()
    assert ended["loadgen_requests_total"][run_label] == summary(run.out)["requests"]
    with pytest.raises(urllib.error.URLError):  # gone with loadgen
        get(f"{base}ticks")


@pytest.mark.slow
def test_a_rate_change_is_a_step_of_the_run_s_profile_timeline_and_summary(static, tmp_path):
    run = Run(tmp_path / "stepped", *static, "--rps", 40, "--duration", "6s", "--dashboard")
    try:
        base = run.url()
        wait_for(lambda: len(seconds(base)) >= 2)
        assert post(f"{base}rate", {"rps": "lots"})[0] == 400
        assert post(f"{base}rate", {"rps": 120}) == (202, {"rps": 120.0})
        live_steps = wait_for(lambda: json.loads(get(f"{base}ticks"))["steps"])
        assert run.wait() == 0, "".join(run.stderr)
    finally:
        run.kill()
    done = summary(run.out)
    [step] = done["run"]["rate_profile"]["steps"]
    assert step["rps"] == 120 and 2 <= step["at_s"] < 6
    assert live_steps == [step]
    targets = [e["target"] for e in done["timeline"] if e["t"] < 6]  # not the drain's
    assert len(targets) == 6
    assert targets[0] == pytest.approx(40) and targets[-1] == pytest.approx(120)
    at = step["at_s"]
    assert done["requests"] == pytest.approx(40 * at + 120 * (6 - at), abs=2)
    assert "changed live: 120/s from" in (run.out / "report.html").read_text()


@pytest.mark.slow
def test_a_scaled_run_s_coordinator_serves_its_shards_merged_seconds(static, tmp_path):
    run = Run(tmp_path / "scaled", *static, "--rps", 60, "--duration", "5s", "--processes", 2,
              "--dashboard")  # fmt: skip
    try:
        base = run.url()
        merged = wait_for(lambda: len(s := seconds(base)) >= 2 and s, timeout=30)
        # Both shards' arrivals in each second: the whole run's rate, not a shard's.
        assert merged[1]["target"] == pytest.approx(60)
        assert merged[1]["achieved"] == pytest.approx(60, abs=2)
        status, answer = post(f"{base}rate", {"rps": 100})
        assert status == 409 and "shards" in answer["error"]
        assert run.wait() == 0, "".join(run.stderr)
    finally:
        run.kill()
    assert summary(run.out)["run"]["rate_profile"] == {"kind": "constant", "rps": 60.0}


def test_post_rate_hands_a_good_rate_to_loadgen_and_says_why_a_bad_one_is_none():
    handed = []
    live = Live("r")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        server = serve(live, sock, None, 0, handed.append)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        try:
            for bad, why in [(-3, "above 0"), ("x", "a number"), (None, "a number"),
                             (True, "a number"), (5e6, "at most")]:  # fmt: skip
                status, answer = post(f"{base}rate", {"rps": bad})
                assert status == 400 and why in answer["error"]
            assert handed == []
            assert post(f"{base}rate", {"rps": "250"}) == (202, {"rps": 250.0})
            assert handed == [{"rate": 250.0}]
            live.fixed = "its shards run elsewhere"
            assert post(f"{base}rate", {"rps": 10}) == (409, {"error": "its shards run elsewhere"})
        finally:
            server.shutdown()


def test_the_page_fetches_nothing_but_its_own_dashboard():
    assert not re.search(r"(src|href)=\"?(https?:)?//", PAGE)
    assert set(re.findall(r'fetch\("([^"]*)"', PAGE)) == {"/ticks", "/stop", "/rate"}


def test_a_busy_port_is_one_line_and_exit_2_before_any_load(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = loadgen("--rps", 50, "--duration", "1s", "--dashboard", f"127.0.0.1:{port}",
                       "--out", tmp_path / "busy")  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and f"127.0.0.1:{port}" in proc.stderr, proc.stderr
    assert "in use" in proc.stderr
    assert not (tmp_path / "busy").exists()  # nothing written: the folder made is removed


def test_a_port_the_last_run_s_page_used_is_free_again_at_once():
    """A closed page connection lingers in TIME_WAIT on the port: not 'in use'."""
    first = Listening("127.0.0.1", 0)
    port = first.port
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = first.socket.accept()
    accepted.close()  # the server closes first: its side waits in TIME_WAIT
    client.close()
    first.socket.close()
    Listening("127.0.0.1", port).socket.close()


def test_a_bad_address_on_the_command_line_exits_2(tmp_path):
    proc = loadgen("--rps", 5, "--duration", "1s", "--dashboard", "nowhere",
                   "--out", tmp_path / "bad")  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr


@pytest.mark.slow
def test_another_address_needs_the_token(static, tmp_path):
    run = Run(tmp_path / "token", *static, "--rps", 5, "--duration", "4s",
              "--dashboard", "0.0.0.0:0")  # fmt: skip
    try:
        url = run.url()
        found = re.fullmatch(r"http://0\.0\.0\.0:(\d+)/\?token=([\w-]{16,})", url)
        assert found, url
        base = f"http://127.0.0.1:{found.group(1)}/"
        for path in ("", "ticks", "metrics", "ticks?token=wrong"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                get(base + path)
            assert refused.value.code == 403
        with pytest.raises(urllib.error.HTTPError) as refused:
            get(f"{base}stop", method="POST")
        assert refused.value.code == 403
        assert b"loadgen live" in get(f"{base}?token={found.group(2)}")
        assert json.loads(get(f"{base}ticks?token={found.group(2)}"))["run"] == "token"
        assert run.wait() == 0  # the refused stop did not stop it
    finally:
        run.kill()


@pytest.mark.slow
def test_the_dashboard_never_outlives_loadgen(static, tmp_path):
    run = Run(tmp_path / "killed", *static, "--rps", 5, "--duration", "30s", "--dashboard")
    try:
        base = run.url()
        wait_for(lambda: seconds(base))
        run.proc.kill()  # no clean exit at all: its pipe closes with it

        def gone():
            try:
                get(f"{base}ticks")
            except OSError:  # refused, or reset as it went
                return True
            return False

        wait_for(gone, timeout=5)
    finally:
        run.kill()
