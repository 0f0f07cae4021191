#!/usr/bin/env bash
# Throughput and peak memory of `partrace report` on generated runs (tests/tools/gen_trace:
# 8 ranks, per step a compute kernel, an all-reduce call and its kernel = 3 events per rank).
# The rate per core is events over the CPU time of every thread (user + system): frames are
# decoded ahead on a second core when there is one, which shortens the wall time, not the work.
#   bench/report_bench.sh [BUILD_DIR] [STEPS...]      (default steps: 50000 200000 400000)
#   PARTRACE=path/to/partrace ... : that binary instead of BUILD_DIR's (to compare two builds)
set -euo pipefail
BUILD=$(realpath "${1:-build}")
shift || true
STEPS=("${@:-50000 200000 400000}")
[ $# -gt 0 ] || STEPS=(50000 200000 400000)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
BIN=${PARTRACE:-$BUILD/partrace}
echo "| events | files MB | report s | events/s | CPU s | events/s per core | peak RSS MB |"
echo "|---|---|---|---|---|---|---|"
for steps in "${STEPS[@]}"; do
    rm -rf "$TMP/run" && mkdir "$TMP/run"
    "$BUILD/tools/gen_trace" "$TMP/run" tp 8 "$steps" 50000 20000 4194304 0 100 200 300 400 500 600 700
    events=$((8 * 3 * steps))
    mb=$(du -sm "$TMP/run" | cut -f1)
    /usr/bin/time -f "%e %M %U %S" -o "$TMP/time" "$BIN" report "$TMP/run" > /dev/null
    read -r secs kb user sys < "$TMP/time"
    python3 -c "cpu = $user + $sys; print(f'| {$events:,} | $mb | $secs | {$events / max($secs, 1e-3):,.0f} | {cpu:.2f} | {$events / max(cpu, 1e-3):,.0f} | {$kb / 1024:.0f} |')"
done
