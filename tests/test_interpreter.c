/*
 * test_interpreter.c — the qlite_interpreter_* API on small models built with
 * the writer: lifecycle states and errors, dynamic batch resize, the arena
 * plan (exact sizes derived by hand from the planner's rules), keep-all, the
 * observer, caller-supplied arenas, constants converted at prepare (float16
 * widening, CSR / block-CSR and codebook decoding, O16I4 unpacking) checked
 * against dense values written out by hand, unsupported ops and bad inputs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "qlite_writer.h"
#include "support.h"

/* ------------------------------------------------------------------------ */
/* Building test models                                                      */
/* ------------------------------------------------------------------------ */

static qlite_writer *W;

static void begin(void) { assert_qlite_ok(qlite_writer_create(&W)); }

static int32_t act(const char *name, qlite_dtype dt, uint32_t rank, const int64_t *shape) {
    qlite_tensor_info t = {.name = name, .dtype = dt, .rank = rank, .shape = shape};
    int32_t i = qlite_writer_add_tensor(W, &t);
    assert_true(i >= 0);
    return i;
}

/* A constant described by `t` (shape, dtype, sparsity, ...) holding bytes. */
static int32_t cst_info(qlite_tensor_info *t, const void *data, size_t bytes) {
    int64_t b = qlite_writer_add_buffer(W, data, bytes);
    assert_true(b > 0);
    t->buffer = (uint32_t)b;
    int32_t i = qlite_writer_add_tensor(W, t);
    if (i < 0) print_error("add_tensor: %s\n", qlite_last_error());
    assert_true(i >= 0);
    return i;
}

static int32_t cst(const char *name, qlite_dtype dt, uint32_t rank, const int64_t *shape,
                   const void *data, size_t bytes) {
    qlite_tensor_info t = {.name = name, .dtype = dt, .rank = rank, .shape = shape};
    return cst_info(&t, data, bytes);
}

static uint32_t buffer(const void *data, size_t bytes) {
    int64_t b = qlite_writer_add_buffer(W, data, bytes);
    assert_true(b > 0);
    return (uint32_t)b;
}

static void op(qlite_op_code code, const char *name, const qlite_op_options *o, uint32_t nin,
               const int32_t *in, uint32_t nout, const int32_t *out) {
    qlite_op_info info = {.code = code, .name = name, .num_inputs = nin, .num_outputs = nout,
                          .inputs = in, .outputs = out};
    if (o) info.options = *o;
    assert_true(qlite_writer_add_op(W, &info) >= 0);
}

static void binary(qlite_op_code code, const char *name, int32_t a, int32_t b, int32_t y) {
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_BINARY, &o);
    op(code, name, &o, 2, (int32_t[]){a, b}, 1, (int32_t[]){y});
}

static void reshape(const char *name, int32_t x, int32_t y, uint32_t rank, const int64_t *shape) {
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_RESHAPE, &o);
    o.u.reshape.rank = rank;
    o.u.reshape.new_shape = shape;
    op(QLITE_OP_RESHAPE, name, &o, 1, (int32_t[]){x}, 1, (int32_t[]){y});
}

static void fully_connected(const char *name, int32_t x, int32_t w, int32_t b, int32_t y) {
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_FULLY_CONNECTED, &o);
    op(QLITE_OP_FULLY_CONNECTED, name, &o, 3, (int32_t[]){x, w, b}, 1, (int32_t[]){y});
}

typedef struct test_model {
    qlite_model *m;
    void *bytes;
} test_model;

static test_model finish(int32_t input, int32_t output) {
    assert_qlite_ok(qlite_writer_set_inputs(W, 1, &input));
    assert_qlite_ok(qlite_writer_set_outputs(W, 1, &output));
    test_model tm = {0};
    size_t size;
    assert_qlite_ok(qlite_writer_write_memory(W, &tm.bytes, &size));
    qlite_writer_destroy(W);
    W = NULL;
    assert_qlite_ok(qlite_model_open_memory(tm.bytes, size, 0, &tm.m));
    return tm;
}

static void close_model(test_model *tm) {
    qlite_model_close(tm->m);
    qlite_writer_free_bytes(tm->bytes);
}

static qlite_interpreter *make(const test_model *tm, const qlite_interpreter_options *o) {
    qlite_interpreter *it = NULL;
    assert_qlite_ok(qlite_interpreter_create(tm->m, o, &it));
    return it;
}

static void expect_floats(const void *data, const float *want, size_t n) {
    const float *got = data;
    for (size_t i = 0; i < n; i++) {
        if (got[i] != want[i]) print_error("element %zu: got %.9g, want %.9g\n", i, got[i], want[i]);
        assert_true(got[i] == want[i]);
    }
}

/* x [1,4] + c (1, 2, 3, 4) -> y */
static test_model model_add(void) {
    static const float c[4] = {1, 2, 3, 4};
    static const int64_t s[] = {1, 4};
    begin();
    int32_t x = act("x", QLITE_DTYPE_FLOAT32, 2, s), y = act("y", QLITE_DTYPE_FLOAT32, 2, s);
    int32_t k = cst("c", QLITE_DTYPE_FLOAT32, 2, s, c, sizeof c);
    binary(QLITE_OP_ADD, "add0", x, k, y);
    return finish(x, y);
}

/*
 * The chain x -> t1 = x+1 -> t2 = t1+2 -> t3 = t2+3 -> y = t3+4 over [1,16]
 * float32 (64 bytes each). Tensors are added x, t1, t2, t3, y (indices 0..4).
 */
static test_model model_chain(void) {
    static float c[4][16];
    static const int64_t s[] = {1, 16};
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 16; i++) c[k][i] = (float)(k + 1);
    begin();
    int32_t t[5];
    const char *names[] = {"x", "t1", "t2", "t3", "y"};
    for (int i = 0; i < 5; i++) t[i] = act(names[i], QLITE_DTYPE_FLOAT32, 2, s);
    const char *cn[] = {"c1", "c2", "c3", "c4"}, *on[] = {"add1", "add2", "add3", "add4"};
    for (int k = 0; k < 4; k++) {
        int32_t ck = cst(cn[k], QLITE_DTYPE_FLOAT32, 2, s, c[k], sizeof c[k]);
        binary(QLITE_OP_ADD, on[k], t[k], ck, t[k + 1]);
    }
    return finish(t[0], t[4]);
}

