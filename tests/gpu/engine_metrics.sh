#!/usr/bin/env bash
# GPU scenario on one GPU: the engine's Prometheus endpoint scraped by `partrace record
# --metrics`, the path a vLLM or SGLang server takes. pt_engine, small model, TP1, 64 requests at
# concurrency 8 with half of each prompt shared (--shared-prefix 0.5, so the prefix cache hits),
# serving /metrics on 127.0.0.1; partrace record scrapes it every 200 ms. check_metrics.py then
# holds the report's serving figures against the engine's own summary: from the scraped metrics
# (the metrics file alone) and from the engine's NVTX marks (the whole run), TTFT p50 and KV hit
# rate within 5 %. Run on the GPU machine from the repository root, with a build folder made on
# the CPU machine:
#   bash tests/gpu/engine_metrics.sh BUILD_DIR OUT_DIR
# Results: OUT_DIR/summary.txt, OUT_DIR/engine-metrics.tar.gz (reports, logs), and the run's
# traces in OUT_DIR/engine-metrics-traces.tar.gz.
set -uo pipefail
. "$(dirname "$0")/machine_info.sh"
scenario_start "$1" "$2"
PORT=${PORT:-18231}
load=(--model small --requests 64 --input 256 --output 32 --concurrency 8 --seed 3 --shared-prefix 0.5)

mkdir -p "$WORK/engine"
timeout 300 "$PT" record -o "$WORK/run" --metrics "http://127.0.0.1:$PORT/metrics" --metrics-interval-ms 200 \
    -- "$ENGINE" --nproc 1 "${load[@]}" --metrics-port "$PORT" --out "$WORK/engine" \
    > "$WORK/run.log" 2>&1 || { say "recorded run failed"; status=1; }
metrics=$(ls "$WORK"/run/*.metrics.ptrace 2>/dev/null | head -1)
[ -n "$metrics" ] || { say "no metrics file"; status=1; }
"$PT" info "$WORK/run" > "$WORK/run-info.txt" 2>&1
"$PT" report "$WORK/run" > "$WORK/run-report.txt" 2>&1
"$PT" report --json "$WORK/run" > "$WORK/run-report.json" 2>/dev/null
"$PT" report --json "$metrics" > "$WORK/metrics-report.json" 2>"$WORK/metrics-report.err"
"$PT" report "$metrics" > "$WORK/metrics-report.txt" 2>&1
"$PT" compare "$WORK/run" > "$WORK/compare.txt" 2>&1
say "engine: $(grep -h 'requests in' "$WORK/run.log" | head -1)"
say "engine summary: $(cat "$WORK/engine/summary.json" 2>/dev/null)"
say "scraped: $(grep -E 'server metrics|TTFT|KV cache' "$WORK/metrics-report.txt" | tr '\n' ';')"
say "metric samples: $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['serving']['metric_samples'])" "$WORK/metrics-report.json" 2>&1)"
check=$(python3 tests/gpu/check_metrics.py "$WORK/metrics-report.json" "$WORK/run-report.json" \
        "$WORK/engine/summary.json" 2>&1) || { say "check failed"; status=1; }
say "check: $check"

mkdir -p "$OUT"
cp "$WORK/summary.txt" "$WORK/machine.txt" "$OUT/"
tar -C "$WORK" -czf "$OUT/engine-metrics.tar.gz" summary.txt machine.txt run.log run-info.txt \
    run-report.txt run-report.json metrics-report.json metrics-report.txt compare.txt engine/summary.json
tar -C "$WORK" -czf "$OUT/engine-metrics-traces.tar.gz" run
say "status $status"
exit $status
