/*
 * test_views.c — TRANSPOSE / constant-index GATHER as strided views read or
 * written by BATCH_MATMUL (interpreter/views.c, kernels/bmm_views.h).
 *
 * Each case builds a small graph with the writer API: two activation inputs,
 * each through an optional GATHER (constant scalar index) and an optional
 * TRANSPOSE, into a BATCH_MATMUL (transpose_a / transpose_b as given), and an
 * optional TRANSPOSE after it. The expected output is computed here by plain
 * loops (gather, transpose, matmul with broadcast batch dims; int8 through
 * the requantization formula in double), independently of the kernels. The
 * interpreter runs with views (default flags) at 1 and 2 threads and without
 * (QLITE_INTERP_KEEP_ALL_TENSORS): int8 outputs within 1 LSB of the formula
 * and bit-identical on/off, float32 within 1e-5 relative of the double sum.
 * qlite_interpreter_elided_ops says how many ops became views (fails without
 * the feature: 0). Then the cases that must stay copies: a TRANSPOSE that is
 * a graph output, or read by a non-matmul op, or whose input has another
 * reader, an observer without QLITE_INTERP_OBSERVE_VIEWS, REFERENCE_ONLY.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interpreter_internal.h"
#include "qlite_writer.h"
#include "support.h"

#define MAXR 6

typedef struct path {
    uint32_t rank;
    int64_t shape[MAXR];      /* the graph input */
    int32_t gather_axis;      /* -1: no GATHER */
    int64_t gather_idx;
    uint32_t perm_rank;       /* 0: no TRANSPOSE */
    int32_t perm[MAXR];
} path;

typedef struct vcase {
    const char *name;
    path a, b;
    bool ta, tb;
    uint32_t operm_rank;      /* 0: no TRANSPOSE after the matmul */
    int32_t operm[MAXR];
    uint32_t elided;          /* ops the interpreter must skip */
} vcase;

typedef struct nd {
    uint32_t rank;
    int64_t dims[MAXR];
    double *v;                /* values (int8 codes or floats) */
} nd;

static size_t count(const nd *x) {
    size_t n = 1;
    for (uint32_t i = 0; i < x->rank; i++) n *= (size_t)x->dims[i];
    return n;
}

static void strides(const nd *x, size_t *s) {
    size_t acc = 1;
    for (int i = (int)x->rank - 1; i >= 0; i--) {
        s[i] = acc;
        acc *= (size_t)x->dims[i];
    }
}

/* Plain-loop GATHER at a scalar index (axis dropped). */
static nd gather(const nd *x, int32_t axis, int64_t idx) {
    nd y = {.rank = x->rank - 1};
    for (uint32_t i = 0, o = 0; i < x->rank; i++)
        if ((int32_t)i != axis) y.dims[o++] = x->dims[i];
    y.v = calloc(count(&y) + 1, sizeof(double));
    size_t xs[MAXR], n = count(&y);
    strides(x, xs);
    for (size_t e = 0; e < n; e++) {
        size_t rem = e, src = (size_t)idx * xs[axis];
        for (int i = (int)y.rank - 1; i >= 0; i--) {
            const size_t d = (size_t)y.dims[i], k = rem % d;
            rem /= d;
            src += k * xs[i < axis ? i : i + 1];
        }
        y.v[e] = x->v[src];
    }
    return y;
}

/* Plain-loop TRANSPOSE: y dim j = x dim perm[j]. */
static nd transpose(const nd *x, const int32_t *perm) {
    nd y = {.rank = x->rank};
    for (uint32_t j = 0; j < x->rank; j++) y.dims[j] = x->dims[perm[j]];
    y.v = calloc(count(&y) + 1, sizeof(double));
    size_t xs[MAXR], n = count(&y);
    strides(x, xs);
    for (size_t e = 0; e < n; e++) {
        size_t rem = e, src = 0;
        for (int j = (int)y.rank - 1; j >= 0; j--) {
            const size_t d = (size_t)y.dims[j], k = rem % d;
            rem /= d;
            src += k * xs[perm[j]];
        }
        y.v[e] = x->v[src];
    }
    return y;
}