/* x [-1, 3] -> FC(W = [[1,0,2],[-1,3,1]], b = [0.5, -1]) -> y [-1, 2] */
static test_model model_fc_dynamic(void) {
    static const float w[6] = {1, 0, 2, -1, 3, 1}, b[2] = {0.5f, -1};
    begin();
    int32_t x = act("x", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){-1, 3});
    int32_t y = act("y", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){-1, 2});
    int32_t wi = cst("w", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, w, sizeof w);
    int32_t bi = cst("b", QLITE_DTYPE_FLOAT32, 1, (int64_t[]){2}, b, sizeof b);
    fully_connected("fc", x, wi, bi, y);
    return finish(x, y);
}

/* ------------------------------------------------------------------------ */
/* Lifecycle and errors                                                      */
/* ------------------------------------------------------------------------ */

static void test_lifecycle(void **state) {
    (void)state;
    test_model tm = model_add();
    qlite_interpreter *it = make(&tm, NULL);
    assert_int_equal(qlite_interpreter_input_count(it), 1);
    assert_int_equal(qlite_interpreter_output_count(it), 1);
    assert_string_equal(qlite_interpreter_error(it), "");
    float x[4] = {10, 20, 30, 40};
    qlite_tensor_view v;
    /* created: nothing but resize/prepare */
    assert_int_equal(qlite_interpreter_set_input(it, 0, x, sizeof x), QLITE_ERR_BAD_STATE);
    assert_non_null(strstr(qlite_interpreter_error(it), "not prepared"));
    assert_string_equal(qlite_interpreter_error(it), qlite_last_error());
    assert_int_equal(qlite_interpreter_invoke(it), QLITE_ERR_BAD_STATE);
    assert_int_equal(qlite_interpreter_input(it, 0, &v), QLITE_ERR_BAD_STATE);
    assert_int_equal(qlite_interpreter_output(it, 0, &v), QLITE_ERR_BAD_STATE);
    assert_int_equal(qlite_interpreter_tensor(it, 0, &v), QLITE_ERR_BAD_STATE);
    assert_int_equal(qlite_interpreter_arena_size(it), 0);

    assert_qlite_ok(qlite_interpreter_prepare(it));
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, x, sizeof x));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    assert_string_equal(v.name, "y");
    assert_int_equal(v.dtype, QLITE_DTYPE_FLOAT32);
    assert_int_equal(v.rank, 2);
    assert_int_equal(v.dims[0], 1);
    assert_int_equal(v.dims[1], 4);
    assert_int_equal(v.bytes, 16);
    expect_floats(v.data, (float[]){11, 22, 33, 44}, 4);
    /* inputs survive invoke: a second invoke gives the same result */
    memset(v.data, 0, v.bytes);
    assert_qlite_ok(qlite_interpreter_invoke(it));
    expect_floats(v.data, (float[]){11, 22, 33, 44}, 4);
    /* writing straight into the input view works too */
    qlite_tensor_view in;
    assert_qlite_ok(qlite_interpreter_input(it, 0, &in));
    ((float *)in.data)[0] = -1;
    assert_qlite_ok(qlite_interpreter_invoke(it));
    expect_floats(v.data, (float[]){0, 22, 33, 44}, 4);
    /* prepare again is allowed and keeps working */
    assert_qlite_ok(qlite_interpreter_prepare(it));
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, x, sizeof x));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    expect_floats(v.data, (float[]){11, 22, 33, 44}, 4);
    /* resize returns to the created state */
    assert_qlite_ok(qlite_interpreter_resize_input(it, 0, 2, (int64_t[]){1, 4}));
    assert_int_equal(qlite_interpreter_invoke(it), QLITE_ERR_BAD_STATE);
    assert_int_equal(qlite_interpreter_output(it, 0, &v), QLITE_ERR_BAD_STATE);
    /* a view of a constant */
    assert_qlite_ok(qlite_interpreter_prepare(it));
    int32_t c = qlite_model_find_tensor(tm.m, "c");
    assert_qlite_ok(qlite_interpreter_tensor(it, (uint32_t)c, &v));
    expect_floats(v.data, (float[]){1, 2, 3, 4}, 4);
    /* constants are zero-copy: the view points into the model's bytes */
    size_t msize;
    const uint8_t *mb = qlite_model_bytes(tm.m, &msize);
    assert_true((const uint8_t *)v.data >= mb && (const uint8_t *)v.data + 16 <= mb + msize);
    qlite_interpreter_destroy(it);
    qlite_interpreter_destroy(NULL);
    close_model(&tm);
}

static void test_argument_errors(void **state) {
    (void)state;
    test_model tm = model_add();
    qlite_interpreter *it = NULL;
    assert_int_equal(qlite_interpreter_create(NULL, NULL, &it), QLITE_ERR_INVALID_ARGUMENT);
    assert_null(it);
    assert_int_equal(qlite_interpreter_create(tm.m, NULL, NULL), QLITE_ERR_INVALID_ARGUMENT);
    qlite_interpreter_options o = {.flags = 1u << 7};
    assert_int_equal(qlite_interpreter_create(tm.m, &o, &it), QLITE_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qlite_last_error(), "unknown flags 0x80"));
    o = (qlite_interpreter_options){.arena_size = 100};
    assert_int_equal(qlite_interpreter_create(tm.m, &o, &it), QLITE_ERR_INVALID_ARGUMENT);
    assert_null(it);

    it = make(&tm, NULL);
    assert_qlite_ok(qlite_interpreter_prepare(it));
    qlite_tensor_view v;
    float x[4] = {0};
    assert_int_equal(qlite_interpreter_set_input(it, 1, x, sizeof x), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_interpreter_input(it, 1, &v), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_interpreter_output(it, 1, &v), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_interpreter_tensor(it, 99, &v), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_interpreter_output(it, 0, NULL), QLITE_ERR_INVALID_ARGUMENT);
    /* bad input size: the message says what was expected */
    assert_int_equal(qlite_interpreter_set_input(it, 0, x, 15), QLITE_ERR_INVALID_ARGUMENT);
    assert_string_equal(qlite_interpreter_error(it),
                        "set_input: input 0 'x' is float32 [1, 4] = 16 bytes; got 15 bytes");
    assert_string_equal(qlite_last_error(), qlite_interpreter_error(it));
    assert_int_equal(qlite_interpreter_set_input(it, 0, NULL, 16), QLITE_ERR_INVALID_ARGUMENT);
    /* the handle keeps its message across later successful calls */
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, x, sizeof x));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    assert_non_null(strstr(qlite_interpreter_error(it), "set_input"));
    /* NULL handles */
    assert_int_equal(qlite_interpreter_prepare(NULL), QLITE_ERR_INVALID_ARGUMENT);
    assert_int_equal(qlite_interpreter_invoke(NULL), QLITE_ERR_INVALID_ARGUMENT);
    assert_string_equal(qlite_interpreter_error(NULL), "");
    assert_int_equal(qlite_interpreter_input_count(NULL), 0);
    assert_int_equal(qlite_interpreter_arena_size(NULL), 0);
    qlite_interpreter_destroy(it);
    close_model(&tm);
}

