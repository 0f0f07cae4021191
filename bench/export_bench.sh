#!/usr/bin/env bash
# Throughput and output size of `partrace export --perfetto` on generated runs (tests/tools/gen_trace:
# 8 ranks, per step a compute kernel, an all-reduce call and its kernel = 3 events per rank).
# The export reads the run twice (the report first, for roles and layout; then the slices), so
# its rate is given over the input events, both passes included; per core, over the CPU time of
# every thread (user + system).
#   PARTRACE=path/to/partrace ... : that binary instead of BUILD_DIR's (to compare two builds)
#   bench/export_bench.sh [BUILD_DIR] [STEPS...]      (default steps: 50000 200000)
set -euo pipefail
BUILD=$(realpath "${1:-build}")
shift || true
STEPS=("$@")
[ $# -gt 0 ] || STEPS=(50000 200000)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
BIN=${PARTRACE:-$BUILD/partrace}
echo "| events | export s | events/s | CPU s | events/s per core | output MB | bytes/event | peak RSS MB | check |"
echo "|---|---|---|---|---|---|---|---|---|"
for steps in "${STEPS[@]}"; do
    rm -rf "$TMP/run" "$TMP/out.pftrace" && mkdir "$TMP/run"
    "$BUILD/tools/gen_trace" "$TMP/run" tp 8 "$steps" 50000 20000 4194304 0 100 200 300 400 500 600 700
    events=$((8 * 3 * steps))
    /usr/bin/time -f "%e %M %U %S" -o "$TMP/time" "$BIN" export --perfetto -o "$TMP/out.pftrace" \
        "$TMP/run" 2> /dev/null
    read -r secs kb user sys < "$TMP/time"
    bytes=$(stat -c %s "$TMP/out.pftrace")
    check=$("$BIN" check "$TMP/out.pftrace" 2>&1 | sed -n 's/.*: \(ok\|INVALID\):.*/\1/p')
    python3 -c "cpu = $user + $sys; print(f'| {$events:,} | $secs | {$events / max($secs, 1e-3):,.0f} | {cpu:.2f} | {$events / max(cpu, 1e-3):,.0f} | {$bytes / 2**20:.0f} | {$bytes / $events:.1f} | {$kb / 1024:.0f} | $check |')"
done
