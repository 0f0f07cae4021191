#!/usr/bin/env bash
# GPU scenario for the report's PP and EP inference: tests/gpu/pp_ep_loop.py on N ranks
# under partrace, then `partrace report` of the whole run and of each phase, checked by
# check_pp_ep.py. Run on the GPU machine from the repository root:
#   bash tests/gpu/pp_ep.sh BUILD_DIR OUT_DIR     (NPROC=4)
# Results: OUT_DIR/summary.txt and OUT_DIR/gpu-pp-ep.tar.gz (the trace and the reports).
set -uo pipefail
BUILD=$(realpath "$1")
OUT=$(realpath "$2")
NPROC=${NPROC:-4}
WORK=$(mktemp -d)
status=0
. "$(dirname "$0")/machine_info.sh"
machine_info > "$WORK/machine.txt" 2>&1
mkdir -p "$WORK/issued"
PT_OUT_DIR=$WORK/issued LD_PRELOAD=$BUILD/libpartrace.so PARTRACE_DIR=$WORK/traced \
    timeout 300 torchrun --standalone --nproc_per_node="$NPROC" tests/gpu/pp_ep_loop.py \
    > "$WORK/run.log" 2>&1 || { echo "torchrun failed"; status=1; }
for phase in all pp ep; do
    args=()
    [ "$phase" = all ] || args=(--phase "$phase")
    "$BUILD/partrace" report "${args[@]}" "$WORK/traced" > "$WORK/report-$phase.txt" 2>&1
    "$BUILD/partrace" report --json "${args[@]}" "$WORK/traced" > "$WORK/report-$phase.json" 2>/dev/null
done
python3 tests/gpu/check_pp_ep.py "$WORK" > "$WORK/check.json" 2>&1 || { echo "check failed"; status=1; }
cat "$WORK/machine.txt" "$WORK/check.json" "$WORK/report-all.txt" > "$OUT/summary.txt"
tail -n 5 "$WORK/run.log" >> "$OUT/summary.txt"
tar -C "$WORK" -czf "$OUT/gpu-pp-ep.tar.gz" .
cat "$OUT/summary.txt"
exit $status
