"""--dashboard: the option, its HOST:PORT, and the live page opened for `run` and `capacity`.

The address is bound as the command starts, before any load: a busy port or
an address not this machine's is misuse (one line, exit 2), and the page's
address is said on stderr (`live: URL`) at once.
"""

from __future__ import annotations

import argparse
import sys

from loadgen.commands.options.argtypes import UsageError
from loadgen.commands.options.groups import Group
from loadgen.core.rate_control import RateControl
from loadgen.core.rates import RateProfile
from loadgen.core.stepped_rate import SteppedRate
from loadgen.report.dashboard import Dashboard
from loadgen.report.dashboard_capacity import CapacityDashboard
from loadgen.scale.scaled import Scale


def dashboard_address(text: str) -> tuple[str, int]:
    """`--dashboard HOST:PORT` (`[::1]:PORT` for IPv6; port 0: a free one)."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]") if host.startswith("[") else host
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(
            f"--dashboard {text!r}: give HOST:PORT, e.g. 127.0.0.1:8089 (port 0: a free one)"
        )
    return host, int(port)


def add_dashboard_option(group: Group) -> None:
    """--dashboard [HOST:PORT]: the live page and /metrics while the run goes on."""
    add_address_option(
        group,
        "--dashboard",
        "serve a live page of the run and Prometheus /metrics while it goes on",
    )


def add_address_option(group: Group | argparse.ArgumentParser, flag: str, what: str) -> None:
    """An option that serves the page on [HOST:PORT]; `what` it does, in its help."""
    group.add_argument(
        flag,
        nargs="?",
        const=("127.0.0.1", 0),
        type=dashboard_address,
        metavar="HOST:PORT",
        help=f"{what} (default 127.0.0.1 on a free port; another address gets a token in the URL)",
    )


def open_dashboard(
    address: tuple[str, int] | None, run_id: str, profile: RateProfile, warmup: float, scale: Scale
) -> Dashboard | None:
    """`run --dashboard`'s page, bound now; None without --dashboard. A run here may
    have its rate changed from the page: its profile then takes steps."""
    if address is None:
        return None
    here = not scale.spread and scale.shard[1] == 1
    stepped = SteppedRate(profile)
    control = RateControl(stepped) if here else None
    why = "its shards run elsewhere: their rates are fixed when they start"
    host, port = address
    try:
        live = Dashboard(host, port, run_id, stepped if here else profile, warmup, control, why)
    except OSError as e:
        raise _cannot_listen(address, e) from None
    live.share = 1 / scale.shard[1]  # --shard i/N: this process sends 1/N of the profile
    print(f"live: {live.url}", file=sys.stderr, flush=True)
    return live


def open_capacity_dashboard(
    address: tuple[str, int] | None, run_id: str, warmup: float
) -> CapacityDashboard | None:
    """`capacity --dashboard`'s page, bound now; None without --dashboard."""
    if address is None:
        return None
    try:
        live = CapacityDashboard(*address, run_id, warmup)
    except OSError as e:
        raise _cannot_listen(address, e) from None
    print(f"live: {live.url}", file=sys.stderr, flush=True)
    return live


def _cannot_listen(address: tuple[str, int], e: OSError) -> UsageError:
    host, port = address
    return UsageError(f"--dashboard {host}:{port}: cannot listen there: {e.strerror or e}")
