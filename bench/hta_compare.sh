#!/usr/bin/env bash
# HolisticTraceAnalysis (from the package index) on partrace's Chrome export of a run, beside
# partrace's own report: the check that `partrace export --chrome` gives what Kineto-based tools
# read. One JSON file per rank (HTA wants that), then HTA's temporal breakdown, kernel-type
# breakdown and communication/computation overlap; then `partrace report`'s attribution.
#   bench/hta_compare.sh [BUILD_DIR] [RUN]    (default: build, samples/gpu-cuda-timeline/traced)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}")
RUN=${2:-samples/gpu-cuda-timeline/traced}
VENV=${HTA_VENV:-/tmp/partrace-hta-venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c "import hta" 2>/dev/null || "$VENV/bin/pip" install -q HolisticTraceAnalysis
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ranks=$("$BUILD/partrace" report --json "$RUN" 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['layout']['world'])")
for r in $(seq 0 $((ranks - 1))); do
    "$BUILD/partrace" export --chrome --ranks "$r" -o "$TMP/rank-$r.json" "$RUN" 2>/dev/null
done
echo "HTA $("$VENV/bin/pip" show HolisticTraceAnalysis | sed -n 's/^Version: //p') on partrace export --chrome of $RUN:"
"$VENV/bin/python" - "$TMP" <<'PY' 2>/dev/null
import sys
from hta.trace_analysis import TraceAnalysis
a = TraceAnalysis(trace_dir=sys.argv[1])
print(a.get_temporal_breakdown(visualize=False).to_string(index=False))
print(a.get_gpu_kernel_breakdown(visualize=False)[0].to_string(index=False))
print(a.get_comm_comp_overlap(visualize=False).to_string(index=False))
PY
echo
echo "partrace report of the same run:"
"$BUILD/partrace" report "$RUN" 2>/dev/null | sed -n '/where each/,/^$/p'
