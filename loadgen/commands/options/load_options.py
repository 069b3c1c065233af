"""What every load-sending command shares: target, client and scenario options,
the embedded server, and turning parsed options into a `RunConfig`.

`loadgen run` and `loadgen capacity` both send load; they differ only in the
rates they ask for and what they make of the results.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from loadgen.commands.options.argtypes import (
    UsageError,
    byte_size,
    duration,
    env_pair,
    header,
    out_dir,
    positive_duration,
    positive_int,
)
from loadgen.commands.options.groups import Group, OptionGroups
from loadgen.core import config as defaults
from loadgen.core.config import RunConfig
from loadgen.core.rates import RateProfile
from loadgen.report.secrets import redact_env, redact_url
from loadgen.report.summary_contract import DataInfo, RunInfo, TargetsInfo, Tls
from loadgen.scale.scaled import Scale
from loadgen.scenario.base import Scenario
from loadgen.scenario.data import DataFile, load_data
from loadgen.scenario.loading import DEFAULT_SCENARIO, load_scenario
from loadgen.scenario.targets_file import TargetsScenario, parse_targets, targets_scenario
from loadgen.transports.base import HTTP2_FALLBACK, HTTP2_MODES, HTTP2_ONLY, ClientOptions
from loadgen.transports.factory import CLIENTS
from loadgen.transports.models import DEFAULT_MAX_BODY, size_text
from loadgen.transports.tls import tls_context


class _Given(argparse.Action):
    """Stores the value and that it was given (`--http2` has a default of its own)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_given", True)


def add_load_options(groups: OptionGroups) -> None:
    """The options of every command that sends load, under their headings: the
    target and the client (`target`), how requests are sent (`load`), what is
    sent (`scenario`), and TLS.
    """
    target, load = groups.target, groups.load
    target.add_argument(
        "--host",
        metavar="URL",
        help="target base URL, e.g. http://127.0.0.1:8000; omitted: start the bundled "
        "server on a free loopback port and test that",
    )
    load.add_argument(
        "--arrival",
        choices=("constant", "poisson"),
        default=defaults.ARRIVAL,
        help="evenly spaced arrivals, or a Poisson process with the same mean "
        f"(default {defaults.ARRIVAL})",
    )
    load.add_argument(
        "--connections",
        type=positive_int,
        default=defaults.CONNECTIONS,
        action=_Given,
        metavar="N",
        help="max open keep-alive connections; requests beyond wait for one, their latency "
        f"still counted from the intended time (default {defaults.CONNECTIONS}; "
        f"{defaults.HTTP2_CONNECTIONS} with --http2, each carrying many streams)",
    )
    load.add_argument(
        "--timeout",
        type=positive_duration,
        default=defaults.TIMEOUT_S,
        help="per-request timeout, counted from the intended send time "
        f"(default {defaults.TIMEOUT_S:g}s)",
    )
    load.add_argument(
        "--warmup",
        type=duration,
        default=defaults.WARMUP_S,
        help=f"send for this long first without recording (default {defaults.WARMUP_S:g})",
    )
    load.add_argument(
        "--seed", type=int, help="random seed for arrivals and request bodies (default: random)"
    )
    target.add_argument(
        "--client",
        choices=CLIENTS,
        default=defaults.CLIENT,
        help="fast: our client, http and https, HTTP/1.1 or with --http2 HTTP/2 (default); "
        "httpx: httpx's, HTTP/2 when ALPN agrees",
    )
    target.add_argument(
        "--http2",
        nargs="?",
        const=HTTP2_ONLY,
        default="",
        choices=HTTP2_MODES,
        metavar="fallback",
        help="speak HTTP/2: h2 by ALPN on https://, h2c (prior knowledge) on http://; its "
        "streams multiplex on --connections connections, up to the server's "
        "SETTINGS_MAX_CONCURRENT_STREAMS each. --http2=fallback: HTTP/1.1 when the server's "
        "ALPN refuses h2 (the report says which was spoken); plain --http2 fails then",
    )
    target.add_argument(
        "--header",
        type=header,
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a header for every request, repeatable, e.g. 'Authorization: Bearer ...'; "
        "one named Host or User-Agent replaces loadgen's",
    )
    target.add_argument(
        "--max-body",
        type=byte_size,
        default=DEFAULT_MAX_BODY,
        metavar="SIZE",
        help="the most of a response body held, e.g. 512KiB; a longer one closes its "
        f"connection and is a body_too_large error (default {size_text(DEFAULT_MAX_BODY)})",
    )
    _add_server_options(target)
    _add_tls_options(groups.tls)
    _add_scenario_options(groups.scenario)


