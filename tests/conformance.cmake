# ONNX backend conformance (tests/conformance/): every libonnx-testdata case
# whose ops qlite supports is converted (float32), run, and compared with the
# ONNX project's expected outputs. Exclusions, each with its reason, live in
# tests/conformance/exclusions.txt.
if(TARGET qlite_convert_lib)
  add_executable(qlite-conformance ${CMAKE_CURRENT_SOURCE_DIR}/conformance/conformance.c)
  target_link_libraries(qlite-conformance PRIVATE qlite_convert_lib m)
  set(QLITE_ONNX_TESTDATA /usr/share/libonnx-testdata/data)
  if(EXISTS ${QLITE_ONNX_TESTDATA}/node)
    file(MAKE_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/tmp/conformance)
    add_test(NAME conformance
             COMMAND qlite-conformance --data ${QLITE_ONNX_TESTDATA}
                     --exclusions ${CMAKE_CURRENT_SOURCE_DIR}/conformance/exclusions.txt
                     --tmp ${CMAKE_CURRENT_BINARY_DIR}/tmp/conformance)
  else()
    message(WARNING "libonnx-testdata not installed: the conformance test is not registered")
  endif()
endif()
