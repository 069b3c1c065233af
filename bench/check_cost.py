"""What do the default mix's checks cost the generator? Its sustained rate with and without.

Run by hand (`python bench/check_cost.py`); prints a table. The target,
bench/wagon_target.py on core 1, answers the bundled server's three
endpoints right (FastAPI's bytes) far faster than the server itself, so the
generator is what is measured. loadgen runs on core 0 over the ladder of
generator_max.py (achieved ≥ 99.5 %, send-lag p99 ≤ 1 ms, no errors: a
check that failed would count), twice: the default mix (`WagonMix`, which
checks every answer of /addNumbers and /computeFib), then the same requests
unchecked (bench/wagon_mix.py). Best of `--tries` for both alike.

Goal (issue 17): with its checks the default mix sustains at least 0.9× the
rate without them.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from generator_max import (
    GENERATOR_CORE,
    ROOT,
    TARGET_CORE,
    free_port,
    measurement_args,
    ratio_table,
    sustained_max,
    target_process,
)

SCENARIOS = {
    "default mix, checked": "loadgen.scenario.bundled.wagon:WagonMix",
    "the same, unchecked": f"{ROOT / 'bench' / 'wagon_mix.py'}:Unchecked",
}


@contextlib.contextmanager
def wagon_target() -> Iterator[str]:
    port = free_port()
    script = ROOT / "bench" / "wagon_target.py"
    with target_process([sys.executable, str(script), str(port)], f"http://127.0.0.1:{port}/"):
        yield f"http://127.0.0.1:{port}"


def attempt(scenario: str, url: str, rps: float, seconds: float, workdir: Path) -> tuple:
    """One loadgen run of `scenario`: (achieved req/s, send-lag p99 ms, sustained)."""
    out = workdir / f"{scenario.rpartition(':')[2]}-{int(rps)}"
    subprocess.run(
        ["taskset", "-c", GENERATOR_CORE, sys.executable, "-m", "loadgen", "--host", url,
         "--rps", str(rps), "--duration", f"{seconds}s", "--warmup", "1s",
         "--scenario", scenario, "--connections", "256", "--out", str(out), "--force",
         "--quiet"],
        check=True, cwd=ROOT,
    )  # fmt: skip
    s = json.loads((out / "summary.json").read_text())
    if s["errors"]["by_kind"].get("check"):
        raise RuntimeError(f"the target answered wrong: {s['errors']['checks']}")
    lag = s["generator"]["send_lag_ms"]["p99"]
    sustained = s["achieved_rps"] >= 0.995 * rps and lag <= 1.0 and s["errors"]["total"] == 0
    return s["achieved_rps"], lag, sustained


def main() -> None:
    args = measurement_args(__doc__)
    with tempfile.TemporaryDirectory() as tmp, wagon_target() as url:
        work = Path(tmp)
        print(f"target: bench/wagon_target.py on core {TARGET_CORE}; loadgen on core "
              f"{GENERATOR_CORE}")  # fmt: skip
        rates = {}
        for name, scenario in SCENARIOS.items():
            rates[name], _ = sustained_max(
                name, partial(attempt, scenario), url, args.seconds, work, args.tries
            )
    ratio_table(rates, "the same, unchecked", ("checked ≥ 0.9× unchecked", 0.9))


if __name__ == "__main__":
    main()
