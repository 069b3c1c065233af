"""capacity --dashboard: the search's levels on the live page as they are measured."""

import json
import re
import threading
import time

import pytest

from loadgen.report.dashboard_capacity import bracket
from tests.loadgen.report.test_dashboard import Run, dom_and_screenshot, get, wait_for


def test_the_bracket_is_the_highest_pass_and_the_lowest_failure_above_it():
    levels = [{"rps": 100, "verdict": "pass"}, {"rps": 400, "verdict": "fail"},
              {"rps": 200, "verdict": "pass"}, {"rps": 300, "verdict": "fail"},
              {"rps": 150, "verdict": "fail"}]  # fmt: skip
    assert bracket(levels) == {"passed": 200, "failed": 300}
    assert bracket(levels[:1]) == {"passed": 100, "failed": None}
    assert bracket([{"rps": 50, "verdict": "fail"}]) == {"passed": None, "failed": 50}


def state(base):
    return json.loads(get(f"{base}ticks"))


class Watch:
    """Polls /ticks until the dashboard goes (with loadgen): the last state it served."""

    def __init__(self, base):
        self.last = None
        self._thread = threading.Thread(target=self._poll, args=(base,), daemon=True)
        self._thread.start()

    def _poll(self, base):
        while True:
            try:
                self.last = state(base)
            except OSError:
                return
            time.sleep(0.02)

    def join(self):
        self._thread.join(10)
        return self.last


@pytest.mark.slow
@pytest.mark.browser
def test_a_capacity_search_draws_its_levels_as_they_come_and_its_answer(tmp_path):
    run = Run(tmp_path / "search", "capacity", "--level", "1s", "--start", 50, "--factor", 3,
              "--cooldown", "0.2", "--max-rps", 500, "--slo", "p99<=1s", "--dashboard")  # fmt: skip
    try:
        base = run.url()
        watch = Watch(base)
        mid = wait_for(lambda: len((s := state(base))["levels"]) >= 2 and s, timeout=60)
        assert mid["levels"][0] == {**mid["levels"][0], "rps": 50.0, "verdict": "pass"}
        assert mid["bracket"]["passed"] == 50.0 and mid["fixed"]
        shot = tmp_path / "capacity-live.png"
        dom = dom_and_screenshot(base, shot, tmp_path / "profile", "1280,1400")
        assert run.wait(90) in (0, 3, 4), "".join(run.stderr)  # found, none, or saturated
        done = watch.join()
    finally:
        run.kill()
    drawn = re.search(r'data-levels="(\d+)"', dom.stdout)
    assert drawn and int(drawn.group(1)) >= 1, dom.stderr[-2000:]
    assert 'data-level="50"' in dom.stdout and 'data-bracket="passed"' in dom.stdout
    # A search sets its own rates: no rate field.
    assert re.search(r"<form id=\"rate\" novalidate=\"\" hidden", dom.stdout)
    assert shot.is_file()
    # The page's levels and answer are the search's, as capacity.json keeps them (the
    # answer, the end and the link come last of all: the poll may miss them as loadgen exits).
    saved = json.loads((tmp_path / "search" / "capacity.json").read_text())
    if done["capacity"] is not None:
        assert done["capacity"]["answer"] == saved["answer"]
    if done["end"] is not None and done["end"]["report"] is not None:
        assert done["end"]["report"].endswith("capacity.html")
    page = [(lv["rps"], lv["verdict"], lv["p99_ms"]) for lv in done["levels"]]
    assert page == [(lv["target_rps"], lv["verdict"], lv["latency_ms"]["response"]["p99"])
                    for lv in saved["levels"]]  # fmt: skip
