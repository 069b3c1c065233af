"""How fast is loadgen over HTTP/2? Beside its HTTP/1.1 rate, httpx's and h2load's.

Run by hand (`python bench/http2.py`, after `apt-get install nginx-light
nghttp2-client`); prints a table. One nginx on core 1 serves a static 200
over HTTP/1.1 (cleartext), h2c (HTTP/2 by prior knowledge) and h2 over TLS
(a certificate of a private CA that trustme makes here); each generator runs
on core 0, one after the other, in one go so the ratios compare like with
like. loadgen's rates are the highest *sustained* (achieved ≥ 99.5 %,
send-lag p99 ≤ 1 ms, no errors: the ladder of generator_max.py), best of
`--tries`; `--http2` runs on its default 4 connections. h2load's is its
closed-loop maximum (-c 4 -m 100: 4 connections, 100 streams each). Then
each client alone, without the engine, in a closed loop of 64 requests in
flight: what a request costs the client itself, less at the mercy of this
machine's stalls than the sustained rate (whose send-lag p99 must stay
under 1 ms).

Goals (issue 26): `--http2` sustained ≥ 0.6× loadgen's own HTTP/1.1 rate and
≥ 20× `--client httpx` over HTTP/2.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from generator_max import (
    GENERATOR_CORE,
    TARGET_CORE,
    free_port,
    loadgen_level,
    measurement_args,
    sustained_max,
)
from https import nginx_tls

# `listen ... http2` rather than `http2 on` (nginx ≥ 1.25.1): Debian 12 has 1.22.
NGINX_H2_CONF = """worker_processes 1; daemon off; pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 10000000;
  server {{ listen 127.0.0.1:{plain}; location / {{ return 200 "hello"; }} }}
  server {{ listen 127.0.0.1:{h2c} http2; location / {{ return 200 "hello"; }} }}
  server {{ listen 127.0.0.1:{tls} ssl http2; ssl_certificate {d}/server.pem;
    ssl_certificate_key {d}/server.key; location / {{ return 200 "hello"; }} }} }}
