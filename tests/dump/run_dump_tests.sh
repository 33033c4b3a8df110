#!/bin/bash
# CLI tests of qlite-dump on the models tests/dump/make_dump_models.c writes.
#
#   run_dump_tests.sh SECTION QLITE_DUMP MODEL_DIR SOURCE_DIR
#
# SECTION: json | tensor | text | dot | verify | errors | gzip | flatc
# Expected values are derived by hand from the constants in
# make_dump_models.c (see the comments there), never from qlite-dump itself;
# dequantized values are recomputed here (jq) as scale * (q - zero_point).
set -u
section=$1
DUMP=$2
DIR=$3
SRC=$4
M=$DIR/dump_model.qlite
X=$DIR/dump_extra.qlite
WORK=$DIR/work-$section
rm -rf "$WORK"
mkdir -p "$WORK"
failures=0
checks=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { checks=$((checks + 1)); }

# eq FILE JQ_EXPR EXPECTED_COMPACT_JSON
eq() {
    local got
    got=$(jq -c "$2" "$1" 2>&1)
    if [ "$got" = "$3" ]; then ok; else fail "$(basename "$1"): $2 = $got, expected $3"; fi
}
# true_ FILE JQ_BOOL_EXPR  (the expression must yield true)
true_() {
    local got
    got=$(jq -c "$2" "$1" 2>&1)
    if [ "$got" = "true" ]; then ok; else fail "$(basename "$1"): $2 is $got"; fi
}
# run EXPECTED_EXIT OUTFILE ERRFILE ARGS...
run() {
    local want=$1 out=$2 err=$3
    shift 3
    "$DUMP" "$@" >"$out" 2>"$err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else
        fail "qlite-dump $* exited $rc, expected $want; stderr: $(head -c 400 "$err")"
    fi
}
grep_() { # grep_ FILE REGEX
    if grep -qE -- "$2" "$1"; then ok; else fail "$(basename "$1") has no line matching /$2/"; fi
}
# Floating-point comparison of two arrays with a relative tolerance.
close_arrays() { # close_arrays FILE JQ_GOT JQ_WANT TOL
    true_ "$1" "[($2), ($3)] | (.[0] | length) == (.[1] | length) and
        ([.[0], .[1]] | transpose | all(((.[0] - .[1]) | fabs) <= $4 * ([(.[1] | fabs), 1e-30] | max)))"
}

file_size() { stat -c %s "$1"; }