def _add_server_options(target: Group) -> None:
    """The bundled server's options: used when --host is omitted."""
    target.add_argument(
        "--server",
        choices=("gunicorn", "uvicorn"),
        default="gunicorn",
        help="without --host: the bundled server under gunicorn with uvicorn workers "
        "(default; the exercise's task 2) or one uvicorn process (task 1)",
    )
    target.add_argument(
        "--server-workers",
        type=positive_int,
        metavar="N",
        help="gunicorn worker processes (default 2; uvicorn runs 1)",
    )
    target.add_argument(
        "--server-env",
        type=env_pair,
        action="append",
        default=[],
        metavar="K=V",
        help="environment for the bundled server, repeatable, e.g. LEGACY_BUGS=1",
    )
    target.add_argument(
        "--server-log-dir",
        type=out_dir,
        metavar="DIR",
        help="where the bundled server writes its logs (default: the run's folder's server-logs/)",
    )


def _add_tls_options(tls: Group) -> None:
    tls.add_argument(
        "--ca-cert",
        metavar="FILE",
        help="trust this CA (PEM) besides the system's, e.g. a self-signed staging certificate",
    )
    tls.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the target's certificate (the reports say so)",
    )
    tls.add_argument("--client-cert", metavar="FILE", help="a client certificate (mutual TLS)")
    tls.add_argument(
        "--client-key", metavar="FILE", help="its private key, if not in the cert file"
    )


def _add_scenario_options(scenario: Group) -> None:
    mix = scenario.add_mutually_exclusive_group()
    mix.add_argument(
        "--scenario",
        default=DEFAULT_SCENARIO,
        metavar="MODULE:CLASS",
        help=f"task mix to replay, module:Class or file.py:Class (default {DEFAULT_SCENARIO})",
    )
    mix.add_argument(
        "--targets",
        metavar="FILE",
        help="requests to send instead of a scenario, in Vegeta's http targets format: "
        "'METHOD URL', header lines 'Name: value', '@body-file', a blank line between "
        "targets, '# weight: N' before one to weigh it; URLs of --host's origin, or paths "
        "(GET /); - reads standard input",
    )
    scenario.add_argument(
        "--data",
        metavar="FILE",
        help="rows for the scenario's tasks (self.data.next(), self.data.random()): a CSV "
        "file with a header row, or JSON Lines; read once before the run; shard I of N "
        "takes rows I, I+N, ...",
    )


# Options that are the RunConfig's fields as they are.
_AS_IN_CONFIG = ("arrival", "warmup", "timeout", "connections", "client")


@dataclass
class LoadOptions:
    """Validated load options; `config()` makes a run of them."""

    args: argparse.Namespace
    scenario: type[Scenario]
    seed: int
    client_options: ClientOptions
    data: DataFile | None = None

    def config(self, url: str, profile: RateProfile, seconds: float) -> RunConfig:
        """A run of these options against `url`, at `profile`, for `seconds`."""
        options = {name: getattr(self.args, name) for name in _AS_IN_CONFIG}
        return RunConfig(
            target=url,
            profile=profile,
            duration=seconds,
            scenario=self.scenario,
            seed=self.seed,
            client_options=self.client_options,
            data=self.data,
            **options,
        )

    def check_shards(self, scale: Scale) -> None:
        """Each shard takes rows of its own: there must be one at least for each."""
        count = scale.shard[1] if scale.shard[1] > 1 else (scale.processes or 1)
        if self.data is not None and len(self.data.rows) < count:
            raise UsageError(f"--data {self.data.too_few(count)}")

    def meta(self) -> RunInfo:
        """The run parameters kept in summary.json."""
        a = self.args
        return {
            "scenario": a.scenario,
            "client": a.client,
            "connections": a.connections,
            "http2": a.http2 or None,
            "timeout_s": a.timeout,
            "warmup_s": a.warmup,
            "seed": self.seed,
            "data": _data_meta(self.data),
            "targets": _targets_meta(self.scenario),
            "headers": redact_env(dict(self.client_options.headers)),
            "max_body": self.client_options.max_body,
            "tls": _tls_meta(a.host, self.client_options),
            "embedded_server": None
            if a.host
            else {
                "server": a.server,
                "workers": a.server_workers,
                "env": redact_env(dict(a.server_env)),
                "log_dir": str(kept) if (kept := server_log_dir(a)) is not None else None,
            },
        }


def check_load_options(args: argparse.Namespace) -> LoadOptions:
    """Everything that can be wrong with the options, found before any load is sent."""
    if args.host:
        args.host = check_url(args.host)
    _check_headers(args.header)
    client_options = ClientOptions(
        headers=tuple(args.header),
        ca_cert=args.ca_cert,
        insecure=args.insecure,
        client_cert=args.client_cert,
        client_key=args.client_key,
        max_body=args.max_body,
        http2=args.http2,
    )
    _check_tls(args, client_options)
    _check_http2(args)
    data = None
    if args.data is not None:
        if args.targets is not None:
            raise UsageError("--data gives rows to a scenario's tasks: --targets has none to give")
        try:
            data = load_data(args.data)
        except ValueError as e:
            raise UsageError(f"--data {e}") from None
    if args.targets is not None:
        scenario: type[Scenario] = read_targets(args.targets, args.host, args.client)
        args.scenario = f"targets:{args.targets}"  # the run's scenario, as summary.json names it
    else:
        try:
            scenario = load_scenario(args.scenario, data)
        except ValueError as e:
            raise UsageError(str(e)) from None
    if args.server == "uvicorn" and args.server_workers not in (None, 1):
        raise UsageError("--server uvicorn runs one process: drop --server-workers")
    if args.server_workers is None:
        args.server_workers = 1 if args.server == "uvicorn" else 2
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    return LoadOptions(args, scenario, seed, client_options, data)


