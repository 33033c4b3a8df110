# End-to-end (tests/e2e/): every bundled model in models/ converted to
# float32 by the library and run on its whole test subset; outputs must match
# PyTorch's reference within 1e-4 of the output scale, with the same top-1
# accuracy (see tests/e2e/e2e.c for the tolerance's justification).
if(TARGET qlite_convert_lib)
  add_executable(qlite-e2e ${CMAKE_CURRENT_SOURCE_DIR}/e2e/e2e.c)
  target_link_libraries(qlite-e2e PRIVATE qlite_convert_lib m)
  target_include_directories(qlite-e2e PRIVATE ${PROJECT_SOURCE_DIR}/src)
  add_test(NAME e2e_float32 COMMAND qlite-e2e ${PROJECT_SOURCE_DIR}/models)
endif()
