#!/usr/bin/env bash
# Recorder benchmarks, in one run on one machine (numbers go to docs/PERFORMANCE.md):
#  1. host cost per intercepted NCCL call (median of 1000-call batches, test NCCL): without the
#     library, with it disabled, and recording (ring large enough that nothing is dropped);
#  2. the writer's sustained rate: one thread calling flat out with default settings for 3 s;
#  3. compressed bytes per event on disk.
# usage: bench/run.sh [BUILD_DIR]
set -euo pipefail
BUILD=$(realpath "${1:-build}")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export LD_LIBRARY_PATH=$BUILD/fakenccl
BENCH=$BUILD/bench/bench_call
LIB=$BUILD/libpartrace.so
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$1'])" "$2"; }
summary() { "$BUILD/partrace" info "$1" | python3 -c '
import re, sys
text = sys.stdin.read()
events = sum(int(n) for line in text.splitlines() if line.strip().startswith("nccl ")
             for n in re.findall(r" (\d+)", line))
disk = sum(int(x) for x in re.findall(r"frames, (\d+) bytes", text))
dropped = sum(int(x) for x in re.findall(r"dropped   (\d+)", text))
print(events, disk, dropped)'; }

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(uname -r)"
echo "clock source: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
best() { # median of 5 runs of a bench command's median_ns_per_call
    for i in 1 2 3 4 5; do field median_ns_per_call "$("$@")"; done | sort -n | sed -n 3p; }
plain=$(best "$BENCH" --calls 1000000)
disabled=$(best env LD_PRELOAD="$LIB" PARTRACE_DISABLE=1 "$BENCH" --calls 1000000)
rec_runs=()
for i in 1 2 3 4 5; do
    rm -rf "$TMP/r$i"
    rec_runs+=("$(LD_PRELOAD=$LIB PARTRACE_DIR=$TMP/r$i PARTRACE_THREAD_BUFFER_KB=65536 \
        PARTRACE_BUFFER_MB=128 "$BENCH" --calls 400000 | python3 -c 'import json,sys; print(json.load(sys.stdin)["median_ns_per_call"])')")
done
recording=$(printf '%s\n' "${rec_runs[@]}" | sort -n | sed -n 3p)
read -r ev1 disk1 drop1 < <(summary "$TMP/r1")
echo
echo "| measurement | value |"
echo "|---|---|"
echo "| ns per call, no library | $plain |"
echo "| ns per call, library loaded, PARTRACE_DISABLE=1 | $disabled |"
echo "| ns per call, recording (0 dropped: $drop1) | $recording |"
echo "| added cost per recorded call | $(python3 -c "print(round($recording - $plain, 1))") ns |"
echo "| compressed bytes per event ($ev1 events) | $(python3 -c "print(round($disk1 / $ev1, 2))") |"
rm -rf "$TMP/flood"
out=$(LD_PRELOAD=$LIB PARTRACE_DIR=$TMP/flood "$BENCH" --calls 30000000)
wall=$(field wall_s "$out")
read -r ev2 disk2 drop2 < <(summary "$TMP/flood")
echo "| writer, one thread calling flat out for ${wall} s (default settings): events written per s | $(python3 -c "print(f'{$ev2 / $wall:,.0f}')") |"
echo "| ... of which dropped (ring full, counted) | $(python3 -c "print(f'{$drop2:,} of {$drop2 + $ev2:,}')") |"
echo "| ... compressed bytes per event | $(python3 -c "print(round($disk2 / $ev2, 2))") |"
