/*
 * test_kernel_sparse.c — FULLY_CONNECTED, 1x1 CONV_2D and BATCH_MATMUL with
 * a constant weight read in its stored sparse (docs/format.md §6.3) and/or
 * clustered (§6.4) form (kernels/nn_sparse.h), against the dense kernels on
 * the same weights, through the one-op runner:
 *
 *   int8 / uint8 x int8 and hybrid (float32 x int8): bit for bit equal;
 *   float32 and float16 weights: within 1e-5 * (sum |x w| + |b|) per output
 *   (the two add in different orders);
 *
 * for block shapes 1x1, 1x4, 4x1, 1x16 (and 2x8), uint8 / uint16 / uint32
 * column indices, empty block rows (and a weight with no stored block),
 * clustered weights with per-tensor and per-row codebooks of 1..8 bits,
 * with and without sparsity; batch 1 and 8 and sizes around the kernels'
 * tiles (8-row panels, 16-wide vectors); BATCH_MATMUL with B [K, N] and
 * transpose_b B [N, K]; 1 and 2 threads and the reference path
 * (QLITE_INTERP_REFERENCE_ONLY); every ISA level of this CPU (the int8 /
 * float cores follow qlite_q8_set_feature_cap). The dense weight is built
 * first and its stored form from it by tests/sparse_build.h (written from
 * the format spec), so the two describe the same matrix.
 *
 * Also: the registry's kernels keep the dense kernels' flags; forms these
 * kernels do not read (a 3x3 convolution, a transposed A) are refused with a
 * message; through the interpreter, a sparse weight is not densified (the
 * prepared memory holds no copy of it).
 */
#include <float.h>
#include <math.h>

#include "kernel_nn_q8_check.h"
#include "kernels/cluster_decode.h"
#include "kernels/gemm_q8.h"
#include "kernels/kernels.h"
#include "kernels/nn_sparse.h"
#include "qlite_writer.h"
#include "sparse_build.h"
#include "support/q8_levels.h"

#define S_COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum form { F32, F16, I8, U8, HYB };
static const char *const k_form[] = {"float32", "float16", "int8", "uint8", "hybrid"};

typedef struct sp_case {
    qlite_op_code op;
    enum form form;
    size_t M, K, N;
    size_t br, bc;              /* 0x0 = not sparse (clustered only) */
    unsigned bits;              /* 0 = not clustered */
    bool per_row;
    qlite_index_type ci;
    bool transposed;            /* BATCH_MATMUL: B [K, N] (no transpose_b) */
    double density;             /* fraction of blocks kept */
    bool empty_rows;            /* every third block row empty */
    bool zw;                    /* int8: weight zero points (not clustered) */
    bool bias;
    qlite_activation act;
} sp_case;

static bool is_q8(enum form f) { return f == I8 || f == U8 || f == HYB; }

/* One case: dense and stored weights, inputs, parameters. */
typedef struct sp_data {
    size_t rows, cols;          /* the weight's 2-D view */
    void *wd;                   /* dense weight, view order */
    float *wabs;                /* |w| dequantized, view order (float tolerance) */
    bool *keep;
    uint8_t *idx;
    void *book;
    spb_weight sw;
    void *x, *bias;
    q8_params px, py;
    nnq_wparams pw;
} sp_data;

static size_t es_of(enum form f) { return f == F32 ? 4 : f == F16 ? 2 : 1; }

/* Element (n, k) of W as the op sees it, in the view. */
static size_t view_pos(const sp_case *c, const sp_data *d, size_t n, size_t k) {
    return c->transposed ? k * d->cols + n : n * d->cols + k;
}