case $section in
json)
    J=$WORK/m.json
    run 0 "$J" "$WORK/err" --json "$M"
    jq -e . "$J" >/dev/null 2>&1 && ok || fail "--json output is not valid JSON"
    eq "$J" .dump_version 1
    eq "$J" .format_version '{"major":1,"minor":0}'
    eq "$J" .producer '"make_dump_models 1.0"'
    eq "$J" .description '"dump test model: int8 conv, sparse fc, clustered mul, int4 fc"'
    eq "$J" .counts '{"tensors":16,"operators":9,"buffers":11,"metadata":3,"inputs":1,"outputs":1}'
    eq "$J" '.file.size' "$(file_size "$M")"
    eq "$J" '.file.compressed' false
    # metadata: text values, a blob, and escaping of quotes/newline/tab/backslash/UTF-8
    eq "$J" '[.metadata[] | .key]' '["quant_mode","labels","note"]'
    eq "$J" '.metadata[0].value' '"mixed"'
    eq "$J" '.metadata[1].value' 'null'
    eq "$J" '.metadata[1].blob.size' 8
    true_ "$J" '.metadata[1].blob.buffer as $b | .buffers[$b].size == 8'
    eq "$J" '.metadata[2].value' '"say \"hi\"\n\tµ\\"'
    # inputs / outputs
    eq "$J" .inputs '[{"tensor":0,"name":"x","shape":[-1,4,4,2],"dtype":"float32","quantization":null}]'
    eq "$J" '.outputs | map([.tensor, .name, .shape, .dtype])' '[[15,"probs",[-1,2],"float32"]]'
    # operators
    eq "$J" '[.operators[] | .op]' \
        '["QUANTIZE","CONV_2D","DEQUANTIZE","TRANSPOSE","RESHAPE","FULLY_CONNECTED","MUL","FULLY_CONNECTED","SOFTMAX"]'
    eq "$J" '[.operators[] | .name]' \
        '["quant","conv","dequant","to_nchw","flatten","fc","gain","fc2","softmax"]'
    eq "$J" '.operators[1] | [.inputs, .outputs, .opcode, .options_type]' '[[1,2,3],[4],0,"conv2d"]'
    eq "$J" '.operators[1].options' \
        '{"stride_h":2,"stride_w":2,"dilation_h":1,"dilation_w":1,"pad_top":1,"pad_left":1,"pad_bottom":1,"pad_right":1,"groups":1,"output_pad_h":0,"output_pad_w":0,"activation":"RELU"}'
    eq "$J" '.operators[3].options' '{"perm":[0,3,1,2]}'
    eq "$J" '.operators[4].options' '{"new_shape":[-1,12]}'
    eq "$J" '.operators[5].options' '{"activation":"NONE","keep_num_dims":true}'
    eq "$J" '.operators[7].inputs' '[12,13,-1]'
    eq "$J" '.operators[8].options' '{"axis":-1,"beta":1}'
    # tensors: names, shapes, dtypes
    eq "$J" '[.tensors[] | .name]' \
        '["x","xq","conv.w","conv.b","y","yf","yt","r","fc.w","fc.b","z","k","z2","fc2.w","out","probs"]'
    eq "$J" '[.tensors[] | .dtype]' \
        '["float32","int8","int8","int32","int8","float32","float32","float32","float32","float16","float32","float32","float32","int4","float32","float32"]'
    eq "$J" '[.tensors[] | .shape]' \
        '[[-1,4,4,2],[-1,4,4,2],[3,3,3,2],[3],[-1,2,2,3],[-1,2,2,3],[-1,3,2,2],[-1,12],[4,12],[4],[-1,4],[4],[-1,4],[2,4],[-1,2],[-1,2]]'
    eq "$J" '[.tensors[] | select(.constant) | .index]' '[2,3,8,9,11,13]'
    # bytes: stored (data + aux), dense equivalent; hand-computed
    #   conv.w 54 int8; conv.b 3*4; fc.w 24 values*4 + row_ptr 5 + col_index 6 (dense 4*12*4);
    #   fc.b 4*2; k 1 index byte + 4*4 codebook (dense 16); fc2.w 8 int4 = 4
    eq "$J" '[.tensors[] | select(.constant) | [.bytes, .data_bytes, .aux_bytes, .dense_bytes, .elements]]' \
        '[[54,54,0,54,54],[12,12,0,12,3],[107,96,11,192,48],[8,8,0,8,4],[17,1,16,16,4],[4,4,0,4,8]]'
    eq "$J" '[.tensors[0] | .elements, .dense_bytes, .bytes, .buffer]' '[32,128,0,0]'
    true_ "$J" '. as $r | [.tensors[] | select(.constant) | .data_bytes == $r.buffers[.buffer].size] | all'
    # quantization
    eq "$J" '.tensors[1].quantization | [.per_channel, .count, .zero_point]' '[false,1,[-3]]'
    close_arrays "$J" '.tensors[1].quantization.scale' '[0.05]' 1e-7
    eq "$J" '.tensors[2].quantization | [.per_channel, .count, .axis, .zero_point]' '[true,3,0,[0,0,0]]'
    close_arrays "$J" '.tensors[2].quantization.scale' '[0.01,0.02,0.04]' 1e-7
    close_arrays "$J" '.tensors[2].quantization | [.scale_min, .scale_max]' '[0.01,0.04]' 1e-7
    close_arrays "$J" '.tensors[3].quantization.scale' '[0.0005,0.001,0.002]' 1e-6
    eq "$J" '.tensors[4].quantization.zero_point' '[5]'
    eq "$J" '.tensors[13].quantization | [.count, .scale, .zero_point]' '[1,[0.5],[0]]'
    eq "$J" '[.tensors[] | select(.quantization == null) | .name]' \
        '["x","yf","yt","r","fc.w","fc.b","z","k","z2","out","probs"]'
    # sparsity and clustering
    eq "$J" '.tensors[8].sparsity | [.block, .nnz_blocks, .stored_values, .zero_fraction, .row_ptr_type, .col_index_type]' \
        '[[1,4],6,24,0.5,"uint8","uint8"]'
    true_ "$J" '. as $r | .tensors[8].sparsity | ($r.buffers[.row_ptr_buffer].size == 5) and ($r.buffers[.col_index_buffer].size == 6)'
    eq "$J" '.tensors[11].clustering | [.num_clusters, .index_bits, .per_row]' '[3,2,false]'
    true_ "$J" '. as $r | $r.buffers[$r.tensors[11].clustering.codebook_buffer].size == 16'
    eq "$J" '[.tensors[] | select(.sparsity == null and .clustering == null and .constant) | .name]' \
        '["conv.w","conv.b","fc.b","fc2.w"]'
    eq "$J" '[.tensors[] | .layout] | unique' '["DEFAULT"]'
    # buffers and totals
    eq "$J" '.buffers[0]' '{"index":0,"offset":0,"size":0,"crc32":0}'
    eq "$J" '[.buffers[] | .size] | add' 210
    true_ "$J" '[.buffers[] | select(.size > 0) | .offset % 64 == 0] | all'
    true_ "$J" '. as $r | [.buffers[] | .offset + .size <= $r.file.size] | all'
    eq "$J" '.totals | [.constant_tensors, .weights_bytes, .dense_equivalent_bytes, .buffers_bytes]' \
        '[6,202,286,210]'
    eq "$J" '.totals.weights_bytes_by_dtype' '{"float32":124,"float16":8,"int8":54,"int32":12,"int4":4}'
    eq "$J" '.totals.file_bytes' "$(file_size "$M")"
    eq "$J" '.totals.model_bytes' "$(file_size "$M")"
    true_ "$J" '.totals | .data_section_offset % 64 == 0 and .flatbuffer_bytes == .data_section_offset and .data_section_bytes == .model_bytes - .data_section_offset'
    true_ "$J" '. as $r | .totals.data_section_offset == ([$r.buffers[] | select(.size > 0) | .offset] | min)'
    # gzip -6 size: recomputed with Python's zlib (same algorithm, independent caller)
    if [ -x /usr/bin/python3 ]; then
        want=$(/usr/bin/python3 -c "
import sys, zlib
c = zlib.compressobj(6, zlib.DEFLATED, 31)
d = open(sys.argv[1], 'rb').read()
print(len(c.compress(d) + c.flush()))" "$M")
        eq "$J" .totals.gzip_bytes "$want"
    fi
    run 0 "$WORK/ng.json" "$WORK/err" --json --no-gzip "$M"
    eq "$WORK/ng.json" .totals.gzip_bytes null
    # the extra model: O16I4 layout, per-row clustering
    JX=$WORK/x.json
    run 0 "$JX" "$WORK/err" --json "$X"
    eq "$JX" '.tensors[1] | [.name, .layout, .bytes, .dense_bytes, .elements]' '["p.w","O16I4",256,120,120]'
    eq "$JX" '.tensors[4] | [.name, .bytes, .data_bytes, .aux_bytes, .dense_bytes, .clustering.per_row]' \
        '["c.w",11,3,8,10,true]'
    eq "$JX" '.tensors[1].quantization | [.count, .axis]' '[20,0]'
    close_arrays "$JX" '.tensors[1].quantization | [.scale_min, .scale_max]' '[0.125, 2.5]' 1e-7
    eq "$JX" '[.inputs[] | .name], [.outputs[] | .name]' '["in","in2"]
["mid","out"]'
    ;;

tensor)
    # conv.w: per-channel int8, q_i = (i*37) % 255 - 127, scale by output channel i/18
    T=$WORK/convw.json
    run 0 "$T" "$WORK/err" --tensor conv.w --json --all "$M"
    eq "$T" '.complete' true
    eq "$T" '.stored == [range(54) | (. * 37) % 255 - 127]' true
    close_arrays "$T" '.values' '[range(54) | ([0.01, 0.02, 0.04][(. / 18) | floor]) * ((. * 37) % 255 - 127)]' 1e-6
    close_arrays "$T" '.values' '.tensor.quantization.scale as $s | [range(54) as $i | $s[($i / 18) | floor] * (.stored[$i] - 0)]' 1e-7
    eq "$T" '.stats.count' 54
    # conv.b: int32 per-channel, scale = 0.05 * w_scale
    T=$WORK/convb.json
    run 0 "$T" "$WORK/err" --tensor conv.b --json "$M"
    eq "$T" '.stored' '[100,-200,300]'
    close_arrays "$T" '.values' '[0.05, -0.2, 0.6]' 1e-6
    # fc.w: sparse 1x4 blocks, v_j = (j+1)/4 placed by row_ptr [0,2,2,3,6], cols [0,2,1,0,1,2]
    T=$WORK/fcw.json
    run 0 "$T" "$WORK/err" --tensor fc.w --json --all "$M"
    eq "$T" '.values' \
        '[0.25,0.5,0.75,1,0,0,0,0,1.25,1.5,1.75,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,2.25,2.5,2.75,3,0,0,0,0,3.25,3.5,3.75,4,4.25,4.5,4.75,5,5.25,5.5,5.75,6]'
    eq "$T" 'has("stored")' false
    # mean = (sum of (j+1)/4, j<24) / 48 = 75/48
    eq "$T" '.stats | [.count, .zeros, .min, .max, .mean]' '[48,24,0,6,1.5625]'
    # fc.b: float16 0x3800 0xbc00 0x4000 0xb400
    T=$WORK/fcb.json
    run 0 "$T" "$WORK/err" --tensor fc.b --json "$M"
    eq "$T" '.values' '[0.5,-1,2,-0.25]'
    # k: clustered, indices 2,0,1,2 into [-1.5, 0.25, 2]; also by index
    T=$WORK/k.json
    run 0 "$T" "$WORK/err" --tensor k --json "$M"
    eq "$T" '.values' '[2,-1.5,0.25,2]'
    run 0 "$WORK/k11.json" "$WORK/err" --tensor 11 --json "$M"
    eq "$WORK/k11.json" '[.tensor.name, .values]' '["k",[2,-1.5,0.25,2]]'
    # fc2.w: int4 nibbles, scale 0.5, zero point 0
    T=$WORK/fc2.json
    run 0 "$T" "$WORK/err" --tensor fc2.w --json "$M"
    eq "$T" '.stored' '[-8,7,-1,0,3,-3,1,2]'
    eq "$T" '.values == (.stored | map(0.5 * (. - 0)))' true
    eq "$T" '.values' '[-4,3.5,-0.5,0,1.5,-1.5,0.5,1]'
    # an activation has no values: not an error
    run 0 "$WORK/x.json" "$WORK/err" --tensor x --json "$M"
    eq "$WORK/x.json" '[.tensor.constant, .values, .stats.count, .stats.min]' '[false,[],0,null]'
    # unknown tensor: exit 1 with a one-line reason
    run 1 "$WORK/none.out" "$WORK/none.err" --tensor no.such "$M"
    grep_ "$WORK/none.err" "^qlite-dump: .*no tensor named 'no.such'"
    # O16I4: logical q(o,i) = (o*6+i) % 100 - 50, scale 0.125*(o+1)
    T=$WORK/pw.json
    run 0 "$T" "$WORK/err" --tensor p.w --json --all "$X"
    eq "$T" '.stored == [range(120) | . % 100 - 50]' true
    close_arrays "$T" '.values' '[range(120) | 0.125 * ((. / 6 | floor) + 1) * (. % 100 - 50)]' 1e-7
    # without --all: the first 16 and the last 16 of 120, statistics over all
    T=$WORK/pw_head.json
    run 0 "$T" "$WORK/err" --tensor p.w --json "$X"
    eq "$T" '[.complete, (.values | length), .tail_start, (.tail_values | length), .stats.count]' \
        '[false,16,104,16,120]'
    eq "$T" '.stored == [range(16) | . % 100 - 50] and .tail_stored == [range(104; 120) | . % 100 - 50]' true
    close_arrays "$T" '[.stats.min, .stats.max]' '[[range(120) | 0.125 * ((. / 6 | floor) + 1) * (. % 100 - 50)] | min, max]' 1e-7
    # per-row clustered int8 with per-channel scales 0.5 / 0.25
    T=$WORK/cw.json
    run 0 "$T" "$WORK/err" --tensor c.w --json "$X"
    eq "$T" '.stored' '[-100,-10,10,100,-100,6,6,0,-3,3]'
    eq "$T" '.values' '[-50,-5,5,50,-50,1.5,1.5,0,-0.75,0.75]'
    # text form: header lines, index / stored -> real lines, summary
    T=$WORK/convw.txt
    run 0 "$T" "$WORK/err" --tensor conv.w "$M"
    grep_ "$T" '^tensor 2 "conv.w"$'
    grep_ "$T" '^  shape +\[3,3,3,2\]$'
    grep_ "$T" '^  dtype +int8$'
    grep_ "$T" '^  quantization +per-channel x3 axis=0 scale=\[0.00999999978 .. 0.0399999991\] zero_point=0$'
    grep_ "$T" '^  \[0,0,0,0\]  -127  -> -1.26999997$'
    grep_ "$T" '^  \[2,2,2,1\]  49  -> 1.95999996$'
    [ "$(grep -c '^  \[' "$T")" = 54 ] && ok || fail "conv.w text: expected 54 value lines"
    T=$WORK/pw.txt
    run 0 "$T" "$WORK/err" --tensor p.w "$X"
    grep_ "$T" '^  \.\.\. 88 more \.\.\.$'
    grep_ "$T" '^  layout +O16I4$'
    [ "$(grep -c '^  \[' "$T")" = 32 ] && ok || fail "p.w text: expected 16 + 16 value lines"
    run 0 "$WORK/pw_all.txt" "$WORK/err" --tensor p.w --all "$X"
    [ "$(grep -c '^  \[' "$WORK/pw_all.txt")" = 120 ] && ok || fail "p.w --all: expected 120 value lines"
    T=$WORK/fcw.txt
    run 0 "$T" "$WORK/err" --tensor fc.w "$M"
    grep_ "$T" '^  sparsity +50.0% zeros, block 1x4, 6 non-zero blocks$'
    grep_ "$T" '^summary: min 0  max 6  mean 1.5625  std [0-9.]+  zeros 24 \(50.0%\)$'
    ;;

