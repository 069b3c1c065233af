"""Shards' ticks, added up second by second for the one progress line of a spread run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from loadgen.measure.tick import Tick, add_responses, count_pairs

_SUMMED = ("arrivals", "responses", "errors", "total_arrivals", "in_flight")


def merge_ticks(ticks: Iterable[Tick]) -> Tick:
    """The same second of several shards: counts add (response and service times
    bucket by bucket, the time in service), the worst latency is the worst."""
    first, *rest = ticks
    out = dict(first)
    responses: Counter[int] = Counter()
    services: Counter[int] = Counter()
    add_responses(responses, first)
    add_responses(services, first, "service_counts")
    for t in rest:
        for key in _SUMMED:
            out[key] += t[key]
        for key in ("end", "length", "max_us"):
            out[key] = max(out[key], t[key])
        out["requests"] = out.get("requests", 0) + t.get("requests", 0)
        out["max_lag_us"] = max(out.get("max_lag_us", 0), t.get("max_lag_us", 0))
        kinds = Counter(out.get("errors_by_kind", {}))
        kinds.update(t.get("errors_by_kind", {}))
        out["errors_by_kind"] = dict(kinds)
        out["busy_s"] = out.get("busy_s", 0.0) + t.get("busy_s", 0.0)
        add_responses(responses, t)
        add_responses(services, t, "service_counts")
    out["response_counts"] = count_pairs(responses)
    out["service_counts"] = count_pairs(services)
    return out


class ShardTicks:
    """Collects shards' ticks; passes each second on once every live shard has sent it."""

    def __init__(self, shards: Iterable[int], on_tick: Callable[[Tick], None] | None) -> None:
        self.live = set(shards)
        self.pending: dict[float, dict[int, Tick]] = {}
        self.on_tick = on_tick

    def add(self, shard: int, t: Tick) -> None:
        """Shard `shard`'s tick; passes on each second that is now complete."""
        self.pending.setdefault(t["second"], {})[shard] = t
        self._complete()

    def lose(self, shard: int) -> None:
        """A shard ended (or died): stop waiting for it."""
        self.live.discard(shard)
        self._complete()

    def _complete(self) -> None:
        for second in sorted(self.pending):
            got = self.pending[second]
            if self.live <= set(got):
                del self.pending[second]
                if self.on_tick is not None:
                    self.on_tick(merge_ticks(got.values()))
