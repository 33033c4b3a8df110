# Runs CONVERT MODEL -o OUT ARGS... (cmake -P; from tests/sparse.cmake) and
# demands what issue #5 asks of bad --prune / --cluster / --prune-block values:
# a non-zero status, exactly one line on stderr, nothing on stdout, no OUT.
file(REMOVE ${OUT})
execute_process(COMMAND ${CONVERT} ${MODEL} -o ${OUT} ${ARGS}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCHALL "\n" newlines "${err}")
list(LENGTH newlines lines)
if(rc EQUAL 0)
  message(FATAL_ERROR "qlite-convert ${ARGS}: status 0, expected a failure")
endif()
if(NOT lines EQUAL 1 OR NOT err MATCHES "^qlite-convert: .+\n$")
  message(FATAL_ERROR "qlite-convert ${ARGS}: stderr is not one 'qlite-convert: ...' line:\n${err}")
endif()
if(NOT out STREQUAL "")
  message(FATAL_ERROR "qlite-convert ${ARGS}: wrote to stdout:\n${out}")
endif()
if(EXISTS ${OUT})
  message(FATAL_ERROR "qlite-convert ${ARGS}: left ${OUT} behind")
endif()
message(STATUS "qlite-convert ${ARGS}: status ${rc}, ${err}")
