"""How fast can each tool generate load? loadgen vs Locust FastHttpUser vs wrk.

Run by hand (`make bench`, or `python bench/generator_max.py`); prints a table.
Each generator gets core 0 (taskset) and the static target core 1: nginx when
installed (`apt-get install nginx-light wrk`), else bench/static_server.py.
Everything runs in one go so the ratios compare like with like on a noisy
machine; the absolute numbers vary from run to run.

- loadgen: the highest constant arrival rate it *sustains*: achieved ≥ 99.5 %
  of target and send-lag p99 ≤ 1 ms (a geometric ladder, then bisection),
  with the task written as a one-shot (returning its Request), then as a
  coroutine of a session.
- bare sender (bench/bare_sender.py): the same ladder for the barest
  open-model sender Python runs, a ceiling for any pure-asyncio generator.
- Locust FastHttpUser: closed-loop maximum throughput, 64 users, no wait.
- wrk: closed-loop maximum throughput, 1 thread, 64 connections.
This VM stalls now and then (a bare spin loop sees 1–4 ms gaps, more in busy
hours), so every measurement is the best of `--tries` (a ladder level passes
when any try does), for every tool alike.
Goals: loadgen ≥ 5× Locust FastHttpUser and ≥ 0.5× wrk.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GENERATOR_CORE, TARGET_CORE = "0", "1"
TryFn = Callable[[str, float, float, Path], tuple[float, float, bool]]
NGINX_CONF = """worker_processes 1; daemon off; pid {d}/nginx.pid; error_log {d}/error.log;
events {{ worker_connections 4096; }}
http {{ access_log off; keepalive_requests 10000000;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "hello"; }} }} }}
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def static_target(workdir: Path) -> Iterator[tuple[str, str]]:
    port = free_port()
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx:
        (workdir / "nginx.conf").write_text(NGINX_CONF.format(d=workdir, port=port))
        argv = [nginx, "-c", str(workdir / "nginx.conf"), "-p", str(workdir)]
        name = "nginx"
    else:
        argv = [sys.executable, str(ROOT / "bench" / "static_server.py"), str(port)]
        name = "uvloop static server"
    with target_process(argv, f"http://127.0.0.1:{port}/"):
        yield f"http://127.0.0.1:{port}", name


def ratio_table(rates: dict[str, float], baseline: str, goal: tuple[str, float]) -> None:
    """Print each rate and its ratio to `baseline`'s, then whether the first
    other row reached `goal` (its words, its least ratio)."""
    words, least = goal
    print()
    print(f"{'generator':<30}{'req/s':>10}{'÷ ' + baseline:>22}")
    for name, rate in rates.items():
        print(f"{name:<30}{rate:>10.0f}{rate / rates[baseline]:>22.2f}")
    [other, *_] = [name for name in rates if name != baseline]
    ratio = rates[other] / rates[baseline]
    print()
    print(f"goal {words}: {'met' if ratio >= least else 'NOT met'} ({ratio:.2f})")


@contextlib.contextmanager
def target_process(argv: Sequence[str], url: str) -> Iterator[subprocess.Popen]:
    """`argv` on the target core (taskset execs it: the pid is its own) for the
    block, which starts once `url` answers (10 s at most)."""
    import urllib.request

    proc = subprocess.Popen(["taskset", "-c", TARGET_CORE, *argv])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait()


def loadgen_level(
    url: str,
    rps: float,
    seconds: float,
    out: Path,
    extra: Sequence[str] = (),
    cores: str = GENERATOR_CORE,
    scenario: str = "StaticGet",
    env: dict[str, str] | None = None,
) -> dict:
    """One loadgen run on `cores` (taskset list), `extra` options added (e.g. --processes);
    `env`, if given, its whole environment. A level tried again writes over its `out`."""
    proc = subprocess.run(
        ["taskset", "-c", cores, sys.executable, "-m", "loadgen", "--host", url,
         "--rps", str(rps), "--duration", f"{seconds}s", "--warmup", "1s",
         "--scenario", str(ROOT / "bench" / "static_get.py") + ":" + scenario,
         "--connections", "256", "--out", str(out), "--force", "--quiet", *extra],
        env=env,
    )  # fmt: skip
    if proc.returncode not in (0, 1):  # 1: incomplete (none sent, far behind), files written
        raise subprocess.CalledProcessError(proc.returncode, proc.args)
    s = json.loads((out / "summary.json").read_text())
    s["sustained"] = sustained(s, rps)
    return s


def sustained(summary: dict, rps: float) -> bool:
    """Whether a run held `rps`: all of it sent, on time (send-lag p99 ≤ 1 ms), no error."""
    lag = summary["generator"]["send_lag_ms"]["p99"]  # None: nothing was sent
    return bool(
        summary["achieved_rps"] >= 0.995 * rps
        and (math.inf if lag is None else lag) <= 1.0
        and summary["errors"]["total"] == 0
    )


def loadgen_try(url: str, rps: float, seconds: float, workdir: Path) -> tuple[float, float, bool]:
    """One loadgen run of one-shot tasks: (achieved req/s, send-lag p99 ms, sustained)."""
    s = loadgen_level(url, rps, seconds, workdir / f"lg-{int(rps)}")
    return s["achieved_rps"], s["generator"]["send_lag_ms"]["p99"], s["sustained"]


