#!/usr/bin/env bash
# GPU scenario on one GPU: the runs `partrace whatif` predicts the 4-GPU layouts of
# docs/MATRIX.md from. pt_engine on one GPU, the matrix's load (512-token prompts, 64-token
# outputs, closed loop) for the small and moe-small models at concurrency 4 (32 requests) and
# 64 (256 requests), each under partrace (PARTRACE_CUDA=kernels), every step eager as the
# matrix ran. Run on the GPU machine from the repository root, with a build folder made on the
# CPU machine:
#   bash tests/gpu/whatif_runs.sh BUILD_DIR OUT_DIR
# Results: OUT_DIR/summary.txt, OUT_DIR/machine.txt, and OUT_DIR/RUN/ for each run (its trace
# folder and the engine's summary.json).
set -uo pipefail
. "$(dirname "$0")/machine_info.sh"
scenario_start "$1" "$2"

run() { # name model concurrency requests
    local name=$1 model=$2 conc=$3 requests=$4
    mkdir -p "$WORK/$name/engine"
    PARTRACE_DIR=$WORK/$name/traced LD_PRELOAD=$LIB PARTRACE_CUDA=kernels timeout 300 "$ENGINE" --nproc 1 \
        --model "$model" --requests "$requests" --input 512 --output 64 --concurrency "$conc" --cuda-graphs off \
        --out "$WORK/$name/engine" > "$WORK/$name/run.log" 2>&1 || { say "$name: run failed"; status=1; }
    say "$name: $(grep -h 'requests in' "$WORK/$name/run.log" | head -1)"
    say "$name: $(cat "$WORK/$name/engine/summary.json" 2>/dev/null | tr -d '\n' | head -c 400)"
    say "$name: trace $(du -sh "$WORK/$name/traced" | cut -f1)"
}
run small-c4 small 4 32
run small-c64 small 64 256
run moe-small-c4 moe-small 4 32
run moe-small-c64 moe-small 64 256

mkdir -p "$OUT"
cp "$WORK/summary.txt" "$WORK/machine.txt" "$OUT/"
for name in small-c4 small-c64 moe-small-c4 moe-small-c64; do
    mkdir -p "$OUT/$name"
    cp -r "$WORK/$name/traced" "$OUT/$name/" 2>/dev/null
    cp "$WORK/$name/engine/summary.json" "$OUT/$name/engine-summary.json" 2>/dev/null
done
say "status $status"
exit $status