text)
    T=$WORK/m.txt
    run 0 "$T" "$WORK/err" "$M"
    [ -s "$WORK/err" ] && fail "text dump wrote to stderr: $(cat "$WORK/err")" || ok
    grep_ "$T" "^size +$(file_size "$M") bytes .*, not compressed$"
    grep_ "$T" '^format +1\.0$'
    grep_ "$T" '^producer +make_dump_models 1\.0$'
    grep_ "$T" '^graph +9 ops, 16 tensors \(6 constant\), 11 buffers$'
    grep_ "$T" '^metadata \(3\)$'
    grep_ "$T" '^  labels +<blob: 8 bytes in buffer [0-9]+>$'
    grep_ "$T" '^  note +"say \\"hi\\"\\n\\tµ\\\\"$'
    grep_ "$T" '^  0: tensor 0  x \[\?,4,4,2\] float32$'
    grep_ "$T" '^  0: tensor 15  probs \[\?,2\] float32$'
    grep_ "$T" '^ +1  CONV_2D +"conv"  xq \[\?,4,4,2\] int8, conv.w \[3,3,3,2\] int8, conv.b \[3\] int32 -> y \[\?,2,2,3\] int8  \{stride=2x2 pad=1,1,1,1 dilation=1x1 groups=1 act=RELU\}$'
    grep_ "$T" '^ +3  TRANSPOSE .*\{perm=\[0,3,1,2\]\}$'
    grep_ "$T" '^ +7  FULLY_CONNECTED +"fc2"  z2 \[\?,4\] float32, fc2.w \[2,4\] int4, - -> out \[\?,2\] float32  \{keep_num_dims=true\}$'
    grep_ "$T" '^ +8  SOFTMAX .*\{axis=-1 beta=1\}$'
    grep_ "$T" '^ +2  conv.w +\[3,3,3,2\] +int8 +54 +[0-9]+  q: per-channel x3 axis=0 scale=\[0.01..0.04\] zp=0$'
    grep_ "$T" '^ +1  xq +\[\?,4,4,2\] +int8 +- +-  q: scale=0.05 zp=-3$'
    grep_ "$T" '^ +8  fc.w +\[4,12\] +float32 +107 +[0-9]+  sparse 50.0% zeros, block 1x4; dense 192 B$'
    grep_ "$T" '^ +11  k +\[4\] +float32 +17 +[0-9]+  clustered K=3 2-bit; dense 16 B$'
    grep_ "$T" '^ +13  fc2.w +\[2,4\] +int4 +4 +[0-9]+  q: scale=0.5 zp=0$'
    grep_ "$T" '^  weights +202 bytes \(202 B\): float32 124, float16 8, int8 54, int32 12, int4 4$'
    grep_ "$T" '^  dense equivalent +286 bytes'
    grep_ "$T" "^  file +$(file_size "$M") bytes"
    grep_ "$T" '^  gzip -6 +[0-9]+ bytes'
    run 0 "$WORK/x.txt" "$WORK/err" "$X"
    grep_ "$WORK/x.txt" '^ +1  p.w +\[20,6\] +int8 +256 +[0-9]+  q: per-channel x20 axis=0 scale=\[0.125..2.5\] zp=0; layout O16I4; dense 120 B$'
    grep_ "$WORK/x.txt" '^ +4  c.w +\[2,5\] +int8 +11 +[0-9]+  q: per-channel x2 .*clustered K=4 2-bit per-row; dense 10 B$'
    ;;

