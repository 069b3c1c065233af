"""The target rate changed from another thread, applied on the run's loop as a step."""

import asyncio
import threading
import time

import pytest

from loadgen.core.issuer import Issuer
from loadgen.core.pacer import ConstantPacer
from loadgen.core.rate_control import RateControl
from loadgen.core.rates import ConstantRate
from loadgen.core.stepped_rate import SteppedRate

pytestmark = pytest.mark.anyio


async def test_a_change_from_another_thread_steps_the_rate_from_that_moment():
    sent: list[float] = []
    profile = SteppedRate(ConstantRate(20))
    control = RateControl(profile)
    t0 = time.perf_counter()
    issuer = Issuer(ConstantPacer(profile), t0, 0.0, 1.0, lambda at, m: sent.append(at - t0))
    control.attach(asyncio.get_running_loop(), issuer, t0)
    issuer.start()
    await asyncio.sleep(0.3)
    asked = time.perf_counter() - t0
    answers: list[str | None] = []
    changer = threading.Thread(target=lambda: answers.append(control.change(200)))
    changer.start()
    changer.join()
    await issuer.done
    control.detach()
    assert answers == [None]
    [(at, rps)] = profile.steps
    assert rps == 200 and asked <= at < 1.0  # from when the loop took it
    before = [t for t in sent if t < at]
    after = [t for t in sent if t >= at]
    assert len(before) == pytest.approx(20 * at, abs=1.01)
    # Those due before the window's end and not sent by then (a busy machine) count.
    assert len(after) + issuer.unsent == pytest.approx(200 * (1 - at), abs=1.01)
    assert sent == sorted(sent)  # one schedule, none sent twice
    assert control.change(50) == "the run is not sending: its rate cannot change"


async def test_a_bad_rate_is_said_and_nothing_is_handed_over():
    control = RateControl(SteppedRate(ConstantRate(20)))
    assert "above 0" in (control.change(-5) or "")
    assert control.profile.steps == []
