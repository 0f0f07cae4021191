#!/usr/bin/env bash
# Builds libunwind as a position-independent static library under .deps/libunwind, from
# Debian's own source package (verified by apt against the signed archive index), fetched from
# the package sources this machine is configured with.
# Why: libpartrace.so links libunwind statically (it must need only libc at run time), and
# Debian's packaged libunwind.a is not built with -fPIC, so it cannot go into a shared library.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="$PWD/.deps/libunwind"
[ -f "$prefix/lib/libunwind.a" ] && [ -f "$prefix/include/libunwind.h" ] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "partrace: building libunwind (PIC, static) from Debian's source package" >&2
# The machine's own configured sources, as source-package sources, in a configuration of our own:
# the machine's apt configuration is left as it is.
mkdir -p "$work/lists/partial" "$work/src.d"
: >"$work/src.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && sed -n 's/^deb \(.*\)/deb-src \1/p' "$f" >>"$work/src.list"
done
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types:.*/Types: deb-src/' "$f" >"$work/src.d/$(basename "$f")"
done
apt_src=(-o Dir::Etc::SourceList="$work/src.list" -o Dir::Etc::SourceParts="$work/src.d"
         -o Dir::State::Lists="$work/lists" -o APT::Sandbox::User=root)
# A configured source without source packages only warns here: the one that has libunwind counts.
$sudo apt-get "${apt_src[@]}" update -qq || true
(cd "$work" && $sudo apt-get "${apt_src[@]}" source --download-only -qq libunwind >/dev/null)
tar -xzf "$work"/libunwind_*.orig.tar.gz -C "$work"
cd "$work"/libunwind-*/
# Only local unwinding is used: no coredump/ptrace/setjmp variants, no compressed debug info
# (which would pull in liblzma/zlib), no tests or documentation.
./configure -q --prefix="$prefix" --enable-static --disable-shared --with-pic \
    --disable-minidebuginfo --disable-zlibdebuginfo --disable-coredump --disable-ptrace \
    --disable-setjmp --disable-tests --disable-documentation >"$work/build.log" 2>&1 &&
make -j"$(nproc)" >>"$work/build.log" 2>&1 &&
make install >>"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
echo "partrace: libunwind installed in $prefix" >&2
