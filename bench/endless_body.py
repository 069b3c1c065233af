"""What does a target streaming an endless body cost loadgen? Its peak memory and wall time.

Run by hand (`python bench/endless_body.py`); prints a table. A loopback
server (a thread of this process) answers every request 200 with a chunked
body of 64 KiB chunks, streamed until the client hangs up. loadgen runs
against it as its own process, `--rps 1 --duration 1s --timeout 10s` (one
request), with each client in turn; the table shows its peak RSS (the
kernel's count for that one child, from wait4) and its wall time, and how the
request ended. With the body capped (`--max-body`, 16 MiB by default) both
stay flat: the request is a `body_too_large` error as soon as the cap is
passed, long before the timeout. `--max-body SIZE` passes another cap on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHUNK = b"x" * 65536
FRAME = b"%x\r\n%b\r\n" % (len(CHUNK), CHUNK)


async def _endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Each request: a 200 whose chunked body never ends, until the client hangs up."""
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        while True:
            writer.write(FRAME)
            await writer.drain()
    writer.close()


@contextlib.contextmanager
def endless_server() -> Iterator[str]:
    """The endless-body server on a free loopback port, in a thread; yields its URL."""
    loop = asyncio.new_event_loop()
    started: list[asyncio.Server] = []
    ready = threading.Event()

    async def serve() -> None:
        server = await asyncio.start_server(_endless, "127.0.0.1", 0)
        started.append(server)
        ready.set()
        async with server:
            with contextlib.suppress(asyncio.CancelledError):
                await server.serve_forever()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    ready.wait(10)
    port = started[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(started[0].close)
        thread.join(5)


def run_once(url: str, client: str, max_body: str | None, out: Path) -> dict[str, object]:
    """One loadgen run: its peak RSS (MiB), wall time (s), exit status and errors by kind."""
    argv = [sys.executable, "-m", "loadgen", "--host", url, "--rps", "1", "--duration", "1s",
            "--timeout", "10s", "--client", client, "--out", str(out), "--quiet"]  # fmt: skip
    if max_body is not None:
        argv += ["--max-body", max_body]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, not all children's
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode(errors="replace")
    summary = out / "summary.json"
    errors = json.loads(summary.read_text())["errors"]["by_kind"] if summary.exists() else None
    return {
        "rss_mib": usage.ru_maxrss / 1024,  # ru_maxrss is in KiB on Linux
        "wall_s": wall,
        "exit": proc.returncode,
        "errors": errors if errors is not None else stderr.strip()[-200:],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", default="fast,httpx", help="comma-separated --client values")
    p.add_argument("--max-body", metavar="SIZE", help="passed on to loadgen (default: its own)")
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, endless_server() as url:
        for client in args.clients.split(","):
            rows.append((client, run_once(url, client, args.max_body, Path(tmp) / client)))
    print(f"{'client':<8}{'RSS max MiB':>12}{'wall s':>8}{'exit':>6}  errors")
    for client, r in rows:
        print(f"{client:<8}{r['rss_mib']:>12.0f}{r['wall_s']:>8.1f}{r['exit']:>6}  {r['errors']}")


if __name__ == "__main__":
    main()
