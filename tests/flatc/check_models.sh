#!/bin/sh
# Cross-checks of the .qlite format with flatc, the FlatBuffers project's own
# reader/writer (Debian flatbuffers-compiler), registered by tests/flatc.cmake.
#
#   check_models.sh to-json FLATC SCHEMA MAKE_MODELS OUTDIR OTHER_DIR
#       MAKE_MODELS writes NAME.qlite + NAME.expect.json + NAME.buf<i>.bin
#       into OUTDIR; each model must convert to JSON with
#       `flatc --json --raw-binary --strict-json --defaults-json`, contain every
#       value of NAME.expect.json (floats to 1e-6 relative), and hold the
#       expected bytes at the 64-byte aligned offsets flatc reports. Every
#       fmt_*.qlite the unit tests wrote into OTHER_DIR must convert as well.
#
#   check_models.sh from-json FLATC SCHEMA CHECKER JSON OUTDIR
#       flatc -b builds the FlatBuffer from the hand-written JSON; CHECKER
#       appends the data section and opens the result with qlite.
set -eu

mode=$1
flatc=$2
schema=$3

# Paths of $e (expected) whose value is missing or different in $a.
JQ_MISMATCH='
def mism($x; $y; $p):
  if ($x|type) == "object" then
    if ($y|type) != "object" then $p
    else ($x|keys_unsorted[]) as $k
      | if ($y|has($k)) then mism($x[$k]; $y[$k]; $p + [$k]) else $p + [$k] end
    end
  elif ($x|type) == "array" then
    if ($y|type) != "array" or ($x|length) != ($y|length) then $p
    else range(0; $x|length) as $i | mism($x[$i]; $y[$i]; $p + [$i])
    end
  elif ($x|type) == "number" then
    if ($y|type) == "number" and ((($x - $y)|fabs) <= 1e-6 * ([1, ($x|fabs)]|max)) then empty
    else $p end
  elif $x == $y then empty
  else $p end;
$e[0] as $e | $a[0] as $a
| [mism($e; $a; [])] | .[0:10][] | . as $p
| "  \($p | tojson): expected \($e | getpath($p) | tojson), flatc read \($a | getpath($p) | tojson)"'

fail=0
to_json() { # model.qlite -> model.json beside it (flatc names it)
    dir=$(dirname "$1")
    if ! "$flatc" --json --raw-binary --strict-json --defaults-json -o "$dir" "$schema" -- "$1"; then
        echo "FAIL: flatc cannot read $1"
        fail=1
        return 1
    fi
}

case $mode in
to-json)
    make_models=$4
    out=$5
    others=$6
    rm -rf "$out"
    mkdir -p "$out"
    "$make_models" "$out"
    for expect in "$out"/*.expect.json; do
        name=$(basename "$expect" .expect.json)
        model="$out/$name.qlite"
        json="$out/$name.json"
        to_json "$model" || continue
        bad=$(jq -r -n --slurpfile e "$expect" --slurpfile a "$json" "$JQ_MISMATCH")
        if [ -n "$bad" ]; then
            echo "FAIL: $name: flatc's JSON differs from the spec:"
            echo "$bad"
            fail=1
        fi
        # the data section: each buffer at a multiple of 64, holding its bytes
        n=$(jq '.buffers | length' "$json")
        jq -r '.buffers | to_entries[] | select(.key > 0) | "\(.key) \(.value.offset) \(.value.size)"' \
            "$json" > "$out/$name.offsets"
        while read -r i off size; do
            if [ $((off % 64)) -ne 0 ]; then
                echo "FAIL: $name: buffer $i at offset $off is not 64-byte aligned"
                fail=1
            fi
            if ! tail -c +$((off + 1)) "$model" | head -c "$size" | cmp -s - "$out/$name.buf$i.bin"; then
                echo "FAIL: $name: buffer $i ($size bytes at $off) does not hold the expected bytes"
                fail=1
            fi
        done < "$out/$name.offsets"
        echo "ok: $name: $(jq '.graphs[0].tensors | length' "$json") tensors, $(jq '.graphs[0].operators | length' "$json") ops, $n buffers match"
    done
    # every model the unit tests wrote
    count=0
    for model in "$others"/fmt_*.qlite; do
        [ -e "$model" ] || continue
        copy="$out/other_$(basename "$model")"
        cp "$model" "$copy"
        to_json "$copy" || continue
        json="${copy%.qlite}.json"
        if ! jq -e '.version_major >= 1 and (.graphs | length) >= 1
                    and all(.buffers[]; .offset % 64 == 0)' "$json" > /dev/null; then
            echo "FAIL: $model: unexpected JSON from flatc"
            fail=1
        fi
        count=$((count + 1))
    done
    echo "ok: $count other model(s) written by the unit tests convert with flatc"
    ;;
from-json)
    checker=$4
    json=$5
    out=$6
    rm -rf "$out"
    mkdir -p "$out"
    "$flatc" -b -o "$out" "$schema" "$json"
    fb="$out/$(basename "$json" .json).qlite"
    [ -f "$fb" ] || { echo "FAIL: flatc -b wrote no $fb"; exit 1; }
    "$checker" "$fb" "$out/with_data.qlite" || fail=1
    ;;
*)
    echo "usage: check_models.sh to-json|from-json ..." >&2
    exit 2
    ;;
esac
exit $fail
