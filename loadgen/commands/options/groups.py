"""The headings a load command's options are listed under in its --help.

One flat list of sixty options hides the few a first run needs; k6 and
Vegeta group theirs, and so does loadgen: argparse argument groups, in the
order a user looks for them. `capacity` shares most of them with `run` and
lists only its own (`hide`): the rest are a pointer to `loadgen run --help`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

Group = argparse._ArgumentGroup

# The headings in the order --help lists them.
HEADINGS = {
    "load": "load (the rate asked for, and how it is sent)",
    "target": "target (--host, or the bundled server started for the run)",
    "scenario": "scenario (what is sent)",
    "output": "output (a run's files and what is printed)",
    "slo": "SLO (what the run is judged by)",
    "scale": "scale-out (one run split into shards, merged exactly)",
    "tls": "TLS (https:// targets)",
    "sampling": "server sampling (the bundled server always; a --host target when asked)",
}


@dataclass(frozen=True)
class OptionGroups:
    """A parser's argument groups, one per heading of `HEADINGS`."""

    load: Group
    target: Group
    scenario: Group
    output: Group
    slo: Group
    scale: Group
    tls: Group
    sampling: Group


def option_groups(p: argparse.ArgumentParser) -> OptionGroups:
    """`p`'s groups, made in the order of `HEADINGS`."""
    return OptionGroups(**{name: p.add_argument_group(h) for name, h in HEADINGS.items()})


def hide(*groups: Group) -> None:
    """Leave these groups out of --help: their options still work (argparse
    drops a heading none of whose options has a help)."""
    for group in groups:
        for action in group._group_actions:
            action.help = argparse.SUPPRESS
