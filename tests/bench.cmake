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
