#!/usr/bin/env bash
# GPU scenario for the CUDA timeline: tests/gpu/tp_loop.py on N ranks
#   1. under partrace (PARTRACE_CUDA=kernels): kernels, NVTX, NCCL calls, eager and CUDA graph;
#   2. under torch.profiler, without partrace: the kernel counts to compare with;
#   3. plain and with PARTRACE_CUDA=off: the overhead table.
# check_cuda_trace.py compares 1 with 2. Run on the GPU machine from the repository root:
#   bash tests/gpu/cuda_timeline.sh BUILD_DIR OUT_DIR     (NPROC=4, TP_STEPS=200 by default)
# Results: OUT_DIR/summary.txt and OUT_DIR/gpu-cuda-timeline.tar.gz.
set -uo pipefail
BUILD=$(realpath "$1")
OUT=$(realpath "$2")
NPROC=${NPROC:-4}
export TP_STEPS=${TP_STEPS:-200}
LIB=$BUILD/libpartrace.so
PT=$BUILD/partrace
WORK=$(mktemp -d)
status=0
. "$(dirname "$0")/machine_info.sh"
machine_info > "$WORK/machine.txt" 2>&1
launch() { # NAME [env...] -- extra args
    local name=$1; shift
    mkdir -p "$WORK/$name"
    env PT_OUT_DIR="$WORK/$name" "$@" timeout 300 torchrun --standalone --nproc_per_node="$NPROC" \
        tests/gpu/tp_loop.py ${EXTRA:-} > "$WORK/$name.log" 2>&1 || { echo "$name failed"; status=1; }
}
# EXTRAS=1 also runs the loop with a non-blocking communicator, expandable segments (CUDA
# virtual memory) and PARTRACE_STACKS=1, checked by check_extras.py.
if [ "${EXTRAS:-0}" = 1 ]; then
    launch extras LD_PRELOAD="$LIB" PARTRACE_DIR="$WORK/extras/run" PARTRACE_CUDA=kernels \
        PARTRACE_STACKS=1 TORCH_NCCL_USE_COMM_NONBLOCKING=1 \
        PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True
    python3 tests/gpu/check_extras.py "$PT" "$WORK/extras/run" > "$WORK/extras-check.json" 2>&1 \
        || { echo "extras check failed"; status=1; }
    "$PT" info "$WORK/extras/run" > "$WORK/extras-info.txt" 2>&1
fi
# CHECK=0 skips the traced/profiled comparison; ROUNDS sets how often the overhead
# configurations run, interleaved so that drift in the machine hits all alike (TP_BLOCKS=B
# times each run's steps in B blocks with the ranks lined up before each: tp_loop.py).
if [ "${CHECK:-1}" = 1 ]; then
    launch traced LD_PRELOAD="$LIB" PARTRACE_DIR="$WORK/traced/run" PARTRACE_CUDA=kernels
    EXTRA=--profile launch profiled
fi
for round in $(seq 1 "${ROUNDS:-2}"); do
    launch plain$round
    launch nccl_only$round LD_PRELOAD="$LIB" PARTRACE_DIR="$WORK/nccl_only$round/run" PARTRACE_CUDA=off
    launch kernels$round LD_PRELOAD="$LIB" PARTRACE_DIR="$WORK/kernels$round/run" PARTRACE_CUDA=kernels
    # PROFILED=1: torch.profiler in every round too (the slowdown the goal is stated against).
    [ "${PROFILED:-0}" = 1 ] && EXTRA=--profile launch profiled$round
    # VARIANTS=tie: the default records without the launch callback; VARIANTS=floor: kernel
    # records alone without it (what CUPTI's kernel tracing costs by itself).
    [ "${VARIANTS:-1}" = tie ] && launch kernels_notie$round LD_PRELOAD="$LIB" \
        PARTRACE_DIR="$WORK/kernels_notie$round/run" PARTRACE_CUDA=kernels PARTRACE_CUDA_TIE=none
    [ "${VARIANTS:-1}" = floor ] && launch rec_kernel$round LD_PRELOAD="$LIB" \
        PARTRACE_DIR="$WORK/rec_kernel$round/run" PARTRACE_CUDA=kernels PARTRACE_CUDA_RECORDS=kernel \
        PARTRACE_CUDA_TIE=none
    # VARIANTS=records: which CUPTI record kinds and the launch tie cost what (no tie in each).
    if [ "${VARIANTS:-1}" = records ]; then
        for kinds in kernel kernel,memcpy,memset kernel,memory kernel,sync; do
            launch "rec_${kinds//,/_}$round" LD_PRELOAD="$LIB" PARTRACE_DIR="$WORK/rec$round/run" \
                PARTRACE_CUDA=kernels PARTRACE_CUDA_RECORDS=$kinds PARTRACE_CUDA_TIE=none
        done
        launch "rec_kernel_tie$round" LD_PRELOAD="$LIB" PARTRACE_DIR="$WORK/rect$round/run" \
            PARTRACE_CUDA=kernels PARTRACE_CUDA_RECORDS=kernel
    fi
    if [ "${VARIANTS:-1}" = 1 ]; then
        launch kernelsonly$round LD_PRELOAD="$LIB" PARTRACE_DIR="$WORK/kernelsonly$round/run" \
            PARTRACE_CUDA=kernels PARTRACE_CUDA_RECORDS=kernel,memcpy
        launch notie$round LD_PRELOAD="$LIB" PARTRACE_DIR="$WORK/notie$round/run" \
            PARTRACE_CUDA=kernels PARTRACE_CUDA_RECORDS=kernel,memcpy PARTRACE_CUDA_TIE=none
    fi
    # The table so far, so that a call cut short by its time limit still brings it back.
    python3 tests/gpu/overhead_table.py "$WORK" > "$OUT/overhead-so-far.txt" 2>&1
done
if [ "${CHECK:-1}" = 1 ]; then
    "$PT" info "$WORK/traced/run" > "$WORK/traced-info.txt" 2>&1
    python3 tests/gpu/check_cuda_trace.py "$PT" "$WORK/traced/run" "$WORK/profiled" "$TP_STEPS" \
        > "$WORK/check.json" 2>&1 || { echo "check failed"; status=1; }
fi
python3 tests/gpu/overhead_table.py "$WORK" > "$WORK/overhead.txt"
cat "$WORK/machine.txt" "$WORK"/check.json "$WORK"/extras-check.json "$WORK/overhead.txt" \
    > "$OUT/summary.txt" 2>/dev/null
grep -h "^rank" "$WORK"/*.log >> "$OUT/summary.txt"
tail -n 3 "$WORK"/*.log >> "$OUT/summary.txt"
(cd "$WORK" && tar -czf "$OUT/gpu-cuda-timeline.tar.gz" machine.txt overhead.txt \
    $(ls -d traced check.json traced-info.txt profiled traced.log profiled.log extras \
        extras-check.json extras-info.txt extras.log 2>/dev/null))
cat "$OUT/summary.txt"
exit $status
