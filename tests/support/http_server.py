"""The loopback HTTP test server: real sockets, scripted behaviour, in-process or not.

In the test's own event loop, `raw_server(handler)` serves connections with
`handler(reader, writer)`; `replying(...)` and `silent` are the usual handlers,
`logins()` a site with logins (a cookie and a token), `wrong_answers` one
that answers every JSON request with a wrong number.

`server_thread(handler)` serves the same on an event loop of its own in a
thread, for code under test that runs its own loop in the test's thread.

In a process of its own (when the test's loop must not be the server's, or
loadgen runs as another process), `server_process()` runs this file:

    python tests/support/http_server.py PORT_FILE [STALL PERIOD] [--record FILE] [--app APP]
                                        [--delay SECONDS]

which answers every request with `OK` on uvloop (writing each request's head
to FILE with --record; with `--app logins` or `--app wrong-answers` as those
handlers do instead; each answer SECONDS after its request with --delay, the
wait an `await`, so that answers overlap as a service's waiting on a slow
dependency do) and, given STALL and PERIOD,
freezes its whole process for STALL seconds every PERIOD (the first freeze
PERIOD/2 after the first request, so a run of k·PERIOD seconds starting with
that request sees exactly k freezes). While frozen nothing in the process
runs; the kernel still accepts connections and queues bytes, as on a stalled
server. On uvloop, the backlog of a freeze is served within a few ms after
it: the analytic percentiles the tests check assume catching up takes no time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One request: its head and its body (by Content-Length). IncompleteReadError at EOF."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return head, body


@contextlib.asynccontextmanager
async def raw_server(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """A loopback server in this event loop (over TLS with `tls`); yields its base URL."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0, backlog=4096, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1)


@contextlib.contextmanager
def server_thread(handler: Handler) -> Iterator[str]:
    """`raw_server(handler)` on an event loop of its own in a thread; yields its base URL."""
    ready, url = threading.Event(), []
    loop = asyncio.new_event_loop()
    stop = loop.create_future()

    async def serve() -> None:
        async with raw_server(handler) as base:
            url.append(base)
            ready.set()
            await stop

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        assert ready.wait(10), "the test server did not start"
        yield url[0]
    finally:
        loop.call_soon_threadsafe(stop.set_result, None)
        thread.join(10)
        loop.close()


def replying(
    *responses: bytes,
    close: bool = False,
    on_request: Callable[[bytes], Awaitable[None] | None] | None = None,
) -> Handler:
    """A handler answering each request with the next of `responses` (cycling);
    `close`: hang up after the first answer; `on_request(head)` is called before each
    (and awaited before the answer, if it returns an awaitable)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        i = 0
        try:
            while True:
                head, _ = await read_request(reader)
                waited = None if on_request is None else on_request(head)
                if waited is not None:
                    await waited
                writer.write(responses[i % len(responses)])
                await writer.drain()
                i += 1
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return handler


def json_response(status: int, payload: object, *headers: str) -> bytes:
    """A whole HTTP/1.1 response with a compact JSON body and `headers` ("Name: value")."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    reason = {200: "OK", 401: "Unauthorized", 404: "Not Found"}.get(status, "Status")
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json", *headers,
            f"Content-Length: {len(body)}"]  # fmt: skip
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def logins() -> Handler:
    """A handler for a site with logins, its state shared by every connection:

    - `POST /login` with a JSON body `{"user": NAME}` answers `{"token": "token-NAME"}`
      and sets a new cookie `session` (`Path=/; HttpOnly`);
    - any other request needs that cookie and `Authorization: Bearer token-NAME`
      of the same user: 200 `{"user": NAME, "path": PATH}`, else 401 saying what
      was missing.
    """
    sessions: dict[str, str] = {}  # cookie value → its user

    def answer(head: bytes, body: bytes) -> bytes:
        request_line, *lines = head.decode("latin-1").split("\r\n")
        method, path, _ = request_line.split(" ")
        fields = {}
        for line in lines:
            name, sep, value = line.partition(":")
            if sep:
                fields[name.strip().lower()] = value.strip()
        if (method, path) == ("POST", "/login"):
            user = json.loads(body)["user"]
            session = f"s{len(sessions) + 1}"
            sessions[session] = user
            cookie = f"Set-Cookie: session={session}; Path=/; HttpOnly"
            return json_response(200, {"token": f"token-{user}"}, cookie)
        cookies = dict(
            c.strip().partition("=")[::2] for c in fields.get("cookie", "").split(";") if c
        )
        user = sessions.get(cookies.get("session", ""))
        if user is None:
            return json_response(401, {"detail": "no session cookie"})
        if fields.get("authorization") != f"Bearer token-{user}":
            return json_response(401, {"detail": "no token of the session's user"})
        return json_response(200, {"user": user, "path": path})

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                writer.write(answer(*await read_request(reader)))
        writer.close()

    return handler


