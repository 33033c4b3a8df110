/*
 * op_check.h — shorthands for kernel tests built on op_runner.h: describe a
 * tensor in one expression, run a one-output op, compare floats.
 */
#ifndef QLITE_TEST_OP_CHECK_H
#define QLITE_TEST_OP_CHECK_H

#include <string.h>

#include "op_runner.h"

/* A tensor description: shape given as a compound literal, e.g.
 * qt(QLITE_DTYPE_FLOAT32, 2, ((int64_t[]){3, 4}), data). */
static inline qlite_op_test_tensor qt(qlite_dtype dtype, uint32_t rank, const int64_t *shape,
                                      const void *data) {
    qlite_op_test_tensor t;
    memset(&t, 0, sizeof t);
    t.dtype = dtype;
    t.rank = rank;
    for (uint32_t i = 0; i < rank && i < QLITE_MAX_RANK; i++) t.shape[i] = shape[i];
    t.data = data;
    return t;
}

/* Same, marked as a model constant. */
static inline qlite_op_test_tensor qt_const(qlite_dtype dtype, uint32_t rank,
                                            const int64_t *shape, const void *data) {
    qlite_op_test_tensor t = qt(dtype, rank, shape, data);
    t.is_const = true;
    return t;
}

static inline qlite_op_test_tensor qt_f32(uint32_t rank, const int64_t *shape, const float *data) {
    return qt(QLITE_DTYPE_FLOAT32, rank, shape, data);
}

/* Options of a type with everything zero (tests fill the fields they need). */
static inline qlite_op_options qopts(qlite_options_type type) {
    qlite_op_options o;
    memset(&o, 0, sizeof o);
    o.type = type;
    return o;
}

#ifndef QLITE_ARRAY_SIZE
#define QLITE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#endif /* QLITE_TEST_OP_CHECK_H */