dot)
    D=$WORK/m.dot
    run 0 "$D" "$WORK/err" --dot "$M"
    # 9 op boxes, 1 input and 1 output node; edges: one per activation
    # input of each op (9) plus one into the output node
    [ "$(grep -c 'shape=box' "$D")" = 9 ] && ok || fail "dot: expected 9 op boxes"
    [ "$(grep -cE '^  (in|out)[0-9]+ \[shape=ellipse' "$D")" = 2 ] && ok || fail "dot: expected 2 io nodes"
    [ "$(grep -c ' -> ' "$D")" = 10 ] && ok || fail "dot: expected 10 edges, got $(grep -c ' -> ' "$D")"
    grep_ "$D" '^  in0 -> op0 \[label="x\\n\[\?,4,4,2\] float32"\];$'
    grep_ "$D" '^  op0 -> op1 \[label="xq\\n\[\?,4,4,2\] int8"\];$'
    grep_ "$D" '^  op8 -> out0 \[label="probs\\n\[\?,2\] float32"\];$'
    grep_ "$D" 'op1 \[shape=box.*conv.w: \[3,3,3,2\] int8, 54 B, per-channel'
    grep_ "$D" 'op5 \[shape=box.*fc.w: \[4,12\] float32, 107 B, 50% sparse'
    if command -v dot >/dev/null 2>&1; then
        if dot -Tsvg "$D" -o "$WORK/m.svg" 2>"$WORK/dot.err"; then ok; else fail "dot -Tsvg: $(cat "$WORK/dot.err")"; fi
        [ "$(grep -c 'class="node"' "$WORK/m.svg")" = 11 ] && ok || fail "svg: expected 11 nodes"
        [ "$(grep -c 'class="edge"' "$WORK/m.svg")" = 10 ] && ok || fail "svg: expected 10 edges"
        run 0 "$WORK/x.dot" "$WORK/err" --dot "$X"
        dot -Tsvg "$WORK/x.dot" -o "$WORK/x.svg" 2>"$WORK/dot.err" && ok || fail "dot -Tsvg extra: $(cat "$WORK/dot.err")"
    else
        echo "note: graphviz 'dot' not installed; rendering check skipped"
    fi
    ;;

