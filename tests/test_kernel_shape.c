/*
 * test_kernel_shape.c — RESHAPE TRANSPOSE CONCATENATION SPLIT SLICE PAD
 * GATHER: exact comparison with index arithmetic written here (or values
 * worked out with numpy for PAD), for several dtypes/element sizes, and the
 * hostile options every one of them must refuse (perm not a permutation,
 * split sizes not summing, slice step 0 / duplicate axes, gather index out
 * of range, ...).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "support/op_check.h"
#include "support.h"
#include "kernel.h"

/* ---------------------------------------------------------------- reshape */

static void test_reshape(void **state) {
    (void)state;
    float x[24];
    for (int i = 0; i < 24; i++) x[i] = (float)i;
    const int64_t ns[3] = {-1, 4, 3};
    qlite_op_options o = qopts(QLITE_OPTIONS_RESHAPE);
    o.u.reshape.rank = 3;
    o.u.reshape.new_shape = ns;
    qlite_op_test_tensor in = qt_f32(3, (int64_t[]){2, 3, 4}, x);
    qlite_op_test_tensor out = qt_f32(3, (int64_t[]){-1, 4, 3}, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_RESHAPE, &o, 1, &in, 1, &out, 1, 0));
    assert_int_equal(out.out_dims[0], 2);
    assert_memory_equal(out.out, x, sizeof x);
    qlite_op_test_free(1, &out);
    assert_true(qlite_kernel_registry[QLITE_OP_RESHAPE]->output_aliases_input);
    /* dynamic batch: the same model runs on a batch of 1 ([1,12] into [-1,4,3]) */
    in = qt_f32(2, (int64_t[]){1, 12}, x);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_RESHAPE, &o, 1, &in, 1, &out, 1, 0));
    assert_int_equal(out.out_dims[0], 1);
    qlite_op_test_free(1, &out);
    /* hostile: two -1, count mismatch, negative dim, -1 that cannot divide */
    const int64_t two[3] = {-1, -1, 3}, bad[3] = {2, 4, 4}, neg[3] = {2, -3, 4}, nd[3] = {-1, 5, 1};
    in = qt_f32(3, (int64_t[]){2, 3, 4}, x);
    out = qt_f32(3, (int64_t[]){2, 4, 3}, NULL);
    const int64_t *cases[4] = {two, bad, neg, nd};
    const qlite_status want[4] = {QLITE_ERR_INVALID_ARGUMENT, QLITE_ERR_SHAPE,
                                  QLITE_ERR_INVALID_ARGUMENT, QLITE_ERR_SHAPE};
    for (int k = 0; k < 4; k++) {
        o.u.reshape.new_shape = cases[k];
        assert_int_equal(qlite_op_test_run(QLITE_OP_RESHAPE, &o, 1, &in, 1, &out, 1, 0), want[k]);
    }
    o.u.reshape.rank = 9;
    assert_int_equal(qlite_op_test_run(QLITE_OP_RESHAPE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_op_test_run(QLITE_OP_RESHAPE, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
}

/* -------------------------------------------------------------- transpose */

static void fill_bytes(unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 131 + (i >> 8) * 7 + 1);
}

static void check_transpose(qlite_dtype dt, uint32_t rank, const int64_t *dims,
                            const int32_t *perm) {
    size_t elem = qlite_dtype_bits(dt) / 8, n = (size_t)qlite_shape_elements(rank, dims);
    unsigned char *x = malloc(n * elem + 1), *want = malloc(n * elem + 1);
    fill_bytes(x, n * elem);
    int64_t od[QLITE_MAX_RANK], st[QLITE_MAX_RANK], s = 1;
    for (uint32_t i = rank; i-- > 0;) st[i] = s, s *= dims[i];
    for (uint32_t i = 0; i < rank; i++) od[i] = dims[perm[i]];
    for (size_t i = 0; i < n; i++) {
        size_t r = i, src = 0;
        for (uint32_t d = rank; d-- > 0;) {
            src += (r % (size_t)od[d]) * (size_t)st[perm[d]];
            r /= (size_t)od[d];
        }
        memcpy(want + i * elem, x + src * elem, elem);
    }
    qlite_op_options o = qopts(QLITE_OPTIONS_TRANSPOSE);
    o.u.transpose.rank = rank;
    o.u.transpose.perm = perm;
    qlite_op_test_tensor in = qt(dt, rank, dims, x), out = qt(dt, rank, od, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_TRANSPOSE, &o, 1, &in, 1, &out, 1, 0));
    assert_memory_equal(out.out, want, n * elem);
    qlite_op_test_free(1, &out);
    free(x);
    free(want);
}

