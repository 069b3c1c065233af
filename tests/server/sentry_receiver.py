"""A loopback stand-in for sentry.io: accepts envelopes as the SDK sends them.

The SDK POSTs to /api/<project>/envelope/ with the body compressed (brotli
when the brotli module is importable, else gzip). An envelope is a JSON header
line followed by items: a JSON item header line, then a payload that is
`length` bytes long when the header says so, else runs to the next newline.
"""

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import brotli  # type: ignore[import-untyped]  # ships no type hints


@dataclass
class Item:
    headers: dict[str, Any]
    payload: bytes

    @property
    def type(self) -> str:
        return str(self.headers.get("type"))

    def json(self) -> Any:
        return json.loads(self.payload)


@dataclass
class Envelope:
    headers: dict[str, Any]
    items: list[Item] = field(default_factory=list)


def decode_body(body: bytes, content_encoding: str | None) -> bytes:
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        data: bytes = brotli.decompress(body)
        return data
    if encoding == "identity":
        return body
    raise ValueError(f"unexpected Content-Encoding {content_encoding!r}")


def parse_envelope(data: bytes) -> Envelope:
    def line_at(pos: int) -> tuple[bytes, int]:
        end = data.find(b"\n", pos)
        end = len(data) if end == -1 else end
        return data[pos:end], end + 1

    header_line, pos = line_at(0)
    envelope = Envelope(headers=json.loads(header_line))
    while pos < len(data):
        item_line, pos = line_at(pos)
        if not item_line.strip():  # tolerate a trailing newline
            continue
        item_headers = json.loads(item_line)
        length = item_headers.get("length")
        if length is None:
            payload, pos = line_at(pos)
        else:
            payload = data[pos : pos + length]
            pos += length
            if data[pos : pos + 1] == b"\n":
                pos += 1
        envelope.items.append(Item(item_headers, payload))
    return envelope


class SentryReceiver:
    """Threaded HTTP server on 127.0.0.1 collecting every envelope it is sent."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.encodings: list[str | None] = []
        self._changed = threading.Condition(threading.RLock())
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                encoding = self.headers.get("Content-Encoding")
                envelope = parse_envelope(decode_body(body, encoding))
                with receiver._changed:
                    receiver.envelopes.append(envelope)
                    receiver.encodings.append(encoding)
                    receiver._changed.notify_all()
                reply = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll interval: stop() waits for serve_forever's next poll.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.port}/1"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def items(self, item_type: str) -> list[Any]:
        """Decoded JSON payloads of every item of this type received so far."""
        with self._changed:
            return [i.json() for e in self.envelopes for i in e.items if i.type == item_type]

    def wait_for(
        self, item_type: str, predicate: Callable[[Any], bool], timeout: float = 15.0
    ) -> Any:
        """The first `item_type` payload matching `predicate`, waiting up to `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for payload in self.items(item_type):
                    if predicate(payload):
                        return payload
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [p.get("transaction") for p in self.items(item_type)]
                    raise AssertionError(f"no matching {item_type} within {timeout} s; saw {seen}")
                self._changed.wait(remaining)


@contextmanager
def running_receiver() -> Iterator[SentryReceiver]:
    receiver = SentryReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
