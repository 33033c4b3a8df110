/*
 * test_convert_util.h — helpers shared by tests/test_convert_*.c: convert a
 * fixture from tests/data/onnx/ and run it on a .npy input.
 */
#ifndef QLITE_TEST_CONVERT_UTIL_H
#define QLITE_TEST_CONVERT_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "qlite/qlite_convert.h"
#include "support.h"

static inline const char *ct_fixture(const char *name, const char *suffix) {
    static char buf[4][1024];
    static int k;
    k = (k + 1) & 3;
    snprintf(buf[k], sizeof buf[k], "%s/tests/data/onnx/%s%s", QLITE_SOURCE_DIR, name, suffix);
    return buf[k];
}

/* Converts fixture `name` (options may be NULL); returns the bytes. */
static inline void *ct_convert(const char *name, const qlite_convert_options *o, size_t *size,
                               qlite_convert_report **report) {
    void *bytes = NULL;
    assert_qlite_ok(qlite_convert_to_memory(ct_fixture(name, ".onnx"), o, &bytes, size, report));
    return bytes;
}

/* Number of ops with a given code in a converted model. */
static inline uint32_t ct_count_ops(const qlite_model *m, qlite_op_code code) {
    uint32_t c = 0;
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++) c += qlite_model_op(m, i)->code == code;
    return c;
}

/* Runs the model on <name>_x.npy and checks output 0 against <name>_y.npy
 * (NumPy-computed) with |got - want| <= tol * max(1, |want|). */
static inline void ct_check_numeric(const void *bytes, size_t size, const char *name, float tol) {
    qlite_npy_array x, y;
    assert_qlite_ok(qlite_npy_read_file(ct_fixture(name, "_x.npy"), &x));
    assert_qlite_ok(qlite_npy_read_file(ct_fixture(name, "_y.npy"), &y));
    qlite_model *m = NULL;
    qlite_interpreter *it = NULL;
    assert_qlite_ok(qlite_model_open_memory(bytes, size, 0, &m));
    assert_qlite_ok(qlite_interpreter_create(m, NULL, &it));
    assert_qlite_ok(qlite_interpreter_resize_input(it, 0, x.rank, x.dims));
    assert_qlite_ok(qlite_interpreter_prepare(it));
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, x.data, x.bytes));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    assert_int_equal(v.rank, y.rank);
    for (uint32_t i = 0; i < v.rank; i++) assert_int_equal(v.dims[i], y.dims[i]);
    assert_int_equal(v.bytes, y.bytes);
    const float *a = v.data, *b = y.data;
    for (size_t i = 0; i < v.bytes / 4; i++) {
        if (!(fabsf(a[i] - b[i]) <= tol * fmaxf(1.0f, fabsf(b[i]))))
            fail_msg("%s: element %zu: qlite %.8g, numpy %.8g", name, i, (double)a[i], (double)b[i]);
    }
    qlite_interpreter_destroy(it);
    qlite_model_close(m);
    qlite_npy_free(&x);
    qlite_npy_free(&y);
}

/* Count of a report rewrite kind (0 when absent). */
static inline uint32_t ct_rewrites(const qlite_convert_report *r, const char *kind) {
    for (uint32_t i = 0; i < qlite_convert_report_fusion_count(r); i++) {
        const char *k;
        uint32_t c;
        assert_qlite_ok(qlite_convert_report_fusion(r, i, &k, &c));
        if (!strcmp(k, kind)) return c;
    }
    return 0;
}

#endif