async def wrong_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers 200 to every request, with a JSON result one more than the sum of the
    numbers it was sent (`GET` requests: `OK`): a server that is up but wrong."""
    with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
        while True:
            _, body = await read_request(reader)
            if not body:
                writer.write(OK)
                continue
            numbers = [v for v in json.loads(body).values() if isinstance(v, int)]
            writer.write(json_response(200, {"result": sum(numbers) + 1}))
    writer.close()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Reads a request and never answers (until the test is long over)."""
    await read_request(reader)
    await asyncio.sleep(5)


async def slow_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers at once with the head and half the body, the rest 0.3 s later."""
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
    await writer.drain()
    await asyncio.sleep(0.3)
    writer.write(b"world")
    await writer.drain()


@contextlib.contextmanager
def server_process(
    stall: float | None = None,
    period: float | None = None,
    record: Path | None = None,
    app: str | None = None,
    delay: float | None = None,
) -> Iterator[str]:
    """This file's server in a process of its own (freezing if told to, writing the
    heads of the requests it gets to `record`, serving `APPS[app]` if given, each
    answer `delay` seconds late); yields its URL."""
    freeze = [] if stall is None else [str(stall), str(period)]
    if record is not None:
        freeze += ["--record", str(record)]
    if app is not None:
        freeze += ["--app", app]
    if delay is not None:
        freeze += ["--delay", str(delay)]
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        proc = subprocess.Popen([sys.executable, __file__, str(port_file), *freeze])
        try:
            deadline = time.monotonic() + 10
            while not port_file.exists():
                assert proc.poll() is None, "the test server died"
                assert time.monotonic() < deadline, "the test server did not start"
                time.sleep(0.02)
            yield f"http://127.0.0.1:{port_file.read_text()}"
        finally:
            proc.kill()
            proc.wait()


# What `--app NAME` serves instead of `OK` to everything.
APPS: dict[str, Callable[[], Handler]] = {
    "logins": logins,
    "wrong-answers": lambda: wrong_answers,
}


async def _serve(
    port_file: str,
    stall: float | None,
    period: float | None,
    record: str | None,
    app: str | None = None,
    delay: float | None = None,
) -> None:
    loop = asyncio.get_running_loop()
    freezes: list[float] = []  # the first request's time, then one entry per freeze
    heads = open(record, "ab") if record else None  # noqa: SIM115 (open for the server's life)

    def freeze() -> None:
        assert stall is not None and period is not None
        time.sleep(stall)
        loop.call_at(freezes[0] + period * (len(freezes) + 0.5), freeze)
        freezes.append(freezes[0])

    def first_request(head: bytes) -> Awaitable[None] | None:
        if heads is not None:
            heads.write(head)
            heads.flush()
        if period is not None and not freezes:
            freezes.append(loop.time())
            loop.call_at(freezes[0] + period / 2, freeze)
        return None if delay is None else asyncio.sleep(delay)

    handler = replying(OK, on_request=first_request) if app is None else APPS[app]()
    server = await asyncio.start_server(handler, "127.0.0.1", 0, backlog=4096)
    tmp = Path(port_file + ".tmp")
    tmp.write_text(str(server.sockets[0].getsockname()[1]))
    tmp.rename(port_file)  # appears whole
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    import uvloop

    args = sys.argv[2:]
    options: dict[str, str | None] = {"--record": None, "--app": None, "--delay": None}
    for option in options:
        if option in args:
            at = args.index(option)
            options[option], args = args[at + 1], args[:at] + args[at + 2 :]
    times = [float(a) for a in args[:2]] or [None, None]
    delay = None if options["--delay"] is None else float(options["--delay"])
    uvloop.run(
        _serve(sys.argv[1], times[0], times[1], options["--record"], options["--app"], delay)
    )
