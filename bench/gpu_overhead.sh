#!/usr/bin/env bash
# GPU overhead of the recorder (one device call, one card type): tests/gpu/tp_loop.py without
# partrace, with PARTRACE_CUDA=off, with kernels (all records, and kernel+memcpy only, with and
# without the launch tie), and under torch.profiler; the table goes to docs/PERFORMANCE.md.
# VARIANTS=tie / floor: also the default records without the launch tie / kernel records alone;
# TP_SMALL=1: also the host-bound phases of tp_loop.py (64 launches; 16 launches + all_reduce).
#   bash bench/gpu_overhead.sh BUILD_DIR OUT_DIR   (ROUNDS=5, TP_STEPS=1000, TP_BLOCKS=10, TP_PIN=1,
#                                                 PROFILED=1: torch.profiler in every round)
set -euo pipefail
export CHECK=${CHECK:-0} ROUNDS=${ROUNDS:-5} TP_STEPS=${TP_STEPS:-1000} TP_PIN=${TP_PIN:-1}
export TP_BLOCKS=${TP_BLOCKS:-10} PROFILED=${PROFILED:-1} VARIANTS=${VARIANTS:-0}
exec bash "$(dirname "$0")/../tests/gpu/cuda_timeline.sh" "$@"