/* An op without a kernel fails at create, naming index, code and name. */
static void test_unsupported_op(void **state) {
    (void)state;
    static const int64_t s[] = {1, 4};
    static const float c[4] = {0};
    assert_null(qlite_kernel_registry[QLITE_OP_EMBEDDING_BAG]); /* reserved: never a kernel */
    begin();
    int32_t x = act("x", QLITE_DTYPE_FLOAT32, 2, s), t = act("t", QLITE_DTYPE_FLOAT32, 2, s);
    int32_t u = act("u", QLITE_DTYPE_FLOAT32, 2, s), y = act("y", QLITE_DTYPE_FLOAT32, 2, s);
    int32_t k = cst("c", QLITE_DTYPE_FLOAT32, 2, s, c, sizeof c);
    binary(QLITE_OP_ADD, "add0", x, k, t);
    op(QLITE_OP_EMBEDDING_BAG, "bag", NULL, 1, (int32_t[]){t}, 1, (int32_t[]){u});
    op(QLITE_OP_EMBEDDING_BAG, "bag2", NULL, 1, (int32_t[]){u}, 1, (int32_t[]){y});
    test_model tm = finish(x, y);
    qlite_interpreter *it = (qlite_interpreter *)0x1;
    assert_int_equal(qlite_interpreter_create(tm.m, NULL, &it), QLITE_ERR_UNSUPPORTED_OP);
    assert_null(it);
    assert_string_equal(qlite_last_error(),
                        "op 1 EMBEDDING_BAG 'bag': op code 54 (EMBEDDING_BAG) has no kernel in "
                        "this build (2 ops in all have none)");
    close_model(&tm);
}

/* A kernel's prepare error names the op; the interpreter stays unprepared. */
static void test_prepare_error(void **state) {
    (void)state;
    static const float c[6] = {0};
    begin();
    int32_t x = act("x", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){2, 4});
    int32_t y = act("y", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){2, 4});
    int32_t k = cst("c", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, c, sizeof c);
    binary(QLITE_OP_ADD, "bad_add", x, k, y);
    test_model tm = finish(x, y);
    qlite_interpreter *it = make(&tm, NULL);
    qlite_status st = qlite_interpreter_prepare(it);
    assert_int_not_equal(st, QLITE_OK);
    assert_int_equal(strncmp(qlite_interpreter_error(it), "op 0 ADD 'bad_add': ", 20), 0);
    assert_string_equal(qlite_last_error(), qlite_interpreter_error(it));
    assert_int_equal(qlite_interpreter_invoke(it), QLITE_ERR_BAD_STATE);
    qlite_interpreter_destroy(it);
    close_model(&tm);
}

/* ------------------------------------------------------------------------ */
/* Resize                                                                    */
/* ------------------------------------------------------------------------ */

static void test_resize_dynamic_batch(void **state) {
    (void)state;
    test_model tm = model_fc_dynamic();
    qlite_interpreter *it = make(&tm, NULL);
    /* the default batch of a -1 dim is 1 */
    assert_qlite_ok(qlite_interpreter_prepare(it));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_input(it, 0, &v));
    assert_int_equal(v.dims[0], 1);
    assert_int_equal(v.bytes, 12);
    size_t arena1 = qlite_interpreter_arena_size(it);

    assert_qlite_ok(qlite_interpreter_resize_input(it, 0, 2, (int64_t[]){4, 3}));
    assert_qlite_ok(qlite_interpreter_prepare(it));
    const float x[12] = {1, 2, 3, 0, 0, 0, -1, 1, 2, 2, -2, 1};
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, x, sizeof x));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    assert_int_equal(v.dims[0], 4);
    assert_int_equal(v.dims[1], 2);
    /* by hand: y = x W^T + b, W = [[1,0,2],[-1,3,1]], b = [0.5,-1] */
    expect_floats(v.data, (float[]){7.5f, 7, 0.5f, -1, 3.5f, 5, 4.5f, -8}, 8);

    /* a big batch needs a bigger arena: at least x and y of 1000 rows */
    assert_qlite_ok(qlite_interpreter_resize_input(it, 0, 2, (int64_t[]){1000, 3}));
    assert_qlite_ok(qlite_interpreter_prepare(it));
    assert_true(qlite_interpreter_arena_size(it) >= 1000 * (12 + 8));
    assert_true(arena1 < 1000 * (12 + 8));

    /* only the -1 dim may change, rank must match, the batch must be >= 1 */
    assert_int_equal(qlite_interpreter_resize_input(it, 0, 2, (int64_t[]){4, 5}), QLITE_ERR_SHAPE);
    assert_string_equal(qlite_interpreter_error(it),
                        "resize_input: input 0 'x' is declared [-1, 3] (only -1 dims may change, "
                        "to 1..2^31-1); got [4, 5]");
    assert_int_equal(qlite_interpreter_resize_input(it, 0, 3, (int64_t[]){4, 3, 1}),
                     QLITE_ERR_SHAPE);
    assert_int_equal(qlite_interpreter_resize_input(it, 0, 2, (int64_t[]){0, 3}), QLITE_ERR_SHAPE);
    assert_int_equal(qlite_interpreter_resize_input(it, 1, 2, (int64_t[]){1, 3}),
                     QLITE_ERR_INVALID_ARGUMENT);
    /* a failed resize leaves the prepared state alone */
    assert_qlite_ok(qlite_interpreter_invoke(it));
    qlite_interpreter_destroy(it);
    close_model(&tm);
}

