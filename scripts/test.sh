#!/usr/bin/env bash
# The whole test suite: unit and integration tests (test NCCL, no GPU) in a normal build, in an
# AddressSanitizer + UndefinedBehaviorSanitizer build and in a ThreadSanitizer build (the
# writer thread, rings, fork and signals under it), plus the checks of the GPU samples; then the
# libFuzzer targets for a short fixed time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
jobs=$(nproc)
status=0
for variant in "build RelWithDebInfo OFF OFF" "build-asan Debug ON OFF" "build-tsan Debug OFF ON"; do
    set -- $variant
    echo "== $1 (ASan+UBSan $3, TSan $4)"
    cmake -S . -B "$1" -DCMAKE_BUILD_TYPE="$2" -DPT_SANITIZE="$3" -DPT_TSAN="$4" >/dev/null
    cmake --build "$1" -j"$jobs" >/dev/null
    (cd "$1" && ctest --output-on-failure -j"$jobs") || status=1
done
# Fuzzing for a short fixed time per target (scripts/fuzz.sh; PT_FUZZ_SECONDS, 0 skips it).
if [ "${PT_FUZZ_SECONDS:-30}" != 0 ]; then
    echo "== build-fuzz (libFuzzer, ${PT_FUZZ_SECONDS:-30} s per target)"
    scripts/fuzz.sh "${PT_FUZZ_SECONDS:-30}" || status=1
fi
exit $status