/* numpy matmul of a [..., M, K] (or [..., K, M] with ta) and b, broadcast batch
 * dims; subtracts the zero points first. */
static nd matmul(const nd *a, const nd *b, bool ta, bool tb, double za, double zb) {
    const uint32_t ar = a->rank - 2, br = b->rank - 2, r = ar > br ? ar : br;
    const int64_t M = a->dims[a->rank - (ta ? 1 : 2)], K = a->dims[a->rank - (ta ? 2 : 1)];
    const int64_t N = b->dims[b->rank - (tb ? 2 : 1)];
    nd y = {.rank = r + 2};
    for (uint32_t i = 0; i < r; i++) {
        const int ia = (int)i - (int)(r - ar), ib = (int)i - (int)(r - br);
        const int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        y.dims[i] = da > db ? da : db;
    }
    y.dims[r] = M;
    y.dims[r + 1] = N;
    y.v = calloc(count(&y) + 1, sizeof(double));
    size_t as[MAXR], bs[MAXR];
    strides(a, as);
    strides(b, bs);
    size_t batches = count(&y) / (size_t)(M * N);
    for (size_t t = 0; t < batches; t++) {
        size_t rem = t, ao = 0, bo = 0;
        for (int i = (int)r - 1; i >= 0; i--) {
            const size_t d = (size_t)y.dims[i], k = rem % d;
            rem /= d;
            const int ia = i - (int)(r - ar), ib = i - (int)(r - br);
            if (ia >= 0 && a->dims[ia] != 1) ao += k * as[ia];
            if (ib >= 0 && b->dims[ib] != 1) bo += k * bs[ib];
        }
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double acc = 0;
                for (int64_t k = 0; k < K; k++) {
                    const double av = a->v[ao + (size_t)(ta ? k * M + m : m * K + k)] - za;
                    const double bv = b->v[bo + (size_t)(tb ? n * K + k : k * N + n)] - zb;
                    acc += av * bv;
                }
                y.v[(t * (size_t)M + (size_t)m) * (size_t)N + (size_t)n] = acc;
            }
    }
    return y;
}

/* ---- model ---- */

static const float SA = 0.05f, SB = 0.04f, SY = 2.0f;
static const int32_t ZA = 3, ZB = -2, ZY = 1;

typedef struct built {
    void *bytes;
    qlite_model *m;
} built;

static qlite_writer *W;

static int32_t tensor(const char *name, qlite_dtype dt, uint32_t rank, const int64_t *shape,
                      const qlite_quant *q) {
    qlite_tensor_info t = {.name = name, .dtype = dt, .rank = rank, .shape = shape, .quant = q};
    int32_t i = qlite_writer_add_tensor(W, &t);
    assert_true(i >= 0);
    return i;
}

static void add_op(qlite_op_code code, const qlite_op_options *o, uint32_t nin, const int32_t *in,
                   int32_t out) {
    qlite_op_info info = {.code = code, .name = "op", .num_inputs = nin, .num_outputs = 1,
                          .inputs = in, .outputs = &out};
    if (o) info.options = *o;
    assert_true(qlite_writer_add_op(W, &info) >= 0);
}

static int32_t add_transpose(int32_t x, uint32_t rank, const int64_t *xdims, const int32_t *perm,
                             qlite_dtype dt, const qlite_quant *q, int64_t *ydims) {
    for (uint32_t j = 0; j < rank; j++) ydims[j] = xdims[perm[j]];
    int32_t y = tensor("t", dt, rank, ydims, q);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_TRANSPOSE, &o);
    o.u.transpose.rank = rank;
    o.u.transpose.perm = perm;
    add_op(QLITE_OP_TRANSPOSE, &o, 1, (int32_t[]){x}, y);
    return y;
}

/* One operand's input, GATHER and TRANSPOSE; returns the tensor the matmul reads
 * and its shape in *rank / dims. */
