#!/bin/bash
# CLI tests of qlite-run on the models tests/run/make_run_models.c writes.
#
#   run_cli_tests.sh SECTION QLITE_RUN MODEL_DIR [QLITE_CONVERT SOURCE_DIR]
#
# SECTION: usage | classifier | inputs | quantize | bench | errors | bundled
# (bundled: the float models of models/ converted by qlite-convert, run on
# their whole test subset as one batch, against ONNX Runtime's outputs)
# Exit status: 0 ok, 1 bad input / failed run, 2 usage error (docs/cli.md).
# Inputs are written and outputs checked with NumPy (/usr/bin/python3); the
# expected values are the closed forms in make_run_models.c's comment,
# computed here by NumPy, never taken from qlite-run itself.
set -u
section=$1
RUN=$2
DIR=$3
WORK=$DIR/work-$section
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK" || exit 1
failures=0
checks=0
PY=/usr/bin/python3

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { checks=$((checks + 1)); }

# run EXPECTED_EXIT ARGS...   (stdout -> out.txt, stderr -> err.txt)
run() {
    local want=$1
    shift
    "$RUN" "$@" >out.txt 2>err.txt
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok; else
        fail "qlite-run $* exited $rc, expected $want; stderr: $(head -c 400 err.txt)"
    fi
}
has() { # has FILE FIXED_STRING
    if grep -qF -- "$2" "$1"; then ok; else
        fail "$1 lacks '$2'; it holds: $(head -c 600 "$1")"
    fi
}
one_line_error() { # stderr is exactly one line starting with qlite-run:
    if [ "$(wc -l <err.txt)" -eq 1 ] && grep -q '^qlite-run: ' err.txt; then ok; else
        fail "stderr is not one 'qlite-run: ...' line: $(cat err.txt)"
    fi
}
py() { # py CODE: run a NumPy check; failure = test failure
    if "$PY" -c "import numpy as np
$1" 2>py_err.txt; then ok; else fail "numpy check failed: $(cat py_err.txt)"; fi
}

if ! "$PY" -c "import numpy" 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 with numpy is needed"
    exit 77
fi

C=$DIR/classifier.qlite
F=$DIR/fixed.qlite
T=$DIR/two_inputs.qlite
Q=$DIR/int8_in.qlite

case $section in
usage)
    run 0 --help
    has out.txt "usage: qlite-run MODEL.qlite"
    has out.txt "--bench N"
    run 0 --version
    has out.txt "qlite-run 0.1.0"
    run 2
    one_line_error
    has err.txt "no model given"
    run 2 "$C" --frobnicate
    one_line_error
    has err.txt "unknown option '--frobnicate'"
    run 2 "$C"
    has err.txt "no --input given"
    run 2 "$C" --bench abc
    has err.txt "--bench needs an integer in 1..10000000, got 'abc'"
    run 2 "$C" --threads 0 --bench 1
    has err.txt "--threads needs an integer in 1..256"
    run 2 "$C" --input
    has err.txt "--input needs a value"
    ;;

classifier)
    "$PY" -c "import numpy as np
np.save('x.npy', np.array([[3,1,0,0],[0,2,0,0],[0,0,1,1],[1,0,0,0],[0,0,-1,0]], np.float32))
np.save('labels.npy', np.array([0, 1, 2, 0, 1], np.int64))"
    # the model's batch is -1: five rows run as one batch
    run 0 "$C" --input x.npy --output out.npy --top 3 --labels labels.npy
    has out.txt "output 0 'logits': float32 [5, 3]"
    has out.txt "row 0 top-3: 0 (3) 1 (1) 2 (0.5)"
    has out.txt "row 2 top-3: 2 (2.5) 0 (0) 1 (0)"
    # row 4 = [0, 0, -0.5]: a tie goes to the lower index, so 4 of 5 are right
    has out.txt "row 4 top-3: 0 (0) 1 (0) 2 (-0.5)"
    has out.txt "accuracy: 0.8000 (4/5 correct"
    has out.txt "wrote out.npy"
    py "x = np.load('x.npy'); y = np.load('out.npy')
want = np.stack([x[:, 0], x[:, 1], x[:, 2] + x[:, 3] + 0.5], axis=1)
assert y.dtype == np.float32 and y.shape == (5, 3), (y.dtype, y.shape)
assert (y == want).all(), y"
    # --input NAME=FILE, --input=FILE, threads, keep-all, reference: same numbers
    for extra in "--threads 2" "--keep-all" "--reference"; do
        # shellcheck disable=SC2086
        run 0 "$C" --input=x=x.npy --output=o2.npz $extra
        py "a = np.load('out.npy'); z = np.load('o2.npz'); assert list(z.keys()) == ['logits']
assert (z['logits'] == a).all()"
    done
    # one row: default top-5 shows the 3 classes
    "$PY" -c "import numpy as np; np.save('x1.npy', np.array([[0, 5, 0, 0]], np.float32))"
    run 0 "$C" --input x1.npy
    has out.txt "output 0 'logits': float32 [1, 3]"
    has out.txt "row 0 top-3: 1 (5) 2 (0.5) 0 (0)"
    # labels that do not fit
    "$PY" -c "import numpy as np; np.save('bad_labels.npy', np.zeros(4, np.int64))