def coroutine_try(url: str, rps: float, seconds: float, workdir: Path) -> tuple[float, float, bool]:
    """The same with the task written as a coroutine (how multi-request tasks run)."""
    out = workdir / f"lgc-{int(rps)}"
    s = loadgen_level(url, rps, seconds, out, scenario="StaticGetCoroutine")
    return s["achieved_rps"], s["generator"]["send_lag_ms"]["p99"], s["sustained"]


def bare_try(url: str, rps: float, seconds: float, workdir: Path) -> tuple[float, float, bool]:
    """One bare-sender run, judged as loadgen is."""
    out = subprocess.run(
        ["taskset", "-c", GENERATOR_CORE, sys.executable, str(ROOT / "bench" / "bare_sender.py"),
         url, str(rps), str(seconds)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    r = json.loads(out)
    return (
        r["achieved_rps"],
        r["lag_p99_ms"],
        (r["achieved_rps"] >= 0.995 * rps and r["lag_p99_ms"] <= 1.0),
    )


def sustained_max(
    name: str,
    attempt: TryFn,
    url: str,
    seconds: float,
    workdir: Path,
    tries: int,
    start: float = 2000.0,
) -> tuple[float, list[str]]:
    """Highest sustained rate: double from `start` until two levels fail, then bisect to 5 %.

    A level passes when any of `tries` runs sustains it (the machine's stalls
    are not the generator's).
    """
    log: list[str] = []

    def ok(rps: float) -> bool:
        for k in range(tries):
            achieved, lag, sustained = attempt(url, rps, seconds, workdir)
            achieved, lag = achieved or 0.0, math.inf if lag is None else lag  # None: none sent
            log.append(f"  {name} {rps:>8.0f}/s (try {k + 1}): achieved {achieved:>8.0f}/s, "
                       f"lag p99 {lag:.3f} ms → {'ok' if sustained else 'no'}")  # fmt: skip
            print(log[-1], flush=True)
            if sustained:
                return True
        return False

    # Double from 2k; a level failing alone may be a stall of the machine, so
    # the climb ends only at two failures in a row.
    lo, level, failed = 0.0, start, 0
    while failed < 2:
        if ok(level):
            lo, failed = level, 0
        else:
            failed += 1
        level *= 2
    hi = 2 * lo if lo else start
    while hi - lo > 0.05 * hi and hi > start / 64:
        mid = (lo + hi) / 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo, log


def locust_max(url: str, seconds: float, workdir: Path) -> float:
    prefix = workdir / "locust"
    subprocess.run(
        ["taskset", "-c", GENERATOR_CORE, str(BIN / "locust"), "-f",
         str(ROOT / "bench" / "locust_static.py"), "--headless", "-u", "64", "-r", "64",
         "-t", f"{int(seconds)}s", "-H", url, "--csv", str(prefix), "--only-summary"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        # Not with the checkout on PYTHONPATH: its locust.py would shadow the package.
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )  # fmt: skip
    with open(f"{prefix}_stats.csv") as f:
        for row in csv.DictReader(f):
            if row["Name"] == "Aggregated":
                return float(row["Requests/s"])
    raise RuntimeError("no Aggregated row in Locust's stats")


def wrk_max(url: str, seconds: float) -> float | None:
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    out = subprocess.run(
        ["taskset", "-c", GENERATOR_CORE, wrk, "-t1", "-c64", f"-d{int(seconds)}s", url + "/"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    return float(m.group(1)) if m else None


def measurement_args(doc: str | None) -> argparse.Namespace:
    """The command line of a benchmark that measures sustained rates: --seconds and
    --tries, its description the first line of `doc` (its module's docstring)."""
    p = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0, help="length of each measurement")
    p.add_argument("--tries", type=int, default=3, help="runs per measurement; the best counts")
    return p.parse_args()


def main() -> None:
    args = measurement_args(__doc__)
    with tempfile.TemporaryDirectory() as tmp, static_target(Path(tmp)) as (url, target):
        workdir = Path(tmp)
        print(f"target: {target} on core {TARGET_CORE}; generators on core {GENERATOR_CORE}")
        ours, _ = sustained_max("loadgen", loadgen_try, url, args.seconds, workdir, args.tries)
        coro, _ = sustained_max("lg-coro", coroutine_try, url, args.seconds, workdir, args.tries)
        bare, _ = sustained_max("bare   ", bare_try, url, args.seconds, workdir, args.tries)
        locust = max(locust_max(url, args.seconds, workdir) for _ in range(args.tries))
        wrks = [wrk_max(url, args.seconds) for _ in range(args.tries)]
        wrk = max((w for w in wrks if w is not None), default=None)
    rows = [
        ("loadgen (sustained, open model)", ours),
        ("  the same, coroutine task", coro),
        ("bare sender (sustained, ceiling)", bare),
        ("Locust FastHttpUser (closed)", locust),
    ]
    if wrk is not None:
        rows.append(("wrk -t1 -c64 (closed)", wrk))
    print()
    print(f"{'generator':<34}{'req/s':>10}{'loadgen ÷ it':>14}")
    for name, rate in rows:
        print(f"{name:<34}{rate:>10.0f}{ours / rate:>14.2f}")
    print()
    print(f"goal loadgen ≥ 5× Locust FastHttpUser: {'met' if ours >= 5 * locust else 'NOT met'}")
    if wrk is not None:
        print(f"goal loadgen ≥ 0.5× wrk: {'met' if ours >= 0.5 * wrk else 'NOT met'}")


if __name__ == "__main__":
    main()