static int32_t build_path(const path *p, const char *name, qlite_dtype dt, const qlite_quant *q,
                          int32_t *input, uint32_t *rank, int64_t *dims) {
    int32_t x = tensor(name, dt, p->rank, p->shape, q);
    *input = x;
    *rank = p->rank;
    memcpy(dims, p->shape, sizeof p->shape);
    if (p->gather_axis >= 0) {
        int64_t idx = p->gather_idx;
        int64_t b = qlite_writer_add_buffer(W, &idx, sizeof idx);
        assert_true(b > 0);
        qlite_tensor_info it = {.name = "idx", .dtype = QLITE_DTYPE_INT64, .rank = 0,
                                .buffer = (uint32_t)b};
        int32_t ti = qlite_writer_add_tensor(W, &it);
        assert_true(ti >= 0);
        int64_t gd[MAXR];
        for (uint32_t i = 0, o = 0; i < *rank; i++)
            if ((int32_t)i != p->gather_axis) gd[o++] = dims[i];
        (*rank)--;
        memcpy(dims, gd, sizeof gd);
        int32_t g = tensor("g", dt, *rank, dims, q);
        qlite_op_options o;
        qlite_op_options_default(QLITE_OPTIONS_GATHER, &o);
        o.u.gather.axis = p->gather_axis;
        add_op(QLITE_OP_GATHER, &o, 2, (int32_t[]){x, ti}, g);
        x = g;
    }
    if (p->perm_rank) {
        int64_t td[MAXR];
        x = add_transpose(x, *rank, dims, p->perm, dt, q, td);
        memcpy(dims, td, sizeof td);
    }
    return x;
}

/* Ends the writer W's graph (inputs, output y) and opens the model. */
static built finish(uint32_t n_in, const int32_t *in, int32_t y) {
    assert_qlite_ok(qlite_writer_set_inputs(W, n_in, in));
    assert_qlite_ok(qlite_writer_set_outputs(W, 1, &y));
    built bm = {0};
    size_t size;
    assert_qlite_ok(qlite_writer_write_memory(W, &bm.bytes, &size));
    qlite_writer_destroy(W);
    W = NULL;
    assert_qlite_ok(qlite_model_open_memory(bm.bytes, size, 0, &bm.m));
    return bm;
}

static built build(const vcase *c, qlite_dtype dt) {
    const bool q8 = dt == QLITE_DTYPE_INT8;
    static qlite_quant qa, qb, qy;
    qa = (qlite_quant){.count = 1, .scale = &SA, .zero_point = &ZA};
    qb = (qlite_quant){.count = 1, .scale = &SB, .zero_point = &ZB};
    qy = (qlite_quant){.count = 1, .scale = &SY, .zero_point = &ZY};
    assert_qlite_ok(qlite_writer_create(&W));
    int32_t xa, xb;
    uint32_t ra, rb;
    int64_t da[MAXR], db[MAXR];
    int32_t a = build_path(&c->a, "xa", dt, q8 ? &qa : NULL, &xa, &ra, da);
    int32_t b = build_path(&c->b, "xb", dt, q8 ? &qb : NULL, &xb, &rb, db);
    /* output shape: broadcast batch, M, N */
    const uint32_t r = (ra > rb ? ra : rb);
    int64_t yd[MAXR];
    for (uint32_t i = 0; i + 2 < r; i++) {
        const int ia = (int)i - (int)(r - ra), ib = (int)i - (int)(r - rb);
        const int64_t x1 = ia >= 0 ? da[ia] : 1, x2 = ib >= 0 ? db[ib] : 1;
        yd[i] = x1 > x2 ? x1 : x2;
    }
    yd[r - 2] = da[ra - (c->ta ? 1 : 2)];
    yd[r - 1] = db[rb - (c->tb ? 2 : 1)];
    int32_t y = tensor("y", dt, r, yd, q8 ? &qy : NULL);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_BATCH_MATMUL, &o);
    o.u.batch_matmul.transpose_a = c->ta;
    o.u.batch_matmul.transpose_b = c->tb;
    add_op(QLITE_OP_BATCH_MATMUL, &o, 2, (int32_t[]){a, b}, y);
    if (c->operm_rank) {
        int64_t td[MAXR];
        y = add_transpose(y, r, yd, c->operm, dt, q8 ? &qy : NULL, td);
    }
    return finish(2, (int32_t[]){xa, xb}, y);
}