/* ------------------------------------------------------------------------ */
/* Arena plan, keep-all, observer, caller arena                              */
/* ------------------------------------------------------------------------ */

/*
 * model_chain's plan by hand (planner.h rules; all items 64 bytes, visited by
 * first use then index): lifetimes x [0,3] (input: whole run), t1 [0,1],
 * t2 [1,2], t3 [2,3], y [3,3] (output: to the end).
 *   x -> 0; t1 -> 64; t2 overlaps x, t1 -> 128; t3 overlaps x and t2 but not
 *   t1 -> 64; y overlaps x and t3 -> 128.  Arena 192 of 320 bytes in all.
 * With KEEP_ALL every tensor lives [0,3]: 5 x 64 = 320.
 */
static void test_arena_plan_and_keep_all(void **state) {
    (void)state;
    test_model tm = model_chain();
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)i;
    qlite_interpreter *it = make(&tm, NULL);
    assert_qlite_ok(qlite_interpreter_prepare(it));
    assert_int_equal(qlite_interpreter_arena_size(it), 192);
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, x, sizeof x));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    qlite_tensor_view v[5];
    for (uint32_t t = 0; t < 5; t++) assert_qlite_ok(qlite_interpreter_tensor(it, t, &v[t]));
    const uint8_t *base = v[0].data;
    const ptrdiff_t want_off[5] = {0, 64, 128, 64, 128};
    for (int t = 0; t < 5; t++) assert_int_equal((const uint8_t *)v[t].data - base, want_off[t]);
    float want[16];
    for (int i = 0; i < 16; i++) want[i] = (float)i + 10;
    expect_floats(v[4].data, want, 16);
    qlite_interpreter_destroy(it);

    qlite_interpreter_options o = {.flags = QLITE_INTERP_KEEP_ALL_TENSORS};
    it = make(&tm, &o);
    assert_qlite_ok(qlite_interpreter_prepare(it));
    assert_int_equal(qlite_interpreter_arena_size(it), 320);
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, x, sizeof x));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    /* every intermediate is still readable: t_k = x + 1 + ... + k */
    for (uint32_t t = 0; t < 5; t++) {
        assert_qlite_ok(qlite_interpreter_tensor(it, t, &v[t]));
        for (int i = 0; i < 16; i++) want[i] = (float)i + (float)(t * (t + 1) / 2);
        expect_floats(v[t].data, want, 16);
    }
    qlite_interpreter_destroy(it);
    close_model(&tm);
}

typedef struct observed {
    uint32_t calls;
    uint32_t op_index[8];
    float first[8], last[8];
    char name[8][8];
} observed;

static void observer(void *user, uint32_t op_index, const qlite_op_info *op, uint32_t n,
                     const qlite_tensor_view *outputs) {
    observed *ob = user;
    assert_int_equal(op->code, QLITE_OP_ADD);
    assert_int_equal(n, 1);
    if (ob->calls < 8) {
        ob->op_index[ob->calls] = op_index;
        ob->first[ob->calls] = ((const float *)outputs[0].data)[0];
        ob->last[ob->calls] = ((const float *)outputs[0].data)[15];
        snprintf(ob->name[ob->calls], sizeof ob->name[0], "%s", outputs[0].name);
    }
    ob->calls++;
}

static void test_observer(void **state) {
    (void)state;
    test_model tm = model_chain();
    observed ob;
    memset(&ob, 0, sizeof ob);
    qlite_interpreter_options o = {.observer = observer, .observer_user = &ob};
    qlite_interpreter *it = make(&tm, &o);
    assert_qlite_ok(qlite_interpreter_prepare(it));
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)i;
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, x, sizeof x));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    /* called after each op, in order, while that op's output is live (even
     * the ones the arena later overwrites): t_k = x + k(k+1)/2 */
    assert_int_equal(ob.calls, 4);
    const char *names[] = {"t1", "t2", "t3", "y"};
    for (uint32_t k = 0; k < 4; k++) {
        assert_int_equal(ob.op_index[k], k);
        assert_true(ob.first[k] == (float)((k + 1) * (k + 2) / 2));
        assert_true(ob.last[k] == 15.0f + (float)((k + 1) * (k + 2) / 2));
        assert_string_equal(ob.name[k], names[k]);
    }
    qlite_interpreter_destroy(it);
    close_model(&tm);
}

static void test_caller_arena(void **state) {
    (void)state;
    test_model tm = model_chain();
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)(2 * i);
    uint8_t *mem = qlite_aligned_alloc(192 + 64);
    assert_non_null(mem);

    /* too small by one byte: NO_MEMORY with the size needed */
    qlite_interpreter_options o = {.arena = mem, .arena_size = 191};
    qlite_interpreter *it = make(&tm, &o);
    assert_int_equal(qlite_interpreter_prepare(it), QLITE_ERR_NO_MEMORY);
    assert_string_equal(qlite_interpreter_error(it),
                        "the caller's arena of 191 bytes is too small: the plan needs 192 bytes");
    assert_int_equal(qlite_interpreter_invoke(it), QLITE_ERR_BAD_STATE);
    qlite_interpreter_destroy(it);

    /* exactly enough: every activation lives inside the caller's memory */
    o.arena_size = 192;
    it = make(&tm, &o);
    assert_qlite_ok(qlite_interpreter_prepare(it));
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, x, sizeof x));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    assert_ptr_equal(v.data, mem + 128);
    float want[16];
    for (int i = 0; i < 16; i++) want[i] = (float)(2 * i) + 10;
    expect_floats(v.data, want, 16);
    qlite_interpreter_destroy(it);

    /* a misaligned start costs the padding to the next multiple of 64 */
    o.arena = mem + 1;
    o.arena_size = 192;
    it = make(&tm, &o);
    assert_int_equal(qlite_interpreter_prepare(it), QLITE_ERR_NO_MEMORY);
    assert_non_null(strstr(qlite_interpreter_error(it), "needs 255 bytes (including padding"));
    qlite_interpreter_destroy(it);
    o.arena_size = 255;
    it = make(&tm, &o);
    assert_qlite_ok(qlite_interpreter_prepare(it));
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, x, sizeof x));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    assert_ptr_equal(v.data, mem + 64 + 128);
    expect_floats(v.data, want, 16);
    qlite_interpreter_destroy(it);
    qlite_aligned_free(mem);
    close_model(&tm);
}