def read_targets(name: str, host: str | None, client: str) -> type[TargetsScenario]:
    """`--targets FILE` (`-`: standard input) as a scenario; misuse names the file and line."""
    try:
        if name == "-":
            text, base_dir = sys.stdin.read(), None
        else:
            path = Path(name)
            text, base_dir = path.read_text(encoding="utf-8-sig"), path.parent
    except FileNotFoundError:
        raise UsageError(f"--targets {name}: no such file") from None
    except UnicodeDecodeError:
        raise UsageError(f"--targets {name}: not UTF-8 text") from None
    except OSError as e:
        raise UsageError(f"--targets {name}: {e.strerror or e}") from None
    source = "standard input" if name == "-" else name
    try:
        targets = parse_targets(text, source, base_dir, host)
    except ValueError as e:
        raise UsageError(str(e)) from None
    head = next((t for t in targets if t.method == "HEAD"), None)
    if head is not None and client == "fast":
        # Its answer has a head and no body; the fast client reads a body after each head.
        raise UsageError(f"{source} line {head.line}: HEAD targets need --client httpx")
    return targets_scenario(targets, source)


# Headers that frame the message: the client writes them from the body it sends.
_FRAMING = ("content-length", "transfer-encoding")


def _check_headers(headers: list[tuple[str, str]]) -> None:
    """`--header`: none that frames the body (a second one makes the request ambiguous)."""
    for name, _ in headers:
        if name.lower() in _FRAMING:
            raise UsageError(
                f"--header {name}: loadgen writes it from each request's body; drop it"
            )


def _data_meta(data: DataFile | None) -> DataInfo | None:
    """summary.json's `run.data`: the --data file, and how many rows it had."""
    return None if data is None else {"file": data.path, "rows": len(data.rows)}


def _check_http2(args: argparse.Namespace) -> None:
    """--http2 goes with a client that can speak it; it sets --connections' default."""
    if args.http2 and not getattr(args, "connections_given", False):
        args.connections = defaults.HTTP2_CONNECTIONS
    if args.http2 == HTTP2_FALLBACK and not (args.host or "").startswith("https:"):
        raise UsageError(
            "--http2=fallback is for an https:// --host (ALPN chooses the protocol there); "
            "on http:// HTTP/2 goes by prior knowledge: use --http2"
        )


def _targets_meta(scenario: type[Scenario]) -> TargetsInfo | None:
    """summary.json's `run.targets`: where the requests came from, and how many."""
    if not issubclass(scenario, TargetsScenario):
        return None
    return {"file": scenario.source, "targets": len(scenario.targets)}


def _check_tls(args: argparse.Namespace, options: ClientOptions) -> None:
    chosen = {
        "--ca-cert": options.ca_cert,
        "--insecure": options.insecure,
        "--client-cert": options.client_cert,
        "--client-key": options.client_key,
    }
    given = [name for name, value in chosen.items() if value]
    if not given:
        return
    if not (args.host or "").startswith("https:"):
        raise UsageError(f"{given[0]} is for an https:// --host")
    if options.client_key and not options.client_cert:
        raise UsageError("--client-key goes with --client-cert")
    try:
        tls_context(options)  # the files load now, not in the middle of the run
    except ValueError as e:
        raise UsageError(str(e)) from None


def _tls_meta(host: str | None, options: ClientOptions) -> Tls | None:
    """What summary.json's `run.tls` says: whether certificates were verified, and against what."""
    if not (host or "").startswith("https:"):
        return None
    return {
        "verify": not options.insecure,
        "ca_cert": options.ca_cert,
        "client_cert": options.client_cert,
    }


def check_url(url: str) -> str:
    """--host: an http(s) origin, perhaps with a path prefix and a user:password
    (sent as Basic auth); misuse is said without the password."""
    try:
        parts = urlsplit(url)
    except ValueError as e:  # `http://[::1`: not echoed, it may hold a password
        raise UsageError(f"--host is not a valid URL: {e}") from None
    shown = redact_url(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--host must be an http:// or https:// URL, got {shown!r}")
    try:
        parts.port  # noqa: B018 (validates the port)
    except ValueError:
        raise UsageError(f"--host has an invalid port: {shown!r}") from None
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise UsageError(
            f"--host takes no query string or fragment, got {shown!r}: "
            "put them in the scenario's request paths"
        )
    return url.rstrip("/")


def server_log_dir(args: argparse.Namespace) -> Path | None:
    """Where the embedded server's logs are kept: --server-log-dir, else the run's
    folder's server-logs/; None (no folder: a parser's bare namespace): a temporary
    directory, gone after the run."""
    out = getattr(args, "out", None)
    log_dir: Path | None = args.server_log_dir
    return log_dir if log_dir is not None or out is None else out / "server-logs"
