#!/usr/bin/env bash
# The report at job sizes far past today's: generated runs (tests/tools/gen_trace mixed: per
# step each rank computes, all-reduces in its TP group, sends and receives along its pipeline,
# and every 4th step all-reduces in its DP group) of TPxPPxDP ranks spread over H hosts; then
# one of 8 ranks of a TP run missing, at growing lengths (memory must not grow with the run).
#   bench/report_scale.sh [BUILD_DIR]
set -euo pipefail
BUILD=$(realpath "${1:-build}")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; open files allowed: $(ulimit -n)"
echo "| run | ranks (files) | hosts | communicators | files MB | report s | peak RSS MB |"
echo "|---|---|---|---|---|---|---|"
measure() { # NAME RANKS HOSTS
    local comms mb
    comms=$("$BUILD/partrace" report --json "$TMP/run" 2>/dev/null |
            python3 -c 'import json,sys; print(len(json.load(sys.stdin)["communicators"]))')
    mb=$(du -sm "$TMP/run" | cut -f1)
    /usr/bin/time -f "%e %M" -o "$TMP/time" "$BUILD/partrace" report "$TMP/run" > /dev/null 2>&1
    read -r secs kb < "$TMP/time"
    echo "| $1 | $2 | $3 | $comms | $mb | $secs | $((kb / 1024)) |"
}
for shape in "8 10 125 1000" "8 4 32 128" "2 1 4000 500"; do
    set -- $shape
    rm -rf "$TMP/run" && mkdir "$TMP/run"
    GEN_HOSTS=$4 "$BUILD/tools/gen_trace" "$TMP/run" mixed "$1" "$2" "$3" 20 > /dev/null
    measure "TP$1 x PP$2 x DP$3, 20 steps" $(($1 * $2 * $3)) "$4"
done
for steps in 100000 400000 1600000; do
    rm -rf "$TMP/run" && mkdir "$TMP/run"
    "$BUILD/tools/gen_trace" "$TMP/run" tp 8 "$steps" 1000 500 4096 0 10 20 30 40 50 60 70 > /dev/null
    rm "$TMP/run/gen-107.ptrace"
    measure "TP8, rank 7's file missing, $steps steps" 7 1
done
