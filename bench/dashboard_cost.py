"""What does the live dashboard cost the generator? Its sustained rate with the page open.

Run by hand (`python bench/dashboard_cost.py`, after `apt-get install nginx-light
chromium`); prints a table. nginx on core 1 serves a static 200 (bench's
static target); loadgen runs on core 0 over the ladder of generator_max.py:
plain, then with `--dashboard` and the page open in a headless Chromium that
polls it twice a second as a person's browser would (Chromium at the lowest
priority on the target's core: a browser sits on another machine, or beside
the work a person is watching; there is no third core here). The dashboard's
process serves the page; the engine only hands it one line a second. Best of
`--tries` for both alike.

Goal (issue 25): the sustained rate with the dashboard open is at least 0.95×
the rate without.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from generator_max import (
    GENERATOR_CORE,
    ROOT,
    TARGET_CORE,
    ratio_table,
    static_target,
    sustained_max,
)

# Both variants warm up this long: the browser starts and loads the page
# meanwhile (its start-up is a person opening a tab, not the page's cost).
WARMUP_S = 3.0
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@contextlib.contextmanager
def browser(url: str, profile: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A headless Chromium keeping `url` open (its page polls on its own) until the block ends."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("this benchmark needs chromium: apt-get install chromium")
    argv = ["nice", "-n", "19", "taskset", "-c", TARGET_CORE, chromium, *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}", "--remote-debugging-port=0", url]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def with_dashboard(url: str, rps: float, seconds: float, out: Path) -> dict:
    """One loadgen run with `--dashboard`, its page open in Chromium: its summary."""
    argv = ["taskset", "-c", GENERATOR_CORE, sys.executable, "-m", "loadgen", "--host", url,
            "--rps", str(rps), "--duration", f"{seconds}s", "--warmup", f"{WARMUP_S:g}s",
            "--scenario", str(ROOT / "bench" / "static_get.py") + ":StaticGet",
            "--connections", "256", "--out", str(out), "--force", "--quiet",
            "--dashboard"]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    live = ""
    deadline = time.monotonic() + 30
    while not live and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if line.startswith("live: "):
            live = line.split(None, 1)[1].strip()
    if not live:
        proc.kill()
        raise RuntimeError("loadgen printed no `live:` URL")
    with browser(live, out.parent / f"chromium-{out.name}"):
        proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen exited {proc.returncode}")
    s: dict = json.loads((out / "summary.json").read_text())
    return s


def attempt(dashboard: bool, url: str, rps: float, seconds: float, workdir: Path) -> tuple:
    """One run: (achieved req/s, send-lag p99 ms, sustained), as generator_max judges it."""
    from generator_max import loadgen_level, sustained

    tag = "dashboard" if dashboard else "plain"
    out = workdir / f"lg-{tag}-{int(rps)}"
    if dashboard:
        s = with_dashboard(url, rps, seconds, out)
        s["sustained"] = sustained(s, rps)
    else:
        s = loadgen_level(url, rps, seconds, out, ["--force", "--warmup", f"{WARMUP_S:g}s"])
    return s["achieved_rps"], s["generator"]["send_lag_ms"]["p99"], s["sustained"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0, help="length of each measurement")
    p.add_argument("--tries", type=int, default=3, help="runs per measurement; the best counts")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp, static_target(Path(tmp)) as (url, name):
        work = Path(tmp)
        print(f"target: {name} on core {TARGET_CORE}; loadgen on core {GENERATOR_CORE}")
        rates = {}
        for label, dashboard in (("loadgen", False), ("loadgen, dashboard open", True)):
            rates[label], _ = sustained_max(
                label, partial(attempt, dashboard), url, args.seconds, work, args.tries
            )
    ratio_table(rates, "loadgen", ("dashboard open ≥ 0.95× without", 0.95))


if __name__ == "__main__":
    main()
