"""The engine's bookkeeping: arrivals, warm-up, task failures, flights and one-shots.

Through the mock transport (no sockets): these tests count, they time nothing.
The one that exercises the fast client's pool keeps a real server; timing
lives in test_coordinated_omission.py.

They count every arrival of short runs exactly. On a busy machine a stall
across a window's end leaves its last arrivals unsent, and the engine says
so (`unsent`); a test that failed after such a run is made again
(`undisturbed`), and one that failed after undisturbed runs fails.
"""

import asyncio
import contextlib
import functools
import itertools
import signal
import sys
import time
from typing import ClassVar

import pytest

from loadgen.core.config import RunConfig
from loadgen.core.engine import Engine
from loadgen.core.rates import ConstantRate
from loadgen.report.summary import build_summary
from loadgen.scenario import Scenario, task
from loadgen.scenario.data import DataFile
from loadgen.transports.http1 import FastClient
from loadgen.transports.mock import MockClient, Reply
from loadgen.transports.models import (
    CONNECT_TIMEOUT,
    RESET,
    SERVER_CLOSED,
    TIMEOUT,
    Failed,
    Request,
)
from tests.loadgen.transports.test_http1 import full_backlog
from tests.support.http_server import OK, raw_server, read_request

pytestmark = pytest.mark.anyio


class TwoSteps(Scenario):
    @task(1)
    async def login_then_get(self, s):
        await s.post("/login", json={"user": "x"})
        await s.get("/home")


class Broken(Scenario):
    @task(1)
    async def oops(self, s):
        await s.get("/")
        raise RuntimeError("assertion in user code")


# A short run: RATE arrivals/s for SECONDS, N arrivals in all.
RATE, SECONDS = 400, 0.25
N = int(RATE * SECONDS)


# Arrivals left unsent by each run of the test's current attempt (see `undisturbed`).
_UNSENT: list[int] = []
ATTEMPTS = 5


async def run(scenario, client=None, url="http://mock", rate=RATE, duration=SECONDS, **kw):
    """A run of `scenario` through `client` (default: a mock answering 200 at once)."""
    cfg = RunConfig(
        target=url, profile=ConstantRate(rate), duration=duration, scenario=scenario, **kw
    )
    result = await Engine(cfg, client=client or MockClient()).run()
    _UNSENT.append(result.unsent)
    return result


def undisturbed(test):
    """`test`, made again (ATTEMPTS times at most) when it failed after a run that
    left arrivals unsent: the machine stalled it, and its counts prove nothing.
    A failure after runs that sent every arrival is the test's failure, at once."""

    @functools.wraps(test)
    async def attempts(*args, **kwargs):
        for attempt in range(1, ATTEMPTS + 1):
            _UNSENT.clear()
            try:
                return await test(*args, **kwargs)
            except Exception:
                if attempt == ATTEMPTS or not any(_UNSENT):
                    raise

    return attempts


@undisturbed
async def test_every_request_of_a_multi_request_task_is_recorded():
    result = await run(TwoSteps)
    rec = result.recorder
    assert rec.arrivals == N
    assert rec.tasks["login_then_get"].requests == 2 * N
    assert rec.total("response").get_total_count() == 2 * N
    assert result.elapsed == pytest.approx(SECONDS, abs=0.05)
    assert result.target_arrivals == pytest.approx(N, rel=0.05)


async def test_a_stop_caught_while_the_run_was_set_up_sends_nothing_and_waits_for_nothing():
    # Before: a Ctrl-C caught by the command while it set the run up (the
    # sampler starting, a big targets file read) was kept but not acted on: a
    # run starting in 30 s waited for it, then ran whole.
    client = MockClient()
    cfg = RunConfig(
        target="http://mock", profile=ConstantRate(RATE), duration=SECONDS,
        scenario=TwoSteps, start_at=time.time() + 30,
    )  # fmt: skip
    began = time.monotonic()
    result = await Engine(cfg, client=client, stopped_before=lambda: signal.SIGINT).run()
    assert time.monotonic() - began < 5
    assert result.interrupted and result.stop_signal == signal.SIGINT
    assert client.sent == [] and result.recorder.arrivals == 0 and result.unsent == 0


