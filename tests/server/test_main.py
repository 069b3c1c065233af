"""The endpoints through the ASGI app, fixed and legacy."""

import logging
import time

import anyio
import anyio.from_thread
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.fibonacci import MAX_ITERATION
from server.main import app
from server.request_models import INT64_MAX, INT64_MIN

pytestmark = pytest.mark.anyio

int64 = st.integers(min_value=INT64_MIN, max_value=INT64_MAX)


def fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


async def test_index(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello World!"}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, 2),
        (-150, 150),
        (-1, -1),  # negative: the original's uint16 crashed
        (65535, 1),  # past uint16: the original crashed
        (INT64_MAX, INT64_MAX),  # the sum leaves int64 and stays exact
        (INT64_MIN, INT64_MIN),
        (INT64_MIN, INT64_MAX),
    ],
)
async def test_add_numbers_adds_any_int64(client: httpx.AsyncClient, a: int, b: int) -> None:
    response = await client.post("/addNumbers", json={"a": a, "b": b})
    assert response.status_code == 200
    assert response.json() == {"result": a + b}


def test_add_numbers_property() -> None:
    """Every pair of int64 adds exactly; every value beyond int64 is a 422."""
    with anyio.from_thread.start_blocking_portal() as portal:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

        def post(body: dict[str, int]) -> httpx.Response:
            async def call() -> httpx.Response:
                return await client.post("/addNumbers", json=body)

            return portal.call(call)

        @settings(max_examples=150, deadline=None)
        @given(a=int64, b=int64)
        def adds(a: int, b: int) -> None:
            response = post({"a": a, "b": b})
            assert response.status_code == 200
            assert response.json() == {"result": a + b}

        beyond = st.one_of(
            st.integers(max_value=INT64_MIN - 1), st.integers(min_value=INT64_MAX + 1)
        )

        @settings(max_examples=50, deadline=None)
        @given(a=beyond, b=int64)
        def refuses(a: int, b: int) -> None:
            response = post({"a": a, "b": b})
            assert response.status_code == 422
            assert response.json()["detail"][0]["loc"] == ["body", "a"]

        try:
            adds()
            refuses()
        finally:
            portal.call(client.aclose)


@pytest.mark.parametrize(
    ("body", "loc", "error_type"),
    [
        ({"a": 2**63, "b": 1}, ["body", "a"], "less_than_equal"),
        ({"a": 1, "b": -(2**63) - 1}, ["body", "b"], "greater_than_equal"),
        ({"a": 1.5, "b": 1}, ["body", "a"], "int_type"),
        ({"a": 1.0, "b": 1}, ["body", "a"], "int_type"),  # lax pydantic would take it
        ({"a": "1", "b": 1}, ["body", "a"], "int_type"),
        ({"a": "one", "b": 1}, ["body", "a"], "int_type"),
        ({"a": True, "b": 1}, ["body", "a"], "int_type"),
        ({"a": None, "b": 1}, ["body", "a"], "int_type"),
        ({"a": 1}, ["body", "b"], "missing"),
        ({}, ["body", "a"], "missing"),
        ([1, 2], ["body"], "model_attributes_type"),
    ],
)
async def test_add_numbers_refuses_bad_input(
    client: httpx.AsyncClient, body: object, loc: list[object], error_type: str
) -> None:
    response = await client.post("/addNumbers", json=body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert {"loc": loc, "type": error_type} in [
        {"loc": e["loc"], "type": e["type"]} for e in errors
    ]
    assert all(e["msg"] for e in errors)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": 1e400, "b": 1}',  # Python's parser yields inf, which JSON cannot echo back
        b'{"a": NaN, "b": 1}',
        b'{"a": -Infinity, "b": 1}',
        b'{"a": 1, "b": 2',  # truncated
        b"",
        b"null",
    ],
)
async def test_add_numbers_malformed_json_is_422(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post(
        "/addNumbers", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": 1' + b"0" * 5000 + b', "b": 1}',  # beyond Python's 4300-digit int parsing
        b"[" * 100_000,  # beyond the JSON parser's recursion limit
    ],
)
async def test_add_numbers_unparseable_body_is_a_client_error(
    client: httpx.AsyncClient, raw: bytes
) -> None:
    # FastAPI answers 400 when Python's JSON parser itself gives up: still never a 500.
    response = await client.post(
        "/addNumbers", content=raw, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("n", [0, 1, 2, 10, 30, 93, 1000, MAX_ITERATION])
async def test_compute_fib(client: httpx.AsyncClient, n: int) -> None:
    response = await client.post("/computeFib", json={"iteration": n})
    assert response.status_code == 200
    assert response.json() == {"result": fib(n)}


@pytest.mark.parametrize(
    "body",
    [
        {"iteration": -1},
        {"iteration": MAX_ITERATION + 1},
        {"iteration": 10**30},  # the cap is what keeps a CPU from being pinned
        {"iteration": 3.0},
        {"iteration": "10"},
        {},
    ],
)
async def test_compute_fib_refuses_bad_input(client: httpx.AsyncClient, body: object) -> None:
    response = await client.post("/computeFib", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "iteration"]


async def test_compute_fib_logs_cache_state(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gunicorn.error"):
        await client.post("/computeFib", json={"iteration": 25})
        await client.post("/computeFib", json={"iteration": 25})
    lines = [r.getMessage() for r in caplog.records if "compute_fast cache" in r.getMessage()]
    assert len(lines) == 2
    assert all(r.levelno == logging.INFO for r in caplog.records if "compute_fast" in r.msg)
    assert "CacheInfo(hits=" in lines[-1]


async def test_sentry_endpoint_raises(client: httpx.AsyncClient) -> None:
    response = await client.get("/sentry")
    assert response.status_code == 500


@pytest.mark.parametrize(
    ("a", "b", "status"),
    [
        (1, 2, 200),
        (0, 65535, 200),
        (-1, 2, 500),  # numpy.uint16(-1) raised OverflowError
        (65536, 0, 500),
        (65535, 1, 500),  # the uint16 sum overflowed
        (30000, 40000, 500),
    ],
)
async def test_legacy_add_numbers_keeps_uint16_bugs(
    legacy_client: httpx.AsyncClient, a: int, b: int, status: int
) -> None:
    response = await legacy_client.post("/addNumbers", json={"a": a, "b": b})
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"result": a + b}


async def test_legacy_compute_fib_uses_slow_recursion(
    legacy_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gunicorn.error"):
        response = await legacy_client.post("/computeFib", json={"iteration": 20})
    assert response.json() == {"result": fib(20)}
    # The legacy path does not touch compute_fast, so it logs no cache state.
    assert not [r for r in caplog.records if "compute_fast" in r.getMessage()]


async def test_legacy_compute_fib_blocks_the_event_loop(legacy_client: httpx.AsyncClient) -> None:
    """The original bug, kept on purpose: while fib runs, nothing else on the loop does."""
    finished: dict[str, float] = {}

    async def slow() -> None:
        await legacy_client.post("/computeFib", json={"iteration": 26})
        finished["fib"] = time.monotonic()

    async def ticker() -> None:
        await anyio.sleep(0.01)  # scheduled to wake long before fib(26) ends
        finished["tick"] = time.monotonic()

    async with anyio.create_task_group() as tg:
        tg.start_soon(slow)
        tg.start_soon(ticker)
    assert finished["tick"] >= finished["fib"]


async def test_the_schema_documents_every_answer_before_validation(
    client: httpx.AsyncClient,
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/addNumbers", "/computeFib"):
        assert {"200", "400", "413", "422"} <= set(paths[path]["post"]["responses"])
