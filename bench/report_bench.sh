#!/usr/bin/env bash
# Throughput and peak memory of `partrace report` on generated runs (tests/tools/gen_trace:
# 8 ranks, per step a compute kernel, an all-reduce call and its kernel = 3 events per rank).
#   bench/report_bench.sh [BUILD_DIR] [STEPS...]      (default steps: 50000 200000 400000)
set -euo pipefail
BUILD=$(realpath "${1:-build}")
shift || true
STEPS=("${@:-50000 200000 400000}")
[ $# -gt 0 ] || STEPS=(50000 200000 400000)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
echo "| events | files MB | report s | events/s | peak RSS MB |"
echo "|---|---|---|---|---|"
for steps in "${STEPS[@]}"; do
    rm -rf "$TMP/run" && mkdir "$TMP/run"
    "$BUILD/tools/gen_trace" "$TMP/run" tp 8 "$steps" 50000 20000 4194304 0 100 200 300 400 500 600 700
    events=$((8 * 3 * steps))
    mb=$(du -sm "$TMP/run" | cut -f1)
    /usr/bin/time -f "%e %M" -o "$TMP/time" "$BUILD/partrace" report "$TMP/run" > /dev/null
    read -r secs kb < "$TMP/time"
    python3 -c "print(f'| {$events:,} | $mb | $secs | {$events / max($secs, 1e-3):,.0f} | {$kb / 1024:.0f} |')"
done
