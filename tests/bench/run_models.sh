#!/bin/bash
# Model-level benchmark: qlite vs ONNX Runtime vs PyTorch on every bundled model,
# one markdown table (tests/bench/run_models.py has the details).
#
#   tests/bench/run_models.sh [--quick] [--threads 1,2] [--batch 1,32] [--out FILE.md]
#                             [--models mlp,lenet] [--engines qlite,ort,torch]
#                             [--build DIR] [--no-build] [--repeat R] [--runs N] [--json FILE]
#
# Builds (unless --no-build) qlite-convert, qlite-dump and qlite_bench in the build directory (default ./build,
# or $QLITE_BUILD; configured as a Release build if it does not exist yet), then
# runs the Python driver. Needs /usr/bin/python3 with numpy and onnx; Node.js with
# onnxruntime-node (shared/PEERS.md) for the ORT rows and python3-torch for the
# PyTorch rows (either missing: those rows are skipped with a note).
# Not a ctest: CI has neither Node nor torch (tests/bench.cmake runs qlite_bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${QLITE_BUILD:-$root/build}
args=("$@")
pass=()
do_build=1
for ((i = 0; i < $#; i++)); do
    case "${args[i]}" in
        --build) build=${args[i + 1]:-$build} ;;
        --build=*) build=${args[i]#--build=} ;;
    esac
    if [ "${args[i]}" = --no-build ]; then do_build=0; else pass+=("${args[i]}"); fi
done
if [ $do_build = 1 ]; then
    if [ ! -f "$build/CMakeCache.txt" ]; then
        cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    fi
    if ! cmake --build "$build" -j2 --target qlite-convert qlite-dump qlite_bench >"$build/bench_build.log" 2>&1; then
        echo "run_models.sh: building qlite-convert/qlite-dump/qlite_bench in $build failed (see $build/bench_build.log);" \
             "--no-build measures the binaries already there" >&2
        exit 1
    fi
fi
cmd="tests/bench/run_models.sh${*:+ $*}"
exec /usr/bin/python3 "$root/tests/bench/run_models.py" --build "$build" --command "$cmd" ${pass[@]+"${pass[@]}"}
