#!/usr/bin/env bash
# GPU overhead measured inside one process: tests/gpu/tp_loop.py with TP_AB, blocks
# with the tracer on and off in alternating pairs, so that what drifts between processes and
# rounds (the spread that swamps comparisons across processes) hits both sides of every pair alike.
# Per round: "none" (no tracer: the method's own spread), "partrace" (LD_PRELOADed with
# PARTRACE_CUDA_CAPTURE=profiler, switched by torch.cuda.profiler.start/stop) and "torch"
# (torch.profiler CPU+CUDA per on-block, no partrace). Run on the GPU machine from the repository
# root:  bash tests/gpu/ab_overhead.sh BUILD_DIR OUT_DIR   (NPROC=2 ROUNDS=2 TP_AB_PAIRS=20
# TP_AB_STEPS=50 TP_SMALL=1). Results: OUT_DIR/ab-summary.txt, and the first partrace run's
# trace in OUT_DIR/ab-partrace-run.tar.gz.
set -uo pipefail
BUILD=$(realpath "$1")
OUT=$(realpath "$2")
NPROC=${NPROC:-2}
export TP_AB_PAIRS=${TP_AB_PAIRS:-20} TP_AB_STEPS=${TP_AB_STEPS:-50} TP_SMALL=${TP_SMALL:-1} TP_PIN=${TP_PIN:-1}
LIB=$BUILD/libpartrace.so
WORK=$(mktemp -d)
status=0
. "$(dirname "$0")/machine_info.sh"
machine_info > "$WORK/machine.txt" 2>&1
launch() { # NAME MODE [env...]
    local name=$1 mode=$2; shift 2
    mkdir -p "$WORK/$name"
    env PT_OUT_DIR="$WORK/$name" TP_AB="$mode" "$@" timeout 400 torchrun --standalone \
        --nproc_per_node="$NPROC" tests/gpu/tp_loop.py > "$WORK/$name.log" 2>&1 || { echo "$name failed"; status=1; }
}
for round in $(seq 1 "${ROUNDS:-2}"); do
    launch "none$round" none
    launch "partrace$round" partrace LD_PRELOAD="$LIB" PARTRACE_DIR="$WORK/partrace$round/run" \
        PARTRACE_CUDA=kernels PARTRACE_CUDA_CAPTURE=profiler
    launch "torch$round" torch
    python3 tests/gpu/ab_table.py "$WORK" > "$OUT/ab-summary.txt" 2>&1
done
"$BUILD/partrace" info "$WORK/partrace1/run" > "$WORK/partrace-info.txt" 2>&1
# The first partrace run's trace (small with few pairs: samples/gpu-capture-range).
tar -czf "$OUT/ab-partrace-run.tar.gz" -C "$WORK" machine.txt partrace1
cat "$WORK/machine.txt" "$OUT/ab-summary.txt" "$WORK/partrace-info.txt" > "$OUT/ab-summary.full.txt"
mv "$OUT/ab-summary.full.txt" "$OUT/ab-summary.txt"
tail -n 5 "$WORK"/*.log >> "$OUT/ab-summary.txt"
cat "$OUT/ab-summary.txt"
exit $status
