# Benchmarks: programs that print numbers, not tests (never add_test here).
# They are built with everything else (so CI compiles them warning-free) and
# run by hand: build/tests/<name> --help.
#
#   bench_open   open+validate time and RSS growth for 1 MiB / 100 MiB / 1 GiB
#                of weights vs reading the whole file (README "## Numbers").
if(TARGET qlite_writer)
  add_executable(bench_open ${CMAKE_CURRENT_SOURCE_DIR}/bench/bench_open.c)
  target_link_libraries(bench_open PRIVATE qlite_writer)
  target_compile_definitions(bench_open PRIVATE QLITE_BENCH_DIR="${PROJECT_BINARY_DIR}")
  if(MATH_LIBRARY)
    target_link_libraries(bench_open PRIVATE ${MATH_LIBRARY})
  endif()
endif()

#   qlite_bench  the qlite side of the model-level suite (tests/bench/run_models.sh,
#                which also needs Node + onnxruntime-node and PyTorch, so it is
#                not a ctest). The one exception to "no add_test" above: the
#                driver itself runs once on the bundled MLP (few iterations,
#                profile and the paired 2-vs-1-thread rounds on) so it cannot
#                rot; the test checks results, not time: its top-1 accuracy must be ONNX Runtime's 0.894
#                (models/mlp/meta.json) and every op must appear in the profile.
add_executable(qlite_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/qlite_bench.c)
target_link_libraries(qlite_bench PRIVATE qlite_internal)
if(TARGET qlite-convert)
  set(QLITE_BENCH_TEST_DIR ${CMAKE_CURRENT_BINARY_DIR}/tmp/bench)
  file(MAKE_DIRECTORY ${QLITE_BENCH_TEST_DIR})
  add_test(NAME bench_driver_convert
           COMMAND qlite-convert ${PROJECT_SOURCE_DIR}/models/mlp/mlp.onnx
                   -o ${QLITE_BENCH_TEST_DIR}/mlp.qlite -q)
  set_tests_properties(bench_driver_convert PROPERTIES FIXTURES_SETUP bench_mlp LABELS bench)
  add_test(NAME bench_driver
           COMMAND qlite_bench ${QLITE_BENCH_TEST_DIR}/mlp.qlite
                   --input ${PROJECT_SOURCE_DIR}/models/data/fmnist_test_x.npy
                   --labels ${PROJECT_SOURCE_DIR}/models/data/fmnist_test_y.npy
                   --batch 2 --threads 2 --runs 5 --warmup 1 --profile 3 --paired 1)
  set_tests_properties(bench_driver PROPERTIES FIXTURES_REQUIRED bench_mlp LABELS bench
    PASS_REGULAR_EXPRESSION "paired 2 vs 1 threads x 5 rounds \\(lead 1\\).*accuracy 0\\.8940 \\(894/1000\\).*profile: 3 observed runs.*   0 [A-Z_]+ .*   2 FULLY_CONNECTED")
endif()

#   bench_pool   the thread pool's cost per parallel op: short jobs back to back
#                and after a serial gap, and reading the other thread's half of
#                the previous job's output vs its own (issue #6, 2-thread scaling).
add_executable(bench_pool ${CMAKE_CURRENT_SOURCE_DIR}/bench/bench_pool.c)
target_link_libraries(bench_pool PRIVATE qlite_internal)

#   bench_q8     int8 vs float32 reference kernels: ADD, SOFTMAX, MEAN over
#                H,W, LOGISTIC, ns per element and the ratio (issue #4).
add_executable(bench_q8 ${CMAKE_CURRENT_SOURCE_DIR}/bench/bench_q8.c)
target_link_libraries(bench_q8 PRIVATE qlite_internal)

#   bench_kernels  qlite's FULLY_CONNECTED / CONV_2D / DEPTHWISE_CONV_2D vs
#                XNNPACK's operators in one process (f32, f16, int8, dynamic),
#                GOPS and % of this core's measured VNNI / FMA peak (issue #6).
#                Built only on x86-64 when libxnnpack-dev + libpthreadpool-dev
#                are installed. Its ctest (--check) runs every case once and
#                demands that qlite's outputs match XNNPACK's (int8: within
#                1 LSB of qc8; float: relative 1e-4): no timing.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$" AND TARGET qlite_writer)
  find_path(XNNPACK_INCLUDE_DIR xnnpack.h)
  find_path(PTHREADPOOL_INCLUDE_DIR pthreadpool.h)
  find_library(XNNPACK_LIBRARY XNNPACK)
  find_library(PTHREADPOOL_LIBRARY pthreadpool)
  if(XNNPACK_INCLUDE_DIR AND PTHREADPOOL_INCLUDE_DIR AND XNNPACK_LIBRARY AND PTHREADPOOL_LIBRARY)
    add_executable(bench_kernels ${CMAKE_CURRENT_SOURCE_DIR}/bench/bench_kernels.c)
    target_include_directories(bench_kernels SYSTEM PRIVATE ${XNNPACK_INCLUDE_DIR}
                               ${PTHREADPOOL_INCLUDE_DIR})
    target_link_libraries(bench_kernels PRIVATE qlite_writer ${XNNPACK_LIBRARY}
                          ${PTHREADPOOL_LIBRARY})
    if(MATH_LIBRARY)
      target_link_libraries(bench_kernels PRIVATE ${MATH_LIBRARY})
    endif()
    add_test(NAME bench_kernels_check COMMAND bench_kernels --check)
    set_tests_properties(bench_kernels_check PROPERTIES LABELS bench
                         PASS_REGULAR_EXPRESSION "all outputs agree")
  else()
    message(STATUS "bench_kernels: libxnnpack-dev / libpthreadpool-dev not found, not built")
  endif()
endif()
