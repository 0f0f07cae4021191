# Sourced by scripts/fuzz.sh and scripts/fuzz_long.sh: how a libFuzzer target is run, and how
# its findings are found.

# fuzz_target BIN SANITIZER_LOG ARTIFACT_PREFIX SECONDS [LIBFUZZER_ARGS...] CORPUS
# The target's own output and its messages about bad input are silenced (-close_fd_mask=3); the
# sanitizers' reports go to SANITIZER_LOG.*, failing inputs to ARTIFACT_PREFIX{crash,leak,...}-*.
fuzz_target() {
    local bin=$1 log=$2 artifacts=$3 seconds=$4
    shift 4
    ASAN_OPTIONS=detect_leaks=1:log_path=$log "$bin" -max_total_time="$seconds" -close_fd_mask=3 \
        -max_len=65536 -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$artifacts" "$@"
}

# fuzz_found PREFIX: lists the inputs runs with that artifact prefix (a glob) left; true when any.
# (ls alone fails as soon as one kind is missing, so its status cannot tell.)
fuzz_found() {
    local found
    # shellcheck disable=SC2086 # the prefix is a glob
    found=$(ls -d ${1}crash-* ${1}leak-* ${1}timeout-* ${1}oom-* 2>/dev/null)
    [ -n "$found" ] && echo "$found"
}
