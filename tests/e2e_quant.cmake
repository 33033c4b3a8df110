# Quantization end-to-end (tests/e2e/e2e_quant.c): every bundled model in
# float16, dynamic and int8 against its float32 conversion, with the size and
# accuracy thresholds of issue #4, and the QAT LeNet against ONNX Runtime and
# PyTorch. The full run (about a minute in Release) is labelled slow, so the
# sanitizer build (ctest -LE slow) runs the quick variant instead: lenet and
# mlp in every mode plus the QAT checks, few calibration samples, no
# accuracy evaluation.
if(TARGET qlite_convert_lib)
  add_executable(qlite-e2e-quant ${CMAKE_CURRENT_SOURCE_DIR}/e2e/e2e_quant.c)
  target_link_libraries(qlite-e2e-quant PRIVATE qlite_convert_lib m)
  target_include_directories(qlite-e2e-quant PRIVATE ${PROJECT_SOURCE_DIR}/src)
  add_test(NAME e2e_quant COMMAND qlite-e2e-quant ${PROJECT_SOURCE_DIR}/models)
  set_tests_properties(e2e_quant PROPERTIES LABELS slow)
  add_test(NAME e2e_quant_quick COMMAND qlite-e2e-quant ${PROJECT_SOURCE_DIR}/models --quick)
endif()
