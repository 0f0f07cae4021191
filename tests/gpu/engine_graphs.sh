#!/usr/bin/env bash
# GPU scenario on one GPU: the engine's decode steps replayed from CUDA graphs, as vLLM runs
# them. pt_engine, small model, one GPU, the same load twice under partrace
# (PARTRACE_CUDA=kernels): --cuda-graphs off, then on. check_graphs.py then holds: the two runs'
# output tokens equal request by request (tokens-0.tsv); in the graphed run every kernel replayed
# from a graph tied to a node partrace saw captured, none in the eager run. The report of the
# "decode" ranges and the engine's TPOT of both runs go into the summary.
# Run on the GPU machine from the repository root, with a build folder made on the CPU machine:
#   bash tests/gpu/engine_graphs.sh BUILD_DIR OUT_DIR
# Results: OUT_DIR/summary.txt, OUT_DIR/machine.txt, OUT_DIR/{eager,graphs}/ (trace folder,
# engine summary, tokens, report).
set -uo pipefail
. "$(dirname "$0")/machine_info.sh"
scenario_start "$1" "$2"
load=(--model small --requests 32 --input 128 --output 32 --concurrency 8 --seed 5)

run() { # name graphs
    local name=$1 graphs=$2
    mkdir -p "$WORK/$name/engine"
    PARTRACE_DIR=$WORK/$name/traced LD_PRELOAD=$LIB PARTRACE_CUDA=kernels timeout 300 "$ENGINE" --nproc 1 \
        "${load[@]}" --cuda-graphs "$graphs" --out "$WORK/$name/engine" > "$WORK/$name/run.log" 2>&1 \
        || { say "$name: run failed"; status=1; }
    cp "$WORK/$name/engine/tokens-0.tsv" "$WORK/$name/" 2>/dev/null
    "$ENGINE" summarise "$WORK/$name/engine" --json > "$WORK/$name/engine-summary.json" 2>&1
    "$PT" report --phase decode "$WORK/$name/traced" > "$WORK/$name/report-decode.txt" 2>&1
    "$PT" report "$WORK/$name/traced" > "$WORK/$name/report.txt" 2>&1
    for f in "$WORK/$name/traced"/*.ptrace; do "$PT" dump --json "$f"; done > "$WORK/$name/dump.jsonl" 2>/dev/null
    say "$name: $(grep -h 'requests in' "$WORK/$name/run.log" | head -1)"
    say "$name: $(tr -d '\n' < "$WORK/$name/engine-summary.json" | head -c 400)"
}
run eager off
run graphs on
check=$(python3 tests/gpu/check_graphs.py "$WORK/eager" "$WORK/graphs" 2>&1) || { say "check failed"; status=1; }
say "check: $check"

mkdir -p "$OUT"
cp "$WORK/summary.txt" "$WORK/machine.txt" "$OUT/"
for name in eager graphs; do
    mkdir -p "$OUT/$name"
    cp -r "$WORK/$name/traced" "$OUT/$name/" 2>/dev/null
    cp "$WORK/$name/engine-summary.json" "$WORK/$name/tokens-0.tsv" "$WORK/$name/report-decode.txt" \
        "$OUT/$name/" 2>/dev/null
done
say "status $status"
exit $status
