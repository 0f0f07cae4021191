#!/bin/sh
# Writes partrace's man pages and shell completions into OUT from the built partrace's own help
# tables (partrace help --man, --completion): cmake/install.cmake runs it at build time.
#   help_files.sh PARTRACE OUT
set -e
pt=$1 out=$2
mkdir -p "$out/man1" "$out/completion"
"$pt" help --man > "$out/man1/partrace.1"
for cmd in $("$pt" help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 {print $1}'); do
    "$pt" help --man "$cmd" > "$out/man1/partrace-$cmd.1"
done
"$pt" help --completion bash > "$out/completion/partrace"
"$pt" help --completion zsh > "$out/completion/_partrace"
