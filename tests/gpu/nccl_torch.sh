#!/usr/bin/env bash
# GPU scenario for the recorder core: under libpartrace.so,
#   1. torchrun, N ranks, PyTorch's NCCL backend: all_reduce, all_gather_into_tensor,
#      reduce_scatter_tensor, all_to_all_single, broadcast, batched and blocking send/recv;
#   2. torchrun, N ranks, NCCL bound through ctypes as vLLM's pynccl does.
# Each rank writes what it issued; check_nccl_trace.py compares that with the traces.
# Run on the GPU machine from the repository root, with a build folder made on the CPU machine:
#   bash tests/gpu/nccl_torch.sh BUILD_DIR OUT_DIR        (NPROC=4 by default)
# Everything lands in OUT_DIR/gpu-nccl-torch.tar.gz plus OUT_DIR/summary.txt.
set -uo pipefail
BUILD=$(realpath "$1")
OUT=$(realpath "$2")
NPROC=${NPROC:-4}
LIB=$BUILD/libpartrace.so
PT=$BUILD/partrace
WORK=$(mktemp -d)
status=0
. "$(dirname "$0")/machine_info.sh"
{ machine_info; ldd "$LIB"; } > "$WORK/machine.txt" 2>&1
for scenario in torch_collectives pynccl_ctypes; do
    run=$WORK/$scenario
    issued=$WORK/$scenario-issued
    mkdir -p "$issued"
    PT_ISSUED_DIR=$issued PARTRACE_DIR=$run LD_PRELOAD=$LIB \
        timeout 240 torchrun --standalone --nproc_per_node="$NPROC" "tests/gpu/$scenario.py" \
        > "$WORK/$scenario.log" 2>&1 || { echo "$scenario: torchrun failed"; status=1; }
    "$PT" info "$run" > "$WORK/$scenario-info.txt" 2>&1
    python3 tests/gpu/check_nccl_trace.py "$PT" "$run" "$issued" > "$WORK/$scenario-check.json" 2>&1 \
        || { echo "$scenario: check failed"; status=1; }
done
cat "$WORK/machine.txt" "$WORK"/*-check.json > "$OUT/summary.txt"
tail -n 5 "$WORK"/*.log >> "$OUT/summary.txt"
tar -C "$WORK" -czf "$OUT/gpu-nccl-torch.tar.gz" .
cat "$OUT/summary.txt"
exit $status
