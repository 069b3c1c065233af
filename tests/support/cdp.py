"""Headless Chromium driven over the DevTools protocol, for pages that live: the
live dashboard's, which a test watches draw, clicks and types into.

Chromium speaks the protocol on a pipe (`--remote-debugging-pipe`: it reads
commands on fd 3 and writes answers and events on fd 4, each message JSON
ended by a NUL byte). `Browser` opens one page, evaluates JavaScript in it,
and keeps what the page said on its console: every exception thrown,
console.error and error the browser logged for it (a failed fetch).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from tests.support.chromium import FLAGS, chromium_path


class Browser:
    """One headless Chromium with one page at `url`; `close()` ends it."""

    def __init__(self, url: str, profile: Path, size: str = "1280,1600") -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def fds_3_and_4() -> None:
            """In the child: its ends of the pipes where Chromium looks for them
            (first out of the way: one of them may be 3 or 4 already)."""
            r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [chromium_path(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}",
             "--remote-debugging-pipe", "about:blank"],
            pass_fds=(3, 4), preexec_fn=fds_3_and_4,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.errors: list[str] = []
        self._answers: dict[int, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._next = 0
        threading.Thread(target=self._read, daemon=True).start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.call(domain, session=True)
        self.call("Page.navigate", session=True, url=url)

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        """One command; its result (AssertionError if it failed or took over 30 s)."""
        with self._cond:
            self._next += 1
            ident = self._next
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        with self._cond:
            assert self._cond.wait_for(lambda: ident in self._answers, 30), method
            answer = self._answers.pop(ident)
        assert "error" not in answer, answer
        return dict(answer.get("result", {}))

    def eval(self, script: str) -> Any:
        """The value of a JavaScript expression in the page (awaited if a promise)."""
        result = self.call(
            "Runtime.evaluate", session=True, expression=script, returnByValue=True,
            awaitPromise=True,
        )  # fmt: skip
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def wait(self, script: str, timeout: float = 15.0, every: float = 0.05) -> Any:
        """The first truthy value of `script`, polled (one that throws, a page still
        loading, is not yet); AssertionError past `timeout`."""
        guarded = f"(() => {{ try {{ return ({script}); }} catch (e) {{ return null; }} }})()"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.eval(guarded)
            if value:
                return value
            time.sleep(every)
        raise AssertionError(f"not in time: {script}")

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        os.close(self._to_chrome)

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                self._message(json.loads(raw))

    def _message(self, m: dict[str, Any]) -> None:
        if "id" in m:
            with self._cond:
                self._answers[m["id"]] = m
                self._cond.notify_all()
            return
        params = m.get("params", {})
        if m.get("method") == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append(details.get("exception", {}).get("description") or str(details))
        elif m.get("method") == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
        elif m.get("method") == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.errors.append(params["entry"].get("text", ""))