static void unbuild(built *bm) {
    qlite_model_close(bm->m);
    qlite_writer_free_bytes(bm->bytes);
}

/* Runs the model on (xa, xb) with flags / threads; output bytes into out (malloc'd). */
static void run(const built *bm, uint32_t flags, int threads, const void *xa, size_t na,
                const void *xb, size_t nb, void **out, size_t *bytes, uint32_t *elided) {
    qlite_interpreter_options o = {0};
    o.flags = flags;
    o.num_threads = threads;
    qlite_interpreter *it = NULL;
    assert_qlite_ok(qlite_interpreter_create(bm->m, &o, &it));
    assert_qlite_ok(qlite_interpreter_prepare(it));
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, xa, na));
    assert_qlite_ok(qlite_interpreter_set_input(it, 1, xb, nb));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    assert_non_null(v.data);
    *out = malloc(v.bytes + 1);
    memcpy(*out, v.data, v.bytes);
    *bytes = v.bytes;
    *elided = qlite_interpreter_elided_ops(it);
    qlite_interpreter_destroy(it);
}

static nd ref_path(const path *p, const double *x) {
    nd cur = {.rank = p->rank};
    memcpy(cur.dims, p->shape, sizeof p->shape);
    cur.v = calloc(count(&cur) + 1, sizeof(double));
    memcpy(cur.v, x, count(&cur) * sizeof(double));
    if (p->gather_axis >= 0) {
        nd g = gather(&cur, p->gather_axis, p->gather_idx < 0
                                                ? p->gather_idx + cur.dims[p->gather_axis]
                                                : p->gather_idx);
        free(cur.v);
        cur = g;
    }
    if (p->perm_rank) {
        nd t = transpose(&cur, p->perm);
        free(cur.v);
        cur = t;
    }
    return cur;
}

static size_t path_count(const path *p) {
    size_t n = 1;
    for (uint32_t i = 0; i < p->rank; i++) n *= (size_t)p->shape[i];
    return n;
}

