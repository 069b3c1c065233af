"""What does the live dashboard cost the generator? Its sustained rate with the page open.

Run by hand (`python bench/dashboard_cost.py`, after `apt-get install nginx-light
chromium`); prints a table. nginx on core 1 serves a static 200 (bench's
static target); loadgen runs on core 0 over the ladder of generator_max.py:
plain, then with `--dashboard` and the page open in a headless Chromium that
polls it twice a second as a person's browser would (Chromium at the lowest
priority on the target's core: a browser sits on another machine, or beside
the work a person is watching; there is no third core here). The browser is
started before loadgen, as a person's is, and its start-up work is over when
the run begins. The dashboard's process serves the page; the engine only hands
it one line a second. Best of `--tries` for both alike.

On two cores the browser and the dashboard's process share the target's core,
and any work there, even at the lowest priority, delays the target's answers
and with them loadgen's sends. So the control is loadgen without a dashboard
while *another* run's live page is open and drawing on that core (a 10/s run
there, its dashboard, Chromium): the same work beside the target, none of it
loadgen's. Plain loadgen is shown too.

Goal (issue 25): the sustained rate with the dashboard open is at least 0.95×
the control's.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from generator_max import (
    GENERATOR_CORE,
    ROOT,
    TARGET_CORE,
    measurement_args,
    ratio_table,
    static_target,
    sustained_max,
)

# Both variants warm up this long: the page loads meanwhile.
WARMUP_S = 3.0
# A browser started is left this long before the run: its start-up work is done.
BROWSER_SETTLE_S = 3.0
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


class Browser:
    """A headless Chromium, started on a blank page before the run it will watch.

    Its start (a second or more of work on the target's core) is a person
    opening a browser, not the page's cost: both variants start theirs before
    loadgen does, and `open` then loads the page in a new tab through the
    DevTools HTTP endpoint (`PUT /json/new?URL`); the page polls on its own.
    """

    def __init__(self, profile: Path) -> None:
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            sys.exit("this benchmark needs chromium: apt-get install chromium")
        self.profile = profile
        # A profile used before keeps the last browser's port in this file.
        (profile / "DevToolsActivePort").unlink(missing_ok=True)
        argv = ["nice", "-n", "19", "taskset", "-c", TARGET_CORE, chromium, *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}", "--remote-debugging-port=0",
                "about:blank"]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.port = self._devtools_port()

    def _devtools_port(self) -> int:
        """The port Chromium chose, from the file it writes once it listens."""
        active = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError, IndexError):
                return int(active.read_text().split()[0])
            time.sleep(0.1)
        self.close()
        raise RuntimeError("chromium did not start its DevTools endpoint")

    def open(self, url: str) -> None:
        """Load `url` in a new tab."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/json/new?{url}", method="PUT"
        )
        urllib.request.urlopen(request, timeout=10).read()

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def browser(profile: Path) -> Iterator[Browser]:
    """A `Browser` for the block, idle a moment first (its start-up work done)."""
    b = Browser(profile)
    try:
        time.sleep(BROWSER_SETTLE_S)
        yield b
    finally:
        b.close()


def live_url(proc: subprocess.Popen[str]) -> str:
    """The `live:` address a loadgen run with `--dashboard` prints first on stderr."""
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if line.startswith("live: "):
            return line.split(None, 1)[1].strip()
    proc.kill()
    raise RuntimeError("loadgen printed no `live:` URL")


def with_dashboard(url: str, rps: float, seconds: float, out: Path) -> dict:
    """One loadgen run with `--dashboard`, its page open in Chromium: its summary."""
    argv = ["taskset", "-c", GENERATOR_CORE, sys.executable, "-m", "loadgen", "--host", url,
            "--rps", str(rps), "--duration", f"{seconds}s", "--warmup", f"{WARMUP_S:g}s",
            "--scenario", str(ROOT / "bench" / "static_get.py") + ":StaticGet",
            "--connections", "256", "--out", str(out), "--force", "--quiet",
            "--dashboard"]  # fmt: skip
    with browser(out.parent / f"chromium-{out.name}") as b:
        proc = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        b.open(live_url(proc))
        proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen exited {proc.returncode}")
    s: dict = json.loads((out / "summary.json").read_text())
    return s


@contextlib.contextmanager
def page_beside(url: str, seconds: float, workdir: Path) -> Iterator[None]:
    """Another loadgen's live page open, on the target's core: a 10/s run of its own
    there (at the lowest priority, as the browser), its dashboard and Chromium drawing
    it. The browser's and the page's work on the target's core, without the dashboard
    on the measured loadgen: the control that tells the two costs apart."""
    argv = ["nice", "-n", "19", "taskset", "-c", TARGET_CORE, sys.executable, "-m", "loadgen",
            "--host", url, "--rps", "10", "--duration", f"{seconds + WARMUP_S + 10:g}s",
            "--scenario", str(ROOT / "bench" / "static_get.py") + ":StaticGet",
            "--out", str(workdir / "beside"), "--force", "--quiet", "--dashboard"]  # fmt: skip
    with browser(workdir / "chromium-beside") as b:
        proc = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        try:
            b.open(live_url(proc))
            time.sleep(WARMUP_S)  # the page loads, as it does in the other variant's warm-up
            yield
        finally:
            proc.kill()
            proc.wait()


def attempt(variant: str, url: str, rps: float, seconds: float, workdir: Path) -> tuple:
    """One run: (achieved req/s, send-lag p99 ms, sustained), as generator_max judges it."""
    from generator_max import loadgen_level, sustained

    out = workdir / f"lg-{variant}-{int(rps)}"
    plain = ["--force", "--warmup", f"{WARMUP_S:g}s"]
    if variant == DASHBOARD:
        s = with_dashboard(url, rps, seconds, out)
        s["sustained"] = sustained(s, rps)
    elif variant == BESIDE:
        with page_beside(url, seconds, workdir):
            s = loadgen_level(url, rps, seconds, out, plain)
    else:
        s = loadgen_level(url, rps, seconds, out, plain)
    return s["achieved_rps"], s["generator"]["send_lag_ms"]["p99"], s["sustained"]


PLAIN, BESIDE, DASHBOARD = "plain", "beside", "dashboard"
# The control first: the goal is the next row's ratio to it (generator_max.ratio_table).
VARIANTS = {
    "loadgen, another run's page open": BESIDE,
    "loadgen, dashboard open": DASHBOARD,
    "loadgen": PLAIN,
}


def main() -> None:
    args = measurement_args(__doc__)
    with tempfile.TemporaryDirectory() as tmp, static_target(Path(tmp)) as (url, name):
        work = Path(tmp)
        print(f"target: {name} on core {TARGET_CORE}; loadgen on core {GENERATOR_CORE}")
        rates = {}
        for label, variant in VARIANTS.items():
            rates[label], _ = sustained_max(
                label, partial(attempt, variant), url, args.seconds, work, args.tries
            )
    # The dashboard's own cost: beside the same page's work on the target's core.
    ratio_table(rates, "loadgen, another run's page open", ("dashboard open ≥ 0.95×", 0.95))


if __name__ == "__main__":
    main()