/* RESHAPE's output aliases its input: same bytes, no arena item of its own. */
static void test_alias(void **state) {
    (void)state;
    static const float c[6] = {1, 1, 1, 1, 1, 1};
    begin();
    int32_t x = act("x", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){2, 3});
    int32_t r = act("r", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){3, 2});
    int32_t y = act("y", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){3, 2});
    int32_t k = cst("c", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){3, 2}, c, sizeof c);
    reshape("reshape", x, r, 2, (int64_t[]){3, 2});
    binary(QLITE_OP_ADD, "add", r, k, y);
    test_model tm = finish(x, y);
    qlite_interpreter *it = make(&tm, NULL);
    assert_qlite_ok(qlite_interpreter_prepare(it));
    /* x (24 -> 64 bytes, alive all run, shared with r) and y (64): 128 */
    assert_int_equal(qlite_interpreter_arena_size(it), 128);
    const float xv[6] = {0, 1, 2, 3, 4, 5};
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, xv, sizeof xv));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    qlite_tensor_view vx, vr, vy;
    assert_qlite_ok(qlite_interpreter_tensor(it, (uint32_t)x, &vx));
    assert_qlite_ok(qlite_interpreter_tensor(it, (uint32_t)r, &vr));
    assert_qlite_ok(qlite_interpreter_output(it, 0, &vy));
    assert_ptr_equal(vx.data, vr.data);
    assert_int_equal(vr.dims[0], 3);
    expect_floats(vy.data, (float[]){1, 2, 3, 4, 5, 6}, 6);
    qlite_interpreter_destroy(it);
    close_model(&tm);
}

/* Two threads give the same result as one (FULLY_CONNECTED splits its work). */
static void test_threads(void **state) {
    (void)state;
    test_model tm = model_fc_dynamic();
    qlite_interpreter_options o = {.num_threads = 2};
    qlite_interpreter *it = make(&tm, &o);
    assert_qlite_ok(qlite_interpreter_resize_input(it, 0, 2, (int64_t[]){4, 3}));
    assert_qlite_ok(qlite_interpreter_prepare(it));
    const float x[12] = {1, 2, 3, 0, 0, 0, -1, 1, 2, 2, -2, 1};
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, x, sizeof x));
    for (int rep = 0; rep < 3; rep++) assert_qlite_ok(qlite_interpreter_invoke(it));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    expect_floats(v.data, (float[]){7.5f, 7, 0.5f, -1, 3.5f, 5, 4.5f, -8}, 8);
    qlite_interpreter_destroy(it);
    close_model(&tm);
}

/*
 * An MLP 64 -> 256 -> 256 -> 256 -> 10 with ReLUs and a softmax: the arena
 * is far below the sum of all activations, and the output matches a plain
 * double-precision computation within 1e-5.
 */
static void test_mlp_arena_far_below_sum(void **state) {
    (void)state;
    enum { L = 4 };
    static const int64_t dims[L + 1] = {64, 256, 256, 256, 10};
    static float w[L][256 * 256], b[L][256];
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 7);
    for (int l = 0; l < L; l++) {
        for (int64_t i = 0; i < dims[l] * dims[l + 1]; i++)
            w[l][i] = qlite_test_rng_float(&rng, -0.2f, 0.2f);
        for (int64_t i = 0; i < dims[l + 1]; i++) b[l][i] = qlite_test_rng_float(&rng, -0.1f, 0.1f);
    }
    begin();
    int32_t x = act("x", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){1, 64}), cur = x;
    size_t sum = 64 * 4;
    char name[32];
    for (int l = 0; l < L; l++) {
        int64_t ws[2] = {dims[l + 1], dims[l]}, bs[1] = {dims[l + 1]}, hs[2] = {1, dims[l + 1]};
        snprintf(name, sizeof name, "w%d", l);
        int32_t wi = cst(name, QLITE_DTYPE_FLOAT32, 2, ws,  w[l], (size_t)(ws[0] * ws[1]) * 4);
        snprintf(name, sizeof name, "b%d", l);
        int32_t bi = cst(name, QLITE_DTYPE_FLOAT32, 1, bs, b[l], (size_t)bs[0] * 4);
        snprintf(name, sizeof name, "h%d", l);
        int32_t h = act(name, QLITE_DTYPE_FLOAT32, 2, hs);
        snprintf(name, sizeof name, "fc%d", l);
        fully_connected(name, cur, wi, bi, h);
        sum += (size_t)hs[1] * 4;
        cur = h;
        snprintf(name, sizeof name, "a%d", l);
        int32_t a = act(name, QLITE_DTYPE_FLOAT32, 2, hs);
        if (l < L - 1) {
            qlite_op_options o;
            qlite_op_options_default(QLITE_OPTIONS_NONE, &o);
            snprintf(name, sizeof name, "relu%d", l);
            op(QLITE_OP_RELU, name, NULL, 1, (int32_t[]){cur}, 1, (int32_t[]){a});
        } else {
            qlite_op_options o;
            qlite_op_options_default(QLITE_OPTIONS_SOFTMAX, &o);
            o.u.softmax.axis = -1;
            o.u.softmax.beta = 1.0f;
            op(QLITE_OP_SOFTMAX, "softmax", &o, 1, (int32_t[]){cur}, 1, (int32_t[]){a});
        }
        sum += (size_t)hs[1] * 4;
        cur = a;
    }
    test_model tm = finish(x, cur);
    qlite_interpreter *it = make(&tm, NULL);
    assert_qlite_ok(qlite_interpreter_prepare(it));
    size_t arena = qlite_interpreter_arena_size(it);
    print_message("MLP: arena %zu bytes, activations %zu bytes\n", arena, sum);
    assert_true(arena * 2 < sum);
    float xin[64];
    for (int i = 0; i < 64; i++) xin[i] = qlite_test_rng_float(&rng, -1, 1);
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, xin, sizeof xin));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    double h[256], in[256];
    for (int i = 0; i < 64; i++) in[i] = xin[i];
    for (int l = 0; l < L; l++) {
        for (int64_t o = 0; o < dims[l + 1]; o++) {
            double acc = b[l][o];
            for (int64_t i = 0; i < dims[l]; i++) acc += (double)w[l][o * dims[l] + i] * in[i];
            h[o] = l < L - 1 ? (acc > 0 ? acc : 0) : acc;
        }
        memcpy(in, h, sizeof h);
    }
    double mx = in[0], z = 0;
    for (int i = 1; i < 10; i++) mx = in[i] > mx ? in[i] : mx;
    for (int i = 0; i < 10; i++) z += exp(in[i] - mx);
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    for (int i = 0; i < 10; i++) {
        double want = exp(in[i] - mx) / z;
        assert_true(fabs(((const float *)v.data)[i] - want) <= 1e-5);
    }
    qlite_interpreter_destroy(it);
    close_model(&tm);
}

