#!/usr/bin/env bash
# GPU scenario: the engine's custom all-reduce (--allreduce custom, kernels/custom_allreduce.h).
# On any machine: pt_custom_ar_check, its kernels against the host's sums with 2, 4 and 8 ranks
# as streams of one GPU, one and two stages, plain calls and graph replays; then the same under
# compute-sanitizer's memcheck. With 2 GPUs or more (the largest TP of 2 and 4 the GPUs allow),
# the small model four times under partrace (PARTRACE_CUDA=kernels), rank 1 delayed 200 us
# before each TP all-reduce (--straggle 1:200):
# NCCL eagerly (--allreduce nccl --cuda-graphs off), NCCL in CUDA graphs, the custom all-reduce
# in CUDA graphs (--allreduce custom --cuda-graphs on), and that once more without the delay.
# Checks: the same output tokens as NCCL eagerly, every graph-replayed kernel tied to a captured
# node (check_graphs.py); in the delayed runs' reports rank 1 the straggler with its delay
# recovered within 10 % (check_engine.py); each run's TP share and collectives rows printed, to
# hold the custom run's within 5 points of NCCL's.
# Run on the GPU machine from the repository root, with a build folder made on the CPU machine:
#   bash tests/gpu/custom_allreduce.sh BUILD_DIR OUT_DIR
# Results: OUT_DIR/summary.txt, machine.txt, kernels.txt, memcheck.txt and, with 2 GPUs or more,
# OUT_DIR/RUN/ for each run (trace folder, report, engine summary, tokens).
set -uo pipefail
. "$(dirname "$0")/machine_info.sh"
scenario_start "$1" "$2"

# The ranks' kernels wait for each other: each stream its own hardware queue, so that none waits
# behind another rank's later call; a hang ends at the timeout.
if CUDA_DEVICE_MAX_CONNECTIONS=32 timeout 120 "$BUILD/pt_custom_ar_check" > "$WORK/kernels.txt" 2>&1; then
    say "kernels: $(grep -c 'equal to the host' "$WORK/kernels.txt") cases equal to the host's sums"
else
    say "kernels: FAILED"; cat "$WORK/kernels.txt"; status=1
fi

# The same check under compute-sanitizer's memcheck: no access outside the buffers, peers' included.
sanitizer=/usr/local/cuda/bin/compute-sanitizer
if [ -x "$sanitizer" ]; then
    CUDA_DEVICE_MAX_CONNECTIONS=32 timeout 300 "$sanitizer" --tool memcheck "$BUILD/pt_custom_ar_check" \
        > "$WORK/memcheck.txt" 2>&1 || status=1
    say "kernels under memcheck: $(grep -c 'equal to the host' "$WORK/memcheck.txt") cases equal," \
        "$(grep -h 'ERROR SUMMARY' "$WORK/memcheck.txt" | sed 's/^=* *//')"
fi

gpus=$(nvidia-smi -L | wc -l)
tp=0
[ "$gpus" -ge 2 ] && tp=2
[ "$gpus" -ge 4 ] && tp=4
run() { # name allreduce graphs straggle
    local name=$1 ar=$2 graphs=$3 straggle=$4
    mkdir -p "$WORK/$name/engine"
    PARTRACE_DIR=$WORK/$name/traced LD_PRELOAD=$LIB PARTRACE_CUDA=kernels timeout 300 "$ENGINE" --nproc "$tp" \
        --layout "tp=$tp" --model small --requests 64 --input 128 --output 32 --concurrency 16 --seed 7 \
        --straggle "$straggle" --allreduce "$ar" --cuda-graphs "$graphs" --out "$WORK/$name/engine" \
        > "$WORK/$name/run.log" 2>&1 || { say "$name: run failed"; status=1; }
    cp "$WORK/$name/engine/tokens-0.tsv" "$WORK/$name/" 2>/dev/null
    run_outputs "$name"
    local check=(--straggle "$straggle")
    [ "$straggle" = 0:0 ] && check=()
    say "$name: check $(python3 tests/gpu/check_engine.py "$WORK/$name/report.json" "$WORK/$name/engine-summary.json" \
        "${check[@]}" 2>&1)" || status=1
    for f in "$WORK/$name/traced"/*.ptrace; do "$PT" dump --json "$f"; done > "$WORK/$name/dump.jsonl" 2>/dev/null
    say "$name: TP share $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); s=[x["attribution_ns"] for x in r["ranks"]]; print("%.1f %%" % (100*sum(a["tp_comm"] for a in s)/sum(sum(a.values()) for a in s)))' "$WORK/$name/report.json" 2>&1)"
    say "$name: collectives $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("; ".join("%s %s %s x%d" % (c["role"], c["op"], c["bytes"], c["count"]) for c in r["collectives"]))' "$WORK/$name/report.json" 2>&1)"
}
if [ "$tp" -ge 2 ]; then
    run nccl-eager nccl off 1:200
    run nccl-graphs nccl on 1:200
    run custom-graphs custom on 1:200
    run custom-graphs-even custom on 0:0
    for name in nccl-graphs custom-graphs custom-graphs-even; do # tokens equal, graph kernels tied
        say "$name against nccl-eager: $(python3 tests/gpu/check_graphs.py "$WORK/nccl-eager" "$WORK/$name" 2>&1)" \
            || status=1
    done
else
    say "engine runs: need 2 GPUs, this machine has $gpus"
fi

mkdir -p "$OUT"
cp "$WORK/summary.txt" "$WORK/machine.txt" "$WORK/kernels.txt" "$WORK/memcheck.txt" "$OUT/" 2>/dev/null
for name in nccl-eager nccl-graphs custom-graphs custom-graphs-even; do
    [ -d "$WORK/$name" ] || continue
    mkdir -p "$OUT/$name"
    cp -r "$WORK/$name/traced" "$OUT/$name/" 2>/dev/null
    cp "$WORK/$name/engine-summary.json" "$WORK/$name/tokens-0.tsv" "$WORK/$name/report.txt" "$OUT/$name/" 2>/dev/null
done
say "status $status"
exit $status
