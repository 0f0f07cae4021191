#!/usr/bin/env bash
# GPU overhead of the recorder (one device call, one card type): tests/gpu/tp_loop.py without
# partrace, with PARTRACE_CUDA=off, with kernels (all records, and kernel+memcpy only, with and
# without the launch tie), and under torch.profiler; the table goes to docs/PERFORMANCE.md.
#   bash bench/gpu_overhead.sh BUILD_DIR OUT_DIR      (ROUNDS=3, TP_STEPS=1000, TP_PIN=1)
set -euo pipefail
export CHECK=${CHECK:-1} ROUNDS=${ROUNDS:-3} TP_STEPS=${TP_STEPS:-1000} TP_PIN=${TP_PIN:-1}
exec bash "$(dirname "$0")/../tests/gpu/cuda_timeline.sh" "$@"
