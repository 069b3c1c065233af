"""The live page in a real Chromium (over the DevTools protocol): it draws the run as
it goes, its stop button and rate field work, and it says nothing on its console."""

import socket
import time

import pytest

from loadgen.report.dashboard_server import Live, serve
from tests.loadgen.report.test_dashboard import Run
from tests.loadgen.report.test_dashboard_server import a_second
from tests.support.cdp import Browser
from tests.support.cli import summary

# How soon after the run's start its first second must be on the page.
FIRST_SECOND_S = 2.0


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_draws_the_run_as_it_goes_changes_its_rate_and_stops_it(tmp_path):
    run = Run(tmp_path / "watched", "--rps", 40, "--duration", "60s", "--dashboard")
    browser = None
    try:
        url = run.url()  # printed before the bundled server starts: the page waits for it
        browser = Browser(url, tmp_path / "profile")
        browser.wait("+document.body.dataset.seconds >= 1", timeout=30, every=0.02)
        first_drawn = time.time()
        drawn = int(browser.eval("document.body.dataset.seconds"))
        # It keeps drawing, each second as it comes.
        browser.wait(f"+document.body.dataset.seconds >= {drawn + 2}", timeout=10)
        assert browser.eval("document.querySelectorAll('#rates polyline').length") == 3
        drawn_series = browser.eval(
            "[...document.querySelectorAll('[data-series]')].map(e => e.dataset.series).join()"
        ).split(",")
        for series in ("target", "achieved", "responses", "p50", "p99", "max", "in flight"):
            assert series in drawn_series
        # A rate that is none is said on the page, and nothing changes.
        browser.eval(
            "document.getElementById('rps').value = '-5';"
            "document.getElementById('rate').requestSubmit()"
        )
        said = browser.wait("document.getElementById('rate-msg').className === 'bad' && "
                            "document.getElementById('rate-msg').textContent")  # fmt: skip
        assert "above 0" in said
        browser.eval(
            "document.getElementById('rps').value = '80';"
            "document.getElementById('rate').requestSubmit()"
        )
        browser.wait("document.body.dataset.steps === '1'")
        # The new target is drawn: a second at 80/s on the rates chart's target line.
        browser.wait("document.querySelector('#rates .legend').textContent.includes('target: 80')")
        browser.eval("document.getElementById('stop').click()")
        browser.wait("document.body.dataset.ended === '1'", timeout=30)
        errors = list(browser.errors)  # before loadgen exits: then its page's polls fail
        assert run.wait(60) == 130, "".join(run.stderr)
    finally:
        if browser is not None:
            browser.close()
        run.kill()
    # The browser logs the answer to the bad rate (a 400, as it must be) as an error of
    # its network's: that one, and nothing else, no exception, no console.error.
    assert [e for e in errors if "status of 400" not in e] == []
    assert len(errors) == 1
    done = summary(run.out)
    started = done["run"]["started_at_epoch"]
    assert first_drawn - started <= FIRST_SECOND_S + 0.05  # its first second closes at 1 s
    [step] = done["run"]["rate_profile"]["steps"]
    assert step["rps"] == 80 and done["run"]["interrupted"]
    assert (run.out / "report.html").is_file()


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_draws_again_only_when_something_came(tmp_path):
    """A poll between two seconds draws nothing: the browser often sits on the same
    machine as the load, and its work there is not free."""
    live = Live("r")
    live.add({"tick": {**a_second([1, 2]), "target": 2.0}})
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        server = serve(live, sock, None, None)
        browser = Browser(f"http://127.0.0.1:{sock.getsockname()[1]}/", tmp_path / "profile")
        try:
            browser.wait("document.body.dataset.seconds === '1'")
            draws = browser.eval("document.body.dataset.draws")
            quiet_from = time.monotonic()
            while live.polled_at < quiet_from + 1.2:  # polls came, a second of them and more
                assert time.monotonic() < quiet_from + 10, "the page stopped polling"
                time.sleep(0.1)
            assert browser.eval("document.body.dataset.draws") == draws
            live.add({"tick": {**a_second([3]), "target": 2.0}})
            browser.wait("document.body.dataset.seconds === '2'")
            assert browser.eval("document.body.dataset.draws") == str(int(draws) + 1)
            assert browser.errors == []
        finally:
            browser.close()
            server.shutdown()
