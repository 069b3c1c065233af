"""Headless Chromium for page tests: screenshots, console, a network trap, and
measurements of the laid-out page (`measure`).

The trap is a loopback "proxy" given to Chromium for every scheme: a page that
tries to fetch anything from the network connects to it, and the test sees it.
"""

import html
import itertools
import json
import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Debian's chromium is not installed (make test installs it with apt-get)")
    return path


class NetworkTrap:
    """Counts connections: any one means the page reached for the network."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(1.0)
            try:
                first = conn.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")
            except OSError:
                first = "?"
            self.requests.append(first)
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


# Chromium's own background calls (network time, component updates, variations)
# that the flags above do not all silence; they are the browser's, not the page's.
BROWSER_HOSTS = re.compile(
    r"^\S+ (https?://)?[^/ ]*\b(google\.com|googleapis\.com|gvt1\.com|gstatic\.com)\b"
)


def page_requests(requests: list[str]) -> list[str]:
    return [r for r in requests if not BROWSER_HOSTS.match(r)]


def render(
    page: Path, screenshot: Path, profile: Path, size: str = "1280,2400"
) -> tuple[list[str], str]:
    """Screenshot `page`; return (the network requests it attempted, Chromium's log)."""
    trap = NetworkTrap()
    try:
        proc = subprocess.run(
            [
                chromium_path(),
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--proxy-server=http://127.0.0.1:{trap.port}",
                "--proxy-bypass-list=<-loopback>",
                "--enable-logging=stderr",
                "--v=0",
                f"--window-size={size}",
                f"--screenshot={screenshot}",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        trap.close()
    assert screenshot.is_file(), proc.stderr[-2000:]
    return trap.requests, proc.stderr


def measure(page: Path, script: str, workdir: Path, size: str = "1280,2400") -> Any:
    """The value of `script` (a JavaScript function body that returns it) in `page`
    as Chromium lays it out: text widths, positions.

    Reports have no scripts of their own: the script goes into a copy of the page,
    puts its value into the DOM as JSON, and --dump-dom prints the DOM.
    """
    copy = workdir / f"measure-{page.name}"
    run = (
        "<script>{const pre = document.createElement('pre'); pre.id = 'measured';"
        f"pre.textContent = JSON.stringify((() => {{{script}}})());"
        "document.body.append(pre);}</script>"
    )
    text = page.read_text()
    copy.write_text(text.replace("</body>", run + "</body>") if "</body>" in text else text + run)
    proc = subprocess.run(
        [
            chromium_path(),
            *FLAGS,
            f"--user-data-dir={workdir / 'measure-profile'}",
            f"--window-size={size}",
            "--dump-dom",
            copy.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    found = re.search(r'<pre id="measured">(.*?)</pre>', proc.stdout, re.DOTALL)
    assert found, proc.stderr[-2000:]
    return json.loads(html.unescape(found.group(1)))


# Every chart text's box: legends (.lg) and reference-line labels (.rl), per chart.
CHART_TEXTS_JS = """
return [...document.querySelectorAll('svg')].map(svg =>
  [...svg.querySelectorAll('text.lg, text.rl')].map(t => {
    const b = t.getBBox();
    return {cls: t.getAttribute('class'), text: t.textContent, x: b.x, y: b.y, w: b.width};
  }));
"""


def legend_collisions(charts: list[list[dict[str, Any]]]) -> list[tuple[str, str]]:
    """Legend labels (measured by CHART_TEXTS_JS) that run into the next item's
    swatch, which starts 24 px before its label, in the same row."""
    out = []
    for texts in charts:
        items = sorted(
            (t for t in texts if t["cls"] == "lg"), key=lambda t: (round(t["y"]), t["x"])
        )
        for a, b in itertools.pairwise(items):
            if round(a["y"]) == round(b["y"]) and a["x"] + a["w"] + 2 > b["x"] - 24:
                out.append((a["text"], b["text"]))
    return out