np.save('float_labels.npy', np.zeros(5, np.float32))"
    run 1 "$C" --input x.npy --labels bad_labels.npy
    one_line_error
    has err.txt "expected integer labels [5], got int64 [4]"
    run 1 "$C" --input x.npy --labels float_labels.npy
    has err.txt "got float32 [5]"
    ;;

inputs)
    "$PY" -c "import numpy as np
a = np.array([5, 7], np.float32); b = np.array([1, 2], np.float32)
np.save('a.npy', a); np.save('b.npy', b)
np.savez('ab.npz', b=b, a=a)
np.savez('pos.npz', a, b)
np.save('x4.npy', np.array([[1, 2, 3, 4]], np.float32))"
    # by name, in reverse order: d = a - b
    run 0 "$T" --input b=b.npy --input a=a.npy --output named.npz
    py "z = np.load('named.npz'); assert sorted(z.keys()) == ['d', 's']
assert z['d'].tolist() == [4, 5] and z['s'].tolist() == [6, 9], (z['d'], z['s'])"
    # in order
    run 0 "$T" --input a.npy --input b.npy --output pos1.npz
    py "z = np.load('pos1.npz'); assert z['d'].tolist() == [4, 5]"
    # a .npz matched by array names (saved b first), and one matched by order
    run 0 "$T" --input ab.npz --output byname.npz
    py "z = np.load('byname.npz'); assert z['d'].tolist() == [4, 5]"
    run 0 "$T" --input pos.npz --output byorder.npz
    py "z = np.load('byorder.npz'); assert z['d'].tolist() == [4, 5]"
    has out.txt "output 0 'd': float32 [2]"
    has out.txt "values: 4 5"
    # .npy output of a two-output model is refused
    run 1 "$T" --input ab.npz --output one.npy
    one_line_error
    has err.txt "the model has 2 outputs; write a .npz"
    test ! -e one.npy && ok || fail "one.npy was written"
    # too many, too few, twice
    run 1 "$T" --input a.npy --input b.npy --input a.npy
    has err.txt "more input files than the model's 2 inputs ('a', 'b')"
    run 1 "$T" --input a.npy
    has err.txt "input 1 'b' has no data (give --input b=FILE.npy)"
    run 1 "$T" --input a=a.npy --input ab.npz
    has err.txt "input 0 'a' is given twice"
    # fixed model: right shape works, a batch of 3 is refused with the reason
    run 0 "$F" --input x4.npy --output y.npy
    py "assert np.load('y.npy').tolist() == [[2, 4, 6, 8]]"
    "$PY" -c "import numpy as np; np.save('x3.npy', np.zeros((3, 4), np.float32))
np.save('xi.npy', np.zeros((1, 4), np.int32)); np.save('x5.npy', np.zeros((1, 5), np.float32))
np.save('f64.npy', np.zeros((1, 4)))"
    run 1 "$F" --input x3.npy
    one_line_error
    has err.txt "input 0 'x': expected shape [1, 4], got [3, 4] from x3.npy (the model's batch dimension is fixed, not -1)"
    run 1 "$F" --input xi.npy
    has err.txt "input 0 'x': expected float32 [1, 4], got int32 [1, 4] from xi.npy"
    run 1 "$C" --input x5.npy
    has err.txt "input 0 'x': expected shape [-1, 4], got [1, 5] from x5.npy"
    run 1 "$F" --input f64.npy
    one_line_error
    has err.txt "f64.npy: dtype '<f8' is not supported (float64: save with a.astype(np.float32))"
    ;;

quantize)
    # float32 into an int8 input with scale 0.5, zero point -1:
    # q = clamp(round_half_even(x / 0.5) - 1, -128, 127)
    "$PY" -c "import numpy as np
np.save('xf.npy', np.array([[1.0, -0.6, 100], [0.25, 0.75, -100]], np.float32))
np.save('xq.npy', np.array([[1, 2, 3]], np.int8))"
    run 0 "$Q" --input xf.npy --output q.npy
    has err.txt "note: input 0 'q': quantizing float32 from xf.npy to int8 with scale 0.5, zero point -1"
    has out.txt "output 0 'r': int8 [2, 3] (scale 0.5, zero point -1)"
    py "x = np.load('xf.npy'); q = np.load('q.npy')
want = np.clip(np.round(x / np.float32(0.5)) - 1, -128, 127).astype(np.int8)
assert q.dtype == np.int8 and (q == want).all(), (q, want)
assert want.tolist() == [[1, -2, 127], [-1, 1, -128]]"
    # int8 given as int8 passes through untouched, without a note
    run 0 "$Q" --input xq.npy --output q2.npy
    py "assert np.load('q2.npy').tolist() == [[1, 2, 3]]"
    if grep -q quantizing err.txt; then fail "int8 input was quantized"; else ok; fi
    ;;

