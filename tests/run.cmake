# qlite-run CLI tests (tests/run/): make_run_models writes small models whose
# outputs are derived by hand; run_cli_tests.sh makes inputs and checks
# outputs with NumPy, and checks exit codes and messages.
if(TARGET qlite_writer AND TARGET qlite-run)
  set(QLITE_RUN_TEST_DIR ${CMAKE_CURRENT_BINARY_DIR}/tmp/run)
  add_executable(make_run_models ${CMAKE_CURRENT_SOURCE_DIR}/run/make_run_models.c)
  target_link_libraries(make_run_models PRIVATE qlite_writer)

  add_test(NAME run_models COMMAND ${CMAKE_COMMAND} -E make_directory ${QLITE_RUN_TEST_DIR})
  add_test(NAME run_models_write COMMAND make_run_models ${QLITE_RUN_TEST_DIR})
  set_tests_properties(run_models PROPERTIES FIXTURES_SETUP run_dir LABELS run)
  set_tests_properties(run_models_write PROPERTIES FIXTURES_REQUIRED run_dir
                       FIXTURES_SETUP run_models LABELS run)
  foreach(section usage classifier inputs quantize bench errors)
    add_test(NAME run_${section}
             COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run/run_cli_tests.sh ${section}
                     $<TARGET_FILE:qlite-run> ${QLITE_RUN_TEST_DIR})
    set_tests_properties(run_${section} PROPERTIES FIXTURES_REQUIRED run_models LABELS run)
  endforeach()
  if(TARGET qlite-convert)
    add_test(NAME run_bundled
             COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run/run_cli_tests.sh bundled
                     $<TARGET_FILE:qlite-run> ${QLITE_RUN_TEST_DIR}
                     $<TARGET_FILE:qlite-convert> ${PROJECT_SOURCE_DIR})
    # minutes under ASan: the sanitizer stage of .ci/run skips the "slow" label
    set_tests_properties(run_bundled PROPERTIES FIXTURES_REQUIRED run_models LABELS "run;slow")
  endif()
endif()

# The complete example of docs/api.md, built against the shared library and the
# public header only, run on classifier.qlite: rows x = 0.1 * [0..3] and
# 0.1 * [4..7] give logits [x0, x1, x2 + x3 + 0.5] = [0, 0.1, 1] and
# [0.4, 0.5, 1.8]: class 2 for both rows.
if(TARGET qlite_writer)
  add_executable(example_api ${CMAKE_CURRENT_SOURCE_DIR}/example_api.c)
  target_link_libraries(example_api PRIVATE qlite_shared)
  add_test(NAME example_api COMMAND example_api ${QLITE_RUN_TEST_DIR}/classifier.qlite)
  set_tests_properties(example_api PROPERTIES FIXTURES_REQUIRED run_models LABELS run
    PASS_REGULAR_EXPRESSION "arena: [0-9]+ bytes.*row 0: class 2 \\(1\\)\nrow 1: class 2 \\(1.8\\)")
endif()

# docs/api.md shows example_api.c verbatim (from its first #include on).
add_test(NAME example_api_in_docs
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run/check_doc_example.sh
                 ${PROJECT_SOURCE_DIR}/docs/api.md ${CMAKE_CURRENT_SOURCE_DIR}/example_api.c)
set_tests_properties(example_api_in_docs PROPERTIES LABELS run)
