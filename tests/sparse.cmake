# Sparse and clustered weights (issue #5). The kernel exactness tests are
# tests/test_kernel_sparse.c (registered by the test_*.c loop); here:
#
#   e2e_sparse        the bundled pruned / clustered MLPs through the converter
#                     library: file sizes against float32, accuracy against
#                     the float models in every mode (tests/e2e/e2e_sparse.c);
#   convert_sparse_bad_*  qlite-convert refuses --prune / --cluster /
#                     --prune-block values outside their ranges with one line
#                     on stderr, a non-zero status and no output file;
#   bench_sparse      (label bench) sparse vs dense FULLY_CONNECTED and the
#                     pruned model stored dense and sparse: --check compares
#                     outputs only; run by hand for the numbers (README).
add_executable(bench_sparse ${CMAKE_CURRENT_SOURCE_DIR}/bench/bench_sparse.c)
target_link_libraries(bench_sparse PRIVATE qlite_internal m)
target_include_directories(bench_sparse PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
                           ${PROJECT_SOURCE_DIR}/src)

if(TARGET qlite_convert_lib)
  add_executable(qlite-e2e-sparse ${CMAKE_CURRENT_SOURCE_DIR}/e2e/e2e_sparse.c)
  target_link_libraries(qlite-e2e-sparse PRIVATE qlite_convert_lib m)
  target_include_directories(qlite-e2e-sparse PRIVATE ${PROJECT_SOURCE_DIR}/src)
  add_test(NAME e2e_sparse COMMAND qlite-e2e-sparse ${PROJECT_SOURCE_DIR}/models)
endif()

if(TARGET qlite-convert)
  set(QLITE_SPARSE_TMP ${CMAKE_CURRENT_BINARY_DIR}/tmp/sparse)
  file(MAKE_DIRECTORY ${QLITE_SPARSE_TMP})
  set(_mlp ${PROJECT_SOURCE_DIR}/models/mlp/mlp.onnx)
  foreach(bad "prune_1;--prune;1" "prune_neg;--prune;-0.1" "prune_nan;--prune;nan"
              "cluster_1;--cluster;1" "cluster_257;--cluster;257"
              "block_3x3;--prune;0.5;--prune-block;3x3" "block_1x5;--prune;0.5;--prune-block;1x5" "block_1x0;--prune;0.5;--prune-block;1x0")
    list(POP_FRONT bad name)
    add_test(NAME convert_sparse_bad_${name}
             COMMAND ${CMAKE_COMMAND} -DCONVERT=$<TARGET_FILE:qlite-convert> -DMODEL=${_mlp}
                     -DOUT=${QLITE_SPARSE_TMP}/bad_${name}.qlite "-DARGS=${bad}"
                     -P ${CMAKE_CURRENT_SOURCE_DIR}/e2e/sparse_bad_input.cmake)
  endforeach()

  add_test(NAME bench_sparse_convert_dense
           COMMAND qlite-convert ${PROJECT_SOURCE_DIR}/models/mlp_pruned/mlp_pruned.onnx
                   -o ${QLITE_SPARSE_TMP}/pruned_dense.qlite --mode int8 --dense -q
                   --calib ${PROJECT_SOURCE_DIR}/models/data/fmnist_calib.npz)
  add_test(NAME bench_sparse_convert_sparse
           COMMAND qlite-convert ${PROJECT_SOURCE_DIR}/models/mlp_pruned/mlp_pruned.onnx
                   -o ${QLITE_SPARSE_TMP}/pruned_sparse.qlite --mode int8 --prune 0.9 -q
                   --calib ${PROJECT_SOURCE_DIR}/models/data/fmnist_calib.npz)
  set_tests_properties(bench_sparse_convert_dense bench_sparse_convert_sparse PROPERTIES
                       FIXTURES_SETUP bench_sparse_models LABELS bench)
  add_test(NAME bench_sparse
           COMMAND bench_sparse --check --model ${QLITE_SPARSE_TMP}/pruned_dense.qlite
                   ${QLITE_SPARSE_TMP}/pruned_sparse.qlite
                   ${PROJECT_SOURCE_DIR}/models/data/fmnist_test_x.npy)
  set_tests_properties(bench_sparse PROPERTIES FIXTURES_REQUIRED bench_sparse_models
                       LABELS bench)
endif()

# qlite-dump on the converted files: sparsity, block shape, clustering and
# bytes (stored and dense) of each weight.
if(TARGET qlite-convert AND TARGET qlite-dump)
  add_test(NAME sparse_dump_convert_clustered
           COMMAND qlite-convert ${PROJECT_SOURCE_DIR}/models/mlp_clustered/mlp_clustered.onnx
                   -o ${QLITE_SPARSE_TMP}/clustered.qlite --mode int8 -q
                   --calib ${PROJECT_SOURCE_DIR}/models/data/fmnist_calib.npz)
  set_tests_properties(sparse_dump_convert_clustered PROPERTIES
                       FIXTURES_SETUP sparse_clustered_model)
  add_test(NAME sparse_dump_pruned COMMAND qlite-dump ${QLITE_SPARSE_TMP}/pruned_sparse.qlite)
  set_tests_properties(sparse_dump_pruned PROPERTIES FIXTURES_REQUIRED bench_sparse_models
    PASS_REGULAR_EXPRESSION
    "fc1.weight_int8 +\\[256,784\\] +int8 +[0-9]+ .*sparse 90\\.0% zeros, block 1x1; dense 200704 B")
  add_test(NAME sparse_dump_clustered COMMAND qlite-dump ${QLITE_SPARSE_TMP}/clustered.qlite)
  set_tests_properties(sparse_dump_clustered PROPERTIES FIXTURES_REQUIRED sparse_clustered_model
    PASS_REGULAR_EXPRESSION
    "fc1.weight_int8 +\\[256,784\\] +int8 +104448 .*clustered K=16 4-bit per-row; dense 200704 B")
endif()
