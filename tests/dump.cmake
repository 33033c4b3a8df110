# qlite-dump CLI tests (tests/dump/): make_dump_models writes small models with
# the writer (int8 per-tensor/per-channel, sparse, clustered, fp16, int4, O16I4,
# metadata); run_dump_tests.sh checks each qlite-dump output against values
# derived by hand, with jq (and flatc / graphviz / gzip as independent tools).
if(TARGET qlite_writer AND TARGET qlite-dump)
  set(QLITE_DUMP_TEST_DIR ${CMAKE_CURRENT_BINARY_DIR}/tmp/dump)
  add_executable(make_dump_models ${CMAKE_CURRENT_SOURCE_DIR}/dump/make_dump_models.c)
  target_link_libraries(make_dump_models PRIVATE qlite_writer)

  add_test(NAME dump_models COMMAND make_dump_models ${QLITE_DUMP_TEST_DIR})
  set_tests_properties(dump_models PROPERTIES FIXTURES_SETUP dump_models LABELS dump)
  foreach(section json tensor text dot verify errors gzip flatc)
    add_test(NAME dump_${section}
             COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/dump/run_dump_tests.sh ${section}
                     $<TARGET_FILE:qlite-dump> ${QLITE_DUMP_TEST_DIR} ${PROJECT_SOURCE_DIR})
    set_tests_properties(dump_${section} PROPERTIES FIXTURES_REQUIRED dump_models LABELS dump)
  endforeach()
endif()