"""


@contextlib.contextmanager
def h2_target(workdir: Path) -> Iterator[tuple[str, str, str, Path]]:
    """nginx on the target core: (HTTP/1.1 URL, h2c URL, h2 URL, the CA's PEM to trust)."""
    ports = {"plain": free_port(), "h2c": free_port(), "tls": free_port()}
    with nginx_tls(workdir, NGINX_H2_CONF, ports) as ca:
        yield (f"http://127.0.0.1:{ports['plain']}", f"http://127.0.0.1:{ports['h2c']}",
               f"https://127.0.0.1:{ports['tls']}", ca)  # fmt: skip


def attempt(extra: list[str], url: str, rps: float, seconds: float, workdir: Path) -> tuple:
    """One loadgen run with `extra` options: (achieved req/s, send-lag p99 ms, sustained)."""
    tag = "-".join(x.lstrip("-") for x in extra if not x.startswith("/"))
    s = loadgen_level(url, rps, seconds, workdir / f"lg-{tag}-{int(rps)}", extra)
    if "--http2" in extra and s["run"].get("http_version") != "2":
        raise SystemExit(f"{url} was not spoken to in HTTP/2: {s['run'].get('http_version')}")
    return s["achieved_rps"], s["generator"]["send_lag_ms"]["p99"], s["sustained"]


def h2load_max(url: str, seconds: float) -> float | None:
    """h2load's closed-loop maximum: 4 connections, 100 streams each."""
    h2load = shutil.which("h2load")
    if h2load is None:
        return None
    out = subprocess.run(
        ["taskset", "-c", GENERATOR_CORE, h2load, "-c4", "-m100", "-D", str(int(seconds)),
         "--warm-up-time=1", url + "/"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
    return float(m.group(1)) if m else None


# Requests kept in flight by the closed-loop measure of the clients themselves.
IN_FLIGHT = 64


async def closed_loop(kind: str, url: str, seconds: float, ca: str | None) -> float:
    """A client's own cost, without the engine: `IN_FLIGHT` requests always in
    flight for `seconds`, each answer sending the next; answers per second."""
    import asyncio
    import time

    from loadgen.transports.base import ClientOptions
    from loadgen.transports.factory import make_client

    options = ClientOptions(ca_cert=ca, http2="" if kind == "fast-h1" else "on")
    client = make_client("httpx" if kind == "httpx" else "fast", url, 4 if kind != "fast-h1"
                         else IN_FLIGHT, options)  # fmt: skip
    done = 0
    end = time.perf_counter() + seconds

    async def one_after_another() -> None:
        nonlocal done
        while time.perf_counter() < end:
            await client.request("GET", "/", None, None)
            done += 1

    await client.request("GET", "/", None, None)  # connected, SETTINGS known
    started = time.perf_counter()
    await asyncio.gather(*(one_after_another() for _ in range(IN_FLIGHT)))
    rate = done / (time.perf_counter() - started)
    await client.aclose()
    return rate


def closed_max(kind: str, url: str, seconds: float, ca: Path | None) -> float:
    """`closed_loop` in a process of its own on the generator core (uvloop)."""
    out = subprocess.run(
        ["taskset", "-c", GENERATOR_CORE, sys.executable, __file__, "--closed", kind, url,
         str(seconds), *([str(ca)] if ca else [])],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return float(out.split()[-1])


def main() -> None:
    if sys.argv[1:2] == ["--closed"]:
        import uvloop

        kind, url, seconds, *ca = sys.argv[2:]
        print(uvloop.run(closed_loop(kind, url, float(seconds), ca[0] if ca else None)))
        return
    args = measurement_args(__doc__)
    with tempfile.TemporaryDirectory() as tmp, h2_target(Path(tmp)) as (plain, h2c, h2, ca):
        work = Path(tmp)
        print(f"target: nginx on core {TARGET_CORE}, HTTP/1.1, h2c and h2; generators on core 0")
        trust = ["--ca-cert", str(ca)]
        http2 = ["--http2", "--connections", "4"]
        runs = [
            ("loadgen, HTTP/1.1", partial(attempt, []), plain, 2000.0),
            ("loadgen --http2, h2c", partial(attempt, http2), h2c, 1000.0),
            ("loadgen --http2, h2 (TLS)", partial(attempt, [*http2, *trust]), h2, 1000.0),
            ("loadgen --client httpx, h2 (TLS)",
             partial(attempt, ["--client", "httpx", "--http2", "--connections", "64", *trust]),
             h2, 100.0),
        ]  # fmt: skip
        rates: dict[str, float | None] = {}
        for name, try_one, url, start in runs:
            rates[name], _ = sustained_max(
                name, try_one, url, args.seconds, work, args.tries, start
            )
        for name, url in (("h2load -c4 -m100, h2c (closed)", h2c),
                          ("h2load -c4 -m100, h2 (closed)", h2)):  # fmt: skip
            got = [h2load_max(url, args.seconds) for _ in range(args.tries)]
            rates[name] = max((g for g in got if g), default=None)
        closed = {}
        for name, kind, url, pem in (
            ("fast client, HTTP/1.1", "fast-h1", plain, None),
            ("fast client, h2c", "fast-h2", h2c, None),
            ("fast client, h2 (TLS)", "fast-h2", h2, ca),
            ("httpx client, h2 (TLS)", "httpx", h2, ca),
        ):
            closed[name] = max(closed_max(kind, url, args.seconds, pem) for _ in range(args.tries))
    ours = rates["loadgen --http2, h2c"] or 0.0
    print()
    print(f"{'generator':<36}{'req/s':>10}{'--http2 h2c ÷ it':>18}")
    for name, rate in rates.items():
        if rate is not None:
            print(f"{name:<36}{rate:>10.0f}{ours / rate if rate else float('nan'):>18.2f}")
    print()
    print(f"the clients alone, closed loop ({IN_FLIGHT} in flight, no engine):")
    for name, rate in closed.items():
        ratio = rate / closed["fast client, HTTP/1.1"]
        print(f"  {name:<34}{rate:>10.0f}{ratio:>18.2f} of HTTP/1.1's")
    print()
    h1, httpx = rates["loadgen, HTTP/1.1"] or 1.0, rates["loadgen --client httpx, h2 (TLS)"]
    tls = rates["loadgen --http2, h2 (TLS)"] or 0.0
    closed_h1, closed_h2c = closed["fast client, HTTP/1.1"], closed["fast client, h2c"]
    closed_h2, closed_httpx = closed["fast client, h2 (TLS)"], closed["httpx client, h2 (TLS)"]
    # Met only when the sustained rates and the clients' own closed loops agree:
    # on a busy machine the sustained ladder measures the machine's stalls.
    for goal, values, least in (
        ("--http2 (h2c) ≥ 0.6× loadgen's HTTP/1.1", (ours / h1, closed_h2c / closed_h1), 0.6),
        ("--http2 (h2) ≥ 20× --client httpx over h2",
         (tls / httpx if httpx else 0.0, closed_h2 / closed_httpx), 20.0),
    ):  # fmt: skip
        met = all(v >= least for v in values)
        print(f"goal {goal}: {'met' if met else 'NOT met'} "
              f"(sustained {values[0]:.2f}, closed loop {values[1]:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