static void make_data(const sp_case *c, sp_data *d, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    memset(d, 0, sizeof *d);
    d->rows = c->transposed ? c->K : c->N;
    d->cols = c->transposed ? c->N : c->K;
    const size_t n = d->rows * d->cols, es = es_of(c->form);
    d->wd = calloc(n ? n : 1, es);
    d->wabs = calloc(n ? n : 1, sizeof(float));
    d->keep = calloc(n ? n : 1, 1);
    d->idx = calloc(n ? n : 1, 1);
    const size_t entries = c->bits ? ((size_t)1 << c->bits) * (c->per_row ? d->rows : 1) : 1;
    d->book = calloc(entries, es);
    assert_true(d->wd && d->wabs && d->keep && d->idx && d->book);
    /* quantization of W: per output channel (FC/conv axis 0, B [K, N] axis 1) */
    if (is_q8(c->form))
        nnq_wparams_random(&r, &d->pw, (uint32_t)c->N, c->transposed ? 1 : 0,
                           c->zw && c->form != HYB && !c->bits);
    /* codebooks: entry 0 is the real zero (0, or 0 for symmetric int8) */
    for (size_t e = 0; e < entries; e++) {
        const bool zero = (e & (((size_t)1 << c->bits) - 1)) == 0;
        const float v = zero ? 0.0f : qlite_test_rng_float(&r, -1.0f, 1.0f);
        if (c->form == F32) ((float *)d->book)[e] = v;
        else if (c->form == F16) ((uint16_t *)d->book)[e] = qlite_fp32_to_fp16(v);
        else ((int8_t *)d->book)[e] = zero ? 0 : (int8_t)((int)(qlite_test_rng_u32(&r) % 255) - 127);
    }
    /* block mask */
    const size_t br = c->br ? c->br : 1, bc = c->bc ? c->bc : d->cols ? d->cols : 1;
    for (size_t R = 0; R < d->rows / br; R++)
        for (size_t C = 0; C < d->cols / bc; C++) {
            bool kb = !c->br || qlite_test_rng_float(&r, 0.0f, 1.0f) < (float)c->density;
            if (c->br && c->empty_rows && R % 3 == 1) kb = false;
            for (size_t a = 0; a < br; a++)
                for (size_t b = 0; b < bc; b++) d->keep[(R * br + a) * d->cols + C * bc + b] = kb;
        }
    for (size_t i = 0; i < n; i++) {
        const size_t row = i / (d->cols ? d->cols : 1);
        const size_t ch = c->transposed ? i % d->cols : row; /* output channel */
        if (c->bits) {
            d->idx[i] = (uint8_t)(qlite_test_rng_u32(&r) & ((1u << c->bits) - 1));
            if (!d->keep[i]) d->idx[i] = 0;
            const size_t e = (c->per_row ? row << c->bits : 0) + d->idx[i];
            memcpy((uint8_t *)d->wd + i * es, (uint8_t *)d->book + e * es, es);
        } else if (!d->keep[i]) {
            if (is_q8(c->form)) ((int8_t *)d->wd)[i] = (int8_t)nnq_wzp(&d->pw, ch);
        } else {
            const float v = qlite_test_rng_float(&r, -1.0f, 1.0f);
            if (c->form == F32) ((float *)d->wd)[i] = v;
            else if (c->form == F16) ((uint16_t *)d->wd)[i] = qlite_fp32_to_fp16(v);
            else nnq_fill_weights(&r, (int8_t *)d->wd + i, 1);
        }
        if (c->form == F32) d->wabs[i] = fabsf(((float *)d->wd)[i]);
        else if (c->form == F16) d->wabs[i] = fabsf(qlite_fp16_to_fp32(((uint16_t *)d->wd)[i]));
    }
    assert_true(spb_build(&d->sw, d->wd, es, d->rows, d->cols, c->br, c->bc, d->keep,
                          c->K * c->N > 60000 ? QLITE_INDEX_UINT32 : QLITE_INDEX_UINT16, c->ci,
                          c->bits ? d->idx : NULL, c->bits, d->book,
                          c->per_row));
    /* x, bias, activation parameters */
    const size_t xn = c->M * c->K;
    const bool xq = c->form == I8 || c->form == U8;
    const qlite_dtype xdt = c->form == U8 ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8;
    d->x = malloc((xn ? xn : 1) * (xq ? 1 : 4));
    d->bias = malloc((c->N ? c->N : 1) * 4);
    assert_true(d->x && d->bias);
    if (xq) nnq_fill_codes(&r, d->x, xn, xdt);
    else
        for (size_t i = 0; i < xn; i++) ((float *)d->x)[i] = qlite_test_rng_float(&r, -2.0f, 2.0f);
    if (xq) {
        nnq_fill_bias(&r, d->bias, c->N, 12);
        q8_params_set(&d->px, q8_rand_scale(&r, -8.0f, -2.0f), q8_rand_zp(&r, xdt));
        q8_params_set(&d->py, nnq_out_scale(&r, d->px.scale, d->pw.scale[0], c->K / 4 + 1),
                      q8_rand_zp(&r, xdt));
    } else {
        for (size_t i = 0; i < c->N; i++)
            ((float *)d->bias)[i] = qlite_test_rng_float(&r, -1.0f, 1.0f);
    }
}

static void free_data(sp_data *d) {
    spb_free(&d->sw);
    free(d->wd);
    free(d->wabs);
    free(d->keep);
    free(d->idx);
    free(d->book);
    free(d->x);
    free(d->bias);
}

