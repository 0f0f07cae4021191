#!/usr/bin/env bash
# Whether a VM's cores run `partrace report` at the same speed, one core at a time and all at
# once: on a host shared with other guests, a core whose other hardware thread another guest
# uses runs slower with the same instructions, and the VM cannot see that from inside.
#   bench/report_cores.sh GEN_TRACE PARTRACE [STEPS] [PARALLEL]
#   1. the report of one generated run pinned to each core in turn (taskset -c);
#   2. PARALLEL reports (default: all cores) at once, each pinned to its own core.
# Rates are events per CPU second of the report (PARTRACE_READ_AHEAD=0: one thread).
set -euo pipefail
GEN=$1 BIN=$2 STEPS=${3:-1000000} PAR=${4:-$(nproc)}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/run"
"$GEN" "$TMP/run" tp 8 "$STEPS" 50000 20000 4194304 0 100 200 300 400 500 600 700
events=$((8 * 3 * STEPS))
export PARTRACE_READ_AHEAD=0
rate() { python3 -c "u, s = map(float, open('$1').read().split()); print(f'{$events / max(u + s, 1e-3) / 1e6:.1f}')"; }
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $events events"
echo "one core at a time (M events/s per core):"
line=""
for ((c = 0; c < $(nproc); c++)); do
    /usr/bin/time -f "%U %S" -o "$TMP/t" taskset -c "$c" "$BIN" report "$TMP/run" > /dev/null
    line+="cpu$c $(rate "$TMP/t")  "
done
echo "$line"
echo "$PAR at once, each on its own core (M events/s per core):"
for ((c = 0; c < PAR; c++)); do
    /usr/bin/time -f "%U %S" -o "$TMP/p$c" taskset -c "$c" "$BIN" report "$TMP/run" > /dev/null &
done
wait
line=""
for ((c = 0; c < PAR; c++)); do line+="cpu$c $(rate "$TMP/p$c")  "; done
echo "$line"
