"""What a stalling server looks like to loadgen and to Locust, side by side.

Run by hand: `python bench/coordinated_omission.py` (after `make test` has
built .venv); prints a table. The target is the test suite's loopback
server (tests/support/http_server.py), freezing its whole process for STALL
seconds every PERIOD, as a stop-the-world pause or a blocked event loop does.

With arrivals at a constant rate, the fraction f = STALL/PERIOD of all
requests arrives during a freeze and waits out the rest of it (uniform on
(0, STALL)), so for q > 1 − f the response-time quantile a user feels is

    x(q) = STALL · (q − 1 + f) / f

(STALL 0.5 s, PERIOD 5 s: p95 = 250 ms, p99 = 450 ms). loadgen's response
time (from each request's intended send time) should match it. Locust's
cannot: a frozen Locust user sends nothing, so each freeze costs it one slow
request per user, not one per arrival. loadgen runs twice: with plenty of
connections every arrival is sent on time, so its service time (from the
actual send) sees the freeze too; capped at a few connections, arrivals queue
for one during a freeze, and service time then misses the wait that response
time counts, as a closed-loop tool's does.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.support.http_server import server_process  # noqa: E402

QUANTILES = (50.0, 95.0, 99.0, 99.9)


def analytic_ms(q: float, stall: float, period: float) -> float:
    f = stall / period
    return max(0.0, stall * (q / 100 - 1 + f) / f) * 1000


def loadgen_ms(
    url: str, rps: float, seconds: float, connections: int, out: Path
) -> dict[str, list[float]]:
    """loadgen's response- and service-time quantiles (ms), from its interval log."""
    subprocess.run(
        [sys.executable, "-m", "loadgen", "--host", url, "--rps", str(rps),
         "--duration", f"{seconds}s", "--scenario", f"{ROOT / 'bench' / 'static_get.py'}:StaticGet",
         "--connections", str(connections), "--out", str(out), "--quiet"],
        check=True, cwd=ROOT,
    )  # fmt: skip
    totals = {k: HdrHistogram(1, 3_600_000_000, 3) for k in ("response", "service")}
    reader = HistogramLogReader(str(out / "intervals.hlog"), HdrHistogram(1, 3_600_000_000, 3))
    while (h := reader.get_next_interval_histogram()) is not None:
        totals[h.get_tag().split(":")[0]].add(h)
    return {
        kind: [h.get_value_at_percentile(q) / 1000 for q in QUANTILES] for kind, h in totals.items()
    }


def locust_ms(url: str, users: int, seconds: float, prefix: Path) -> tuple[list[float], float]:
    """Locust FastHttpUser's response-time quantiles (ms) and its request rate."""
    subprocess.run(
        [str(Path(sys.executable).with_name("locust")),
         "-f", str(ROOT / "bench" / "locust_static.py"),
         "--headless", "-u", str(users), "-r", str(users), "-t", f"{int(seconds)}s", "-H", url,
         "--csv", str(prefix), "--only-summary"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    with open(f"{prefix}_stats.csv") as f:
        row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    columns = {50.0: "50%", 95.0: "95%", 99.0: "99%", 99.9: "99.9%"}
    return [float(row[columns[q]]) for q in QUANTILES], float(row["Requests/s"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stall", type=float, default=0.5, help="seconds frozen (0.5)")
    p.add_argument("--period", type=float, default=5.0, help="seconds between freezes (5)")
    p.add_argument("--rps", type=float, default=1000.0, help="loadgen's arrival rate (1000)")
    p.add_argument("--users", type=int, default=10, help="Locust users, no think time (10)")
    p.add_argument("--periods", type=int, default=4, help="freezes per run (4)")
    p.add_argument("--capped", type=int, default=10, help="loadgen's connections, capped (10)")
    args = p.parse_args()
    seconds = args.periods * args.period
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        loadgen = {}
        for connections in (512, args.capped):
            with server_process(args.stall, args.period) as url:
                out = work / f"loadgen-{connections}"
                loadgen[connections] = loadgen_ms(url, args.rps, seconds, connections, out)
        with server_process(args.stall, args.period) as url:
            theirs, locust_rps = locust_ms(url, args.users, seconds, work / "locust")
    print(f"server frozen {args.stall:g} s every {args.period:g} s, {seconds:g} s per run")
    print(f"loadgen: {args.rps:g} arrivals/s; Locust: {args.users} users, {locust_rps:.0f} req/s")
    columns = [("analytic", [analytic_ms(q, args.stall, args.period) for q in QUANTILES])]
    for connections, quantiles in loadgen.items():
        columns.append((f"response ({connections} c.)", quantiles["response"]))
        columns.append((f"service ({connections} c.)", quantiles["service"]))
    columns.append(("Locust", theirs))
    print(f"{'percentile':<11}" + "".join(f"{name:>20}" for name, _ in columns))
    for i, q in enumerate(QUANTILES):
        print(f"p{q:<10g}" + "".join(f"{values[i]:>17.1f} ms" for _, values in columns))


if __name__ == "__main__":
    main()
