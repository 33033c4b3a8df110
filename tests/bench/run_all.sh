#!/bin/bash
# The whole benchmark suite of issue #6 in one command, one markdown file:
#
#   tests/bench/run_all.sh [--out FILE.md] [--cache DIR] [--build DIR] [--no-build]
#                          [--quick] [--no-kernels] [--kernel-time S] [--threads 1,2]
#                          [other tests/bench/run_models.py options, e.g. --repeat 3 --runs 50]
#
#  1. builds qlite-convert, qlite-dump, qlite_bench and bench_kernels in the build
#     directory (default ./build or $QLITE_BUILD; Release, configured if missing);
#  2. exports the larger models once into the cache directory (default
#     /tmp/qlite-bench-cache; not in the repository): MobileNetV2 224x224 and ResNet-18
#     (torchvision architectures) and a transformer encoder at sequence length 128, with
#     seeded random weights, plus a seeded input and a 16-sample calibration set each
#     (models/scripts/export_bench.py);
#  3. kernel level: bench_kernels (qlite vs XNNPACK in one process, GOPS, % of this
#     core's measured VNNI / FMA peak) at each thread count;
#  4. model level: tests/bench/run_models.py on the bundled models and the larger ones:
#     qlite float32 / float16 / dynamic / int8 (calibrated) vs ONNX Runtime float, dynamic
#     and QDQ (tests/bench/make_ort_quant.py builds those), 1 and 2 threads, median / p90,
#     peak RSS, ratios, the issue #6 target table and startup (open + prepare vs ORT's
#     session creation);
#  5. writes everything with the date, the machine (lscpu model name) and this command
#     to --out (default BUILD/bench_all.md) and prints it.
# Needs: libxnnpack-dev (else the kernel section says so), /usr/bin/python3 with torch,
# torchvision, onnx, numpy; Node.js with onnxruntime-node (shared/PEERS.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${QLITE_BUILD:-$root/build}
cache=/tmp/qlite-bench-cache
out=""
do_build=1
kernels=1
ktime=0.5
threads=1,2
quick=0
pass=()
args=("$@")
for ((i = 0; i < $#; i++)); do
    a=${args[i]}
    case "$a" in
        --out) out=${args[++i]} ;;
        --cache) cache=${args[++i]} ;;
        --build) build=${args[++i]} ;;
        --no-build) do_build=0 ;;
        --no-kernels) kernels=0 ;;
        --kernel-time) ktime=${args[++i]} ;;
        --threads) threads=${args[++i]} ;;
        --quick) quick=1; ktime=0.2; pass+=(--quick) ;;
        *) pass+=("$a") ;;
    esac
done
build=$(cd "$build" 2>/dev/null && pwd || echo "$build")
out=${out:-$build/bench_all.md}
cmd="tests/bench/run_all.sh${*:+ $*}"

if [ $do_build = 1 ]; then
    [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    targets=(qlite-convert qlite-dump qlite_bench)
    grep -q "XNNPACK_LIBRARY:FILEPATH=/" "$build/CMakeCache.txt" 2>/dev/null && targets+=(bench_kernels)
    if ! cmake --build "$build" -j2 --target "${targets[@]}" >"$build/bench_build.log" 2>&1; then
        echo "run_all.sh: build failed (see $build/bench_build.log)" >&2
        exit 1
    fi
fi

mkdir -p "$cache"
need=()
for m in mobilenet_v2 resnet18 transformer_s128; do
    [ -f "$cache/$m.onnx" ] && [ -f "$cache/${m}_calib.npz" ] || need+=("$m")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "run_all.sh: exporting ${need[*]} to $cache" >&2
    (cd "$root/models/scripts" && /usr/bin/python3 export_bench.py "$cache" "${need[@]}") >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
{
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')  "
    echo "Machine: ${cpu:-?}, $(nproc) cores (shared: read ratios measured in one run, not absolute times)  "
    echo "Command: \`$cmd\`  "
    echo "qlite: $(git -C "$root" describe --always --dirty 2>/dev/null || echo ?)"
    echo
    echo "### Kernels: qlite vs XNNPACK (one process)"
    echo
} >"$tmp/all.md"

if [ $kernels = 1 ]; then
    if [ -x "$build/tests/bench_kernels" ]; then
        IFS=, read -ra tl <<<"$threads"
        for t in "${tl[@]}"; do
            echo "run_all.sh: bench_kernels --threads $t" >&2
            "$build/tests/bench_kernels" --threads "$t" --time "$ktime" >>"$tmp/all.md"
            echo >>"$tmp/all.md"
        done
    else
        echo "bench_kernels not built (libxnnpack-dev / libpthreadpool-dev missing)." >>"$tmp/all.md"
        echo >>"$tmp/all.md"
    fi
fi

echo "### Models: qlite vs ONNX Runtime" >>"$tmp/all.md"
echo >>"$tmp/all.md"
extra=()
[ $quick = 1 ] && extra+=(--large-runs 5) || extra+=(--runs 50 --warmup 5 --large-runs 15 --repeat 3)
/usr/bin/python3 "$root/tests/bench/run_models.py" --build "$build" --large "$cache" \
    --threads "$threads" --work "$cache/work" --out "$tmp/models.md" --json "$cache/models.json" \
    --command "$cmd" ${extra[@]+"${extra[@]}"} ${pass[@]+"${pass[@]}"} >/dev/null
# the models report repeats date / machine / command: keep its own details, drop the three lines
grep -v -e '^Date: ' -e '^Command: ' "$tmp/models.md" >>"$tmp/all.md"
cp "$tmp/all.md" "$out"
cat "$out"
echo "run_all.sh: wrote $out" >&2
