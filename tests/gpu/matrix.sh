#!/usr/bin/env bash
# GPU scenario on 4 GPUs: the layout matrix of docs/MATRIX.md with the engine's defaults (decode
# steps from CUDA graphs, TP all-reduces by NCCL), each run recorded by `partrace record
# --metrics` against every replica's Prometheus endpoint (--metrics-port), as a vLLM server would
# be. small as TP4, TP2×DP2, DP4, PP4, TP2×PP2 and moe-small as EP4 and TP4, 512-token prompts,
# 64-token outputs, closed loop at concurrency 4 (32 requests) and 64 (256 requests); then small
# TP4 at 64 with --shared-prefix 0.5. For each run: `partrace report --json` checked against the
# engine's own times (check_engine.py). For each concurrency: every run side by side,
# `partrace compare --markdown` (OUT/compare-c4.md, OUT/compare-c64.md: the tables MATRIX.md
# quotes). And a short run of each layout (16 requests at concurrency 4) whose trace folder goes
# to OUT/samples/NAME/ (for samples/gpu-matrix, small enough to commit).
# Run on the GPU machine from the repository root, with a build folder made on the CPU machine:
#   bash tests/gpu/matrix.sh BUILD_DIR OUT_DIR
set -uo pipefail
. "$(dirname "$0")/machine_info.sh"
scenario_start "$1" "$2"
port=18300

# record NAME MODEL LAYOUT CONC REQUESTS [ENGINE_ARGS...]: one run under partrace record.
record() {
    local name=$1 model=$2 layout=$3 conc=$4 requests=$5
    shift 5
    local dp urls="" d
    dp=$(sed -n 's/.*dp=\([0-9]*\).*/\1/p' <<< "$layout")
    for ((d = 0; d < ${dp:-1}; d++)); do urls+="${urls:+,}http://127.0.0.1:$((port + d))/metrics"; done
    mkdir -p "$WORK/$name/engine"
    timeout 400 "$PT" record -o "$WORK/$name/traced" --metrics "$urls" --metrics-interval-ms 200 -- \
        "$ENGINE" --nproc 4 --layout "$layout" --model "$model" --requests "$requests" --input 512 --output 64 \
        --concurrency "$conc" --metrics-port "$port" --out "$WORK/$name/engine" "$@" > "$WORK/$name/run.log" 2>&1 \
        || { say "$name: run failed"; status=1; }
    port=$((port + 8))
    run_outputs "$name"
    say "$name: check $(python3 tests/gpu/check_engine.py "$WORK/$name/report.json" \
        "$WORK/$name/engine-summary.json" 2>&1)" || status=1
}

layouts="small:tp=4 small:tp=2,dp=2 small:dp=4 small:pp=4 small:tp=2,pp=2 moe-small:dp=4,ep=4 moe-small:tp=4"
for conc in 4 64; do
    runs=()
    for v in $layouts; do
        IFS=: read -r model layout <<< "$v"
        name=$model-${layout//[=,]/}-c$conc
        record "$name" "$model" "$layout" "$conc" $((conc == 4 ? 32 : 256))
        runs+=("$WORK/$name/traced")
    done
    "$PT" compare --markdown "${runs[@]}" > "$WORK/compare-c$conc.md" 2>"$WORK/compare-c$conc.err" \
        || { say "compare c$conc failed"; status=1; }
done
record small-tp4-c64-prefix small tp=4 64 256 --shared-prefix 0.5

# Short runs to commit: every phase, few requests.
mkdir -p "$OUT/samples"
for v in $layouts; do
    IFS=: read -r model layout <<< "$v"
    name=sample-$model-${layout//[=,]/}
    record "$name" "$model" "$layout" 4 16
    mkdir -p "$OUT/samples/${name#sample-}"
    cp -r "$WORK/$name/traced" "$WORK/$name/engine-summary.json" "$OUT/samples/${name#sample-}/" 2>/dev/null
done

cp "$WORK/summary.txt" "$WORK/machine.txt" "$WORK"/compare-c*.md "$OUT/" 2>/dev/null
tar -C "$WORK" -czf "$OUT/matrix-reports.tar.gz" --exclude=traced --exclude=engine . 2>/dev/null
say "status $status"
exit $status
