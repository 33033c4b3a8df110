#!/bin/sh
# cmake --install into a scratch prefix, then build a program outside the
# tree with nothing but `pkg-config --cflags --libs qlite` (shared and static)
# and run it.   usage: check_install.sh BUILD_DIR SOURCE_FILE SCRATCH_DIR CC
set -eu
build=$1 src=$2 tmp=$3 cc=$4
rm -rf "$tmp" && mkdir -p "$tmp"
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pc=$(find "$tmp/prefix" -name qlite.pc | head -1)
export PKG_CONFIG_PATH=$(dirname "$pc")
test -f "$tmp/prefix/include/qlite/qlite.h"
"$cc" -std=c11 -Wall -Werror "$src" $(pkg-config --cflags --libs qlite) -o "$tmp/ext_shared"
LD_LIBRARY_PATH=$(pkg-config --variable=libdir qlite) "$tmp/ext_shared"
"$cc" -std=c11 -Wall -Werror "$src" $(pkg-config --cflags qlite) \
    "$(pkg-config --variable=libdir qlite)/libqlite.a" $(pkg-config --static --libs-only-l qlite | sed 's/-lqlite//') \
    -o "$tmp/ext_static"
"$tmp/ext_static"
for tool in qlite-run qlite-dump; do
    "$tmp/prefix/bin/$tool" --version >/dev/null
done
echo "install: OK"
