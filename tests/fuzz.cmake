# libFuzzer target for model open (clang + -DQLITE_FUZZ=ON only); .ci/fuzz
# runs it for a bounded time from the seeds qlite_fuzz_seeds writes.
# The format core is compiled into the target so that it carries the
# fuzzer's coverage instrumentation (libqlite's copies are not linked).
if(QLITE_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang" AND TARGET qlite_writer)
  set(QLITE_FUZZ_CORE
      ${PROJECT_SOURCE_DIR}/src/common.c ${PROJECT_SOURCE_DIR}/src/fb_schema.c
      ${PROJECT_SOURCE_DIR}/src/fb_verify.c ${PROJECT_SOURCE_DIR}/src/model.c
      ${PROJECT_SOURCE_DIR}/src/model_decode.c ${PROJECT_SOURCE_DIR}/src/model_validate.c
      ${PROJECT_SOURCE_DIR}/src/writer/fb_builder.c ${PROJECT_SOURCE_DIR}/src/writer/writer.c)
  add_executable(fuzz_model_open ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_model_open.c
                                 ${QLITE_FUZZ_CORE})
  target_include_directories(fuzz_model_open PRIVATE
    ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(fuzz_model_open PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(fuzz_model_open PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(fuzz_model_open PRIVATE ZLIB::ZLIB Threads::Threads m)

  add_executable(qlite_fuzz_seeds ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/make_seeds.c)
  target_link_libraries(qlite_fuzz_seeds PRIVATE qlite_test_support)
endif()
