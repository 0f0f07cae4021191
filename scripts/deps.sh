#!/usr/bin/env bash
# Installs the Debian packages partrace needs to build and test, if any is missing.
# The CUDA toolkit (for nccl.h and cuda_runtime.h) is expected at /usr/local/cuda.
set -euo pipefail
need=()
for pkg in cmake make gcc libzstd-dev python3 protobuf-c-compiler libprotobuf-c-dev protobuf-compiler zlib1g-dev clang zstd; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "partrace: installing ${need[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -f /usr/local/cuda/include/nccl.h ] && [ ! -f "${CUDA_HOME:-/nonexistent}/include/nccl.h" ]; then
    echo "partrace: nccl.h not found: install the CUDA toolkit at /usr/local/cuda or set CUDA_HOME" >&2
    exit 1
fi
# The Python module's tests: pandas for its DataFrames, wheel for `pip install ./python`.
python3 -c 'import pandas, wheel' 2>/dev/null || python3 -m pip install -q pandas wheel ||
    echo "partrace: pandas or wheel could not be installed: the Python module's tests that need them skip" >&2
"$(dirname "$0")/libunwind.sh"
