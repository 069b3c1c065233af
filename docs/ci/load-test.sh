#!/usr/bin/env bash
# loadgen in CI (docs/ci.md): the service as it was (BASE_REF) and as it is now,
# each started here and sent the same load; the change judged by its SLOs (a
# JUnit report) and against the baseline (the regression gate). Its files, for
# the CI's artifacts, go to $OUT: junit-slo.xml, change/report.html,
# baseline/report.html, compare.html and comparison.json.
#
#   docs/ci/load-test.sh BASE_REF        e.g. origin/main
#
# RPS, DURATION, WARMUP and OUT (default 200, 60s, 5s, reports) set the load and
# where the files go. Exit status: 99 when an SLO or a --fail-if bound failed,
# else the first other failure's (docs/ci.md, "Exit statuses"), else 0.
set -uo pipefail

base_ref=${1:?usage: docs/ci/load-test.sh BASE_REF}
rps=${RPS:-200} duration=${DURATION:-60s} warmup=${WARMUP:-5s} out=${OUT:-reports}
url=http://127.0.0.1:8000
load=(--host "$url" --rps "$rps" --duration "$duration" --warmup "$warmup" --quiet --force)
mkdir -p "$out"
base_src=$(mktemp -d)/src
trap 'git worktree remove --force "$base_src" 2>/dev/null' EXIT

# Start the service from the source tree $1 (its log: $out/service-$2.log) and
# wait until it answers. Replace with how your own service starts.
serve() {
    WEB_CONCURRENCY=2 gunicorn --chdir "$1" --config "$1/infra/gunicorn_conf.py" \
        --bind 127.0.0.1:8000 server.main:app >"$out/service-$2.log" 2>&1 &
    service=$!
    for _ in $(seq 60); do
        curl -fsS -o /dev/null "$url/" 2>/dev/null && return 0
        sleep 0.5
    done
    echo "the service did not start; its log: $out/service-$2.log" >&2
    return 1
}
stop() { kill "$service" && wait "$service"; }

# The baseline: the same load on the service as it was, not judged.
git worktree add --detach "$base_src" "$base_ref" || exit 1
serve "$base_src" baseline || exit 1
loadgen "${load[@]}" --out "$out/baseline"
stop

# The change: judged by its SLOs, then against the baseline.
serve . change || exit 1
loadgen "${load[@]}" --out "$out/change" \
    --slo 'p99<100ms' --slo 'errors<1%' --slo 'achieved>=99%' --junit "$out/junit-slo.xml"
slo=$?
stop
loadgen compare "$out/baseline" "$out/change" --force --out "$out/compare.html" \
    --fail-if 'p99>+10%' --fail-if 'errors>+0.5pp' --fail-if 'rps<-5%' \
    --json "$out/comparison.json"
gate=$?

if [ "$slo" = 99 ] || [ "$gate" = 99 ]; then exit 99; fi
if [ "$slo" != 0 ]; then exit "$slo"; fi
exit "$gate"
