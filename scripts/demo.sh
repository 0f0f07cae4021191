#!/usr/bin/env bash
# The main job on its bundled default: build partrace, record a 4-rank job that drives the test
# NCCL (tests/progs/nccl_driver: every collective, a split communicator, grouped send/recv), then
# show `partrace info` of the run and the first lines of `partrace dump`; then the report of a
# real 4 x H100 run bundled in samples/, per NVTX phase too, its HTML page and a Perfetto trace.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
RUN=${1:-$(mktemp -d /tmp/partrace-demo.XXXXXX)/run}
ID=$(od -An -tx1 -N128 /dev/urandom | tr -d ' \n')
export LD_LIBRARY_PATH=$PWD/build/fakenccl
build/partrace record -o "$RUN" -- sh -c "
    for r in 0 1 2 3; do build/progs/nccl_driver --rank \$r --nranks 4 --id $ID --iters 3 & done
    wait"
echo
build/partrace info "$RUN"
echo
echo "first events of $RUN:"
# Through a file, not `| head`: with pipefail, a reader that stops early fails the demo by SIGPIPE.
build/partrace dump "$RUN" > "$(dirname "$RUN")/dump.txt"
grep -m 20 -E ' (nccl|comm_init) ' "$(dirname "$RUN")/dump.txt"
echo
echo "report of a real run: 4 x H100, PyTorch tensor-parallel loop (samples/gpu-cuda-timeline):"
PAGE=$(dirname "$RUN")/report.html
build/partrace report --html "$PAGE" samples/gpu-cuda-timeline/traced
echo
echo "the same, only its CUDA-graph phase (NVTX ranges 'graph'):"
build/partrace report --phase graph samples/gpu-cuda-timeline/traced | sed -n '/where each/,/^$/p'
echo "HTML page (open it in a browser, offline): $PAGE"
echo
TRACE=$(dirname "$RUN")/tp-loop.pftrace
build/partrace export --perfetto -o "$TRACE" samples/gpu-cuda-timeline/traced
build/partrace check "$TRACE"
echo "Perfetto trace (open it at ui.perfetto.dev): $TRACE"
echo
echo "four bundled GPU runs side by side (partrace compare; docs/partrace-compare.md):"
build/partrace compare samples/gpu-engine-straggle/traced samples/gpu-engine-ep-skew/traced \
    samples/gpu-pp-ep/traced samples/gpu-recorder-one-gpu/traced