static void test_transpose(void **state) {
    (void)state;
    const int64_t d4[4] = {2, 3, 4, 5};
    /* every permutation of rank 4 */
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            for (int c = 0; c < 4; c++)
                for (int d = 0; d < 4; d++) {
                    if (a == b || a == c || a == d || b == c || b == d || c == d) continue;
                    check_transpose(QLITE_DTYPE_FLOAT32, 4, d4, (int32_t[]){a, b, c, d});
                }
    /* last-two-dims transposes around the 32-tile, every element size */
    const qlite_dtype dts[4] = {QLITE_DTYPE_INT8, QLITE_DTYPE_FLOAT16, QLITE_DTYPE_FLOAT32,
                                QLITE_DTYPE_INT64};
    const int64_t sizes[][3] = {{1, 1, 1}, {2, 31, 33}, {3, 64, 32}, {1, 100, 7}, {2, 1, 50}};
    for (int t = 0; t < 4; t++)
        for (size_t k = 0; k < QLITE_ARRAY_SIZE(sizes); k++) {
            check_transpose(dts[t], 3, sizes[k], (int32_t[]){0, 2, 1});
            check_transpose(dts[t], 3, sizes[k], (int32_t[]){2, 1, 0});
        }
    /* NCHW <-> NHWC and rank 8 */
    check_transpose(QLITE_DTYPE_FLOAT32, 4, (int64_t[]){2, 8, 9, 3}, (int32_t[]){0, 3, 1, 2});
    check_transpose(QLITE_DTYPE_FLOAT32, 4, (int64_t[]){2, 3, 8, 9}, (int32_t[]){0, 2, 3, 1});
    check_transpose(QLITE_DTYPE_UINT8, 8, (int64_t[]){2, 1, 3, 2, 1, 2, 3, 2},
                    (int32_t[]){7, 0, 6, 1, 5, 2, 4, 3});
    check_transpose(QLITE_DTYPE_INT32, 0, NULL, NULL);

    float x[6] = {0};
    qlite_op_test_tensor in = qt_f32(2, (int64_t[]){2, 3}, x), out = qt_f32(2, (int64_t[]){3, 2}, NULL);
    qlite_op_options o = qopts(QLITE_OPTIONS_TRANSPOSE);
    const int32_t dup[2] = {0, 0}, big[2] = {1, 2}, negp[2] = {-1, 0};
    o.u.transpose.rank = 2;
    o.u.transpose.perm = dup;
    assert_int_equal(qlite_op_test_run(QLITE_OP_TRANSPOSE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.transpose.perm = big;
    assert_int_equal(qlite_op_test_run(QLITE_OP_TRANSPOSE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.transpose.perm = negp;
    assert_int_equal(qlite_op_test_run(QLITE_OP_TRANSPOSE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.transpose.rank = 1;
    assert_int_equal(qlite_op_test_run(QLITE_OP_TRANSPOSE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    /* INT4 has no byte-sized element */
    o.u.transpose.rank = 2;
    o.u.transpose.perm = (const int32_t[]){1, 0};
    in.dtype = out.dtype = QLITE_DTYPE_INT4;
    assert_int_equal(qlite_op_test_run(QLITE_OP_TRANSPOSE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
}

/* ------------------------------------------------------- concat and split */

static void test_concat_split(void **state) {
    (void)state;
    /* three int8 inputs [2, a_k, 3] along axis 1 (and -2), then split back */
    int8_t a[2 * 1 * 3], b[2 * 4 * 3], c[2 * 2 * 3];
    for (int i = 0; i < 6; i++) a[i] = (int8_t)(i + 1);
    for (int i = 0; i < 24; i++) b[i] = (int8_t)(-i - 1);
    for (int i = 0; i < 12; i++) c[i] = (int8_t)(100 + i);
    for (int axis = -2; axis <= 1; axis += 3) {
        qlite_op_test_tensor in[3] = {qt(QLITE_DTYPE_INT8, 3, (int64_t[]){2, 1, 3}, a),
                                      qt(QLITE_DTYPE_INT8, 3, (int64_t[]){2, 4, 3}, b),
                                      qt(QLITE_DTYPE_INT8, 3, (int64_t[]){2, 2, 3}, c)};
        qlite_op_test_tensor out = qt(QLITE_DTYPE_INT8, 3, (int64_t[]){2, 7, 3}, NULL);
        qlite_op_options o = qopts(QLITE_OPTIONS_CONCATENATION);
        o.u.concatenation.axis = axis;
        assert_qlite_ok(qlite_op_test_run(QLITE_OP_CONCATENATION, &o, 3, in, 1, &out, 1, 0));
        const int8_t *y = out.out;
        for (int n = 0; n < 2; n++)
            for (int j = 0; j < 7; j++)
                for (int k = 0; k < 3; k++) {
                    int8_t want = j < 1 ? a[(n * 1 + j) * 3 + k]
                                  : j < 5 ? b[(n * 4 + j - 1) * 3 + k] : c[(n * 2 + j - 5) * 3 + k];
                    assert_int_equal(y[(n * 7 + j) * 3 + k], want);
                }
        /* split it back with sizes {1, 4, 2} */
        const int64_t sizes[3] = {1, 4, 2};
        qlite_op_options so = qopts(QLITE_OPTIONS_SPLIT);
        so.u.split.axis = axis;
        so.u.split.count = 3;
        so.u.split.sizes = sizes;
        qlite_op_test_tensor sin = qt(QLITE_DTYPE_INT8, 3, (int64_t[]){2, 7, 3}, y);
        qlite_op_test_tensor parts[3] = {qt(QLITE_DTYPE_INT8, 3, (int64_t[]){2, 1, 3}, NULL),
                                         qt(QLITE_DTYPE_INT8, 3, (int64_t[]){2, 4, 3}, NULL),
                                         qt(QLITE_DTYPE_INT8, 3, (int64_t[]){2, 2, 3}, NULL)};
        assert_qlite_ok(qlite_op_test_run(QLITE_OP_SPLIT, &so, 1, &sin, 3, parts, 1, 0));
        assert_memory_equal(parts[0].out, a, sizeof a);
        assert_memory_equal(parts[1].out, b, sizeof b);
        assert_memory_equal(parts[2].out, c, sizeof c);
        qlite_op_test_free(3, parts);
        qlite_op_test_free(1, &out);
    }
    /* float concat along the last axis with a fused ReLU; equal split */
    float f1[4] = {-1, 2, -3, 4}, f2[2] = {5, -6};
    qlite_op_test_tensor in[2] = {qt_f32(2, (int64_t[]){2, 2}, f1), qt_f32(2, (int64_t[]){2, 1}, f2)};
    qlite_op_test_tensor out = qt_f32(2, (int64_t[]){2, 3}, NULL);
    qlite_op_options o = qopts(QLITE_OPTIONS_CONCATENATION);
    o.u.concatenation.axis = -1;
    o.u.concatenation.activation = QLITE_ACT_RELU;
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_CONCATENATION, &o, 2, in, 1, &out, 1, 0));
    const float want[6] = {0, 2, 5, 0, 4, 0};
    assert_memory_equal(out.out, want, sizeof want);
    qlite_op_test_free(1, &out);
    float e[12];
    for (int i = 0; i < 12; i++) e[i] = (float)i;
    qlite_op_options so = qopts(QLITE_OPTIONS_SPLIT);
    so.u.split.axis = 1;
    qlite_op_test_tensor sin = qt_f32(2, (int64_t[]){2, 6}, e);
    qlite_op_test_tensor parts[3] = {qt_f32(2, (int64_t[]){2, 2}, NULL),
                                     qt_f32(2, (int64_t[]){2, 2}, NULL),
                                     qt_f32(2, (int64_t[]){2, 2}, NULL)};
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_SPLIT, &so, 1, &sin, 3, parts, 1, 0));
    const float p1[4] = {2, 3, 8, 9};
    assert_memory_equal(parts[1].out, p1, sizeof p1);
    qlite_op_test_free(3, parts);

    /* hostile concat: mismatched off-axis dim, dtype, axis out of range */
    o.u.concatenation.activation = QLITE_ACT_NONE;
    in[1] = qt_f32(2, (int64_t[]){3, 1}, e);
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONCATENATION, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
    in[1] = qt(QLITE_DTYPE_INT32, 2, (int64_t[]){2, 1}, e);
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONCATENATION, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    in[1] = qt_f32(2, (int64_t[]){2, 1}, f2);
    o.u.concatenation.axis = 2;
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONCATENATION, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    /* hostile split: sizes not summing, negative, wrong count, unequal parts */
    const int64_t bad_sum[3] = {2, 2, 1}, neg[3] = {4, -1, 3}, two[2] = {3, 3};
    so.u.split.count = 3;
    so.u.split.sizes = bad_sum;
    assert_int_equal(qlite_op_test_run(QLITE_OP_SPLIT, &so, 1, &sin, 3, parts, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    so.u.split.sizes = neg;
    assert_int_equal(qlite_op_test_run(QLITE_OP_SPLIT, &so, 1, &sin, 3, parts, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    so.u.split.count = 2;
    so.u.split.sizes = two;
    assert_int_equal(qlite_op_test_run(QLITE_OP_SPLIT, &so, 1, &sin, 3, parts, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    so.u.split.count = 0;
    so.u.split.axis = 0; /* 2 rows do not split into 3 */
    assert_int_equal(qlite_op_test_run(QLITE_OP_SPLIT, &so, 1, &sin, 3, parts, 1, 0),
                     QLITE_ERR_SHAPE);
    so.u.split.axis = -3;
    assert_int_equal(qlite_op_test_run(QLITE_OP_SPLIT, &so, 1, &sin, 3, parts, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------ slice */

/* CPython's slice.indices(), written from the Python reference manual. */
static int64_t py_slice(int64_t d, int64_t start, int64_t stop, int64_t step, int64_t *first) {
    int64_t lower = step < 0 ? -1 : 0, upper = step < 0 ? d - 1 : d;
    if (start < 0) { start += d; if (start < lower) start = lower; }
    else if (start > upper) start = upper;
    if (stop < 0) { stop += d; if (stop < lower) stop = lower; }
    else if (stop > upper) stop = upper;
    *first = start;
    int64_t n = 0;
    if (step > 0) for (int64_t i = start; i < stop; i += step) n++;
    else for (int64_t i = start; i > stop && i >= 0; i += step) n++;
    return n;
}

typedef struct slice_case {
    uint32_t count;
    int64_t starts[3], ends[3];
    int32_t axes[3];
    int64_t steps[3];
} slice_case;

static void check_slice(const slice_case *c, bool with_axes, bool with_steps) {
    const int64_t dims[3] = {6, 5, 7};
    float x[6 * 5 * 7];
    for (int i = 0; i < 210; i++) x[i] = (float)i;
    int64_t first[3] = {0, 0, 0}, step[3] = {1, 1, 1}, len[3] = {6, 5, 7};
    for (uint32_t k = 0; k < c->count; k++) {
        int a = with_axes ? (c->axes[k] < 0 ? c->axes[k] + 3 : c->axes[k]) : (int)k;
        step[a] = with_steps ? c->steps[k] : 1;
        len[a] = py_slice(dims[a], c->starts[k], c->ends[k], step[a], &first[a]);
    }
    qlite_op_options o = qopts(QLITE_OPTIONS_SLICE);
    o.u.slice.count = c->count;
    o.u.slice.starts = c->starts;
    o.u.slice.ends = c->ends;
    o.u.slice.axes = with_axes ? c->axes : NULL;
    o.u.slice.steps = with_steps ? c->steps : NULL;
    qlite_op_test_tensor in = qt_f32(3, dims, x), out = qt_f32(3, len, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_SLICE, &o, 1, &in, 1, &out, 1, 0));
    const float *y = out.out;
    size_t p = 0;
    for (int64_t i = 0; i < len[0]; i++)
        for (int64_t j = 0; j < len[1]; j++)
            for (int64_t k = 0; k < len[2]; k++, p++) {
                int64_t src = ((first[0] + i * step[0]) * 5 + first[1] + j * step[1]) * 7 +
                              first[2] + k * step[2];
                assert_true(y[p] == x[src]);
            }
    qlite_op_test_free(1, &out);
}

static void test_slice(void **state) {
    (void)state;
    const slice_case cases[] = {
        {1, {1}, {4}, {0}, {1}},
        {3, {0, 1, 2}, {6, 5, 7}, {0, 1, 2}, {2, 2, 3}},
        {2, {-1, -2}, {-7, INT64_MIN}, {2, 0}, {-1, -2}},     /* reverse, to the start */
        {2, {-100, 2}, {INT64_MAX, INT64_MAX}, {-1, 1}, {1, 1}},
        {1, {5}, {1}, {-3}, {-2}},                            /* ONNX neg_steps */
        {1, {4}, {2}, {1}, {1}},                              /* empty */
        {1, {10}, {-10}, {2}, {-3}},                          /* start past the end, step < 0 */
        {1, {0}, {7}, {2}, {INT64_MAX}},                      /* huge step: one element */
        {1, {6}, {-1}, {2}, {INT64_MIN}},                     /* huge negative step */
        {3, {0, 0, 0}, {1, 1, 1}, {2, 0, 1}, {1, 1, 1}},      /* 1x1x1 */
    };
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(cases); i++) check_slice(&cases[i], true, true);
    const slice_case noaxes = {2, {1, -3}, {-1, 100}, {0}, {1}};
    check_slice(&noaxes, false, false);

    float x[210] = {0};
    qlite_op_test_tensor in = qt_f32(3, (int64_t[]){6, 5, 7}, x);
    qlite_op_test_tensor out = qt_f32(3, (int64_t[]){6, 5, 7}, NULL);
    qlite_op_options o = qopts(QLITE_OPTIONS_SLICE);
    const int64_t st[2] = {0, 0}, en[2] = {1, 1}, zero[2] = {0, 1}, one[2] = {1, 1};
    const int32_t dup[2] = {1, -2}, far[2] = {0, 3};
    o.u.slice.count = 2;
    o.u.slice.starts = st;
    o.u.slice.ends = en;
    o.u.slice.axes = dup;
    assert_int_equal(qlite_op_test_run(QLITE_OP_SLICE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.slice.axes = far;
    assert_int_equal(qlite_op_test_run(QLITE_OP_SLICE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.slice.axes = NULL;
    o.u.slice.steps = zero;
    assert_int_equal(qlite_op_test_run(QLITE_OP_SLICE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.slice.steps = one;
    o.u.slice.count = 4;
    assert_int_equal(qlite_op_test_run(QLITE_OP_SLICE, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
}

/* -------------------------------------------------------------------- pad */

static void check_pad1d(qlite_pad_mode mode, int64_t b, int64_t e, const float *x, int64_t n,
                        const float *want, int64_t m) {
    const int64_t pads[2] = {b, e};
    qlite_op_options o = qopts(QLITE_OPTIONS_PAD);
    o.u.pad.count = 2;
    o.u.pad.pads = pads;
    o.u.pad.mode = mode;
    o.u.pad.value = -7.5f;
    qlite_op_test_tensor in = qt_f32(1, (int64_t[]){n}, x), out = qt_f32(1, (int64_t[]){m}, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_PAD, &o, 1, &in, 1, &out, 1, 0));
    assert_memory_equal(out.out, want, (size_t)m * sizeof(float));
    qlite_op_test_free(1, &out);
}

static void test_pad(void **state) {
    (void)state;
    /* expected values from numpy.pad */
    const float x5[5] = {1, 2, 3, 4, 5}, x3[3] = {1, 2, 3};
    check_pad1d(QLITE_PAD_REFLECT, 2, 3, x5, 5, (const float[]){3, 2, 1, 2, 3, 4, 5, 4, 3, 2}, 10);
    check_pad1d(QLITE_PAD_EDGE, 2, 3, x5, 5, (const float[]){1, 1, 1, 2, 3, 4, 5, 5, 5, 5}, 10);
    check_pad1d(QLITE_PAD_CONSTANT, 2, 3, x5, 5,
                (const float[]){-7.5f, -7.5f, 1, 2, 3, 4, 5, -7.5f, -7.5f, -7.5f}, 10);
    check_pad1d(QLITE_PAD_REFLECT, 5, 5, x3, 3,
                (const float[]){2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2}, 13);
    check_pad1d(QLITE_PAD_CONSTANT, -2, 1, x5, 5, (const float[]){3, 4, 5, -7.5f}, 4);
    check_pad1d(QLITE_PAD_EDGE, 1, -4, x5, 5, (const float[]){1, 1}, 2);
    check_pad1d(QLITE_PAD_CONSTANT, -5, 0, x5, 5, NULL, 0);

    /* 2-D, numpy: np.pad([[1,2,3],[4,5,6]], ((1,1),(2,0)), 'reflect') and
     * ((1,0),(1,2)) 'edge' */
    const float x23[6] = {1, 2, 3, 4, 5, 6};
    const float refl[20] = {6, 5, 4, 5, 6, 3, 2, 1, 2, 3, 6, 5, 4, 5, 6, 3, 2, 1, 2, 3};
    const float edge[18] = {1, 1, 2, 3, 3, 3, 1, 1, 2, 3, 3, 3, 4, 4, 5, 6, 6, 6};
    const int64_t p_refl[4] = {1, 2, 1, 0}, p_edge[4] = {1, 1, 0, 2};
    qlite_op_options o = qopts(QLITE_OPTIONS_PAD);
    o.u.pad.count = 4;
    o.u.pad.pads = p_refl;
    o.u.pad.mode = QLITE_PAD_REFLECT;
    qlite_op_test_tensor in = qt_f32(2, (int64_t[]){2, 3}, x23);
    qlite_op_test_tensor out = qt_f32(2, (int64_t[]){4, 5}, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_PAD, &o, 1, &in, 1, &out, 1, 0));
    assert_memory_equal(out.out, refl, sizeof refl);
    qlite_op_test_free(1, &out);
    o.u.pad.pads = p_edge;
    o.u.pad.mode = QLITE_PAD_EDGE;
    out = qt_f32(2, (int64_t[]){3, 6}, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_PAD, &o, 1, &in, 1, &out, 1, 0));
    assert_memory_equal(out.out, edge, sizeof edge);
    qlite_op_test_free(1, &out);

    /* NHWC spatial zero padding of a quantized int8 tensor: the pad value 0.0
     * becomes the zero point; 1.0 with scale 0.5, zp -3 becomes -1 */
    int8_t q[2 * 2 * 1] = {10, 20, 30, 40};
    float scale = 0.5f;
    int32_t zp = -3;
    qlite_quant quant = {.count = 1, .scale = &scale, .zero_point = &zp};
    const int64_t p4[8] = {0, 1, 0, 0, 0, 1, 0, 0};
    o.u.pad.count = 8;
    o.u.pad.pads = p4;
    o.u.pad.mode = QLITE_PAD_CONSTANT;
    o.u.pad.value = 1.0f;
    in = qt(QLITE_DTYPE_INT8, 4, (int64_t[]){1, 2, 2, 1}, q);
    in.quant = &quant;
    out = qt(QLITE_DTYPE_INT8, 4, (int64_t[]){1, 4, 2, 1}, NULL);
    out.quant = &quant;
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_PAD, &o, 1, &in, 1, &out, 1, 0));
    const int8_t qwant[8] = {-1, -1, 10, 20, 30, 40, -1, -1};
    assert_memory_equal(out.out, qwant, sizeof qwant);
    qlite_op_test_free(1, &out);

    /* hostile: wrong pad count, crop past the size, reflect an empty axis, bad mode */
    o.u.pad.count = 2;
    o.u.pad.pads = (const int64_t[]){0, 0};
    assert_int_equal(qlite_op_test_run(QLITE_OP_PAD, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    in = qt_f32(1, (int64_t[]){3}, x3);
    out = qt_f32(1, (int64_t[]){1}, NULL);
    o.u.pad.pads = (const int64_t[]){-2, -2};
    assert_int_equal(qlite_op_test_run(QLITE_OP_PAD, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.pad.pads = (const int64_t[]){INT64_MAX, 0};
    assert_int_equal(qlite_op_test_run(QLITE_OP_PAD, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.pad.pads = (const int64_t[]){1, 0};
    o.u.pad.mode = QLITE_PAD_REFLECT;
    in = qt_f32(1, (int64_t[]){0}, x3);
    assert_int_equal(qlite_op_test_run(QLITE_OP_PAD, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.pad.mode = (qlite_pad_mode)9;
    assert_int_equal(qlite_op_test_run(QLITE_OP_PAD, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
}

/* ----------------------------------------------------------------- gather */

static void test_gather(void **state) {
    (void)state;
    /* embedding lookup: data [5, 3] constant, int64 indices [2, 2] incl. negative */
    float emb[15];
    for (int i = 0; i < 15; i++) emb[i] = (float)i * 0.5f;
    const int64_t idx64[4] = {4, 0, -1, 2};
    qlite_op_options o = qopts(QLITE_OPTIONS_GATHER);
    qlite_op_test_tensor in[2] = {qt_const(QLITE_DTYPE_FLOAT32, 2, (int64_t[]){5, 3}, emb),
                                  qt(QLITE_DTYPE_INT64, 2, (int64_t[]){2, 2}, idx64)};
    qlite_op_test_tensor out = qt_f32(3, (int64_t[]){2, 2, 3}, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_GATHER, &o, 2, in, 1, &out, 1, 0));
    const int rows[4] = {4, 0, 4, 2};
    for (int j = 0; j < 4; j++)
        assert_memory_equal((float *)out.out + 3 * j, emb + 3 * rows[j], 3 * sizeof(float));
    qlite_op_test_free(1, &out);

    /* axis 1 with a scalar int32 index: [2,4,3] -> [2,3] */
    int16_t d16[24];
    for (int i = 0; i < 24; i++) d16[i] = (int16_t)(i * 3 - 20);
    const int32_t one = -3; /* == 1 */
    o.u.gather.axis = 1;
    in[0] = qt(QLITE_DTYPE_INT16, 3, (int64_t[]){2, 4, 3}, d16);
    in[1] = qt(QLITE_DTYPE_INT32, 0, NULL, &one);
    out = qt(QLITE_DTYPE_INT16, 2, (int64_t[]){2, 3}, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_GATHER, &o, 2, in, 1, &out, 1, 0));
    const int16_t *y = out.out;
    for (int n = 0; n < 2; n++)
        for (int k = 0; k < 3; k++) assert_int_equal(y[n * 3 + k], d16[(n * 4 + 1) * 3 + k]);
    qlite_op_test_free(1, &out);

    /* a float16 embedding table is read as stored and widened per row */
    uint16_t h[6];
    for (int i = 0; i < 6; i++) h[i] = qlite_fp32_to_fp16((float)i + 0.25f);
    const int32_t i2[2] = {1, 0};
    o.u.gather.axis = 0;
    in[0] = qt_const(QLITE_DTYPE_FLOAT16, 2, (int64_t[]){3, 2}, h);
    in[1] = qt(QLITE_DTYPE_INT32, 1, (int64_t[]){2}, i2);
    out = qt_f32(2, (int64_t[]){2, 2}, NULL);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_GATHER, &o, 2, in, 1, &out, 1, 0));
    const float fw[4] = {2.25f, 3.25f, 0.25f, 1.25f};
    assert_memory_equal(out.out, fw, sizeof fw);
    qlite_op_test_free(1, &out);

    /* out of range: at eval for run-time indices, at prepare for constant ones */
    const int64_t badi[3] = {0, 5, 1}, negi[1] = {-6};
    in[0] = qt_f32(2, (int64_t[]){5, 3}, emb);
    in[1] = qt(QLITE_DTYPE_INT64, 1, (int64_t[]){3}, badi);
    out = qt_f32(2, (int64_t[]){3, 3}, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_GATHER, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qlite_last_error(), "index 5"));
    in[1].is_const = true;
    assert_int_equal(qlite_op_test_run(QLITE_OP_GATHER, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    in[1] = qt(QLITE_DTYPE_INT64, 1, (int64_t[]){1}, negi);
    out = qt_f32(2, (int64_t[]){1, 3}, NULL);
    assert_int_equal(qlite_op_test_run(QLITE_OP_GATHER, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    /* float indices, axis out of range, too-short constant data */
    in[1] = qt_f32(1, (int64_t[]){1}, emb);
    assert_int_equal(qlite_op_test_run(QLITE_OP_GATHER, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_DTYPE);
    in[1] = qt(QLITE_DTYPE_INT64, 1, (int64_t[]){1}, badi);
    o.u.gather.axis = 2;
    assert_int_equal(qlite_op_test_run(QLITE_OP_GATHER, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.gather.axis = 0;
    in[0] = qt_const(QLITE_DTYPE_FLOAT32, 2, (int64_t[]){5, 3}, emb);
    in[0].data_size = 8;
    assert_int_equal(qlite_op_test_run(QLITE_OP_GATHER, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_SHAPE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reshape),
        cmocka_unit_test(test_transpose),
        cmocka_unit_test(test_concat_split),
        cmocka_unit_test(test_slice),
        cmocka_unit_test(test_pad),
        cmocka_unit_test(test_gather),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
