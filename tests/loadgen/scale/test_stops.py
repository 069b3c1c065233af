"""Catching the stop signals outside the engine: recorded, not fatal, handlers put back."""

import signal
import threading

import pytest

from loadgen.core.engine import STOP_SIGNALS
from loadgen.scale.stops import CatchStops


@pytest.fixture
def own_handlers():
    """A handler of the test's own for each stop signal (the caller's), put back after."""
    seen = []
    previous = {sig: signal.signal(sig, lambda s, f: seen.append(s)) for sig in STOP_SIGNALS}
    try:
        yield seen
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def test_a_stop_signal_in_the_block_is_recorded_not_fatal(own_handlers):
    with CatchStops() as stops:
        assert stops.first() is None
        for sig in STOP_SIGNALS:
            signal.raise_signal(sig)
    assert stops.received == list(STOP_SIGNALS)
    assert stops.first() == STOP_SIGNALS[0]
    assert own_handlers == []  # the caller's handlers were not called meanwhile


def test_each_signal_is_passed_on_as_it_comes():
    class Forwarding(CatchStops):
        def __init__(self):
            super().__init__()
            self.passed = []

        def on_signal(self, sig):
            self.passed.append((sig, list(self.received)))

    with Forwarding() as stops:
        signal.raise_signal(signal.SIGTERM)
        signal.raise_signal(signal.SIGINT)
    # Told at once, each after it is recorded.
    assert stops.passed == [
        (signal.SIGTERM, [signal.SIGTERM]),
        (signal.SIGINT, [signal.SIGTERM, signal.SIGINT]),
    ]


def test_the_previous_handlers_come_back_after_the_block(own_handlers):
    before = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    with CatchStops():
        assert all(signal.getsignal(sig) != before[sig] for sig in STOP_SIGNALS)
    assert {sig: signal.getsignal(sig) for sig in STOP_SIGNALS} == before
    signal.raise_signal(signal.SIGTERM)
    assert own_handlers == [signal.SIGTERM]  # the caller's handler again


def test_off_the_main_thread_it_catches_nothing_and_does_not_fail():
    before = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    outcome = []

    def elsewhere():
        try:
            with CatchStops() as stops:
                outcome.append({sig: signal.getsignal(sig) for sig in STOP_SIGNALS})
            outcome.append(stops.first())
        except Exception as e:  # what the thread would otherwise hide
            outcome.append(e)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join(5)
    assert outcome == [before, None]