/* ------------------------------------------------------------------------ */
/* Constants converted at prepare                                            */
/* ------------------------------------------------------------------------ */

/* y = x + c where c is stored as float16 or float32 */
static test_model model_add_const(qlite_dtype cdt, const void *c, size_t bytes) {
    static const int64_t s[] = {1, 4};
    begin();
    int32_t x = act("x", QLITE_DTYPE_FLOAT32, 2, s), y = act("y", QLITE_DTYPE_FLOAT32, 2, s);
    int32_t k = cst("c", cdt, 2, s, c, bytes);
    binary(QLITE_OP_ADD, "add", x, k, y);
    return finish(x, y);
}

static void test_float16_widening(void **state) {
    (void)state;
    /* 0.5, -2, 1024, 2^-24 (the smallest subnormal) as IEEE half bits */
    const uint16_t h[4] = {0x3800, 0xC000, 0x6400, 0x0001};
    const float f[4] = {0.5f, -2.0f, 1024.0f, 5.9604644775390625e-08f};
    test_model t16 = model_add_const(QLITE_DTYPE_FLOAT16, h, sizeof h);
    test_model t32 = model_add_const(QLITE_DTYPE_FLOAT32, f, sizeof f);
    qlite_interpreter *i16 = make(&t16, NULL), *i32 = make(&t32, NULL);
    assert_int_equal(qlite_interpreter_prepared_size(i16), 0);
    assert_qlite_ok(qlite_interpreter_prepare(i16));
    assert_qlite_ok(qlite_interpreter_prepare(i32));
    /* the widened copy (4 floats) is the only difference in prepared bytes */
    assert_int_equal(qlite_interpreter_prepared_size(i16) - qlite_interpreter_prepared_size(i32),
                     16);
    const float x[4] = {1, 1, 1, 0};
    assert_qlite_ok(qlite_interpreter_set_input(i16, 0, x, sizeof x));
    assert_qlite_ok(qlite_interpreter_invoke(i16));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_output(i16, 0, &v));
    expect_floats(v.data, (float[]){1.5f, -1.0f, 1025.0f, 5.9604644775390625e-08f}, 4);
    /* the view of the constant shows the float32 copy the kernel read */
    assert_qlite_ok(qlite_interpreter_tensor(i16, (uint32_t)qlite_model_find_tensor(t16.m, "c"), &v));
    assert_int_equal(v.dtype, QLITE_DTYPE_FLOAT32);
    assert_int_equal(v.bytes, 16);
    expect_floats(v.data, f, 4);
    /* a second prepare does not convert again */
    size_t before = qlite_interpreter_prepared_size(i16);
    assert_qlite_ok(qlite_interpreter_prepare(i16));
    assert_int_equal(qlite_interpreter_prepared_size(i16), before);
    qlite_interpreter_destroy(i16);
    qlite_interpreter_destroy(i32);
    close_model(&t16);
    close_model(&t32);
}

/* GATHER lists its data in raw_inputs: a float16 table stays float16 (no
 * copy) and the kernel widens the rows it gathers. */
static void test_raw_input_not_converted(void **state) {
    (void)state;
    /* table [3, 2] = [[1, 2], [0.25, -0.5], [-3, 65504]] in half bits */
    const uint16_t table[6] = {0x3C00, 0x4000, 0x3400, 0xB800, 0xC200, 0x7BFF};
    begin();
    int32_t idx = act("idx", QLITE_DTYPE_INT32, 1, (int64_t[]){2});
    int32_t y = act("y", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){2, 2});
    int32_t t = cst("table", QLITE_DTYPE_FLOAT16, 2, (int64_t[]){3, 2}, table, sizeof table);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_GATHER, &o);
    o.u.gather.axis = 0;
    op(QLITE_OP_GATHER, "gather", &o, 2, (int32_t[]){t, idx}, 1, (int32_t[]){y});
    test_model tm = finish(idx, y);
    qlite_interpreter *it = make(&tm, NULL);
    assert_qlite_ok(qlite_interpreter_prepare(it));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_tensor(it, (uint32_t)t, &v));
    assert_int_equal(v.dtype, QLITE_DTYPE_FLOAT16);
    size_t msize;
    const uint8_t *mb = qlite_model_bytes(tm.m, &msize);
    assert_true((const uint8_t *)v.data >= mb && (const uint8_t *)v.data < mb + msize);
    const int32_t ix[2] = {2, 0};
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, ix, sizeof ix));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    expect_floats(v.data, (float[]){-3, 65504, 1, 2}, 4);
    qlite_interpreter_destroy(it);
    close_model(&tm);
}

/*
 * y = x + W where W is stored in a compressed form (the caller has begun the
 * writer and added W's index/codebook buffers); x = 0 shows W dense. Also
 * checks the view of W (the dense copy) and that prepare counted it.
 */
