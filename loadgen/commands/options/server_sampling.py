"""The options saying which of the target's own signals a load command samples.

The embedded server is always sampled: its process tree, its `/metrics` and
its error log. A `--host` target only when asked: `--server-metrics URL` (a
Prometheus endpoint) and `--server-pid PID` (a process on this machine, its
children counted as workers). The machine and loadgen's own CPU are sampled
on every run, with or without a source of the target's: "was it me?" (loadgen
out of CPU, or the machine busy with other work) needs them whatever the
target is. See measure/sampler.py; `commands/target.py` starts the sampling.

A `--server-pid` that does not look like a server (PID 1, the init of the
machine or container; or a process none of whose tree listens on a TCP port)
is warned of in one line and sampled all the same: the user may know better
(a server alone in a container is PID 1), but a typo would otherwise
describe the wrong process without a word.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from urllib.parse import urlsplit

import psutil

from loadgen.commands.options.argtypes import UsageError, positive_int
from loadgen.commands.options.groups import Group
from loadgen.report.secrets import redact_url


def add_server_signal_options(group: Group) -> None:
    """--server-metrics and --server-pid: what of a --host target is sampled."""
    group.add_argument(
        "--server-metrics",
        metavar="URL",
        help="a Prometheus endpoint of the target, scraped each second, e.g. "
        "http://127.0.0.1:8000/metrics",
    )
    group.add_argument(
        "--server-pid",
        type=positive_int,
        metavar="PID",
        help="the target's process on this machine (e.g. gunicorn's master), its CPU and "
        "memory sampled each second, its children counted as workers",
    )


def check_server_signal_options(args: argparse.Namespace) -> None:
    """Misuse, said before any load is sent."""
    given = [
        o
        for o, v in (("--server-metrics", args.server_metrics), ("--server-pid", args.server_pid))
        if v
    ]
    if given and not args.host:
        raise UsageError(
            f"{given[0]} is for a --host target: the embedded server is sampled already"
        )
    if args.server_metrics:
        parts = urlsplit(args.server_metrics)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            shown = redact_url(args.server_metrics)
            raise UsageError(f"--server-metrics must be an http:// or https:// URL, got {shown!r}")
    if args.server_pid and not psutil.pid_exists(args.server_pid):
        raise UsageError(f"--server-pid {args.server_pid}: no such process on this machine")
    doubt = not_a_server(args.server_pid) if args.server_pid else None
    if doubt:
        print(
            f"loadgen: warning: --server-pid {args.server_pid} {doubt}: is it the target's "
            "server? (sampled all the same)",
            file=sys.stderr,
        )


def not_a_server(pid: int) -> str | None:
    """Why process `pid` does not look like a server (None: it does, or we may not look).

    Listening sockets are read from /proc, which another user's process may
    not show: then nothing is said.
    """
    if pid == 1:
        return "is PID 1, the init of this machine or container"
    try:
        process = psutil.Process(pid)
        for p in (process, *process.children(recursive=True)):
            with contextlib.suppress(psutil.NoSuchProcess):  # a worker that just ended
                if any(c.status == psutil.CONN_LISTEN for c in p.net_connections(kind="tcp")):
                    return None
        return f"({process.name()}) listens on no TCP port"
    except (psutil.AccessDenied, psutil.NoSuchProcess):
        return None
