"""What does sampling the server cost the generator? Its sustained rate with and without.

Run by hand (`python bench/sampling_cost.py`, after `apt-get install nginx-light`);
prints a table. nginx on core 1 serves a static 200 and, at /metrics, the
bundled server's own exposition (captured from a real gunicorn first, so a
scrape parses what it would in a real run). loadgen runs on core 0 twice over
the ladder of generator_max.py: plain (since issue 21 every run samples the
machine, so "plain" is the machine alone), then with `--server-pid` (nginx's
process tree) and `--server-metrics` (that page) sampled each second, the
sampling process moved off loadgen's core (onto nginx's) as it moves off the
cores loadgen is pinned to. Best of `--tries` for both alike.

Goal (issue 16): the sustained rate with sampling on is unchanged within
noise: at least 0.95× the rate without.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from generator_max import (
    ROOT,
    TARGET_CORE,
    free_port,
    loadgen_level,
    measurement_args,
    ratio_table,
    sustained_max,
    target_process,
)

NGINX_CONF = """worker_processes 1; daemon off; pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 10000000;
  server {{ listen 127.0.0.1:{port};
    location = /metrics {{ default_type text/plain; alias {d}/metrics.txt; }}
    location / {{ return 200 "hello"; }} }} }}
"""


def captured_exposition() -> str:
    """The bundled server's /metrics after some of each request, as a scrape sees it."""
    sys.path.insert(0, str(ROOT))
    from server.launch import start_gunicorn, stop_gunicorn, wait_until_serving

    port = free_port()
    with tempfile.TemporaryDirectory() as logs:
        proc = start_gunicorn(f"127.0.0.1:{port}", 2, logs)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_serving(url, proc)
            subprocess.run(
                [sys.executable, "-m", "loadgen", "--host", url, "--rps", "200",
                 "--duration", "2s", "--quiet"],
                check=True, cwd=ROOT,
            )  # fmt: skip
            with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
                return str(r.read().decode())
        finally:
            stop_gunicorn(proc)


@contextlib.contextmanager
def metrics_target(workdir: Path, exposition: str) -> Iterator[tuple[str, int]]:
    """nginx on the target core: (its URL, its master's pid)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("this benchmark needs nginx: apt-get install nginx-light")
    (workdir / "metrics.txt").write_text(exposition)
    workdir.chmod(0o755)  # nginx's worker may run as another user (nobody, when started as root)
    (workdir / "metrics.txt").chmod(0o644)
    port = free_port()
    (workdir / "nginx.conf").write_text(NGINX_CONF.format(d=workdir, port=port))
    argv = [nginx, "-c", str(workdir / "nginx.conf"), "-p", str(workdir)]
    with target_process(argv, f"http://127.0.0.1:{port}/metrics") as proc:
        yield f"http://127.0.0.1:{port}", proc.pid


def attempt(extra: list[str], url: str, rps: float, seconds: float, workdir: Path) -> tuple:
    """One loadgen run with `extra` options: (achieved req/s, send-lag p99 ms, sustained)."""
    tag = "sampled" if extra else "plain"
    s = loadgen_level(url, rps, seconds, workdir / f"lg-{tag}-{int(rps)}", extra)
    if extra and not s["server"].get("workers"):
        raise RuntimeError(f"sampling was asked for and nothing came of it: {s['server']}")
    return s["achieved_rps"], s["generator"]["send_lag_ms"]["p99"], s["sustained"]


def main() -> None:
    args = measurement_args(__doc__)
    exposition = captured_exposition()
    with tempfile.TemporaryDirectory() as tmp, metrics_target(Path(tmp), exposition) as target:
        url, pid = target
        work = Path(tmp)
        print(f"target: nginx on core {TARGET_CORE} (/metrics: {len(exposition)} bytes of the "
              "bundled server's exposition); loadgen on core 0")  # fmt: skip
        sampled = ["--server-pid", str(pid), "--server-metrics", f"{url}/metrics"]
        rates = {}
        for name, extra in (("loadgen", []), ("loadgen, server sampled", sampled)):
            rates[name], _ = sustained_max(
                name, partial(attempt, extra), url, args.seconds, work, args.tries
            )
    ratio_table(rates, "loadgen", ("sampled ≥ 0.95× unsampled", 0.95))


if __name__ == "__main__":
    main()
