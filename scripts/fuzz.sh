#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz and runs each for a fixed time,
# seeded from small generated runs and their exports:
#   fuzz_report  partrace report, export --perfetto and --chrome on fuzzed traces (the records of
#                a valid frame, or whole files)
#   fuzz_run_dir report, info, dump and the exporters on fuzzed run directories of several
#                files, some of them bad (empty, cut, directories, dangling links, FIFOs)
#   fuzz_check   partrace check on fuzzed Perfetto files
#   fuzz_hf_config  whatif's config.json reader on fuzzed text, seeded with the engine's presets
#   scripts/fuzz.sh [SECONDS per target, default 60]     (exit 1 when a target finds a crash)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/fuzz_common.sh
SECONDS_EACH=${1:-60}
scripts/deps.sh
command -v clang >/dev/null || { echo "partrace: fuzzing needs clang (apt-get install clang)" >&2; exit 1; }
CC=clang cmake -S . -B build-fuzz -DPT_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
[ -x build/tools/gen_trace ] && [ -x build/partrace ] || {
    cmake -S . -B build >/dev/null && cmake --build build -j"$(nproc)" >/dev/null; }
CORPUS=build-fuzz/corpus
rm -rf "$CORPUS" && mkdir -p "$CORPUS/report" "$CORPUS/check" "$CORPUS/run_dir" "$CORPUS/runs" "$CORPUS/hf_config"
for preset in small moe-small; do
    build/pt_model_config "$preset" > "$CORPUS/hf_config/$preset.json"
done
seed=0
# "custom:": the all-reduces as custom all-reduce kernels (no NCCL call), which the report
# groups and matches by order.
for scenario in "tp 2 3 1000 500 1024 0 300" "pp 2 2 1000 2" "ep 4 2 1000 500 4096 1 3" "mixed 2 2 1 4" \
                "custom:tp 2 3 1000 500 1024 0 300" "custom:mixed 2 1 2 4"; do
    run=$CORPUS/runs/$seed
    custom=0
    [[ $scenario == custom:* ]] && custom=1 scenario=${scenario#custom:}
    mkdir -p "$run" "$run-plain"
    GEN_CUSTOM_AR=$custom build/tools/gen_trace "$run" $scenario
    GEN_CUSTOM_AR=$custom GEN_FORMAT=1 build/tools/gen_trace "$run-plain" $scenario
    for f in "$run"/*.ptrace; do
        # First byte: bit 0 raw file (else the file's records: frames decompressed, header off),
        # bits 1-2 which reader (0 report, 1 Perfetto export, 2 Chrome export), bits 3-4 the
        # report's output (text, JSON, Markdown, HTML), bit 5 the records are packed (format 3; bit 6: format 2).
        plain=$run-plain/$(basename "$f")
        for how in 0 2 4 8 16 24; do
            { printf "\\$(printf %o $how)"; tail -c +257 "$plain" | zstd -dc 2>/dev/null; } \
                > "$CORPUS/report/rec$how-$seed-$(basename "$f")"
            { printf "\\$(printf %o $((how + 32)))"; tail -c +257 "$f" | zstd -dc 2>/dev/null; } \
                > "$CORPUS/report/packed$how-$seed-$(basename "$f")"
        done
        { printf '\1'; cat "$f"; } > "$CORPUS/report/raw-$seed-$(basename "$f")"
    done
    build/partrace export --perfetto -o "$CORPUS/check/$seed.pftrace" "$run" 2>/dev/null
    # A whole run directory as one input: the reader byte, then each file as an entry of kind 0
    # (its bytes as they are), then an empty file and a directory, cut apart by "PTFZ".
    for reader in 0 1 2 3 4 5; do
        { printf "\\$(printf %o $reader)"
          for f in "$run"/*.ptrace; do printf '\0'; cat "$f"; printf 'PTFZ'; done
          printf '\4PTFZ\5'; } > "$CORPUS/run_dir/$reader-$seed"
    done
    seed=$((seed + 1))
done
# A server's scraped metrics beside a TP run: metric records for every reader.
run=$CORPUS/runs/$seed
mkdir -p "$run"
build/tools/gen_trace "$run" tp 2 3 1000 500 1024 0 300
build/tools/gen_trace "$run" metrics 4 1000
f=$run/gen-metrics.ptrace
{ printf '\40'; tail -c +257 "$f" | zstd -dc 2>/dev/null; } > "$CORPUS/report/packed0-metrics"
{ printf '\1'; cat "$f"; } > "$CORPUS/report/raw-metrics"
for reader in 0 1 2 3 4 5; do
    { printf "\\$(printf %o $reader)"
      for f in "$run"/*.ptrace; do printf '\0'; cat "$f"; printf 'PTFZ'; done; } > "$CORPUS/run_dir/$reader-metrics"
done
status=0
for target in fuzz_report fuzz_run_dir fuzz_check fuzz_hf_config; do
    corpus=$CORPUS/${target#fuzz_}
    echo "== $target, $SECONDS_EACH s"
    rm -f build-fuzz/$target-sanitizer.*
    fuzz_target build-fuzz/tests/fuzz/$target build-fuzz/$target-sanitizer "build-fuzz/$target-" "$SECONDS_EACH" \
        "$corpus" 2>&1 |
        grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)" ||
        true
    if fuzz_found "build-fuzz/$target-"; then
        echo "$target: FOUND A PROBLEM (inputs above; reports in build-fuzz/$target-sanitizer.*)"
        head -40 build-fuzz/$target-sanitizer.* 2>/dev/null || true
        status=1
    fi
done
exit $status
