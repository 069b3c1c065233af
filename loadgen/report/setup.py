"""How a run was made, in words: what every view shows above its numbers.

A number means little without what produced it: which target and how it was
started (the bundled server, its kind, workers and environment, or a
`--host`), the rate profile as it was asked (a ramp shows as a ramp, not as
its mean), the scenario and client, and when. report.html's header and
`loadgen compare`'s side-by-side columns read the same lines.
"""

from __future__ import annotations

import datetime as dt

from loadgen.report.summary_contract import RateProfile, Summary

# Stages past this many are summed up rather than listed.
MAX_STEPS_SHOWN = 6


def setup_lines(summary: Summary) -> list[tuple[str, str]]:
    """(label, text) pairs: target, rate, scenario, started."""
    run = summary["run"]
    lines = [("target", f"{summary['target']} ({started_how(summary)})")]
    profile = run.get("rate_profile")
    rate = rate_text(profile) if profile else f"{summary['target_rps']:g}/s"
    arrival = summary.get("arrival")
    lines.append(("rate", f"{rate}, {arrivals_text(arrival)}" if arrival else rate))
    scenario = run.get("scenario")
    if scenario:
        client = run.get("client")
        connections = run.get("connections")
        how = ", ".join(
            part
            for part in (
                f"client {client}" if client else "",
                http_text(summary),
                f"{connections} connections" if connections else "",
            )
            if part
        )
        lines.append(("scenario", f"{scenario}" + (f"; {how}" if how else "")))
    lines.append(("started", started_text(summary)))
    return lines


def http_text(summary: Summary) -> str:
    """The HTTP version the run spoke ("HTTP/2"), and what --http2 asked when ALPN
    gave another; "" when the client could not say."""
    run = summary["run"]
    version = run.get("http_version")
    if not version:
        return ""
    if run.get("http2") and version != "2":
        return f"HTTP/{version} (--http2 asked HTTP/2; the server's ALPN refused it)"
    return f"HTTP/{version}"


def arrivals_text(arrival: str) -> str:
    """How arrivals were spaced, in words: `--arrival constant` is the spacing, not the
    rate ("constant arrivals, target ramp 10 → 300/s" read as a contradiction)."""
    return {"constant": "evenly spaced arrivals", "poisson": "Poisson arrivals"}.get(
        arrival, f"{arrival} arrivals"
    )


def target_rate_text(summary: Summary) -> str:
    """The target rate as the headlines say it: "100.0/s", or a profile that is not
    constant as asked, with its mean ("ramp 10 → 300/s over 5 s, 155.0/s on average")."""
    profile = summary["run"].get("rate_profile")
    mean = f"{summary['target_rps']:.1f}/s"
    if not profile or (profile.get("kind") == "constant" and not profile.get("steps")):
        return mean
    return f"{rate_text(profile)}, {mean} on average"


def started_how(summary: Summary) -> str:
    """How the target was started: the bundled server (kind, workers, env) or `--host`."""
    server = summary["run"].get("embedded_server")
    if server is None:
        return "given by --host"
    workers = server.get("workers")
    parts = [str(server.get("server", "bundled"))]
    if workers:
        parts.append(f"{workers} worker{'s' if workers != 1 else ''}")
    env = server.get("env") or {}
    parts.extend(f"{name}={value}" for name, value in env.items())
    return "the bundled server: " + ", ".join(parts)


def rate_text(profile: RateProfile) -> str:
    """A rate profile as asked: "100/s", "ramp 10 → 500/s over 60 s", or its stages;
    then the steps it took live, from the dashboard ("then 200/s from 12 s, …")."""
    steps = profile.get("steps") or []
    if not steps:
        return _asked_text(profile)
    live = [f"{s['rps']:g}/s from {s['at_s']:g} s" for s in steps]
    if len(live) > MAX_STEPS_SHOWN:
        live = [*live[: MAX_STEPS_SHOWN - 1], f"… {len(steps)} changes in all", live[-1]]
    return f"{_asked_text(profile)}, changed live: " + ", ".join(live)


def _asked_text(profile: RateProfile) -> str:
    kind = profile.get("kind")
    if kind == "constant":
        return f"{profile['rps']:g}/s"
    segments = profile.get("segments") or []
    steps = [_segment_text(d, a, b) for d, a, b in segments]
    if kind == "ramp" and len(steps) == 1:
        return f"ramp {steps[0]}"
    if len(steps) > MAX_STEPS_SHOWN:
        total = sum(d for d, _, _ in segments)
        peak = max(max(a, b) for _, a, b in segments)
        shown = ", ".join(steps[:MAX_STEPS_SHOWN])
        return f"{kind}: {shown}, … ({len(steps)} steps over {total:g} s, peak {peak:g}/s)"
    return f"{kind}: " + ", ".join(steps) if steps else str(kind)


def _segment_text(duration: float, start: float, end: float) -> str:
    if start == end:
        return f"{start:g}/s for {duration:g} s"
    return f"{start:g} → {end:g}/s over {duration:g} s"


def started_text(summary: Summary) -> str:
    """When the run started (UTC) and how long it measured, its warm-up aside."""
    run = summary["run"]
    epoch = run.get("started_at_epoch")
    when = (
        dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        if epoch is not None
        else str(run.get("started_at", "unknown"))
    )
    measured = summary.get("duration_s")
    text = when if measured is None else f"{when}, {measured:g} s measured"
    warmup = run.get("warmup_s")
    if warmup:
        text += f" after a {warmup:g} s warm-up"
    if run.get("interrupted"):
        text += " (interrupted)"
    return text
