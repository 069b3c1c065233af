"""--fail-if bounds: their grammar, and when a crossed one fails the gate."""

import pytest

from loadgen.report.regression import BoundError, check, parse_bound
from loadgen.report.significance import Difference


@pytest.mark.parametrize(
    ("text", "key", "op", "limit", "unit"),
    [
        ("p99>+10%", "p99", ">", 10.0, "%"),
        ("p99 > +10 %", "p99", ">", 10.0, "%"),
        ("service:p90>+2ms", "service:p90", ">", 2.0, "ms"),
        ("max>=0.5s", "max", ">=", 500.0, "ms"),
        ("mean>+250us", "mean", ">", 0.25, "ms"),
        ("p50>+3", "p50", ">", 3.0, "ms"),  # a latency's unit defaults to ms
        ("errors>+0.5pp", "errors", ">", 0.5, "pp"),
        ("rps<-5%", "rps", "<", -5.0, "%"),
        ("rps<5%", "rps", "<", -5.0, "%"),  # a fall, however written
        ("throughput<-20/s", "throughput", "<", -20.0, "/s"),
    ],
)
def test_bounds(text, key, op, limit, unit):
    b = parse_bound(text)
    assert (b.key(), b.op, b.limit, b.unit) == (key, op, pytest.approx(limit), unit)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p99 10%", "not a bound"),
        ("p99>+10%%", "not a bound"),
        ("p95>+10%", "no metric 'p95'"),
        ("latency>+1ms", "no metric 'latency'"),
        ("errors>+1%", "errors change in percentage points: write errors>+1pp"),
        ("p99>+1pp", "pp (percentage points) is for errors"),
        ("rps>+1ms", "rps takes % or /s"),
        ("p99>+1/s", "a latency takes %, us, ms or s"),
        ("p99>-10%", "a rise (>) takes a + change"),
        ("rps<+5%", "a fall (<) takes a - change"),
        ("service:rps<-5%", "only go with latencies"),
    ],
)
def test_misuse_is_said_in_one_line(text, message):
    with pytest.raises(BoundError) as e:
        parse_bound(text)
    assert message in str(e.value) and "\n" not in str(e.value)


def diff(relative, significant, p=0.01):
    change = 10 * relative
    return Difference(10.0, 10 + change, change, (change - 1, change + 1), relative,
                      (relative - 0.1, relative + 0.1), p, significant)  # fmt: skip


LABELS, SIZES = ("base", "new"), (10, 10)


def test_a_bound_fails_only_when_crossed_beyond_the_noise_unless_strict():
    b = parse_bound("p99>+10%")
    assert check(b, diff(0.3, True), False, LABELS, SIZES).failed
    within = check(b, diff(0.3, False, p=0.2), False, LABELS, SIZES)
    assert within.crossed and not within.failed
    assert "within the noise (p=0.2): not failed (--strict would fail it)" in within.line(False)
    assert check(b, diff(0.3, False, p=0.2), True, LABELS, SIZES).failed  # --strict
    # Beyond the noise but within the bound: a change, not a regression.
    assert not check(b, diff(0.05, True), False, LABELS, SIZES).crossed


def test_a_crossed_bound_with_too_few_seconds_is_not_judged_never_passed():
    b = parse_bound("p99>+10%")
    c = check(b, diff(0.3, None, p=None), False, LABELS, (3, 10))
    assert c.unjudged and not c.failed
    assert "too few intervals to tell it from noise (base has 3, new has 10" in c.line(False)
    assert check(b, diff(0.3, None, p=None), True, LABELS, (3, 10)).failed  # --strict judges it
    assert check(b, None, False, LABELS, (0, 10)).unjudged == "no p99 in one of the runs"
