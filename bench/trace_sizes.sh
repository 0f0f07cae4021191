#!/usr/bin/env bash
# Size on disk of the bundled GPU samples' traces, from `partrace info`: per run directory, its
# format, records, bytes and bytes per record (all files of the run together).
#   bench/trace_sizes.sh [BUILD_DIR]
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
echo "| run | format | records | bytes | bytes/record |"
echo "|---|---|---|---|---|"
for dir in $(cd "$ROOT" && find samples -name '*.ptrace' -printf '%h\n' | sort -u); do
    "$BUILD/partrace" info "$ROOT/$dir" 2>/dev/null | awk -v run="$dir" '
        $1 == "format" { fmt = $2; sub(/,$/, "", fmt); bytes += $5; records += $7 }
        END { if (records) printf "| `%s` | %s | %d | %d | %.1f |\n", run, fmt, records, bytes, bytes / records }'
done
