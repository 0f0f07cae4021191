#!/usr/bin/env bash
# Two partrace binaries' report (and export) of the same generated run, run alternately, since a
# shared machine's speed drifts within minutes: CPU seconds (user + system, every thread) and
# events per CPU second, the rate per core. Prints one row per run, then each binary's best and
# median, and each other binary's speed as a multiple of A's (a fixed reference build as A
# gives a figure that depends less on how loaded the machine is).
#   bench/report_ab.sh GEN_TRACE BIN_A BIN_B [STEPS] [ROUNDS] [COMMAND]
#   COMMAND: report (default) or export
#   RUN=DIR: the run is generated there once, and kept (to compare more binaries on it later)
#   MORE="BIN_C ...": further binaries, run in turn after A and B
# Each row also gives the machine's steal time during the run (all CPUs, from /proc/stat): on a
# shared VM, rounds that other guests slowed down show it.
set -euo pipefail
GEN=$1 A=$2 B=$3 STEPS=${4:-200000} ROUNDS=${5:-5} CMD=${6:-report}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
RUN_DIR=${RUN:-$TMP/run}
if [ ! -d "$RUN_DIR" ] || [ -z "$(ls -A "$RUN_DIR")" ]; then
    mkdir -p "$RUN_DIR"
    "$GEN" "$RUN_DIR" tp 8 "$STEPS" 50000 20000 4194304 0 100 200 300 400 500 600 700
fi
events=$((8 * 3 * STEPS))
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $events events; $CMD"
echo "| binary | wall s | CPU s | events/s per core | machine steal s |"
echo "|---|---|---|---|---|"
steal() { awk '/^cpu /{print $9 / 100}' /proc/stat 2>/dev/null || echo 0; }
for ((i = 0; i < ROUNDS; i++)); do
    for bin in "$A" "$B" ${MORE:-}; do
        if [ "$CMD" = export ]; then
            args=(export --perfetto --force -o "$TMP/out.pftrace" "$RUN_DIR")
        else
            args=(report "$RUN_DIR")
        fi
        s0=$(steal)
        /usr/bin/time -f "%e %U %S" -o "$TMP/time" "$bin" "${args[@]}" > /dev/null 2>&1
        s1=$(steal)
        read -r secs user sys < "$TMP/time"
        python3 -c "cpu = $user + $sys; print(f'| $bin | $secs | {cpu:.2f} | {$events / max(cpu, 1e-3):,.0f} | {$s1 - $s0:.2f} |')"
        echo "$bin $user $sys" >> "$TMP/rounds"
    done
done
# Per binary: the best round (least disturbed by the machine's other work) and the median.
# Then each other binary against A, round by round (A ran just before it, on the same machine
# in about the same state): the median of those speed ratios, which moves less between
# machines than either rate does.
python3 - "$TMP/rounds" "$events" "$A" <<'PY'
import statistics, sys
rates, rounds = {}, []
for line in open(sys.argv[1]):
    name, user, sys_s = line.split()
    rate = int(sys.argv[2]) / max(float(user) + float(sys_s), 1e-3)
    rates.setdefault(name, []).append(rate)
    rounds.append((name, rate))
for name, r in rates.items():
    print(f"{name}: best {max(r):,.0f}, median {statistics.median(r):,.0f} events/s per core over {len(r)} rounds")
ratios, ref = {}, None
for name, rate in rounds:
    if name == sys.argv[3]:
        ref = rate
        continue
    if ref:
        ratios.setdefault(name, []).append(rate / ref)
for name, q in ratios.items():
    print(f"{name}: {statistics.median(q):.2f} times as fast as {sys.argv[3]} (median of {len(q)} rounds, {min(q):.2f}-{max(q):.2f})")
PY