bench)
    "$PY" -c "import numpy as np; np.save('x.npy', np.ones((8, 4), np.float32))"
    run 0 "$C" --input x.npy --bench 20 --warmup 3 --threads 2
    has out.txt "bench: 20 runs after 3 warmup, 2 threads, batch 8"
    for k in "load" "create" "prepare" "first run" "latency median" "latency p90" \
             "latency p99" "throughput" "arena" "activations sum" "prepared data" "model mapped" "peak RSS" \
             "RSS now"; do
        has out.txt "  $k "
    done
    has out.txt "samples/s"
    # numbers are positive and ordered: median <= p90 <= p99
    py "import re
t = open('out.txt').read()
v = {k: float(re.search(r'  ' + k + r' +([0-9.]+)', t).group(1)) for k in
     ['latency median', 'latency p90', 'latency p99', 'peak RSS', 'model mapped', 'arena']}
assert 0 <= v['latency median'] <= v['latency p90'] <= v['latency p99'] and v['latency p99'] > 0, v
assert v['peak RSS'] > 0 and v['model mapped'] > 0 and v['arena'] > 0, v"
    # --bench alone: inputs are zero-filled, with a note
    run 0 "$C" --bench 3
    has err.txt "note: input 0 'x' has no --input: zero-filled"
    has out.txt "bench: 3 runs"
    ;;

errors)
    run 1 "$DIR/does_not_exist.qlite" --input x.npy
    one_line_error
    has err.txt "does_not_exist.qlite"
    head -c 100 "$C" >truncated.qlite
    run 1 truncated.qlite --bench 1
    one_line_error
    run 1 "$DIR/unsupported.qlite" --bench 1
    one_line_error
    has err.txt "op 0 EMBEDDING_BAG 'bag': op code 54 (EMBEDDING_BAG) has no kernel"
    printf 'this is not a numpy file at all' >junk.npy
    run 1 "$C" --input junk.npy
    one_line_error
    has err.txt "junk.npy: not a .npy file"
    "$PY" -c "import numpy as np; np.save('x.npy', np.ones((2, 4), np.float32))"
    run 1 "$C" --input x.npy --output out.txt.bin
    has err.txt "the name must end in .npy or .npz"
    run 1 "$C" --input x.npy --output no/such/dir/out.npy
    one_line_error
    has err.txt "no/such/dir/out.npy"
    ;;
bundled)
    CONVERT=$4
    MODELS=$5/models
    for m in mlp lenet mobilenet transformer; do
        "$CONVERT" "$MODELS/$m/$m.onnx" -o "$m.qlite" --mode float32 >convert.txt 2>&1 ||
            { fail "qlite-convert $m: $(tail -1 convert.txt)"; continue; }
        # the 1000-sample test set is one invoke (the model's batch is -1)
        run 0 "$m.qlite" --input "$MODELS/data/fmnist_test_x.npy" \
            --labels "$MODELS/data/fmnist_test_y.npy" --output "$m.npy"
        has out.txt "output 0 'logits': float32 [1000, 10]"
        # accuracy printed = accuracy of ONNX Runtime recorded in meta.json
        py "import json, re
meta = json.load(open('$MODELS/$m/meta.json'))
got = float(re.search(r'accuracy: ([0-9.]+)', open('out.txt').read()).group(1))
assert abs(got - meta['accuracy_ort']) < 1e-9, (got, meta['accuracy_ort'])
y = np.load('$m.npy'); ref = np.load('$MODELS/$m/ref_ort.npy')
err = np.abs(y - ref).max()
assert err <= 1e-4 * meta['max_abs_logit'], err"
        # arena reuse, threads and reference kernels do not change the results
        run 0 "$m.qlite" --input "$MODELS/data/fmnist_test_x.npy" --output "$m.keep.npy" --keep-all
        run 0 "$m.qlite" --input "$MODELS/data/fmnist_test_x.npy" --output "$m.t2.npy" --threads 2
        run 0 "$m.qlite" --input "$MODELS/data/fmnist_test_x.npy" --output "$m.ref.npy" --reference
        py "y = np.load('$m.npy')
assert (np.load('$m.keep.npy') == y).all(), 'keep-all differs'
assert (np.load('$m.t2.npy') == y).all(), 'threads differ'
assert np.abs(np.load('$m.ref.npy') - y).max() <= 1e-4 * np.abs(y).max(), 'reference differs'"
        # one sample: the arena is far below the sum of all activations for the
        # conv nets, whose activations dominate (the MLP's input lives all run)
        "$PY" -c "import numpy as np; np.save('x1.npy', np.load('$MODELS/data/fmnist_test_x.npy')[:1])"
        run 0 "$m.qlite" --input x1.npy --bench 2
        py "import re
t = open('out.txt').read()
arena = float(re.search(r'  arena +([0-9]+)', t).group(1))
acts = float(re.search(r'  activations sum +([0-9]+)', t).group(1))
print('$m: arena', arena, 'activations', acts)
assert arena < acts or '$m' == 'lenet', (arena, acts)"
    done
    ;;
*)
    echo "unknown section $section"
    exit 2
    ;;
esac

echo "$section: $checks checks, $failures failures"
[ "$failures" -eq 0 ]