verify)
    run 0 "$WORK/ok.out" "$WORK/ok.err" --verify "$M"
    grep_ "$WORK/ok.out" "^.*dump_model.qlite: OK \(format 1.0, 9 ops, 16 tensors, 10 buffers, crc32 of 210 bytes verified\)$"
    # flip one byte inside fc.w's values (its buffer's offset from --json; the
    # flatc section checks those offsets against flatc's reading of the file)
    run 0 "$WORK/m.json" "$WORK/err" --json --no-gzip "$M"
    b=$(jq '.tensors[8].buffer' "$WORK/m.json")
    off=$(jq ".buffers[$b].offset + 5" "$WORK/m.json")
    cp "$M" "$WORK/flipped.qlite"
    orig=$(od -An -tu1 -j "$off" -N1 "$M" | tr -d ' ')
    printf "$(printf '\\%03o' $((orig ^ 0x40)))" | dd of="$WORK/flipped.qlite" bs=1 seek="$off" conv=notrunc status=none
    cmp -s "$M" "$WORK/flipped.qlite" && fail "byte flip did not change the file" || ok
    run 1 "$WORK/bad.out" "$WORK/bad.err" --verify "$WORK/flipped.qlite"
    [ "$(wc -l <"$WORK/bad.err")" = 1 ] && ok || fail "--verify failure: expected one line, got: $(cat "$WORK/bad.err")"
    grep_ "$WORK/bad.err" "^qlite-dump: .*flipped.qlite: .*buffer $b[^0-9]"
    [ -s "$WORK/bad.out" ] && fail "--verify printed to stdout on failure" || ok
    # without --verify the flip goes unnoticed (open does not read the weights)
    run 0 "$WORK/flip.txt" "$WORK/err" "$WORK/flipped.qlite"
    # and the flipped value shows up in --tensor: fc.w value 1 (0.5 = 0x3f000000) at byte 5 -> 0x3f004000
    run 0 "$WORK/flip.json" "$WORK/err" --tensor fc.w --json "$WORK/flipped.qlite"
    true_ "$WORK/flip.json" '.values[1] != 0.5'
    ;;