/* Runs the op with the weight dense (stored = false) or in its stored form. */
static qlite_status run(const sp_case *c, sp_data *d, bool stored, int threads, uint32_t flags,
                        qlite_op_test_tensor *out) {
    const bool xq = c->form == I8 || c->form == U8;
    const qlite_dtype xdt = c->form == U8 ? QLITE_DTYPE_UINT8
                            : c->form == I8 ? QLITE_DTYPE_INT8 : QLITE_DTYPE_FLOAT32;
    const qlite_dtype wdt = c->form == F32 ? QLITE_DTYPE_FLOAT32
                            : c->form == F16 ? QLITE_DTYPE_FLOAT16 : QLITE_DTYPE_INT8;
    int64_t xs[4], ws[4], ys[4];
    uint32_t xr, wr, yr;
    qlite_op_options o;
    if (c->op == QLITE_OP_CONV_2D) {
        /* M pixels as [2, M/2, 1, C] (M even) or [1, M, 1, C] */
        const int64_t imgs = c->M % 2 == 0 && c->M > 0 ? 2 : 1;
        xr = wr = yr = 4;
        memcpy(xs, (int64_t[]){imgs, (int64_t)c->M / imgs, 1, (int64_t)c->K}, sizeof xs);
        memcpy(ws, (int64_t[]){(int64_t)c->N, 1, 1, (int64_t)c->K}, sizeof ws);
        memcpy(ys, (int64_t[]){imgs, (int64_t)c->M / imgs, 1, (int64_t)c->N}, sizeof ys);
        qlite_op_options_default(QLITE_OPTIONS_CONV_2D, &o);
        o.u.conv2d.activation = c->act;
    } else {
        xr = wr = yr = 2;
        memcpy(xs, (int64_t[]){(int64_t)c->M, (int64_t)c->K}, 2 * sizeof(int64_t));
        memcpy(ws, (int64_t[]){(int64_t)d->rows, (int64_t)d->cols}, 2 * sizeof(int64_t));
        memcpy(ys, (int64_t[]){(int64_t)c->M, (int64_t)c->N}, 2 * sizeof(int64_t));
        if (c->op == QLITE_OP_FULLY_CONNECTED) {
            qlite_op_options_default(QLITE_OPTIONS_FULLY_CONNECTED, &o);
            o.u.fully_connected.activation = c->act;
        } else {
            qlite_op_options_default(QLITE_OPTIONS_BATCH_MATMUL, &o);
            o.u.batch_matmul.transpose_b = !c->transposed;
            o.u.batch_matmul.activation = c->act;
        }
    }
    qlite_op_test_tensor in[3];
    in[0] = q8_tensor(xdt, xr, xs, d->x, xq ? &d->px : NULL);
    in[1] = qt_const(wdt, wr, ws, stored ? d->sw.values : d->wd);
    if (stored) {
        in[1].data_size = d->sw.values_bytes ? d->sw.values_bytes : 0;
        if (c->br) in[1].sparsity = &d->sw.sp;
        if (c->bits) in[1].clustering = &d->sw.cl;
    }
    in[1].quant = is_q8(c->form) ? &d->pw.q : NULL;
    uint32_t nin = 2;
    if (c->op != QLITE_OP_BATCH_MATMUL) {
        nin = 3;
        if (c->bias) {
            in[2] = qt_const(xq ? QLITE_DTYPE_INT32 : QLITE_DTYPE_FLOAT32, 1,
                             (int64_t[]){(int64_t)c->N}, d->bias);
        } else {
            memset(&in[2], 0, sizeof in[2]);
            in[2].absent = true;
        }
    }
    *out = q8_tensor(xdt, yr, ys, NULL, xq ? &d->py : NULL);
    return qlite_op_test_run(c->op, &o, nin, in, 1, out, threads, flags);
}

static void describe(const sp_case *c, char *buf, size_t n) {
    snprintf(buf, n, "%s %s M=%zu K=%zu N=%zu block %zux%zu bits=%u%s ci=%d%s%s act=%d",
             qlite_op_name(c->op), k_form[c->form], c->M, c->K, c->N, c->br, c->bc, c->bits,
             c->per_row ? " per-row" : "", (int)c->ci, c->transposed ? " B[K,N]" : "",
             c->zw ? " zw" : "", (int)c->act);
}

static void check_case(const sp_case *c, uint64_t seed) {
    sp_data d;
    make_data(c, &d, seed);
    char what[256];
    describe(c, what, sizeof what);
    qlite_op_test_tensor ref;
    if (run(c, &d, false, 1, 0, &ref) != QLITE_OK)
        fail_msg("%s: dense kernel: %s", what, qlite_last_error());
    /* float tolerance per output */
    double *mag = NULL;
    if (!is_q8(c->form)) {
        mag = calloc(c->M * c->N + 1, sizeof *mag);
        assert_non_null(mag);
        for (size_t m = 0; m < c->M; m++)
            for (size_t n = 0; n < c->N; n++) {
                double s = c->bias && c->op != QLITE_OP_BATCH_MATMUL
                               ? fabs(((float *)d.bias)[n]) : 0.0;
                for (size_t k = 0; k < c->K; k++)
                    s += fabs(((float *)d.x)[m * c->K + k]) * d.wabs[view_pos(c, &d, n, k)];
                mag[m * c->N + n] = s;
            }
    }
    const struct {
        int threads;
        uint32_t flags;
    } runs[] = {{1, 0}, {2, 0}, {1, QLITE_INTERP_REFERENCE_ONLY}};
    for (size_t i = 0; i < S_COUNT(runs); i++) {
        qlite_op_test_tensor out;
        if (run(c, &d, true, runs[i].threads, runs[i].flags, &out) != QLITE_OK)
            fail_msg("%s: sparse kernel (threads %d flags %u): %s", what, runs[i].threads,
                     runs[i].flags, qlite_last_error());
        assert_int_equal(out.out_bytes, ref.out_bytes);
        if (is_q8(c->form)) {
            if (memcmp(out.out, ref.out, out.out_bytes) != 0) {
                size_t j = 0;
                const uint8_t *a = out.out, *b = ref.out;
                while (a[j] == b[j]) j++;
                fail_msg("%s (threads %d flags %u): byte %zu differs from the dense kernel's",
                         what, runs[i].threads, runs[i].flags, j);
            }
        } else {
            const float *a = out.out, *b = ref.out;
            for (size_t j = 0; j < c->M * c->N; j++)
                if (!(fabs((double)a[j] - (double)b[j]) <= 1e-5 * mag[j] + 1e-6))
                    fail_msg("%s (threads %d flags %u): output %zu is %.9g, dense %.9g", what,
                             runs[i].threads, runs[i].flags, j, a[j], b[j]);
        }
        qlite_op_test_free(1, &out);
    }
    free(mag);
    qlite_op_test_free(1, &ref);
    free_data(&d);
}

