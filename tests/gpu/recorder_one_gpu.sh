#!/usr/bin/env bash
# GPU scenario on one GPU: the recorder as it now is (its own high descriptor checked before each
# frame, frames with zstd checksums, signals and locks as the application left them) under the
# real CUDA driver, CUPTI, cuBLAS and NCCL, with the reference engine:
#   1. pt_engine, small model, TP1, 64 requests at concurrency 8, under partrace: the trace reads
#      back whole (every frame's checksum verified by the reader), its TTFT and TPOT within 5 %
#      of the engine's own (check_engine.py), every frame of the file carrying a checksum;
#   2. the same engine as a single rank (RANK=0 WORLD_SIZE=1, no launcher) stopped by SIGTERM
#      half-way, which it does not handle: the trace ends with the signal's end record.
# Run on the GPU machine from the repository root, with a build folder made on the CPU machine:
#   bash tests/gpu/recorder_one_gpu.sh BUILD_DIR OUT_DIR
# Results: OUT_DIR/summary.txt, OUT_DIR/recorder-one-gpu.tar.gz (reports, infos, logs).
set -uo pipefail
. "$(dirname "$0")/machine_info.sh"
scenario_start "$1" "$2"
load=(--model small --requests 64 --input 256 --output 32 --concurrency 8 --seed 3)

# 1. A whole run.
mkdir -p "$WORK/run"
PARTRACE_DIR=$WORK/run/trace LD_PRELOAD=$LIB timeout 300 "$ENGINE" --nproc 1 "${load[@]}" \
    --out "$WORK/run" > "$WORK/run.log" 2>&1 || { say "engine run failed"; status=1; }
"$PT" info "$WORK/run/trace" > "$WORK/run-info.txt" 2>&1
"$PT" report "$WORK/run/trace" > "$WORK/run-report.txt" 2>&1
"$PT" report --json "$WORK/run/trace" > "$WORK/run-report.json" 2>/dev/null
grep -q "integrity complete" "$WORK/run-info.txt" || { say "trace not complete"; status=1; }
say "run: $(grep -E 'format|integrity' "$WORK/run-info.txt" | tr -s ' ' | tr '\n' ';')"
check=$(python3 tests/gpu/check_engine.py "$WORK/run-report.json" "$WORK/run/summary.json" 2>&1) ||
    { say "check failed"; status=1; }
say "check: $check"
# Every zstd frame after the header: its descriptor's checksum bit (bit 2) set.
frames=$(python3 - "$WORK"/run/trace/*.ptrace <<'EOF'
import sys
total = with_sum = 0
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    at = 256
    while at + 5 <= len(data) and data[at:at + 4] == b"\x28\xb5\x2f\xfd":
        fhd = data[at + 4]
        total += 1
        with_sum += bool(fhd & 4)
        # Walk the frame: header, then blocks (3-byte headers), then the 4-byte checksum.
        fcs = {0: 0, 1: 2, 2: 4, 3: 8}[fhd >> 6]
        if fhd >> 6 == 0 and fhd & 0x20:
            fcs = 1
        pos = at + 5 + (0 if fhd & 0x20 else 1) + {0: 0, 1: 1, 2: 2, 3: 4}[fhd & 3] + fcs
        while True:
            bh = int.from_bytes(data[pos:pos + 3], "little")
            size = bh >> 3
            kind = (bh >> 1) & 3
            pos += 3 + (1 if kind == 1 else size)
            if bh & 1:
                break
        at = pos + (4 if fhd & 4 else 0)
print(f"{with_sum} of {total} frames with a checksum")
EOF
)
say "frames: $frames"
case "$frames" in "0 of "*|*" of 0 frames"*) status=1;; esac
[ "${frames%% of*}" = "$(echo "$frames" | sed 's/.* of \([0-9]*\) frames.*/\1/')" ] || status=1

# 2. SIGTERM half-way.
mkdir -p "$WORK/term"
RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 PARTRACE_DIR=$WORK/term/trace LD_PRELOAD=$LIB "$ENGINE" "${load[@]}" \
    --requests 5000 --out "$WORK/term" > "$WORK/term.log" 2>&1 &
pid=$!
sleep 20
kill -TERM "$pid"
wait "$pid"
say "term: engine exited $?"
"$PT" info "$WORK/term/trace" > "$WORK/term-info.txt" 2>&1
say "term: $(grep -E 'integrity' "$WORK/term-info.txt" | tr -s ' ' | tr '\n' ';')"
grep -q "integrity complete (ended by fatal signal)" "$WORK/term-info.txt" ||
    { say "SIGTERM trace not ended by the signal"; status=1; }

mkdir -p "$OUT"
cp "$WORK/summary.txt" "$WORK/machine.txt" "$OUT/"
tar -C "$WORK" -czf "$OUT/recorder-one-gpu.tar.gz" --exclude='*.ptrace' summary.txt machine.txt \
    run.log run-info.txt run-report.txt run-report.json run/summary.json term.log term-info.txt
tar -C "$WORK" -czf "$OUT/recorder-one-gpu-traces.tar.gz" run/trace
say "status $status"
exit $status
