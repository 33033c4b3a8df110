# libFuzzer target for the .npy/.npz reader (clang + -DQLITE_FUZZ=ON only).
# npy.c is compiled into the target itself so that it carries the fuzzer's
# coverage instrumentation (the copy in libqlite is then not linked).
# Seed corpus: tests/data/npy/ (run: fuzz_npy -max_total_time=60 CORPUS_DIR tests/data/npy).
if(QLITE_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_npy ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_npy.c
                          ${PROJECT_SOURCE_DIR}/src/npy.c)
  target_compile_options(fuzz_npy PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_npy PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_npy PRIVATE qlite_internal)
endif()