static void run_dense_check(qlite_tensor_info *wt, const void *data, size_t bytes,
                            const float *want_dense) {
    uint64_t n = qlite_shape_elements(wt->rank, wt->shape);
    int32_t x = act("x", QLITE_DTYPE_FLOAT32, wt->rank, wt->shape);
    int32_t y = act("y", QLITE_DTYPE_FLOAT32, wt->rank, wt->shape);
    wt->name = "w";
    int32_t k = cst_info(wt, data, bytes);
    binary(QLITE_OP_ADD, "add", x, k, y);
    test_model tm = finish(x, y);
    qlite_interpreter *it = make(&tm, NULL);
    assert_qlite_ok(qlite_interpreter_prepare(it));
    assert_true(qlite_interpreter_prepared_size(it) >= n * 4);
    float *zero = calloc(n, 4);
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, zero, n * 4));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    expect_floats(v.data, want_dense, n);
    assert_qlite_ok(qlite_interpreter_tensor(it, (uint32_t)k, &v));
    assert_int_equal(v.bytes, n * 4);
    expect_floats(v.data, want_dense, n);
    free(zero);
    qlite_interpreter_destroy(it);
    close_model(&tm);
}

/*
 * Block-CSR, 2x2 blocks over [4, 6] (block grid 2 x 3). Non-zero blocks
 * (0,1), (1,0), (1,2): row_ptr {0, 1, 3}, col_index {1, 0, 2}, values
 * [[1,2],[3,4]], [[5,6],[7,8]], [[9,10],[11,12]], row-major per block.
 */
