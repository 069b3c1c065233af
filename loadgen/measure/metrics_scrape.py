"""One scrape of a Prometheus endpoint, reduced to what the diagnosis reads.

The bundled server's `/metrics` (docs/server.md), or any service exporting
prometheus-fastapi-instrumentator's names:

    http_requests_total{handler, status}        counter    requests by endpoint and status class
    http_request_duration_seconds{handler}      histogram  its _sum/_count: mean time per endpoint
    http_requests_inprogress                    gauge      requests being served (summed)
    event_loop_lag_seconds{le}                  histogram  how late the event loop ran a callback
    event_loop_lag_max_seconds{pid}             gauge      worst lag of the last seconds, per worker

Counters are cumulative: `Scrape.since(earlier)` turns two scrapes into the
figures of the interval between them. A name the target does not export is
simply absent from the result.
"""

from __future__ import annotations

import math
import urllib.error
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

# A scrape larger than this is not a metrics page (or not one worth reading each second).
MAX_BYTES = 8 * 1024 * 1024


class ScrapeError(Exception):
    """Why a scrape gave nothing (said once in the report, as missing samples)."""


@dataclass
class Scrape:
    """What one scrape of a Prometheus endpoint read, as read: the counters and
    gauges the server signals use. `since` makes an interval of two.
    """

    requests: dict[tuple[str, str], float] = field(default_factory=dict)  # (handler, status)
    durations: dict[str, tuple[float, float]] = field(default_factory=dict)  # handler → (s, n)
    in_progress: float | None = None
    lag_buckets: dict[float, float] = field(default_factory=dict)  # upper bound s → count
    lag_max: dict[str, float] = field(default_factory=dict)  # worker pid ("" if one) → s

    def since(self, earlier: Scrape | None) -> dict[str, Any]:
        """The interval since `earlier` as plain data (ms); counters need an earlier scrape.

        A counter lower than before was reset (its process restarted): its
        whole value is then the interval's.
        """
        out: dict[str, Any] = {}
        if self.in_progress is not None:
            out["in_progress"] = self.in_progress
        if self.lag_max:
            out["loop_lag_max_ms"] = {w: round(1000 * s, 3) for w, s in self.lag_max.items()}
        if earlier is None:
            return out
        requests: dict[str, dict[str, float]] = defaultdict(dict)
        for (handler, status), n in self.requests.items():
            delta = _delta(n, earlier.requests.get((handler, status), 0.0))
            if delta:
                requests[handler][status] = delta
        if requests:
            out["requests"] = dict(requests)
        server_ms = {}
        for handler, (seconds, count) in self.durations.items():
            before_s, before_n = earlier.durations.get(handler, (0.0, 0.0))
            if count < before_n:  # reset
                before_s, before_n = 0.0, 0.0
            if count > before_n:
                server_ms[handler] = round(1000 * (seconds - before_s) / (count - before_n), 3)
        if server_ms:
            out["server_ms"] = server_ms
        lag = {
            bound: _delta(n, earlier.lag_buckets.get(bound, 0.0))
            for bound, n in self.lag_buckets.items()
        }
        if any(lag.values()):
            out["loop_lag_buckets_ms"] = {_bound_ms(b): n for b, n in sorted(lag.items())}
        return out


def _delta(now: float, before: float) -> float:
    return now - before if now >= before else now


def _bound_ms(bound: float) -> str:
    """A bucket's upper bound as a JSON key: milliseconds, or "+Inf"."""
    return "+Inf" if math.isinf(bound) else f"{1000 * bound:g}"


def parse(text: str) -> Scrape:
    """The figures of one Prometheus text exposition. ValueError if it is not one."""
    scrape = Scrape()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and friends on bad input
        raise ValueError(f"not Prometheus text: {e}") from None
    for family in families:
        for s in family.samples:
            labels, value = s.labels, float(s.value)
            if s.name == "http_requests_total":
                key = (labels.get("handler", ""), labels.get("status", ""))
                scrape.requests[key] = scrape.requests.get(key, 0.0) + value
            elif s.name in (
                "http_request_duration_seconds_sum",
                "http_request_duration_seconds_count",
            ):
                handler = labels.get("handler", "")
                seconds, count = scrape.durations.get(handler, (0.0, 0.0))
                if s.name.endswith("_sum"):
                    seconds += value
                else:
                    count += value
                scrape.durations[handler] = (seconds, count)
            elif s.name == "http_requests_inprogress":
                scrape.in_progress = (scrape.in_progress or 0.0) + value
            elif s.name == "event_loop_lag_seconds_bucket":
                bound = float(labels.get("le", "inf"))
                scrape.lag_buckets[bound] = scrape.lag_buckets.get(bound, 0.0) + value
            elif s.name == "event_loop_lag_max_seconds":
                scrape.lag_max[labels.get("pid", "")] = value
    return scrape


def scrape(url: str, timeout: float) -> Scrape:
    """GET `url` and parse it. ScrapeError says why nothing came of it."""
    # No proxies: a metrics endpoint is usually next to the target, not behind the proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            body = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as e:
        raise ScrapeError(f"{url}: HTTP {e.code}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise ScrapeError(f"{url}: {reason}") from None
    if len(body) > MAX_BYTES:
        raise ScrapeError(f"{url}: larger than {MAX_BYTES // (1024 * 1024)} MiB")
    try:
        return parse(body.decode("utf-8", errors="replace"))
    except ValueError as e:
        raise ScrapeError(f"{url}: {e}") from None