@undisturbed
async def test_warmup_is_sent_but_not_measured():
    client = MockClient()
    result = await run(TwoSteps, client, warmup=SECONDS / 2)
    assert len(client.sent) == 2 * (N + N // 2)  # warm-up, then measured; two requests each
    assert result.recorder.arrivals == N
    assert result.recorder.tasks["login_then_get"].requests == 2 * N


@undisturbed
async def test_exceptions_in_task_code_are_counted_and_shown():
    result = await run(Broken)
    rec = result.recorder
    assert rec.tasks["oops"].errors == {"exception": N}
    assert rec.first_exception == "oops: RuntimeError: assertion in user code"


@undisturbed
async def test_transport_errors_are_counted_by_kind_and_not_timed():
    result = await run(TwoSteps, MockClient(Reply(error=RESET)))
    rec = result.recorder
    # The first request fails, so the second is never made.
    assert rec.tasks["login_then_get"].errors == {RESET: N}
    assert rec.total("response").get_total_count() == 0


@undisturbed
async def test_timeouts_are_counted_and_the_run_still_ends_on_time():
    result = await run(TwoSteps, MockClient(Reply(delay=60)), timeout=0.1)
    assert result.recorder.tasks["login_then_get"].errors == {TIMEOUT: N}
    assert result.elapsed == pytest.approx(SECONDS, abs=0.05)
    assert result.recorder.in_flight == 0


@undisturbed
async def test_poisson_arrivals_hit_the_rate_on_average():
    result = await run(TwoSteps, rate=4000, arrival="poisson", seed=11)
    # Poisson count over 0.25 s at 4000/s: sd ≈ 32, so ±10 % is > 3 sd.
    assert result.recorder.arrivals == pytest.approx(1000, rel=0.10)


class Paced(Scenario):
    """Eager (the default): runs as flights, outside any asyncio Task."""

    seen_tasks: ClassVar[list[object]] = []

    @task(1)
    async def get_sleep_get(self, s):
        Paced.seen_tasks.append(asyncio.current_task())
        await s.get("/")
        await asyncio.sleep(0.005)
        await s.get("/")


class InTasks(Paced):
    eager = False  # e.g. it uses asyncio.timeout(), which needs a Task

    seen_tasks: ClassVar[list[object]] = []

    @task(1)
    async def get_sleep_get(self, s):
        InTasks.seen_tasks.append(asyncio.current_task())
        async with asyncio.timeout(5):
            await s.get("/")
            await asyncio.sleep(0.005)
            await s.get("/")


@pytest.mark.parametrize("scenario", [Paced, InTasks])
@undisturbed
async def test_arrivals_run_as_flights_unless_the_scenario_opts_out(scenario):
    scenario.seen_tasks.clear()
    result = await run(scenario)
    rec = result.recorder
    assert rec.arrivals == N
    assert rec.tasks["get_sleep_get"].requests == 2 * rec.arrivals
    assert rec.errors() == {}
    assert rec.first_exception is None
    assert len(scenario.seen_tasks) == rec.arrivals
    if scenario.eager:
        assert set(scenario.seen_tasks) == {None}
    else:
        assert None not in scenario.seen_tasks
        assert len(set(scenario.seen_tasks)) == rec.arrivals  # a Task of its own each


class Mixed(Scenario):
    """One-shots beside a coroutine task."""

    @task(3)
    def shot(self):
        return Request.json("POST", "/x", {"n": self.rng.randint(0, 9)})

    @task(1)
    async def two(self, s):
        await s.get("/a")
        await s.get("/b")


class Wrong(Scenario):
    @task(1)
    def not_a_request(self):
        return "/"


@undisturbed
async def test_one_shots_and_coroutine_tasks_mix_in_one_run():
    client = MockClient()
    result = await run(Mixed, client, seed=3)
    rec = result.recorder
    shots, twos = rec.tasks["shot"].requests, rec.tasks["two"].requests
    assert shots + twos // 2 == N
    assert shots / N == pytest.approx(0.75, abs=0.1)
    assert rec.errors() == {} and rec.first_exception is None
    assert rec.in_flight == 0
    assert {r.path for r in client.sent} == {"/x", "/a", "/b"}
    assert all(r.body in (None, *(b'{"n":%d}' % n for n in range(10))) for r in client.sent)


@undisturbed
async def test_a_one_shot_that_returns_something_else_is_a_task_exception():
    result = await run(Wrong)
    rec = result.recorder
    assert rec.errors() == {"exception": N}
    assert "returns a Request" in (rec.first_exception or "")
    assert rec.in_flight == 0


@undisturbed
async def test_one_shots_wait_their_turn_when_the_pool_is_exhausted():
    # One connection, a server taking 10 ms per answer, RATE arrivals/s: most
    # arrivals find no free pooled connection and queue in the pool for it.
    async def slow(reader, writer):
        try:
            while True:
                await read_request(reader)
                await asyncio.sleep(0.01)
                writer.write(OK)
        except Exception:
            writer.close()

    class Static(Scenario):
        @task(1)
        def get(self):
            return Request("GET", "/")

    async with raw_server(slow) as url:
        result = await run(Static, FastClient(url, 1), url=url)
    rec = result.recorder
    assert rec.tasks["get"].requests == N
    assert rec.errors() == {}
    assert result.connections_opened == 1
    assert rec.max_in_flight > 10  # queued behind the one connection, not dropped


@undisturbed
async def test_what_the_server_received_is_what_was_recorded_retries_included():
    # Every fifth request the server reads is met with a closed connection,
    # nothing answered. Only an idempotent request on a reused connection may
    # go out again (once, and counted); a POST that met the reset is an error.
    received = {"GET": 0, "POST": 0}

    async def resets_every_fifth(reader, writer):
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head, _ = await read_request(reader)
                method = head.split(b" ", 1)[0].decode()
                received[method] += 1
                if sum(received.values()) % 5 == 0:
                    break  # hang up, unanswered
                writer.write(OK)
        writer.close()

    class Mix(Scenario):
        @task(2)
        def get(self):
            return Request("GET", "/")

        @task(2)
        def post(self):
            return Request.json("POST", "/", {"n": 1})

        @task(1)
        async def two_gets(self, s):
            await s.get("/")
            await s.get("/")

    async with raw_server(resets_every_fifth) as url:
        result = await run(Mix, FastClient(url, 8), url=url, seed=2)
    tasks = result.recorder.tasks
    sent = {"GET": 0, "POST": 0}
    for name, stats in tasks.items():
        sent["POST" if name == "post" else "GET"] += stats.requests + stats.retries
    assert received == sent  # every request the server saw is in the report
    assert tasks["post"].retries == 0 and tasks["post"].errors.get(SERVER_CLOSED, 0) > 0
    assert tasks["get"].retries + tasks["two_gets"].retries > 0
    summary = build_summary(result, {})
    assert summary["retries"] == sum(s.retries for s in tasks.values())
    assert summary["tasks"]["get"]["retries"] == tasks["get"].retries


class OneThenRaise(Scenario):
    @task(1)
    async def get_then_fail(self, s):
        await s.get("/")
        raise ValueError("the check after the request failed")


@undisturbed
async def test_a_task_that_raises_after_its_request_counts_the_request_once():
    result = await run(OneThenRaise)
    stats = result.recorder.tasks["get_then_fail"]
    assert stats.requests == N  # one per arrival: the exception is no request
    assert stats.errors == {"exception": N}  # but an error of the task
    summary = build_summary(result, {})
    assert summary["requests"] == N and summary["errors"]["rate"] == 1.0


class Exits(Scenario):
    @task(1)
    async def leave(self, s):
        await s.get("/")
        sys.exit(3)


class ExitsInTasks(Exits):
    eager = False


class ExitsAsOneShot(Scenario):
    @task(1)
    def leave(self):
        sys.exit(4)


@pytest.mark.parametrize("scenario", [Exits, ExitsInTasks, ExitsAsOneShot])
@undisturbed
async def test_sys_exit_in_a_task_ends_that_task_never_the_run(scenario):
    result = await run(scenario)
    stats = result.recorder.tasks["leave"]
    assert stats.errors == {"exception": N}
    assert "the task called sys.exit(" in result.recorder.first_exception
    assert result.elapsed == SECONDS and not result.interrupted


class Injecting(Scenario):
    @task(1)
    def shot(self):
        return Request("GET", "/x\r\nInjected: yes")

    @task(1)
    async def session(self, s):
        await s.get("/y", headers={"X-A": "1\r\nInjected: yes"})


@undisturbed
async def test_a_request_that_cannot_be_written_is_an_error_of_its_task_and_never_sent():
    seen = []

    async def recording(reader, writer):
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                seen.append((await read_request(reader))[0])
                writer.write(OK)

    async with raw_server(recording) as url:
        result = await run(Injecting, FastClient(url, 4), url=url, seed=1)
    tasks = result.recorder.tasks
    assert tasks["shot"].errors["exception"] + tasks["session"].errors["exception"] == N
    assert tasks["shot"].requests == 0 and seen == []
    assert "invalid request" in result.recorder.first_exception or "invalid value" in (
        result.recorder.first_exception
    )


class Rows(Scenario):
    """One request per arrival, carrying the next row of --data (or a drawn one)."""

    @task(1)
    def in_order(self):
        return Request("GET", f"/?row={self.data.next()['i']}")


class DrawnRows(Scenario):
    @task(1)
    def drawn(self):
        return Request("GET", f"/?row={self.data.random()['i']}")


ROWS = DataFile("rows.csv", tuple({"i": str(i)} for i in range(40)))


def rows_sent(client):
    return [int(r.path.rpartition("=")[2]) for r in client.sent]


@undisturbed
async def test_data_rows_are_sent_in_order_cycling():
    client = MockClient()
    await run(Rows, client, data=DataFile("rows.csv", ROWS.rows[:30]))
    assert rows_sent(client) == [i % 30 for i in range(N)]  # N = 100 arrivals: 3⅓ rounds


@undisturbed
async def test_shards_send_disjoint_rows_that_together_are_one_process_s():
    sent = []
    for index in range(2):
        client = MockClient()
        await run(Rows, client, data=ROWS, shard=(index, 2), seed=3)
        sent.append(rows_sent(client))
    # Shard i takes rows i, i+2, ... in order, cycling through its own.
    assert sent[0] == [(2 * k) % 40 for k in range(N // 2)]
    assert sent[1] == [(2 * k + 1) % 40 for k in range(N // 2)]
    assert {r % 2 for r in sent[0]} == {0} and {r % 2 for r in sent[1]} == {1}


@undisturbed
async def test_drawn_rows_repeat_with_the_seed_and_differ_without():
    runs = []
    for seed in (5, 5, 6):
        client = MockClient()
        await run(DrawnRows, client, data=ROWS, seed=seed)
        runs.append(rows_sent(client))
    assert runs[0] == runs[1] != runs[2]
    assert len(set(runs[0])) > 20  # drawn from all 40, not walked in order
    assert runs[0] != [i % 40 for i in range(N)]


@undisturbed
async def test_a_task_asking_for_rows_of_a_run_without_data_is_its_error():
    result = await run(Rows, seed=1)
    assert result.recorder.tasks["in_order"].errors["exception"] == N
    assert "run with --data FILE" in result.recorder.first_exception


class Checked(Scenario):
    @task(1)
    def add(self):
        return Request.json("POST", "/add", {"a": 1, "b": 2}, lambda r: r.expect(200, result=3))

    @task(1)
    async def login(self, s):
        r = await s.post("/login", json={})
        if r.json().get("token") is None:
            raise Failed("no token")  # ends the arrival: its next request is never sent
        await s.get("/home")


@pytest.mark.parametrize("eager", [True, False])
@undisturbed
async def test_wrong_answers_are_check_errors_of_their_tasks_and_still_timed(eager):
    client = MockClient(Reply(200, b'{"result":4}'))
    result = await run(type("C", (Checked,), {"eager": eager}), client, seed=2)
    rec = result.recorder
    add, login = rec.tasks["add"], rec.tasks["login"]
    assert add.requests + login.requests == N  # one request per arrival, none more
    assert add.errors == {"check": add.requests} and add.checks == {"wrong result": add.requests}
    assert login.errors == {"check": login.requests}
    assert login.checks == {"no token": login.requests}
    assert rec.total("response").get_total_count() == N  # every answer timed
    assert {r.path for r in client.sent} == {"/add", "/login"}
    summary = build_summary(result, {})
    assert summary["errors"]["by_kind"] == {"check": N} and summary["errors"]["rate"] == 1.0
    assert summary["errors"]["checks"] == {
        "add": {"wrong result": add.requests},
        "login": {"no token": login.requests},
    }


@undisturbed
async def test_right_answers_pass_their_checks():
    client = MockClient(lambda req: Reply(200, b'{"result":3,"token":"t"}'))
    result = await run(Checked, client, seed=2)
    assert result.recorder.errors() == {} and result.recorder.tasks["login"].requests > N / 4
    assert build_summary(result, {})["errors"]["checks"] == {}


class GetOneShotOrSession(Scenario):
    @task(1)
    def shot(self):
        return Request("GET", "/")

    @task(1)
    async def session(self, s):
        await s.get("/")


@undisturbed
async def test_refusals_with_retry_after_are_tallied_and_every_second_has_its_busy_time():
    refuse = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 0\r\n\r\n"
    unavailable = b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"  # no Retry-After

    async def handler(reader, writer):
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            for i in itertools.count():
                await read_request(reader)
                writer.write((OK, refuse, unavailable)[i % 3])
                await writer.drain()

    async with raw_server(handler) as url:
        result = await run(GetOneShotOrSession, FastClient(url, 1), url=url, rate=60, duration=1.0)
    summary = build_summary(result, {})
    by_kind = summary["errors"]["by_kind"]
    assert summary["errors"]["retry_after"] == {
        "responses": by_kind["http_429"],
        "values": {"2": by_kind["http_429"]},
    }
    assert by_kind["http_429"] >= 15 and by_kind["http_503"] >= 15
    responses = sum(iv["responses"] for iv in summary["timeline"])
    busy = sum(iv["busy_s"] for iv in summary["timeline"])
    mean_service_s = summary["latency_ms"]["service"]["mean"] / 1000
    assert busy == pytest.approx(responses * mean_service_s, rel=0.05)
    first_byte, body = summary["phases_ms"]["first_byte"], summary["phases_ms"]["body"]
    assert first_byte["p50"] is not None and body["p50"] is not None
    assert first_byte["max"] <= summary["latency_ms"]["service"]["max"] + 0.01
    for name in ("shot", "session"):
        task_min = summary["tasks"][name]["service_min_ms"]
        assert 0 < task_min <= summary["tasks"][name]["latency_ms"]["service"]["p50"]


@undisturbed
async def test_requests_whose_connection_never_opens_are_connect_timeouts():
    with full_backlog() as url:
        # Fewer arrivals than connections: each one's own connection hangs.
        result = await run(
            GetOneShotOrSession, FastClient(url, 64), url=url, rate=40, duration=0.5, timeout=0.3
        )
    rec = result.recorder
    errors = rec.errors()
    assert rec.arrivals >= 10 and errors == {CONNECT_TIMEOUT: rec.arrivals}
    assert rec.tasks["shot"].errors[CONNECT_TIMEOUT] > 0
    assert rec.tasks["session"].errors[CONNECT_TIMEOUT] > 0