static const unsigned k_caps[4] = {~0u, QLITE_Q8_F_AVX2 | QLITE_Q8_F_AVXVNNI, QLITE_Q8_F_AVX2,
                                   0u};

/* Block shapes x forms x batch, FULLY_CONNECTED, sizes around the tiles. */
static void fc_level(uint64_t *seed) {
    static const size_t blocks[][2] = {{1, 1}, {1, 4}, {4, 1}, {1, 16}, {2, 8}};
    static const size_t Ms[] = {1, 8, 3, 13};
    static const size_t KN[][2] = {{64, 16}, {48, 20}, {160, 36}, {784, 8}};
    for (int f = F32; f <= HYB; f++)
        for (size_t b = 0; b < S_COUNT(blocks); b++)
            for (size_t m = 0; m < S_COUNT(Ms); m++) {
                const size_t *kn = KN[(b + m + (size_t)f) % S_COUNT(KN)];
                sp_case c = {.op = QLITE_OP_FULLY_CONNECTED, .form = (enum form)f, .M = Ms[m],
                             .K = kn[0], .N = kn[1], .br = blocks[b][0], .bc = blocks[b][1],
                             .ci = kn[0] / blocks[b][1] > 256 ? QLITE_INDEX_UINT16
                                                              : QLITE_INDEX_UINT8,
                             .density = m % 2 ? 0.1 : 0.35, .empty_rows = (b + m) % 2 == 0,
                             .zw = m == 2, .bias = m != 3,
                             .act = (qlite_activation)((b + m) % QLITE_ACT_COUNT)};
                check_case(&c, (*seed)++);
            }
}

static void test_fc_blocks(void **state) {
    (void)state;
    uint64_t seed = 1;
    for (size_t level = 0; level < S_COUNT(k_caps); level++) {
        if (qlite_test_reduced() && qlite_test_q8_cap_repeats(k_caps, level)) continue;
        qlite_q8_set_feature_cap(k_caps[level]);
        fc_level(&seed);
    }
    qlite_q8_set_feature_cap(~0u);
}

/* Index widths (uint8 / uint16 / uint32), no stored block at all, a single block. */
static void test_fc_indices_and_extremes(void **state) {
    (void)state;
    uint64_t seed = 500;
    for (int f = F32; f <= HYB; f++) {
        const qlite_index_type cis[3] = {QLITE_INDEX_UINT8, QLITE_INDEX_UINT16,
                                         QLITE_INDEX_UINT32};
        for (size_t i = 0; i < 3; i++)
            for (size_t M = 1; M <= 8; M += 7) {
                sp_case c = {.op = QLITE_OP_FULLY_CONNECTED, .form = (enum form)f, .M = M,
                             .K = i == 0 ? 200 : 1200, .N = 17, .br = 1, .bc = 1, .ci = cis[i],
                             .density = 0.05, .bias = true};
                check_case(&c, seed++);
            }
        sp_case none = {.op = QLITE_OP_FULLY_CONNECTED, .form = (enum form)f, .M = 8, .K = 32,
                        .N = 8, .br = 1, .bc = 4, .ci = QLITE_INDEX_UINT8, .density = 0.0,
                        .bias = true, .act = QLITE_ACT_RELU};
        check_case(&none, seed++);
        sp_case full = none;
        full.density = 1.0;
        full.M = 1;
        check_case(&full, seed++);
    }
}

/* Batch 1 over many stored blocks: the AVX-512 kernel's flat stream of
 * block sums with prefix sums runs in chunks of 4096 blocks split at row
 * boundaries, and a row longer than a chunk is one run of its own; every
 * ISA level, int8 and hybrid, 1x1 / 1x4 / 1x16 blocks. */
