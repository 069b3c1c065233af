"""A run's configuration, and the defaults every way of starting one shares.

The command line, a shard's job and code that builds a `RunConfig` itself all
take their defaults from this one block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from loadgen.core.rate_control import RateControl
from loadgen.core.rates import RateProfile
from loadgen.scenario.data import DataFile
from loadgen.transports.base import ClientOptions

if TYPE_CHECKING:
    from loadgen.scenario import Scenario

DURATION_S: Final = 30.0
ARRIVAL: Final = "constant"
TIMEOUT_S: Final = 10.0
CONNECTIONS: Final = 512
# With --http2: streams multiplex on few connections, as browsers and h2load do.
HTTP2_CONNECTIONS: Final = 4
CLIENT: Final = "fast"
WARMUP_S: Final = 0.0


@dataclass
class RunConfig:
    """One run (or one shard of it) as the engine takes it: the target, the load asked
    for (profile, duration, arrival process), the scenario, and how requests are sent.
    """

    target: str
    profile: RateProfile
    duration: float
    scenario: type[Scenario]
    arrival: str = ARRIVAL
    warmup: float = WARMUP_S
    timeout: float = TIMEOUT_S
    connections: int = CONNECTIONS
    client: str = CLIENT
    seed: int | None = None
    shard: tuple[int, int] = (0, 1)  # (index, count): this process's share of the arrivals
    start_at: float | None = None  # wall-clock epoch of the first arrival; None: now
    client_options: ClientOptions = field(default_factory=ClientOptions)  # headers, TLS
    data: DataFile | None = None  # --data: the rows; each shard takes its share (scenario/data.py)
    rate_control: RateControl | None = None  # the rate changed live (a run here, not shards)
