#!/usr/bin/env sh
# The runs a profile-guided build of the analysis side learns from (cmake/pgo.cmake): the
# instrumented `partrace` of TRAIN_BUILD reports generated runs of each layout (their sizes kept
# small: the build waits for this) and every bundled GPU sample, and exports two of them.
#   scripts/pgo-train.sh TRAIN_BUILD RUNS_DIR SAMPLES_DIR
set -eu
build=$1 runs=$2 samples=$3
gen=$build/tools/gen_trace
pt=$build/partrace
export PARTRACE_READ_AHEAD=0 # one thread: the profile's counters are not atomic
rm -rf "$runs"
mkdir -p "$runs/tp" "$runs/pp" "$runs/ep" "$runs/mixed"
# Not the benchmark's run (bench/report_ab.sh: 8 ranks, other times and skews): the profile
# should not be fitted to what it is measured on.
"$gen" "$runs/tp" tp 4 30000 30000 15000 1048576 0 900 50 300
"$gen" "$runs/pp" pp 4 8 100000 500
"$gen" "$runs/ep" ep 8 2000 50000 20000 1048576 3 4
"$gen" "$runs/mixed" mixed 2 2 2 2000
for run in "$runs"/tp "$runs"/pp "$runs"/ep "$runs"/mixed $(find "$samples" -name '*.ptrace' -exec dirname {} \; | sort -u); do
    # A sample whose report warns or fails still trains what it ran through.
    "$pt" report "$run" > /dev/null 2>&1 || true
done
"$pt" export --perfetto --force -o "$runs/tp.pftrace" "$runs/tp" > /dev/null 2>&1 || true
"$pt" export --chrome --force -o "$runs/tp.json" "$runs/tp" > /dev/null 2>&1 || true