static void test_fc_batch1_long_streams(void **state) {
    (void)state;
    uint64_t seed = 900;
    static const size_t blocks[] = {1, 4, 16};
    for (size_t level = 0; level < S_COUNT(k_caps); level++) {
        if (qlite_test_reduced() && qlite_test_q8_cap_repeats(k_caps, level)) continue;
        qlite_q8_set_feature_cap(k_caps[level]);
        for (int f = I8; f <= HYB; f += 2)
            for (size_t b = 0; b < S_COUNT(blocks); b++) {
                sp_case c = {.op = QLITE_OP_FULLY_CONNECTED, .form = (enum form)f, .M = 1,
                             .K = 1024, .N = 163, .br = 1, .bc = blocks[b],
                             .ci = 1024 / blocks[b] > 256 ? QLITE_INDEX_UINT16
                                                          : QLITE_INDEX_UINT8,
                             .density = 0.45, .empty_rows = b == 1, .bias = true,
                             .act = QLITE_ACT_RELU};
                check_case(&c, seed++);
                /* rows of 16384 / bc * 0.7 blocks: longer than a chunk for 1x1, 1x4 */
                sp_case l = c;
                l.K = 16384;
                l.N = 5;
                l.ci = QLITE_INDEX_UINT16;
                l.density = 0.7;
                l.empty_rows = false;
                check_case(&l, seed++);
            }
    }
    qlite_q8_set_feature_cap(~0u);
}

/* The index-stream decoders (cluster_decode.h) against the stream written
 * from the spec (sparse_build.h spb_put_bits): every bit width, entries of
 * 1, 2 and 4 bytes, runs starting anywhere and of lengths around the vector
 * steps (8, 16, 32, 64 indices), every ISA level; nothing written past n. */
static void test_cluster_decode(void **state) {
    (void)state;
    enum { TOTAL = 1200 };
    static const size_t firsts[] = {0, 1, 2, 7, 8, 9, 62, 64, 100};
    static const size_t ns[] = {0, 1, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 96, 127, 128, 129,
                                255, 256, 1000};
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 77);
    uint8_t idx[TOTAL];
    uint32_t book32[256];
    uint16_t book16[256];
    uint8_t book8[256];
    for (size_t e = 0; e < 256; e++) {
        book32[e] = qlite_test_rng_u32(&r);
        book16[e] = (uint16_t)qlite_test_rng_u32(&r);
        book8[e] = (uint8_t)qlite_test_rng_u32(&r);
    }
    uint32_t out32[TOTAL + 8];
    uint16_t out16[TOTAL + 8];
    uint8_t out8[TOTAL + 8];
    for (size_t level = 0; level < S_COUNT(k_caps); level++) {
        if (qlite_test_reduced() && qlite_test_q8_cap_repeats(k_caps, level)) continue;
        qlite_q8_set_feature_cap(k_caps[level]);
        for (unsigned bits = 1; bits <= 8; bits++) {
            const size_t bytes = (TOTAL * bits + 7) / 8;
            uint8_t *stream = calloc(bytes, 1); /* exactly the stream: ASan sees over-reads */
            assert_non_null(stream);
            for (size_t j = 0; j < TOTAL; j++) {
                idx[j] = (uint8_t)(qlite_test_rng_u32(&r) & ((1u << bits) - 1));
                spb_put_bits(stream, j, bits, idx[j]);
            }
            assert_int_equal(qlite_cluster_stream_bytes(TOTAL, bits), bytes);
            for (size_t fi = 0; fi < S_COUNT(firsts); fi++)
                for (size_t ni = 0; ni < S_COUNT(ns); ni++) {
                    const size_t f = firsts[fi], n = ns[ni];
                    if (f + n > TOTAL) continue;
                    memset(out32, 0xa5, sizeof out32);
                    memset(out16, 0xa5, sizeof out16);
                    memset(out8, 0xa5, sizeof out8);
                    qlite_cluster_decode_32(stream, bits, f, n, book32, out32);
                    qlite_cluster_decode_16(stream, bits, f, n, book16, out16);
                    qlite_cluster_decode_8(stream, bits, f, n, book8, out8);
                    for (size_t i = 0; i < n; i++) {
                        if (out32[i] != book32[idx[f + i]] || out16[i] != book16[idx[f + i]] ||
                            out8[i] != book8[idx[f + i]])
                            fail_msg("cap %u bits %u first %zu n %zu: entry %zu differs",
                                     k_caps[level], bits, f, n, i);
                        assert_int_equal(qlite_cluster_index(stream, bits, f + i), idx[f + i]);
                    }
                    assert_int_equal(out32[n], 0xa5a5a5a5u);
                    assert_int_equal(out16[n], 0xa5a5u);
                    assert_int_equal(out8[n], 0xa5u);
                }
            free(stream);
        }
    }
    qlite_q8_set_feature_cap(~0u);
}