static void check_case(const vcase *c, qlite_dtype dt) {
    const bool q8 = dt == QLITE_DTYPE_INT8;
    built bm = build(c, dt);
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 1234);
    const size_t na = path_count(&c->a), nb = path_count(&c->b);
    double *va = malloc(na * sizeof(double)), *vb = malloc(nb * sizeof(double));
    int8_t *ia = malloc(na), *ib = malloc(nb);
    float *fa = malloc(na * sizeof(float)), *fb = malloc(nb * sizeof(float));
    for (size_t i = 0; i < na; i++) {
        ia[i] = (int8_t)(qlite_test_rng_u32(&rng) % 256 - 128);
        fa[i] = qlite_test_rng_float(&rng, -1.0f, 1.0f);
        va[i] = q8 ? ia[i] : fa[i];
    }
    for (size_t i = 0; i < nb; i++) {
        ib[i] = (int8_t)(qlite_test_rng_u32(&rng) % 256 - 128);
        fb[i] = qlite_test_rng_float(&rng, -1.0f, 1.0f);
        vb[i] = q8 ? ib[i] : fb[i];
    }
    nd A = ref_path(&c->a, va), B = ref_path(&c->b, vb);
    nd Y = matmul(&A, &B, c->ta, c->tb, q8 ? ZA : 0, q8 ? ZB : 0);
    if (c->operm_rank) {
        nd t = transpose(&Y, c->operm);
        free(Y.v);
        Y = t;
    }
    const size_t ny = count(&Y), es = q8 ? 1 : 4;
    const void *xa = q8 ? (const void *)ia : (const void *)fa;
    const void *xb = q8 ? (const void *)ib : (const void *)fb;
    void *off = NULL;
    size_t off_bytes;
    uint32_t off_elided;
    run(&bm, QLITE_INTERP_KEEP_ALL_TENSORS, 1, xa, na * es, xb, nb * es, &off, &off_bytes,
        &off_elided);
    assert_int_equal(off_elided, 0);
    assert_int_equal(off_bytes, ny * es);
    for (int threads = 1; threads <= 2; threads++) {
        void *on = NULL;
        size_t on_bytes;
        uint32_t elided;
        run(&bm, 0, threads, xa, na * es, xb, nb * es, &on, &on_bytes, &elided);
        if (elided != c->elided)
            print_error("%s %s: %u ops elided, expected %u\n", c->name, q8 ? "int8" : "float32",
                        elided, c->elided);
        assert_int_equal(elided, c->elided);
        assert_int_equal(on_bytes, ny * es);
        for (size_t i = 0; i < ny; i++) {
            if (q8) {
                double want = nearbyint(Y.v[i] * ((double)SA * SB / SY)) + ZY;
                want = want < -128 ? -128 : want > 127 ? 127 : want;
                const int8_t got = ((const int8_t *)on)[i];
                if (fabs(got - want) > 1.0)
                    print_error("%s int8 [%zu]: %d, formula %.0f (threads %d)\n", c->name, i,
                                got, want, threads);
                assert_true(fabs(got - want) <= 1.0);
            } else {
                const float got = ((const float *)on)[i];
                const double tol = 1e-5 * (1.0 + fabs(Y.v[i])) * 8;
                if (fabs(got - Y.v[i]) > tol)
                    print_error("%s float32 [%zu]: %g, expected %g (threads %d)\n", c->name, i,
                                (double)got, Y.v[i], threads);
                assert_true(fabs(got - Y.v[i]) <= tol);
            }
        }
        if (q8) assert_memory_equal(on, off, ny); /* same integer arithmetic on/off */
        free(on);
    }
    free(off);
    free(A.v);
    free(B.v);
    free(Y.v);
    free(va);
    free(vb);
    free(ia);
    free(ib);
    free(fa);
    free(fb);
    unbuild(&bm);
}

#define NOG -1, 0
static const vcase k_cases[] = {
    /* attention q.kT as in the transformer: q [1,T,H,D] -> [0,2,1,3]; k = GATHER 1 of
     * [1,T,3,H,D] on axis 2 -> [0,2,3,1] = [1,H,D,T] (float32: B read transposed, the
     * 16 x 16 register transposes with a partial block in K = 20 and in N = 44) */
    {"q.kT", {4, {1, 44, 3, 20}, NOG, 4, {0, 2, 1, 3}},
     {5, {1, 44, 3, 3, 20}, 2, 1, 4, {0, 2, 3, 1}}, false, false, 0, {0}, 3},
    /* attn.v: A dense [1,H,T,T]; v = GATHER 2 -> [0,2,1,3]; output [0,2,1,3] written
     * through strides */
    {"attn.v", {4, {1, 3, 21, 21}, NOG, 0, {0}},
     {5, {1, 21, 3, 3, 8}, 2, 2, 4, {0, 2, 1, 3}}, false, false, 4, {0, 2, 1, 3}, 3},
    /* rank 3, B rank 2 broadcast over A's batch, transpose_b through a view: B = xb^T */
    {"broadcast_tb", {3, {2, 17, 13}, NOG, 3, {0, 1, 2}},
     {2, {13, 19}, NOG, 2, {1, 0}}, false, true, 0, {0}, 2},
    /* transpose_a through a view, A's column step not 1, odd sizes (partial tiles) */
    {"ta_view", {3, {3, 37, 11}, NOG, 3, {0, 2, 1}},
     {3, {3, 11, 19}, NOG, 0, {0}}, true, false, 0, {0}, 1},
    /* A's column step not 1 (xa^T read as [M, K]); B a GATHER on the last axis: no
     * step-1 matrix dim (copied); negative index */
    {"odd_strides", {3, {2, 13, 37}, NOG, 3, {0, 2, 1}},
     {4, {2, 13, 19, 3}, 3, -1, 0, {0}}, false, false, 0, {0}, 2},
    /* an odd rank-4 perm on A, GATHER on the first axis of B, output perm [1,0,2] */
    {"odd_perm", {4, {5, 2, 3, 7}, NOG, 4, {2, 1, 3, 0}},
     {4, {2, 2, 5, 9}, 0, 1, 0, {0}}, false, false, 0, {0}, 2},
    /* output written through [1,0,2] with batch broadcast of A */
    {"out_perm", {2, {33, 12}, NOG, 0, {0}},
     {3, {4, 12, 17}, NOG, 0, {0}}, false, false, 3, {1, 0, 2}, 1},
};

