"""How fast is loadgen over HTTPS? Beside its plain-http rate, wrk's and the httpx client's.

Run by hand (`python bench/https.py`, after `apt-get install nginx-light wrk`);
prints a table. One nginx on core 1 serves a static 200 on two ports, plain
and TLS (a certificate of a private CA that trustme makes here); each
generator runs on core 0, one after the other, in one go so the ratios
compare like with like. loadgen's rates are the highest *sustained* (achieved
≥ 99.5 %, send-lag p99 ≤ 1 ms, no errors: the ladder of generator_max.py),
best of `--tries`; wrk's its closed-loop maximum.

Goals (issue 15): HTTPS sustained ≥ 0.7× loadgen's own plain-http rate and
≥ 20× the httpx client's; send-lag max under 1 ms at 20k req/s plain http.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import trustme
from generator_max import (
    TARGET_CORE,
    free_port,
    loadgen_level,
    measurement_args,
    sustained_max,
    target_process,
    wrk_max,
)

NGINX_TLS_CONF = """worker_processes 1; daemon off; pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 10000000;
  server {{ listen 127.0.0.1:{plain}; location / {{ return 200 "hello"; }} }}
  server {{ listen 127.0.0.1:{tls} ssl; ssl_certificate {d}/server.pem;
    ssl_certificate_key {d}/server.key; location / {{ return 200 "hello"; }} }} }}
"""


@contextlib.contextmanager
def nginx_tls(workdir: Path, conf: str, ports: dict[str, int]) -> Iterator[Path]:
    """nginx on the target core with `conf` (formatted with `d`, the folder, and
    `ports`), its certificate for 127.0.0.1 from a private CA written in
    `workdir` (server.pem, server.key); yields the CA's PEM to trust, once
    `ports["plain"]` answers."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("this benchmark needs nginx: apt-get install nginx-light")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(workdir / "server.pem"))
    cert.private_key_pem.write_to_path(str(workdir / "server.key"))
    ca.cert_pem.write_to_path(str(workdir / "ca.pem"))
    (workdir / "nginx.conf").write_text(conf.format(d=workdir, **ports))
    argv = [nginx, "-c", str(workdir / "nginx.conf"), "-p", str(workdir)]
    with target_process(argv, f"http://127.0.0.1:{ports['plain']}/"):
        yield workdir / "ca.pem"


@contextlib.contextmanager
def tls_target(workdir: Path) -> Iterator[tuple[str, str, Path]]:
    """nginx on the target core: (plain URL, https URL, the CA's PEM to trust)."""
    plain, tls = free_port(), free_port()
    with nginx_tls(workdir, NGINX_TLS_CONF, {"plain": plain, "tls": tls}) as ca:
        yield f"http://127.0.0.1:{plain}", f"https://127.0.0.1:{tls}", ca


def attempt(extra: list[str], url: str, rps: float, seconds: float, workdir: Path) -> tuple:
    """One loadgen run with `extra` options: (achieved req/s, send-lag p99 ms, sustained)."""
    tag = "-".join(x.lstrip("-") for x in extra if not x.startswith("/"))
    s = loadgen_level(url, rps, seconds, workdir / f"lg-{tag}-{int(rps)}", extra)
    return s["achieved_rps"], s["generator"]["send_lag_ms"]["p99"], s["sustained"]


def main() -> None:
    args = measurement_args(__doc__)
    with tempfile.TemporaryDirectory() as tmp, tls_target(Path(tmp)) as (plain, https, ca):
        work = Path(tmp)
        print(f"target: nginx on core {TARGET_CORE}, plain and TLS; generators on core 0")
        trust = ["--ca-cert", str(ca)]
        runs = [
            ("loadgen, http", partial(attempt, []), plain, 2000.0),
            ("loadgen, https", partial(attempt, trust), https, 2000.0),
            ("loadgen --client httpx, https", partial(attempt, ["--client", "httpx", *trust]),
             https, 100.0),
        ]  # fmt: skip
        rates = {}
        for name, try_one, url, start in runs:
            rates[name], _ = sustained_max(
                name, try_one, url, args.seconds, work, args.tries, start
            )
        wrk = max((w for w in (wrk_max(https, args.seconds) for _ in range(args.tries)) if w),
                  default=None)  # fmt: skip
        lags = [
            loadgen_level(plain, 20000, args.seconds, work / f"lag-{k}")["generator"]["send_lag_ms"]
            for k in range(args.tries)
        ]
    ours = rates["loadgen, https"]
    print()
    print(f"{'generator':<34}{'req/s':>10}{'https ÷ it':>12}")
    for name, rate in [*rates.items(), *([("wrk -t1 -c64, https (closed)", wrk)] if wrk else [])]:
        print(f"{name:<34}{rate:>10.0f}{ours / rate if rate else float('nan'):>12.2f}")
    best_max = min(lag["max"] for lag in lags)
    print(f"send lag at 20k req/s plain http, best of {args.tries}: "
          f"max {best_max:.3f} ms (p99 {min(lag['p99'] for lag in lags):.3f} ms)")  # fmt: skip
    print()
    plain_rate, httpx = rates["loadgen, http"], rates["loadgen --client httpx, https"]
    for goal, met, value in (
        ("https ≥ 0.7× loadgen's plain http", ours >= 0.7 * plain_rate, ours / plain_rate),
        ("https ≥ 20× the httpx client", ours >= 20 * httpx, ours / httpx if httpx else 0.0),
        ("send-lag max < 1 ms at 20k plain", best_max < 1.0, best_max),
    ):
        print(f"goal {goal}: {'met' if met else 'NOT met'} ({value:.2f})")


if __name__ == "__main__":
    main()