/* Clustered: bits 1..8, per tensor / per row, alone and with sparsity. */
static void test_fc_clustered(void **state) {
    (void)state;
    uint64_t seed = 900;
    for (size_t level = 0; level < S_COUNT(k_caps); level += 3) {
        qlite_q8_set_feature_cap(k_caps[level]);
        for (int f = F32; f <= HYB; f++)
            for (unsigned bits = 1; bits <= 8; bits++)
                for (size_t M = 1; M <= 8; M += 7) {
                    const bool sparse = bits % 2 == 0;
                    sp_case c = {.op = QLITE_OP_FULLY_CONNECTED, .form = (enum form)f, .M = M,
                                 .K = 13 + 24 * bits, .N = 9 + bits, .br = sparse ? 1 : 0,
                                 .bc = sparse ? (bits % 4 == 0 ? 4 : 1) : 0,
                                 .bits = bits, .per_row = (bits + M) % 3 == 0,
                                 .ci = QLITE_INDEX_UINT8, .density = 0.3, .bias = M == 1,
                                 .act = (qlite_activation)(bits % QLITE_ACT_COUNT)};
                    if (c.bc == 4) c.K = 16 * bits;
                    check_case(&c, seed++);
                }
    }
    qlite_q8_set_feature_cap(~0u);
}

/* Clustered, not sparse, 4-bit (the palette kernels: VPSHUFB into VPDPBUSD
 * for int8 / hybrid batch 1, table decodes elsewhere): K around the
 * 128-index chunk (even and odd K), N around the 4-row groups, per tensor
 * and per row, batch 1, 8 and 13 (a partial panel), every form and ISA level. */
static void test_fc_palette4(void **state) {
    (void)state;
    uint64_t seed = 3000;
    static const size_t Ks[] = {2, 31, 64, 126, 128, 130, 256, 784, 1000};
    static const size_t Ns[] = {1, 3, 4, 5, 9};
    static const size_t Ms[] = {1, 8, 13};
    for (size_t level = 0; level < S_COUNT(k_caps); level++) {
        if (qlite_test_reduced() && qlite_test_q8_cap_repeats(k_caps, level)) continue;
        qlite_q8_set_feature_cap(k_caps[level]);
        for (int f = F32; f <= HYB; f++)
            for (size_t k = 0; k < S_COUNT(Ks); k++)
                for (size_t mi = 0; mi < S_COUNT(Ms); mi++) {
                    const size_t M = Ms[mi];
                    sp_case c = {.op = QLITE_OP_FULLY_CONNECTED, .form = (enum form)f, .M = M,
                                 .K = Ks[k], .N = Ns[(k + M + (size_t)f) % S_COUNT(Ns)],
                                 .bits = 4, .per_row = (k + (size_t)f) % 2 == 0,
                                 .ci = QLITE_INDEX_UINT8, .bias = k % 3 != 0,
                                 .act = (qlite_activation)(k % QLITE_ACT_COUNT)};
                    check_case(&c, seed++);
                }
    }
    qlite_q8_set_feature_cap(~0u);
}

/* Clustered, not sparse, every other width (the VBMI kernels: batch-1 int8 /
 * hybrid rows decoded in registers when K is a multiple of 8, VBMI decodes
 * elsewhere): K around the 64- and 128-index steps, multiples of 8 and not,
 * per tensor and per row, batch 1 and 8, every form and ISA level. */
static void test_fc_palette_widths(void **state) {
    (void)state;
    uint64_t seed = 5000;
    static const size_t Ks[] = {8, 64, 120, 136, 200, 1024, 77};
    static const unsigned widths[] = {1, 2, 3, 5, 6, 7, 8};
    size_t v = 0;
    for (size_t level = 0; level < S_COUNT(k_caps); level++) {
        if (qlite_test_reduced() && qlite_test_q8_cap_repeats(k_caps, level)) continue;
        qlite_q8_set_feature_cap(k_caps[level]);
        for (size_t wi = 0; wi < S_COUNT(widths); wi++)
            for (int f = F32; f <= HYB; f++)
                for (size_t k = 0; k < S_COUNT(Ks); k++, v++) {
                    sp_case c = {.op = QLITE_OP_FULLY_CONNECTED, .form = (enum form)f,
                                 .M = v % 3 == 0 ? 8 : v % 3 == 1 ? 1 : 3, .K = Ks[k],
                                 .N = 3 + v % 6,
                                 .bits = widths[wi], .per_row = v % 2 == 0,
                                 .ci = QLITE_INDEX_UINT8, .bias = v % 4 != 0,
                                 .act = (qlite_activation)(v % QLITE_ACT_COUNT)};
                    check_case(&c, seed++);
                }
    }
    qlite_q8_set_feature_cap(~0u);
}

/* 16 x 4 blocks (the O16I4 tile: one VPDPBUSD per block, batch 1 and
 * panels): K and N around the tile, batch around the 8-row panel, empty
 * block rows, all index widths, clustered blocks too; every form and ISA
 * level (float forms through the generic kernels). */
