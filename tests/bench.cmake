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
#                profile on) so it cannot rot; the test checks results, not
#                time: its top-1 accuracy must be ONNX Runtime's 0.894
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
                   --batch 2 --threads 2 --runs 5 --warmup 1 --profile 3)
  set_tests_properties(bench_driver PROPERTIES FIXTURES_REQUIRED bench_mlp LABELS bench
    PASS_REGULAR_EXPRESSION "accuracy 0\\.8940 \\(894/1000\\).*profile: 3 observed runs.*   0 [A-Z_]+ .*   2 FULLY_CONNECTED")
endif()

#   bench_q8     int8 vs float32 reference kernels: ADD, SOFTMAX, MEAN over
#                H,W, LOGISTIC, ns per element and the ratio (issue #4).
add_executable(bench_q8 ${CMAKE_CURRENT_SOURCE_DIR}/bench/bench_q8.c)
target_link_libraries(bench_q8 PRIVATE qlite_internal)
