#!/usr/bin/env bash
# GPU scenario: the sample of an EP run with a hot expert (samples/gpu-engine-ep-skew), small
# enough to commit. From the repository root on a 4-GPU machine:
#   bash tests/gpu/engine_ep_skew.sh BUILD_DIR OUT_DIR
# pt_engine --layout dp=4,ep=4 --model moe-tiny --route-skew 4 under partrace; OUT_DIR gets
# gpu-engine-ep-skew.tar.gz (trace, engine results, report, machine) and summary.txt.
set -uo pipefail
BUILD=$(realpath "$1")
OUT=$(realpath "$2")
WORK=$(mktemp -d)
status=0
. "$(dirname "$0")/machine_info.sh"
engine_libs
machine_info > "$WORK/machine.txt" 2>&1
mkdir -p "$WORK/engine"
PARTRACE_DIR=$WORK/traced LD_PRELOAD=$BUILD/libpartrace.so PARTRACE_CUDA=kernels timeout 300 \
    "$BUILD/pt_engine" --nproc 4 --layout dp=4,ep=4 --model moe-tiny --requests 32 --input 64 --output 8 \
    --concurrency 16 --route-skew 4 --out "$WORK/engine" > "$WORK/engine/run.log" 2>&1 || { echo "engine failed"; status=1; }
rm -f "$WORK/engine/nccl-id"
"$BUILD/partrace" report "$WORK/traced" > "$WORK/report.txt" 2>&1
cat "$WORK/machine.txt" "$WORK/engine/run.log" "$WORK/report.txt" > "$OUT/summary.txt"
tar -C "$WORK" -czf "$OUT/gpu-engine-ep-skew.tar.gz" .
cat "$OUT/summary.txt"
exit $status
