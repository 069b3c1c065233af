"""The FastAPI app: `server.main:app`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from server import fibonacci, legacy, metrics_port
from server.body_limit import BodyLimit
from server.config import InvalidSettings, Settings, get_settings
from server.logsetup import get_logger, hide_from_access_log
from server.metrics import METRICS_PATH, instrument, probing_event_loop_lag
from server.monitoring import flush_monitoring, init_monitoring, traced_addition
from server.request_models import (
    AdditionResult,
    FibonacciRequest,
    FibonacciResult,
    Message,
    Numbers,
)

logger = get_logger(__name__)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # Runs in each worker process once it serves, never in gunicorn's master:
    # the place for per-process resources such as Sentry's client. Settings are
    # read here first so that an invalid one stops the worker before it serves
    # (gunicorn then shuts down: a worker that fails to boot halts the master).
    try:
        settings = get_settings()
    except InvalidSettings as exc:
        logger.error("Refusing to start: %s", exc)
        raise
    init_monitoring(settings)
    # Scrapes are not load: access.log's request lines count only the load.
    hide_from_access_log(METRICS_PATH)
    # Under gunicorn (multiprocess mode) the master serves METRICS_PORT for every worker.
    off_loop = None
    if settings.metrics_port and not metrics_port.multiprocess_mode():
        off_loop = metrics_port.start(settings.metrics_host, settings.metrics_port)
    try:
        async with probing_event_loop_lag():
            yield
    finally:
        if off_loop is not None:
            off_loop.stop()
    flush_monitoring()


async def current_settings() -> Settings:
    # async so FastAPI calls it inline rather than in its threadpool per request.
    return get_settings()


SettingsDep = Annotated[Settings, Depends(current_settings)]

app = FastAPI(title="wagon-loadkit server", lifespan=lifespan)
app.add_middleware(BodyLimit, limit=lambda: get_settings().max_body_bytes)
# After BodyLimit, so outside it: a refused body is counted as a 413 too.
instrument(app)

# Answers FastAPI gives before validation, documented so that clients (and
# schemathesis) know them: a body Python's JSON parser gives up on (over
# 4 300 digits in a number, nesting past its recursion limit, bytes that are
# not UTF-8), and a body over the cap.
BODY_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A body that cannot be parsed as JSON at all"},
    413: {"description": "A body larger than MAX_BODY_BYTES (default 4096)"},
}


@app.exception_handler(RequestValidationError)
async def validation_failed(_request: Request, exc: RequestValidationError) -> JSONResponse:
    # FastAPI's default handler echoes each error's input, and Python's JSON
    # parser turns 1e400 or NaN into floats that JSON cannot encode back: that
    # 422 became a 500. Type, location and message say what is wrong without it.
    errors = [{k: v for k, v in error.items() if k != "input"} for error in exc.errors()]
    return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})


@app.get("/")
async def index() -> Message:
    return Message(message="Hello World!")


@app.post("/addNumbers", responses=BODY_ANSWERS)
async def add_numbers(numbers: Numbers, settings: SettingsDep) -> AdditionResult:
    with traced_addition(numbers.a, numbers.b):
        if settings.legacy_bugs:
            return AdditionResult(result=legacy.add_uint16(numbers.a, numbers.b))
        return AdditionResult(result=numbers.a + numbers.b)


@app.post("/computeFib", responses=BODY_ANSWERS)
async def compute_fib(request: FibonacciRequest, settings: SettingsDep) -> FibonacciResult:
    if settings.legacy_bugs:
        # The original bug on purpose: exponential work that blocks the event
        # loop, so every other request on this worker waits behind it.
        return FibonacciResult(result=fibonacci.compute(request.iteration))
    # Inline, not in a thread: even a cold call at MAX_ITERATION takes far less
    # than a threadpool hop would.
    result = fibonacci.compute_fast(request.iteration)
    logger.info("compute_fast cache: %s", fibonacci.compute_fast.cache_info())
    return FibonacciResult(result=result)


@app.get("/sentry")
async def sentry_test() -> None:
    raise Exception("Test sentry integration")
