#!/usr/bin/env bash
# GPU scenario for the reference engine, on a 4-GPU machine from the repository root:
#   bash tests/gpu/engine.sh BUILD_DIR OUT_DIR
# 1. Correctness: the tiny model's logits of one step under tp=2, tp=4, dp=2, tp=2,dp=2, pp=2,
#    pp=4 and tp=2,pp=2, and moe-tiny's under tp=4, ep=4, ep=2 and pp=2, equal the single-GPU
#    run's within bf16 tolerance (compare_logits.py).
# 2. Ground truth under partrace: tp=4 with --straggle 2:US; `partrace report` must name rank 2
#    the straggler and recover US within 10 %; the trace's TTFT and TPOT within 5 % of the
#    engine's (check_engine.py, for every run under partrace).
# 3. PP bubble: pp=4 with 1, 2, 4, 8 micro-batches, the report's PP share of decode steps
#    against (p-1)/(m+p-1).
# 4. Layouts of the small model at a low and a high concurrency, each under partrace, with the
#    engine's summary and the report kept.
# 5. The MoE model (moe-small) as EP4 and TP4, and EP4 with a hot expert.
# 6. Prefix caching: logits with the cache on and off; the small model with shared prefixes.
# 7. Open loop (--rate) with TP, PP and EP on 2 GPUs.
# PARTS="logits prefix" runs only those sections (default: all). NGPU=8 runs sections 4 and 5
# (the layout matrix) on 8 GPUs with the seed's 8-GPU layouts (A TP8, B TP4xPP2, C TP2xPP2xDP2,
# D DP8; MoE as EP8 and TP8): NGPU=8 PARTS="dense moe" bash tests/gpu/engine.sh ....
# Results: OUT_DIR/summary.txt and OUT_DIR/engine.tar.gz (reports, summaries, logs; traces of
# the straggler run).
set -uo pipefail
. "$(dirname "$0")/machine_info.sh"
scenario_start "$1" "$2"
NGPU=${NGPU:-4}
# traced NAME ENGINE_ARGS...: pt_engine on NP GPUs (4) under partrace, its results in $WORK/NAME, its log
# in NAME.log, `partrace report` of its trace in NAME-report.txt and NAME-report.json.
traced() {
    local name=$1
    shift
    PARTRACE_DIR=$WORK/$name/trace LD_PRELOAD=$LIB PARTRACE_CUDA=kernels timeout 300 "$ENGINE" --nproc "${NP:-4}" "$@" \
        --out "$WORK/$name" > "$WORK/$name.log" 2>&1 || { say "$name failed"; status=1; }
    "$PT" report "$WORK/$name/trace" > "$WORK/$name-report.txt" 2>&1
    "$PT" report --json "$WORK/$name/trace" > "$WORK/$name-report.json" 2>/dev/null
}
# checked NAME [CHECK_ARGS...]: the engine's summary of NAME, and check_engine.py on its report.
checked() {
    local name=$1 check
    shift
    say "$name: $(tail -1 "$WORK/$name.log")"
    check=$(python3 tests/gpu/check_engine.py "$WORK/$name-report.json" "$WORK/$name/summary.json" "$@" 2>&1) ||
        { say "$name check failed"; status=1; }
    say "$name check: $check"
}
# PARTS picks sections (default all): logits straggle bubble dense moe prefix rate
part() { [[ " ${PARTS:-logits straggle bubble dense moe prefix rate} " == *" $1 "* ]]; }

# 1. Correctness.
if part logits; then
tiny=(--requests 16 --input 100 --output 4 --concurrency 16 --seed 5)
run_tiny() { # NAME NPROC LAYOUT MODEL
    mkdir -p "$WORK/tiny-$1"
    timeout 120 "$ENGINE" --nproc "$2" --layout "$3" --model "$4" "${tiny[@]}" --out "$WORK/tiny-$1" \
        --dump-logits "$WORK/tiny-$1/logits.bin" > "$WORK/tiny-$1.log" 2>&1 || { say "tiny $1 failed"; status=1; }
}
for model in tiny moe-tiny; do
    run_tiny $model-base 1 tp=1 $model
    layouts="tp2:2:tp=2 tp4:4:tp=4 dp2:2:dp=2 tp2dp2:4:tp=2,dp=2 pp2:2:pp=2 pp4:4:pp=4 tp2pp2:4:tp=2,pp=2"
    [ $model = moe-tiny ] && layouts="tp4:4:tp=4 ep4:4:dp=4,ep=4 ep2:2:dp=2,ep=2 pp2:2:pp=2"
    for v in $layouts; do
        IFS=: read -r name nproc layout <<< "$v"
        run_tiny "$model-$name" "$nproc" "$layout" "$model"
        cmp=$(python3 tests/gpu/compare_logits.py "$WORK/tiny-$model-base/logits.bin" \
            "$WORK/tiny-$model-$name/logits.bin" 2>&1) || { say "logits $model $name differ from 1 GPU's"; status=1; }
        say "logits $model $name vs 1 GPU: $cmp"
    done
done
fi

# 2. Straggler and TTFT under partrace.
if part straggle; then
STRAGGLE_US=${STRAGGLE_US:-200}
traced straggle --layout tp=4 --model small --requests 32 --input 256 --output 16 --concurrency 8 \
    --straggle 2:"$STRAGGLE_US"
checked straggle --straggle 2:"$STRAGGLE_US"
fi