static void test_fc_o16i4(void **state) {
    (void)state;
    uint64_t seed = 4000;
    static const size_t Ks[] = {4, 8, 64, 100, 784};
    static const size_t Ns[] = {16, 32, 48, 160};
    static const size_t Ms[] = {1, 2, 8, 9, 16};
    static const double dens[] = {0.1, 0.5, 1.0};
    const qlite_index_type cis[3] = {QLITE_INDEX_UINT8, QLITE_INDEX_UINT16, QLITE_INDEX_UINT32};
    size_t v = 0;
    for (size_t level = 0; level < S_COUNT(k_caps); level++) {
        if (qlite_test_reduced() && qlite_test_q8_cap_repeats(k_caps, level)) continue;
        qlite_q8_set_feature_cap(k_caps[level]);
        for (int f = F32; f <= HYB; f++)
            for (size_t k = 0; k < S_COUNT(Ks); k++)
                for (size_t m = 0; m < S_COUNT(Ms); m++, v++) {
                    sp_case c = {.op = QLITE_OP_FULLY_CONNECTED, .form = (enum form)f,
                                 .M = Ms[m], .K = Ks[k], .N = Ns[(k + m) % S_COUNT(Ns)],
                                 .br = 16, .bc = 4, .ci = cis[v % 3],
                                 .density = dens[(v / 3) % 3], .empty_rows = v % 4 == 1,
                                 .bias = v % 5 != 0,
                                 .act = (qlite_activation)(v % QLITE_ACT_COUNT)};
                    if (v % 7 == 3) c.bits = 4, c.per_row = v % 2 == 0;
                    if (v % 11 == 5 && !c.bits && f != HYB) c.zw = true;
                    check_case(&c, seed++);
                }
    }
    qlite_q8_set_feature_cap(~0u);
}

/* 1x1 CONV_2D (per image hybrid quantization) and BATCH_MATMUL in both B layouts. */
static void test_conv_and_matmul(void **state) {
    (void)state;
    uint64_t seed = 1300;
    for (size_t level = 0; level < S_COUNT(k_caps); level += 3) {
        qlite_q8_set_feature_cap(k_caps[level]);
        for (int f = F32; f <= HYB; f++)
            for (size_t v = 0; v < 4; v++) {
                const size_t M = v % 2 ? 8 : 1;
                sp_case c = {.op = QLITE_OP_CONV_2D, .form = (enum form)f, .M = v < 2 ? M : 12,
                             .K = 64, .N = 24, .br = v == 3 ? 4 : 1, .bc = v == 1 ? 16 : 1,
                             .bits = v == 2 ? 4 : 0, .ci = QLITE_INDEX_UINT8, .density = 0.25,
                             .empty_rows = v == 0, .bias = v != 2,
                             .act = (qlite_activation)(v % QLITE_ACT_COUNT)};
                check_case(&c, seed++);
                sp_case b = c;
                b.op = QLITE_OP_BATCH_MATMUL;
                b.transposed = v % 2 == 0;
                b.zw = false;
                check_case(&b, seed++);
                b.transposed = !b.transposed;
                b.K = 48;
                b.N = 33;
                b.br = 1;
                b.bc = 1;
                check_case(&b, seed++);
            }
    }
    qlite_q8_set_feature_cap(~0u);
}

/* The registry's kernels are the dense ones plus reads_stored; other forms are refused. */
static void test_registry_and_refusals(void **state) {
    (void)state;
    const qlite_kernel *pairs[3][2] = {
        {qlite_kernel_registry[QLITE_OP_FULLY_CONNECTED], &qlite_kernel_fully_connected},
        {qlite_kernel_registry[QLITE_OP_CONV_2D], &qlite_kernel_conv_2d},
        {qlite_kernel_registry[QLITE_OP_BATCH_MATMUL], &qlite_kernel_batch_matmul}};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(pairs[i][0]->raw_inputs, pairs[i][1]->raw_inputs);
        assert_int_equal(pairs[i][0]->raw_dense_inputs, pairs[i][1]->raw_dense_inputs);
        assert_int_equal(pairs[i][0]->output_aliases_input, pairs[i][1]->output_aliases_input);
        assert_non_null(pairs[i][0]->reads_stored);
    }
    /* a 3x3 convolution with a sparse weight: refused by the op (the interpreter densifies) */
    sp_case c = {.op = QLITE_OP_FULLY_CONNECTED, .form = F32, .M = 1, .K = 9 * 4, .N = 4,
                 .br = 1, .bc = 1, .ci = QLITE_INDEX_UINT8, .density = 0.5};
    sp_data d;
    make_data(&c, &d, 7);
    qlite_op_test_tensor in[2], out;
    in[0] = qt(QLITE_DTYPE_FLOAT32, 4, (int64_t[]){1, 3, 3, 4}, d.x);
    in[1] = qt_const(QLITE_DTYPE_FLOAT32, 4, (int64_t[]){4, 3, 3, 4}, d.sw.values);
    in[1].data_size = d.sw.values_bytes;
    in[1].sparsity = &d.sw.sp;
    out = qt(QLITE_DTYPE_FLOAT32, 4, (int64_t[]){1, 1, 1, 4}, NULL);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_CONV_2D, &o);
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONV_2D, &o, 2, in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    assert_non_null(strstr(qlite_last_error(), "1x1 convolutions"));
    /* reads_stored answers false for it, true for the 1x1 form */
    qlite_tensor_info ix = {.name = "x", .dtype = QLITE_DTYPE_FLOAT32, .rank = 4,
                            .shape = (int64_t[]){1, 3, 3, 4}};
    qlite_tensor_info iw = {.name = "w", .dtype = QLITE_DTYPE_FLOAT32, .rank = 4,
                            .shape = (int64_t[]){4, 3, 3, 4}, .sparsity = &d.sw.sp,
                            .buffer = 1};
    const qlite_tensor_info *infos[2] = {&ix, &iw};
    qlite_op_info op = {.code = QLITE_OP_CONV_2D, .num_inputs = 2, .options = o};
    assert_false(qlite_conv_reads_stored(&op, infos, 1));
    iw.shape = (int64_t[]){4, 1, 1, 4};
    assert_true(qlite_conv_reads_stored(&op, infos, 1));
    assert_false(qlite_conv_reads_stored(&op, infos, 0));
    free_data(&d);
}

