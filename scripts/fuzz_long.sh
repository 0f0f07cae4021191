#!/usr/bin/env bash
# A long fuzz run of one target built by scripts/fuzz.sh, on JOBS cores at once: independent
# libFuzzer processes (seeds 1..JOBS), each from a copy of the target's corpus, for SECONDS.
# Prints the executions of each and their sum, and every crash, leak or timeout found.
#   scripts/fuzz_long.sh TARGET JOBS SECONDS [OUTDIR]     (exit 1 when anything was found)
# The binary and corpus come from build-fuzz (scripts/fuzz.sh makes them); OUTDIR gets the
# logs, the sanitizers' reports and the inputs that failed.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/fuzz_common.sh
target=$1 jobs=$2 seconds=$3 out=${4:-build-fuzz/long-$1}
bin=build-fuzz/tests/fuzz/$target corpus=build-fuzz/corpus/${target#fuzz_}
[ -x "$bin" ] && [ -d "$corpus" ] || { echo "fuzz_long: run scripts/fuzz.sh first ($bin, $corpus)" >&2; exit 2; }
mkdir -p "$out"
echo "$target: $jobs jobs x $seconds s on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
for j in $(seq 1 "$jobs"); do
    rm -rf "$out/corpus-$j" && cp -r "$corpus" "$out/corpus-$j"
    fuzz_target "$bin" "$out/sanitizer-$j" "$out/job$j-" "$seconds" -seed="$j" "$out/corpus-$j" > "$out/log-$j" 2>&1 &
done
wait
total=0
for j in $(seq 1 "$jobs"); do
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log-$j")
    echo "job $j: ${n:-no final stats} executions"
    total=$((total + ${n:-0}))
done
echo "$target: $total executions in all"
status=0
if fuzz_found "$out/job*-"; then
    echo "$target: FOUND A PROBLEM"; head -60 "$out"/sanitizer-* 2>/dev/null; status=1
fi
rm -rf "$out"/corpus-*
exit $status