errors)
    # truncated inside the data section and inside the FlatBuffer: exit 1, one line
    size=$(file_size "$M")
    for cut in $((size - 1)) 200 40 7 0; do
        head -c "$cut" "$M" >"$WORK/trunc$cut.qlite"
        run 1 "$WORK/t.out" "$WORK/t.err" "$WORK/trunc$cut.qlite"
        [ "$(wc -l <"$WORK/t.err")" = 1 ] && ok || fail "truncated at $cut: expected one line, got: $(cat "$WORK/t.err")"
        grep_ "$WORK/t.err" "^qlite-dump: $WORK/trunc$cut.qlite: .+"
        [ -s "$WORK/t.out" ] && fail "truncated at $cut: printed to stdout" || ok
        run 1 "$WORK/t.out" "$WORK/t.err" --json "$WORK/trunc$cut.qlite"
        run 1 "$WORK/t.out" "$WORK/t.err" --verify "$WORK/trunc$cut.qlite"
    done
    run 1 "$WORK/e.out" "$WORK/e.err" "$WORK/does-not-exist.qlite"
    grep_ "$WORK/e.err" "^qlite-dump: $WORK/does-not-exist.qlite: No such file or directory$"
    cp "$SRC/CMakeLists.txt" "$WORK/notqlite.qlite"
    run 1 "$WORK/e.out" "$WORK/e.err" "$WORK/notqlite.qlite"
    [ "$(wc -l <"$WORK/e.err")" = 1 ] && ok || fail "not a qlite file: expected one line"
    # usage errors: exit 2
    run 2 "$WORK/u.out" "$WORK/u.err"
    grep_ "$WORK/u.err" '^qlite-dump: no model file given$'
    run 2 "$WORK/u.out" "$WORK/u.err" --bogus "$M"
    grep_ "$WORK/u.err" "^qlite-dump: unknown option '--bogus'$"
    run 2 "$WORK/u.out" "$WORK/u.err" --all "$M"
    run 2 "$WORK/u.out" "$WORK/u.err" --json --dot "$M"
    run 2 "$WORK/u.out" "$WORK/u.err" --tensor
    run 2 "$WORK/u.out" "$WORK/u.err" "$M" "$X"
    run 0 "$WORK/h.out" "$WORK/h.err" --help
    grep_ "$WORK/h.out" '^usage: qlite-dump MODEL.qlite'
    run 0 "$WORK/v.out" "$WORK/v.err" --version
    grep_ "$WORK/v.out" '^qlite-dump [0-9]+\.[0-9]+\.[0-9]+ \(format [0-9]+\.[0-9]+\)$'
    ;;