static void test_sparse_block_csr(void **state) {
    (void)state;
    const uint8_t row_ptr[3] = {0, 1, 3};
    const uint16_t col_index[3] = {1, 0, 2};
    const float values[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const float dense[24] = {0, 0, 1, 2, 0, 0,  0, 0, 3, 4, 0, 0,
                             5, 6, 0, 0, 9, 10, 7, 8, 0, 0, 11, 12};
    begin();
    qlite_sparsity sp = {.block_rows = 2, .block_cols = 2, .row_ptr_type = QLITE_INDEX_UINT8,
                         .col_index_type = QLITE_INDEX_UINT16, .nnz_blocks = 3};
    sp.row_ptr_buffer = buffer(row_ptr, sizeof row_ptr);
    sp.col_index_buffer = buffer(col_index, sizeof col_index);
    qlite_tensor_info wt = {.dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                            .shape = (int64_t[]){4, 6}, .sparsity = &sp};
    run_dense_check(&wt, values, sizeof values, dense);
}

/*
 * CSR with 1x4 blocks over a rank-3 [2, 2, 4] tensor (2-D view [2, 8], block
 * grid 2 x 2), uint32 row pointers: row 0 has block column 1, row 1 block
 * column 0; values {1,2,3,4}, {5,6,7,8}.
 */
static void test_sparse_1x4_rank3(void **state) {
    (void)state;
    const uint32_t row_ptr[3] = {0, 1, 2};
    const uint8_t col_index[2] = {1, 0};
    const float values[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const float dense[16] = {0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0};
    begin();
    qlite_sparsity sp = {.block_rows = 1, .block_cols = 4, .row_ptr_type = QLITE_INDEX_UINT32,
                         .col_index_type = QLITE_INDEX_UINT8, .nnz_blocks = 2};
    sp.row_ptr_buffer = buffer(row_ptr, sizeof row_ptr);
    sp.col_index_buffer = buffer(col_index, sizeof col_index);
    qlite_tensor_info wt = {.dtype = QLITE_DTYPE_FLOAT32, .rank = 3,
                            .shape = (int64_t[]){2, 2, 4}, .sparsity = &sp};
    run_dense_check(&wt, values, sizeof values, dense);
}

/*
 * float16 + sparse: 1x1 CSR over [2, 3], row 0 = {col 2: 0.5}, row 1 =
 * {col 0: -2, col 1: 1024}; the dense copy is float32.
 */
static void test_sparse_float16(void **state) {
    (void)state;
    const uint8_t row_ptr[3] = {0, 1, 3}, col_index[3] = {2, 0, 1};
    const uint16_t values[3] = {0x3800, 0xC000, 0x6400};
    const float dense[6] = {0, 0, 0.5f, -2, 1024, 0};
    begin();
    qlite_sparsity sp = {.block_rows = 1, .block_cols = 1, .row_ptr_type = QLITE_INDEX_UINT8,
                         .col_index_type = QLITE_INDEX_UINT8, .nnz_blocks = 3};
    sp.row_ptr_buffer = buffer(row_ptr, sizeof row_ptr);
    sp.col_index_buffer = buffer(col_index, sizeof col_index);
    qlite_tensor_info wt = {.dtype = QLITE_DTYPE_FLOAT16, .rank = 2,
                            .shape = (int64_t[]){2, 3}, .sparsity = &sp};
    run_dense_check(&wt, values, sizeof values, dense);
}

/*
 * Clustered [2, 3], 2-bit indices, 3 clusters, one codebook {-1.5, 0, 2.25,
 * pad 0}. Indices row 0: 2, 0, 1; row 1: 1, 2, 2. LSB first, 2 bits each:
 *   byte 0 = k3 k2 k1 k0 = 01 01 00 10 = 0x52,  byte 1 = k5 k4 = 10 10 = 0x0A.
 */
static void test_clustered_shared_codebook(void **state) {
    (void)state;
    const uint8_t bits[2] = {0x52, 0x0A};
    const float book[4] = {-1.5f, 0, 2.25f, 0};
    const float dense[6] = {2.25f, -1.5f, 0, 0, 2.25f, 2.25f};
    begin();
    qlite_clustering cl = {.num_clusters = 3, .index_bits = 2, .per_row = false};
    cl.codebook_buffer = buffer(book, sizeof book);
    qlite_tensor_info wt = {.dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                            .shape = (int64_t[]){2, 3}, .clustering = &cl};
    run_dense_check(&wt, bits, sizeof bits, dense);
}

/* Same indices with one codebook per row: row 0 {1, 2, 3, 0}, row 1 {10, 20, 30, 0}. */
static void test_clustered_per_row(void **state) {
    (void)state;
    const uint8_t bits[2] = {0x52, 0x0A};
    const float book[8] = {1, 2, 3, 0, 10, 20, 30, 0};
    const float dense[6] = {3, 1, 2, 20, 30, 30};
    begin();
    qlite_clustering cl = {.num_clusters = 3, .index_bits = 2, .per_row = true};
    cl.codebook_buffer = buffer(book, sizeof book);
    qlite_tensor_info wt = {.dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                            .shape = (int64_t[]){2, 3}, .clustering = &cl};
    run_dense_check(&wt, bits, sizeof bits, dense);
}

/*
 * 3-bit indices cross byte boundaries: [1, 5], 5 clusters, codebook
 * {0, 0.5, ..., 3.5}; indices 5, 3, 7, 1, 6 at bits 0-2, 3-5, 6-8, 9-11, 12-14:
 *   byte 0 (bits 7..0) = 1 1 | 0 1 1 | 1 0 1 = 0xDD
 *   byte 1 (bits 15..8) = 0 | 1 1 0 | 0 0 1 | 1 = 0x63
 */
static void test_clustered_3bit(void **state) {
    (void)state;
    const uint8_t bits[2] = {0xDD, 0x63};
    const float book[8] = {0, 0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f};
    const float dense[5] = {2.5f, 1.5f, 3.5f, 0.5f, 3.0f};
    begin();
    qlite_clustering cl = {.num_clusters = 5, .index_bits = 3, .per_row = false};
    cl.codebook_buffer = buffer(book, sizeof book);
    qlite_tensor_info wt = {.dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                            .shape = (int64_t[]){1, 5}, .clustering = &cl};
    run_dense_check(&wt, bits, sizeof bits, dense);
}

/*
 * O16I4 over [3, 5]: stored as [ceil(3/16)=1][ceil(5/4)=2][16][4] with
 * W[o][i] = 10*o + i at [o/16][i/4][o%16][i%4]; padding (999) is dropped.
 */
static void test_o16i4_unpacked(void **state) {
    (void)state;
    static float packed[1][2][16][4];
    float dense[15];
    for (int a = 0; a < 2; a++)
        for (int r = 0; r < 16; r++)
            for (int c = 0; c < 4; c++) packed[0][a][r][c] = 999;
    for (int o = 0; o < 3; o++)
        for (int i = 0; i < 5; i++) {
            packed[o / 16][i / 4][o % 16][i % 4] = (float)(10 * o + i);
            dense[o * 5 + i] = (float)(10 * o + i);
        }
    begin();
    qlite_tensor_info wt = {.dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                            .shape = (int64_t[]){3, 5}, .layout = QLITE_LAYOUT_O16I4};
    run_dense_check(&wt, packed, sizeof packed, dense);
}

/*
 * Quantized uint8 sparse constant with per-channel zero points {10, 20}
 * (axis 0) over [2, 4], 1x2 blocks: row 0 has block column 1 = {7, 9}, row 1
 * nothing. Missing elements are real zero, i.e. their channel's zero point:
 * dense {10, 10, 7, 9, 20, 20, 20, 20}. Read through RESHAPE, whose output
 * aliases the dense copy (a constant alias: no arena bytes).
 */
static void test_sparse_zero_points_via_reshape(void **state) {
    (void)state;
    const uint8_t row_ptr[3] = {0, 1, 1}, col_index[1] = {1}, values[2] = {7, 9};
    const float scales[2] = {0.5f, 0.25f};
    const int32_t zps[2] = {10, 20};
    qlite_quant q = {.count = 2, .axis = 0, .scale = scales, .zero_point = zps};
    begin();
    qlite_sparsity sp = {.block_rows = 1, .block_cols = 2, .row_ptr_type = QLITE_INDEX_UINT8,
                         .col_index_type = QLITE_INDEX_UINT8, .nnz_blocks = 1};
    sp.row_ptr_buffer = buffer(row_ptr, sizeof row_ptr);
    sp.col_index_buffer = buffer(col_index, sizeof col_index);
    qlite_tensor_info wt = {.name = "w", .dtype = QLITE_DTYPE_UINT8, .rank = 2,
                            .shape = (int64_t[]){2, 4}, .sparsity = &sp, .quant = &q};
    int32_t w = cst_info(&wt, values, sizeof values);
    /* the reshaped [4, 2] output carries the same two (scale, zero point)
     * pairs: RESHAPE moves bytes and refuses any other parameters */
    qlite_quant qy = {.count = 2, .axis = 1, .scale = scales, .zero_point = zps};
    qlite_tensor_info yt = {.name = "y", .dtype = QLITE_DTYPE_UINT8, .rank = 2,
                            .shape = (int64_t[]){4, 2}, .quant = &qy};
    int32_t y = qlite_writer_add_tensor(W, &yt);
    assert_true(y >= 0);
    reshape("reshape", w, y, 2, (int64_t[]){4, 2});
    /* a graph needs an input: a dummy one nobody reads */
    int32_t x = act("unused", QLITE_DTYPE_FLOAT32, 1, (int64_t[]){1});
    test_model tm = finish(x, y);
    qlite_interpreter *it = make(&tm, NULL);
    assert_qlite_ok(qlite_interpreter_prepare(it));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    const uint8_t want[8] = {10, 10, 7, 9, 20, 20, 20, 20};
    assert_int_equal(v.bytes, 8);
    assert_memory_equal(v.data, want, 8);
    assert_int_equal(v.dims[0], 4);
    qlite_interpreter_destroy(it);
    close_model(&tm);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_argument_errors),
        cmocka_unit_test(test_unsupported_op),
        cmocka_unit_test(test_prepare_error),
        cmocka_unit_test(test_resize_dynamic_batch),
        cmocka_unit_test(test_arena_plan_and_keep_all),
        cmocka_unit_test(test_observer),
        cmocka_unit_test(test_caller_arena),
        cmocka_unit_test(test_alias),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_mlp_arena_far_below_sum),
        cmocka_unit_test(test_float16_widening),
        cmocka_unit_test(test_raw_input_not_converted),
        cmocka_unit_test(test_sparse_block_csr),
        cmocka_unit_test(test_sparse_1x4_rank3),
        cmocka_unit_test(test_sparse_float16),
        cmocka_unit_test(test_clustered_shared_codebook),
        cmocka_unit_test(test_clustered_per_row),
        cmocka_unit_test(test_clustered_3bit),
        cmocka_unit_test(test_o16i4_unpacked),
        cmocka_unit_test(test_sparse_zero_points_via_reshape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