static void test_cases_int8(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++)
        check_case(&k_cases[i], QLITE_DTYPE_INT8);
}

static void test_cases_float32(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++)
        check_case(&k_cases[i], QLITE_DTYPE_FLOAT32);
}

/* ---- what stays a copy ---- */

static uint32_t elided_of(const built *bm, uint32_t flags, qlite_observer_fn obs) {
    qlite_interpreter_options o = {0};
    o.flags = flags;
    o.observer = obs;
    qlite_interpreter *it = NULL;
    assert_qlite_ok(qlite_interpreter_create(bm->m, &o, &it));
    assert_qlite_ok(qlite_interpreter_prepare(it));
    uint32_t n = qlite_interpreter_elided_ops(it);
    qlite_interpreter_destroy(it);
    return n;
}

static built finish2(int32_t x, int32_t y) { return finish(1, &x, y); }

static void test_graph_output_stays(void **state) {
    (void)state;
    assert_qlite_ok(qlite_writer_create(&W));
    int32_t x = tensor("x", QLITE_DTYPE_FLOAT32, 3, (int64_t[]){2, 3, 4}, NULL);
    int64_t td[MAXR];
    int32_t y = add_transpose(x, 3, (int64_t[]){2, 3, 4}, (int32_t[]){0, 2, 1},
                              QLITE_DTYPE_FLOAT32, NULL, td);
    built bm = finish2(x, y);
    assert_int_equal(elided_of(&bm, 0, NULL), 0);
    unbuild(&bm);
}

