#!/bin/bash
# check_doc_example.sh DOC EXAMPLE: the first ```c block after the heading
# "## A complete program" in DOC must equal EXAMPLE from its first #include on.
set -eu
fence='```'
block=$(awk -v f="$fence" '
    /^## A complete program/ { in_section = 1; next }
    in_section && $0 == f "c" { in_block = 1; next }
    in_block && $0 == f { exit }
    in_block { print }' "$1")
code=$(sed -n '/^#include <stdio.h>/,$p' "$2")
if [ "$block" != "$code" ]; then
    echo "docs/api.md's example differs from $2:"
    diff <(printf '%s\n' "$block") <(printf '%s\n' "$code") || true
    exit 1
fi
echo "docs example matches $2"