/* Through the interpreter: the sparse weight is read in the mapped model, not densified. */
static void test_interpreter_in_place(void **state) {
    (void)state;
    enum { N = 64, K = 256 };
    sp_case c = {.op = QLITE_OP_FULLY_CONNECTED, .form = F32, .M = 1, .K = K, .N = N, .br = 1,
                 .bc = 1, .ci = QLITE_INDEX_UINT8, .density = 0.1};
    sp_data d;
    make_data(&c, &d, 11);
    qlite_writer *W;
    assert_qlite_ok(qlite_writer_create(&W));
    qlite_sparsity sp = d.sw.sp;
    sp.row_ptr_buffer = (uint32_t)qlite_writer_add_buffer(W, d.sw.row_ptr, (N + 1) * 2);
    sp.col_index_buffer =
        (uint32_t)qlite_writer_add_buffer(W, d.sw.col_index, (size_t)sp.nnz_blocks);
    qlite_tensor_info tx = {.name = "x", .dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                            .shape = (int64_t[]){1, K}};
    qlite_tensor_info ty = {.name = "y", .dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                            .shape = (int64_t[]){1, N}};
    qlite_tensor_info tw = {.name = "w", .dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                            .shape = (int64_t[]){N, K}, .sparsity = &sp};
    tw.buffer = (uint32_t)qlite_writer_add_buffer(W, d.sw.values, d.sw.values_bytes);
    const int32_t x = qlite_writer_add_tensor(W, &tx), y = qlite_writer_add_tensor(W, &ty);
    const int32_t wt = qlite_writer_add_tensor(W, &tw);
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_FULLY_CONNECTED, &o);
    qlite_op_info op = {.code = QLITE_OP_FULLY_CONNECTED, .name = "fc", .num_inputs = 3,
                        .num_outputs = 1, .inputs = (int32_t[]){x, wt, -1},
                        .outputs = (int32_t[]){y}, .options = o};
    assert_true(qlite_writer_add_op(W, &op) >= 0);
    assert_qlite_ok(qlite_writer_set_inputs(W, 1, &x));
    assert_qlite_ok(qlite_writer_set_outputs(W, 1, &y));
    void *bytes;
    size_t size;
    assert_qlite_ok(qlite_writer_write_memory(W, &bytes, &size));
    qlite_writer_destroy(W);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(bytes, size, 0, &m));
    qlite_interpreter *it;
    assert_qlite_ok(qlite_interpreter_create(m, NULL, &it));
    assert_qlite_ok(qlite_interpreter_prepare(it));
    /* a dense copy would be N * K * 4 = 64 KiB */
    assert_true(qlite_interpreter_prepared_size(it) < (size_t)N * K);
    assert_qlite_ok(qlite_interpreter_set_input(it, 0, d.x, K * sizeof(float)));
    assert_qlite_ok(qlite_interpreter_invoke(it));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_output(it, 0, &v));
    const float *yo = v.data, *xf = d.x, *wf = d.wd;
    for (size_t n = 0; n < N; n++) {
        double want = 0.0, mag = 0.0;
        for (size_t k = 0; k < K; k++) {
            want += (double)xf[k] * wf[n * K + k];
            mag += fabs((double)xf[k] * wf[n * K + k]);
        }
        assert_true(fabs(yo[n] - want) <= 1e-5 * mag + 1e-6);
    }
    qlite_interpreter_destroy(it);
    qlite_model_close(m);
    qlite_writer_free_bytes(bytes);
    free_data(&d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fc_blocks),
        cmocka_unit_test(test_fc_batch1_long_streams),
        cmocka_unit_test(test_fc_indices_and_extremes),
        cmocka_unit_test(test_cluster_decode),
        cmocka_unit_test(test_fc_clustered),
        cmocka_unit_test(test_fc_palette4),
        cmocka_unit_test(test_fc_palette_widths),
        cmocka_unit_test(test_fc_o16i4),
        cmocka_unit_test(test_conv_and_matmul),
        cmocka_unit_test(test_registry_and_refusals),
        cmocka_unit_test(test_interpreter_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