/* TRANSPOSE -> SOFTMAX (no views) and TRANSPOSE -> {BATCH_MATMUL, ADD}: copies. */
static void test_non_matmul_consumer_stays(void **state) {
    (void)state;
    assert_qlite_ok(qlite_writer_create(&W));
    int32_t x = tensor("x", QLITE_DTYPE_FLOAT32, 3, (int64_t[]){2, 4, 4}, NULL);
    int64_t td[MAXR];
    int32_t t = add_transpose(x, 3, (int64_t[]){2, 4, 4}, (int32_t[]){0, 2, 1},
                              QLITE_DTYPE_FLOAT32, NULL, td);
    int32_t s = tensor("s", QLITE_DTYPE_FLOAT32, 3, td, NULL);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_SOFTMAX, &o);
    add_op(QLITE_OP_SOFTMAX, &o, 1, (int32_t[]){t}, s);
    built bm = finish2(x, s);
    assert_int_equal(elided_of(&bm, 0, NULL), 0);
    unbuild(&bm);

    assert_qlite_ok(qlite_writer_create(&W));
    x = tensor("x", QLITE_DTYPE_FLOAT32, 3, (int64_t[]){2, 4, 4}, NULL);
    t = add_transpose(x, 3, (int64_t[]){2, 4, 4}, (int32_t[]){0, 2, 1}, QLITE_DTYPE_FLOAT32, NULL,
                      td);
    int32_t m = tensor("m", QLITE_DTYPE_FLOAT32, 3, td, NULL);
    qlite_op_options_default(QLITE_OPTIONS_BATCH_MATMUL, &o);
    add_op(QLITE_OP_BATCH_MATMUL, &o, 2, (int32_t[]){t, x}, m);
    int32_t sum = tensor("sum", QLITE_DTYPE_FLOAT32, 3, td, NULL);
    qlite_op_options_default(QLITE_OPTIONS_BINARY, &o);
    add_op(QLITE_OP_ADD, &o, 2, (int32_t[]){m, t}, sum);
    bm = finish2(x, sum);
    assert_int_equal(elided_of(&bm, 0, NULL), 0);
    unbuild(&bm);

    /* BATCH_MATMUL -> TRANSPOSE while ADD reads the matmul's output too: no write-through */
    assert_qlite_ok(qlite_writer_create(&W));
    x = tensor("x", QLITE_DTYPE_FLOAT32, 3, (int64_t[]){4, 4, 4}, NULL);
    m = tensor("m", QLITE_DTYPE_FLOAT32, 3, (int64_t[]){4, 4, 4}, NULL);
    qlite_op_options_default(QLITE_OPTIONS_BATCH_MATMUL, &o);
    add_op(QLITE_OP_BATCH_MATMUL, &o, 2, (int32_t[]){x, x}, m);
    t = add_transpose(m, 3, (int64_t[]){4, 4, 4}, (int32_t[]){1, 0, 2}, QLITE_DTYPE_FLOAT32, NULL,
                      td);
    sum = tensor("sum", QLITE_DTYPE_FLOAT32, 3, td, NULL);
    qlite_op_options_default(QLITE_OPTIONS_BINARY, &o);
    add_op(QLITE_OP_ADD, &o, 2, (int32_t[]){m, t}, sum);
    bm = finish2(x, sum);
    assert_int_equal(elided_of(&bm, 0, NULL), 0);
    unbuild(&bm);
}

static uint32_t g_observed;
static void observer(void *user, uint32_t op_index, const qlite_op_info *op, uint32_t n,
                     const qlite_tensor_view *outputs) {
    (void)user;
    (void)op_index;
    (void)op;
    (void)n;
    (void)outputs;
    g_observed++;
}

/* Off with KEEP_ALL_TENSORS, REFERENCE_ONLY and a plain observer; an observer with
 * QLITE_INTERP_OBSERVE_VIEWS still gets one call per op, a view shown without data. */
static void test_flags(void **state) {
    (void)state;
    built bm = build(&k_cases[0], QLITE_DTYPE_FLOAT32);
    assert_int_equal(elided_of(&bm, 0, NULL), 3);
    assert_int_equal(elided_of(&bm, QLITE_INTERP_KEEP_ALL_TENSORS, NULL), 0);
    assert_int_equal(elided_of(&bm, QLITE_INTERP_REFERENCE_ONLY, NULL), 0);
    assert_int_equal(elided_of(&bm, 0, observer), 0);
    assert_int_equal(elided_of(&bm, QLITE_INTERP_OBSERVE_VIEWS, observer), 3);

    qlite_interpreter_options o = {0};
    o.flags = QLITE_INTERP_OBSERVE_VIEWS;
    o.observer = observer;
    qlite_interpreter *it = NULL;
    assert_qlite_ok(qlite_interpreter_create(bm.m, &o, &it));
    assert_qlite_ok(qlite_interpreter_prepare(it));
    g_observed = 0;
    assert_qlite_ok(qlite_interpreter_invoke(it));
    assert_int_equal(g_observed, qlite_model_op_count(bm.m));
    /* the transposed q (op 0's output) is a view: no dense bytes to show */
    const qlite_op_info *op0 = qlite_model_op(bm.m, 0);
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_tensor(it, (uint32_t)op0->outputs[0], &v));
    assert_null(v.data);
    assert_int_equal(v.bytes, 0);
    qlite_interpreter_destroy(it);
    unbuild(&bm);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases_int8),
        cmocka_unit_test(test_cases_float32),
        cmocka_unit_test(test_graph_output_stays),
        cmocka_unit_test(test_non_matmul_consumer_stays),
        cmocka_unit_test(test_flags),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
