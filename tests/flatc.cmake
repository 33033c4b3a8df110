# Independent checks of the format with flatc (Debian flatbuffers-compiler),
# see tests/flatc/check_models.sh:
#   flatc_qlite_to_json  models qlite writes convert to JSON with the spec's
#                        values, data at the offsets flatc reports;
#   flatc_json_to_qlite  a model written as JSON, built by flatc -b, plus a
#                        data section, opens in qlite with the JSON's values.
find_program(QLITE_FLATC flatc)
find_program(QLITE_JQ jq)
if(NOT QLITE_FLATC OR NOT QLITE_JQ OR NOT TARGET qlite_writer)
  message(WARNING "flatc or jq not found: the flatc cross-checks are not registered")
  return()
endif()

add_executable(qlite_flatc_make_models ${CMAKE_CURRENT_SOURCE_DIR}/flatc/make_models.c)
target_link_libraries(qlite_flatc_make_models PRIVATE qlite_test_support)
add_executable(qlite_flatc_check_json ${CMAKE_CURRENT_SOURCE_DIR}/flatc/check_json_model.c)
target_link_libraries(qlite_flatc_check_json PRIVATE qlite_internal)

add_test(NAME flatc_qlite_to_json
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/flatc/check_models.sh to-json
          ${QLITE_FLATC} ${PROJECT_SOURCE_DIR}/schema/qlite.fbs
          $<TARGET_FILE:qlite_flatc_make_models>
          ${CMAKE_CURRENT_BINARY_DIR}/flatc/to_json ${CMAKE_CURRENT_BINARY_DIR}/tmp)
add_test(NAME flatc_json_to_qlite
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/flatc/check_models.sh from-json
          ${QLITE_FLATC} ${PROJECT_SOURCE_DIR}/schema/qlite.fbs
          $<TARGET_FILE:qlite_flatc_check_json>
          ${CMAKE_CURRENT_SOURCE_DIR}/flatc/model.json
          ${CMAKE_CURRENT_BINARY_DIR}/flatc/from_json)
# The unit tests that write fmt_*.qlite run first, so their files get checked.
set_tests_properties(test_model test_writer PROPERTIES FIXTURES_SETUP qlite_fmt_models)
set_tests_properties(flatc_qlite_to_json PROPERTIES FIXTURES_REQUIRED qlite_fmt_models)