# 3. PP bubble against (p-1)/(m+p-1): pp=4, decode steps of 32 sequences in m micro-batches.
part bubble && for mb in ${MICRO:-1 2 4 8}; do
    name=bubble-m$mb
    traced "$name" --layout pp=4 --micro-batches "$mb" --model small --requests 64 --input 64 --output 64 \
        --concurrency 32
    "$PT" report --json --phase decode "$WORK/$name/trace" > "$WORK/$name-decode.json" 2>/dev/null
    say "$name: $(python3 - "$WORK/$name-decode.json" "$mb" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); m, p = int(sys.argv[2]), 4
a = [x["attribution_pct"] for x in r["ranks"]]
bubble = sum(x["pp_bubble"] for x in a) / len(a)
busy = sum(x["pp_bubble"] + x["compute"] + x["tp_comm"] for x in a) / len(a)
print(json.dumps({"micro_batches": m, "expected": round((p - 1) / (m + p - 1), 4),
                  "pp_bubble_of_span": round(bubble / 100, 4), "pp_bubble_of_busy": round(bubble / busy, 4),
                  "per_rank_pp_pct": [x["pp_bubble"] for x in a], "idle_pct": [x["idle"] for x in a]}))
PY
)"
    rm -rf "$WORK/$name/trace"
done

# 4. Layouts of the small model, on NGPU GPUs.
if [ "$NGPU" = 8 ]; then dense_layouts="tp=8 tp=4,pp=2 tp=2,pp=2,dp=2 dp=8"
else dense_layouts="tp=4 tp=2,dp=2 dp=4 pp=4 tp=2,pp=2"; fi
part dense && for conc in ${CONCS:-4 64}; do
    for v in ${LAYOUTS:-$dense_layouts}; do
        name=small-${v//[=,]/}-c$conc
        NP=$NGPU traced "$name" --layout "$v" --model small --requests $((conc * 4 > 32 ? conc * 4 : 32)) --input 512 \
            --output 64 --concurrency "$conc"
        checked "$name"
        rm -rf "$WORK/$name/trace"
    done
done
# 5. The MoE model: EP4 (attention data-parallel) and TP4, low and high concurrency; then EP4
#    with a hot expert (--route-skew) to see the report's receive imbalance.
if part moe; then
for conc in ${CONCS:-4 64}; do
    for v in ${LAYOUTS_MOE:-dp=$NGPU,ep=$NGPU tp=$NGPU}; do
        name=moe-${v//[=,]/}-c$conc
        NP=$NGPU traced "$name" --layout "$v" --model moe-small --requests $((conc * 4 > 32 ? conc * 4 : 32)) --input 512 \
            --output 64 --concurrency "$conc"
        checked "$name"
        rm -rf "$WORK/$name/trace"
    done
done
name=moe-ep${NGPU}-skew
NP=$NGPU traced "$name" --layout dp=$NGPU,ep=$NGPU --model moe-small --requests 64 --input 256 --output 32 --concurrency 16 \
    --route-skew 4
say "$name: $(grep -h "EP rank" "$WORK/$name.log" | head -4 | tr '\n' ' ')"
say "$name report: $(grep -i -E "imbalance|hot" "$WORK/$name-report.txt" | head -3)"
fi

# 6. Prefix caching: prompts sharing 3/4 of their tokens, a few at a time so later ones find the
#    shared blocks cached. Each request's first-token logits with the cache on equal those with
#    it off (1 GPU, tiny); then the small model's TP4 at concurrency 64 with shared prefixes,
#    under partrace, against the same load without them (section 4).
if part prefix; then
shared=(--requests 32 --input 256 --output 4 --concurrency 4 --shared-prefix 0.75 --seed 9)
for cache in on off; do
    mkdir -p "$WORK/prefix-$cache"
    timeout 120 "$ENGINE" --nproc 1 --model tiny "${shared[@]}" --prefix-cache $cache --out "$WORK/prefix-$cache" \
        --dump-logits "$WORK/prefix-$cache/logits.bin" > "$WORK/prefix-$cache.log" 2>&1 || { say "prefix $cache failed"; status=1; }
    say "prefix cache $cache: $(tail -1 "$WORK/prefix-$cache.log")"
done
cmp=$(python3 tests/gpu/compare_logits.py "$WORK/prefix-off/logits.bin" "$WORK/prefix-on/logits.bin" 2>&1) ||
    { say "logits with the prefix cache differ"; status=1; }
say "logits prefix cache on vs off: $cmp"
name=small-tp4-c64-shared
traced "$name" --layout tp=4 --model small --requests 256 --input 512 --output 64 --concurrency 64 \
    --shared-prefix 0.5
checked "$name"
rm -rf "$WORK/$name/trace"
fi
# 7. Open loop (--rate) on 2 GPUs in every kind of group: TP, PP, EP (the leader's arrivals
#    followed by its TP group and later stages; EP replicas each by their own clock).
if part rate; then
for v in "tp2:--layout tp=2 --model tiny" "pp2:--layout pp=2 --model tiny" "ep2:--layout dp=2,ep=2 --model moe-tiny"; do
    IFS=: read -r name args <<< "$v"
    mkdir -p "$WORK/rate-$name"
    timeout 120 "$ENGINE" --nproc 2 $args --requests 48 --input 64 --output 16 --rate 100 \
        --out "$WORK/rate-$name" > "$WORK/rate-$name.log" 2>&1 || { say "rate $name failed"; status=1; }
    say "rate $name: $(tail -1 "$WORK/rate-$name.log")"
done
fi
cat "$WORK/machine.txt" "$WORK/summary.txt" > "$OUT/summary.txt"
cp "$WORK/straggle-report.txt" "$OUT/" 2>/dev/null
rm -f "$WORK"/*/nccl-id
tar -C "$WORK" -czf "$OUT/engine.tar.gz" .
cat "$OUT/summary.txt"
exit $status
