#!/bin/sh
# Every output of every command on every bundled sample and on generated runs, one file each,
# into OUT. Two builds' snapshots compared with `diff -r` show whether a change altered any
# output byte (reports, exports, dumps, infos, checks, diffs).
# usage: scripts/outputs_snapshot.sh BUILD_DIR OUT
set -eu
build=$(cd "$1" && pwd)
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
pt=$build/partrace
gen=$build/tools/gen_trace
mkdir -p "$out"
# A fixed path: outputs name their inputs, and two snapshots must name the same ones.
work=${TMPDIR:-/tmp}/partrace-outputs-snapshot
rm -rf "$work"; mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# Generated runs: each scenario of the trace generator, fixed arguments.
gen() { mkdir -p "$1" && "$gen" "$@" >/dev/null; }
gen "$work/tp" tp 4 20 100000 20000 1048576 0 0 300000 0
gen "$work/pp" pp 4 8 50000 3
gen "$work/mixed" mixed 2 2 2 5
gen "$work/ep" ep 4 10 80000 20000 65536 1 3
GEN_CUSTOM_AR=1 gen "$work/custom" tp 2 10 100000 20000 65536 0 200000
GEN_EP_GROUPED=1 gen "$work/epg" ep 4 6 80000 20000 65536 2 2
gen "$work/graph" graph 4 3 20 100000 20000 1048576 0 3000 1000 7000
gen "$work/metrics" tp 2 20 100000 20000 1048576 0 0 && "$gen" "$work/metrics" metrics 8 1000000

runs=""
# Every directory of the samples that holds trace files.
for d in $(cd "$root" && find samples -name '*.ptrace' -printf '%h\n' | sort -u); do
  runs="$runs $root/$d"
done
for g in tp pp mixed ep custom epg graph metrics; do runs="$runs $work/$g"; done

n=0
for r in $runs; do
  n=$((n + 1))
  name=$(printf '%02d-%s' "$n" "$(echo "${r#"$root"/}" | sed "s|$work/|gen-|; s|/|_|g")")
  run_cmd() { # FILE ARGS...
    f=$1; shift
    rc=0
    (cd "$work" && "$pt" "$@" >"$out/$name.$f" 2>"$out/$name.$f.err") || rc=$?
    echo "rc=$rc" >>"$out/$name.$f.err"
  }
  run_cmd info info "$r"
  run_cmd report report "$r"
  run_cmd report.json report --json "$r"
  run_cmd report.md report --markdown "$r"
  rm -f "$work/r.html"; run_cmd report.html.log report --html "$work/r.html" "$r"
  [ -f "$work/r.html" ] && cp "$work/r.html" "$out/$name.report.html"
  run_cmd report.graph report --phase graph "$r"
  run_cmd dump dump "$r"
  run_cmd dump.json dump --json "$r"
  run_cmd export.chrome export --chrome -o "$work/t.json" --force "$r"
  [ -f "$work/t.json" ] && cp "$work/t.json" "$out/$name.chrome.json" && rm -f "$work/t.json"
  run_cmd export.pftrace export --perfetto -o "$work/t.pftrace" --force "$r"
  if [ -f "$work/t.pftrace" ]; then
    cp "$work/t.pftrace" "$out/$name.pftrace"
    run_cmd check check "$work/t.pftrace"
    rm -f "$work/t.pftrace"
  fi
  run_cmd diff.self diff "$r" "$r"
done
echo "$n runs, $(ls "$out" | wc -l) files in $out"
