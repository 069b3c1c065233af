"""Scraping a Prometheus endpoint: the figures the diagnosis reads, and why a scrape fails."""

import pytest

from loadgen.measure.metrics_scrape import ScrapeError, parse, scrape
from server.launch import free_port
from tests.support.metrics import EXPOSITION, serving


def test_an_exposition_is_read_into_requests_time_and_loop_lag():
    s = parse(EXPOSITION)
    assert s.requests == {("/addNumbers", "2xx"): 60, ("/addNumbers", "5xx"): 40, ("/", "2xx"): 25}
    assert s.durations == {"/addNumbers": (0.2, 100.0)}
    assert s.in_progress == 3
    assert s.lag_buckets[2.5] == 100 and s.lag_buckets[0.001] == 90
    assert s.lag_max == {"101": 1.9, "102": 0.002}


def test_two_scrapes_give_the_interval_between_them():
    before = parse(EXPOSITION)
    later = EXPOSITION.replace("} 60.0", "} 70.0").replace(
        '_sum{handler="/addNumbers",method="POST"} 0.2',
        '_sum{handler="/addNumbers",method="POST"} 0.25',
    )
    later = later.replace(
        '_count{handler="/addNumbers",method="POST"} 100.0',
        '_count{handler="/addNumbers",method="POST"} 110.0',
    )
    later = later.replace('le="2.5"} 100.0', 'le="2.5"} 101.0').replace(
        'le="+Inf"} 100.0', 'le="+Inf"} 101.0'
    )
    interval = parse(later).since(before)
    assert interval["requests"] == {"/addNumbers": {"2xx": 10}}
    assert interval["server_ms"] == {"/addNumbers": pytest.approx(5.0)}  # 50 ms over 10
    assert interval["loop_lag_buckets_ms"] == {"1": 0, "100": 0, "2500": 1, "+Inf": 1}
    assert interval["loop_lag_max_ms"] == {"101": 1900.0, "102": 2.0}
    assert interval["in_progress"] == 3


def test_the_first_scrape_has_levels_but_no_counts():
    first = parse(EXPOSITION).since(None)
    assert "requests" not in first and "server_ms" not in first
    assert first["loop_lag_max_ms"]["101"] == 1900.0


def test_a_counter_that_went_down_was_reset_and_counts_whole():
    before = parse(EXPOSITION)
    restarted = parse(EXPOSITION.replace("} 25.0", "} 3.0"))
    assert restarted.since(before)["requests"] == {"/": {"2xx": 3}}


def test_text_that_is_not_an_exposition_is_refused():
    with pytest.raises(ValueError, match="not Prometheus text"):
        parse("<html><body>hello</body></html>\n{")


def test_a_scrape_over_http_reads_the_endpoint():
    with serving(200, EXPOSITION) as url:
        assert scrape(url, 2.0).lag_max["101"] == 1.9


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [(404, "no such page", "HTTP 404"), (200, "<html>{", "not Prometheus text")],
)
def test_a_failed_scrape_says_why(status, body, says):
    with serving(status, body) as url, pytest.raises(ScrapeError, match=says):
        scrape(url, 2.0)


def test_nothing_listening_is_a_scrape_error():
    with pytest.raises(ScrapeError, match="refused"):
        scrape(f"http://127.0.0.1:{free_port()}/metrics", 2.0)