gzip)
    # a gzip-compressed model (GNU gzip, an independent compressor) opens and
    # dumps the same content
    gzip -6 -n -c "$M" >"$WORK/m.qlite.gz"
    run 0 "$WORK/gz.json" "$WORK/err" --json --no-gzip "$WORK/m.qlite.gz"
    eq "$WORK/gz.json" '.file | [.compressed, .size, .model_bytes]' \
        "[true,$(file_size "$WORK/m.qlite.gz"),$(file_size "$M")]"
    eq "$WORK/gz.json" '.totals.weights_bytes' 202
    run 0 "$WORK/gz.t.json" "$WORK/err" --tensor k --json "$WORK/m.qlite.gz"
    eq "$WORK/gz.t.json" '.values' '[2,-1.5,0.25,2]'
    run 0 "$WORK/gz.txt" "$WORK/err" "$WORK/m.qlite.gz"
    grep_ "$WORK/gz.txt" "^size +$(file_size "$WORK/m.qlite.gz") bytes .*, gzip-compressed; $(file_size "$M") bytes"
    ;;

flatc)
    # flatc (an independent FlatBuffers reader) must see what qlite-dump reports
    if ! command -v flatc >/dev/null 2>&1; then echo "SKIP: flatc not installed"; exit 0; fi
    flatc --json --raw-binary --strict-json --defaults-json -o "$WORK" "$SRC/schema/qlite.fbs" -- "$M" 2>"$WORK/flatc.err" ||
        { fail "flatc: $(cat "$WORK/flatc.err")"; }
    F=$WORK/dump_model.json
    run 0 "$WORK/m.json" "$WORK/err" --json --no-gzip "$M"
    eq "$F" '[.graphs[0].tensors[] | .name]' "$(jq -c '[.tensors[] | .name]' "$WORK/m.json")"
    eq "$F" '[.graphs[0].tensors[] | .shape]' "$(jq -c '[.tensors[] | .shape]' "$WORK/m.json")"
    eq "$F" '[.graphs[0].tensors[] | .buffer]' "$(jq -c '[.tensors[] | .buffer]' "$WORK/m.json")"
    eq "$F" '[.buffers[] | [.offset, .size, .crc32]]' "$(jq -c '[.buffers[] | [.offset, .size, .crc32]]' "$WORK/m.json")"
    eq "$F" '[.graphs[0].operators[] | .opcode]' "$(jq -c '[.operators[] | .op]' "$WORK/m.json")"
    eq "$F" '[.metadata[] | .key]' '["quant_mode","labels","note"]'
    eq "$F" '.metadata[2].value' '"say \"hi\"\n\tµ\\"'
    ;;

*)
    echo "unknown section $section"
    exit 2
    ;;
esac

echo "dump-$section: $checks passed, $failures failed"
[ "$failures" -eq 0 ]
