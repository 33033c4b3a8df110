/*
 * spmm_q8.c — 8-bit integer products with stored sparse / clustered int8
 * weights (spmm_q8.h): the portable kernels, the u buffer (copied or
 * hybrid-quantized rows), the thread split, the output stages and the
 * readable reference.
 *
 * Per invoke:
 *   1. u: every row of x as unsigned bytes, row stride ldu (K + zero
 *      padding, so vector kernels may read up to 64 bytes past K); hybrid:
 *      quantized in groups of group_rows rows with one (su, zu) each;
 *   2. the threads each take block rows (rows form, balanced by stored
 *      blocks), output columns (transposed form) or panels of 8 rows, and
 *      compute the int32 sums S of spmm_q8.h into their own buffer;
 *   3. each thread applies the output stage to what it computed.
 */
#include "kernels/spmm_q8.h"

#include <string.h>

/* short copy / fill loops stay loops (gcc would call memcpy / memset) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

static inline __attribute__((always_inline)) size_t col_at(const void *col, size_t b,
                                                           const unsigned cb) {
    switch (cb) {
    case 1: return ((const uint8_t *)col)[b];
    case 2: return ((const uint16_t *)col)[b];
    case 4: return ((const uint32_t *)col)[b];
    default: return 0;
    }
}

#define Q8_BY_WIDTH(w, call)        \
    switch ((w)->col_bytes) {       \
    case 0: call(0); break;         \
    case 1: call(1); break;         \
    case 2: call(2); break;         \
    default: call(4); break;        \
    }

/* ---------------------------------------------------------------- */
/* Portable kernels                                                  */
/* ---------------------------------------------------------------- */

static inline __attribute__((always_inline)) void
rows_m1_t(const qlite_spw *w, const int32_t *zw, const uint8_t *u, size_t r0, size_t r1,
          int8_t *vbuf, int32_t *acc, const unsigned cb) {
    const size_t br = w->br, bc = w->bc;
    for (size_t r = r0; r < r1; r++) {
        const size_t b0 = w->row_ptr[r], nb = w->row_ptr[r + 1] - b0;
        int32_t *a = acc + (r - r0) * br;
        for (size_t i = 0; i < br; i++) a[i] = 0;
        if (nb == 0) continue;
        const int8_t *v = qlite_spw_row_i8(w, r, vbuf);
        if (!zw && br == 1 && bc == 1) {
            int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            size_t b = 0;
            for (; b + 4 <= nb; b += 4) {
                s0 += u[col_at(w->col, b0 + b, cb)] * v[b];
                s1 += u[col_at(w->col, b0 + b + 1, cb)] * v[b + 1];
                s2 += u[col_at(w->col, b0 + b + 2, cb)] * v[b + 2];
                s3 += u[col_at(w->col, b0 + b + 3, cb)] * v[b + 3];
            }
            for (; b < nb; b++) s0 += u[col_at(w->col, b0 + b, cb)] * v[b];
            a[0] = (s0 + s1) + (s2 + s3);
        } else if (!zw && br == 1) {
            int32_t s = 0;
            for (size_t b = 0; b < nb; b++) {
                const uint8_t *ub = u + col_at(w->col, b0 + b, cb) * bc;
                const int8_t *vb = v + b * bc;
                for (size_t j = 0; j < bc; j++) s += ub[j] * vb[j];
            }
            a[0] = s;
        } else {
            for (size_t b = 0; b < nb; b++) {
                const uint8_t *ub = u + col_at(w->col, b0 + b, cb) * bc;
                const int8_t *vb = v + b * br * bc;
                for (size_t i = 0; i < br; i++) {
                    const int32_t z = zw ? zw[r * br + i] : 0;
                    int32_t s = 0;
                    for (size_t j = 0; j < bc; j++) s += ub[j] * (vb[i * bc + j] - z);
                    a[i] += s;
                }
            }
        }
    }
}

static void rows_m1_portable(const qlite_spw *w, const int32_t *zw, const uint8_t *u, size_t r0,
                             size_t r1, int8_t *vbuf, int32_t *acc) {
#define CALL(cb) rows_m1_t(w, zw, u, r0, r1, vbuf, acc, cb)
    Q8_BY_WIDTH(w, CALL)
#undef CALL
}

/* The portable panel: ut[k * 8 + l] = u[l][k] (0 for missing rows). */
static void panel_portable(const uint8_t *u, size_t ldu, size_t K, size_t valid, uint8_t *ut) {
    for (size_t l = 0; l < 8; l++)
        for (size_t k = 0; k < K; k++) ut[k * 8 + l] = l < valid ? u[l * ldu + k] : 0;
}

static inline __attribute__((always_inline)) void
rows_panel_t(const qlite_spw *w, const int32_t *zw, const uint8_t *ut, size_t r0, size_t r1,
             int8_t *vbuf, int32_t *acc, const unsigned cb) {
    const size_t br = w->br, bc = w->bc;
    for (size_t r = r0; r < r1; r++) {
        const size_t b0 = w->row_ptr[r], nb = w->row_ptr[r + 1] - b0;
        int32_t *a = acc + (r - r0) * br * 8;
        for (size_t i = 0; i < br * 8; i++) a[i] = 0;
        if (nb == 0) continue;
        const int8_t *v = qlite_spw_row_i8(w, r, vbuf);
        for (size_t b = 0; b < nb; b++) {
            const uint8_t *ub = ut + col_at(w->col, b0 + b, cb) * bc * 8;
            const int8_t *vb = v + b * br * bc;
            for (size_t i = 0; i < br; i++) {
                const int32_t z = zw ? zw[r * br + i] : 0;
                int32_t *ai = a + i * 8;
                for (size_t j = 0; j < bc; j++) {
                    const int32_t wv = vb[i * bc + j] - z;
                    for (size_t l = 0; l < 8; l++) ai[l] += ub[j * 8 + l] * wv;
                }
            }
        }
    }
}

static void rows_panel_portable(const qlite_spw *w, const int32_t *zw, const uint8_t *u,
                                size_t ldu, size_t K, size_t valid, size_t r0, size_t r1,
                                int8_t *vbuf, uint8_t *panel, int32_t *acc) {
    panel_portable(u, ldu, K, valid, panel);
#define CALL(cb) rows_panel_t(w, zw, panel, r0, r1, vbuf, acc, cb)
    Q8_BY_WIDTH(w, CALL)
#undef CALL
}

/* First stored block of block row r whose columns reach n0. */
static inline __attribute__((always_inline)) size_t first_block(const qlite_spw *w, size_t r,
                                                                size_t n0, const unsigned cb) {
    size_t lo = w->row_ptr[r], hi = w->row_ptr[r + 1];
    const size_t c0 = n0 / w->bc;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (col_at(w->col, mid, cb) < c0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Transposed form over columns [n0, n1); lanes = 1 (u row) or 8 (panel ut). */
static inline __attribute__((always_inline)) void
cols_t(const qlite_spw *w, const int32_t *zw, const uint8_t *u, size_t n0, size_t n1,
       int8_t *vbuf, int32_t *acc, const size_t lanes, const unsigned cb) {
    const size_t br = w->br, bc = w->bc;
    for (size_t i = n0 * lanes; i < n1 * lanes; i++) acc[i] = 0;
    for (size_t r = 0; r < w->R && n0 < n1; r++) {
        const size_t b0 = w->row_ptr[r], b1 = w->row_ptr[r + 1];
        if (b0 == b1) continue;
        const int8_t *v = qlite_spw_row_i8(w, r, vbuf);
        for (size_t b = first_block(w, r, n0, cb); b < b1; b++) {
            const size_t cbase = col_at(w->col, b, cb) * bc;
            if (cbase >= n1) break;
            const size_t j0 = n0 > cbase ? n0 - cbase : 0;
            const size_t j1 = n1 - cbase < bc ? n1 - cbase : bc;
            const int8_t *vb = v + (b - b0) * br * bc;
            for (size_t i = 0; i < br; i++) {
                const uint8_t *uk = u + (r * br + i) * lanes;
                for (size_t j = j0; j < j1; j++) {
                    const int32_t wv = vb[i * bc + j] - (zw ? zw[cbase + j] : 0);
                    int32_t *a = acc + (cbase + j) * lanes;
                    for (size_t l = 0; l < lanes; l++) a[l] += uk[l] * wv;
                }
            }
        }
    }
}

static void cols_m1_portable(const qlite_spw *w, const int32_t *zw, const uint8_t *u, size_t n0,
                             size_t n1, int8_t *vbuf, int32_t *acc) {
#define CALL(cb) cols_t(w, zw, u, n0, n1, vbuf, acc, 1, cb)
    Q8_BY_WIDTH(w, CALL)
#undef CALL
}

static void cols_panel_portable(const qlite_spw *w, const int32_t *zw, const uint8_t *u,
                                size_t ldu, size_t K, size_t valid, size_t n0, size_t n1,
                                int8_t *vbuf, uint8_t *panel, int32_t *acc) {
    panel_portable(u, ldu, K, valid, panel);
#define CALL(cb) cols_t(w, zw, panel, n0, n1, vbuf, acc, 8, cb)
    Q8_BY_WIDTH(w, CALL)
#undef CALL
}

static void out_bytes_portable(const qlite_q8_cols *c, size_t n0, size_t n1, const int32_t *acc,
                               size_t stride, uint8_t *y) {
    for (size_t n = n0; n < n1; n++)
        y[n] = qlite_q8_cols_out(c, n, (int32_t)((int64_t)c->bias[n] + acc[n * stride]));
}

const qlite_spmm_q8_kernels qlite_spmm_q8__portable = {
    .rows_m1 = rows_m1_portable,
    .rows_panel = rows_panel_portable,
    .cols_m1 = cols_m1_portable,
    .cols_panel = cols_panel_portable,
    .panel_bytes_per_k = 8,
    .out_bytes = out_bytes_portable,
};

/* ---------------------------------------------------------------- */
/* Prepare                                                           */
/* ---------------------------------------------------------------- */

static size_t up64(size_t n) { return (n + 63) / 64 * 64; }

static const qlite_spmm_q8_kernels *kernels_for(const qlite_spmm_q8 *p) {
#ifdef QLITE_SPMM_Q8_X86
    if (p->isa == QLITE_SPMM_AVX512 && !p->zw &&
        (qlite_q8_cpu_features() & QLITE_Q8_F_AVX512))
        return &qlite_spmm_q8__avx512vnni;
#else
    (void)p;
#endif
    return &qlite_spmm_q8__portable;
}

/* Per-thread scratch: [values][panel][sums]. */
typedef struct q8_parts {
    size_t vbuf, panel, acc, total;
} q8_parts;

static q8_parts parts_of(const qlite_spmm_q8 *p) {
    q8_parts s;
    const bool panel = p->M >= 2;
    s.vbuf = 0;
    /* values of one block row (clustered), or for M == 1 the prefix sums of
     * spmm_q8_x86.c's flat stream (4096 blocks or one row, + 32) */
    size_t vb = p->w->max_row_values;
    if (p->M == 1 && !p->transposed && p->w->bc) {
        const size_t row_blocks = p->w->max_row_values / (p->w->br * p->w->bc);
        vb = vb > ((row_blocks > 4096 ? row_blocks : 4096) + 32) * 4
                 ? vb
                 : ((row_blocks > 4096 ? row_blocks : 4096) + 32) * 4;
    }
    /* rows_m1 with 4-bit clustered rows: u permuted, round_up(K, 128) bytes */
    if (p->M == 1 && p->w->bits && vb < (p->K + 127) / 128 * 128) vb = (p->K + 127) / 128 * 128;
    s.panel = up64(vb);
    /* the panel, or for 4-bit palettes 8 permuted u rows of round_up(K, 128) */
    size_t pb = qlite_gemm_q8_k4(p->K) * 8;
    if (p->w->bits && pb < (p->K + 127) / 128 * 128 * 8) pb = (p->K + 127) / 128 * 128 * 8;
    s.acc = s.panel + (panel ? up64(pb) : 0);
    s.total = s.acc + up64(p->N * (panel ? 8 : 1) * sizeof(int32_t));
    return s;
}

qlite_status qlite_spmm_q8_init(qlite_node *node, qlite_spmm_q8 *p) {
    const qlite_spw *w = p->w;
    const size_t wn = p->transposed ? w->cols : w->rows, wk = p->transposed ? w->rows : w->cols;
    if (wn != p->N || wk != p->K)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "sparse weights [%zu, %zu] do not fit %zu outputs x %zu inputs",
                                w->rows, w->cols, p->N, p->K);
    if (w->dtype != QLITE_DTYPE_INT8)
        return qlite_node_error(node, QLITE_ERR_DTYPE, "int8 kernel with %s weights",
                                qlite_dtype_name(w->dtype));
    if (p->hybrid && (p->group_rows == 0 || p->M % p->group_rows))
        return qlite_node_error(node, QLITE_ERR_SHAPE, "%zu rows in groups of %zu", p->M,
                                p->group_rows);
    if (p->K > SIZE_MAX / 256 || p->N > SIZE_MAX / 256 || p->M > SIZE_MAX / 256 ||
        w->max_row_values > SIZE_MAX / 4 || p->M > (SIZE_MAX / 4) / (p->K + 128))
        return qlite_node_error(node, QLITE_ERR_SHAPE, "sparse product too large");
    p->isa = qlite_spmm_isa();
    p->threads = qlite_node_threads(node);
    p->ldu = up64(p->K + 64);
    p->shared_bytes = up64(p->M * p->ldu) + 2 * up64(p->M * sizeof(int32_t));
    p->thread_bytes = parts_of(p).total;
    if (p->thread_bytes > (SIZE_MAX / 4 - p->shared_bytes) / (size_t)p->threads)
        return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "sparse product scratch too large");
    return QLITE_OK;
}

size_t qlite_spmm_q8_scratch_bytes(const qlite_spmm_q8 *p) {
    return p->shared_bytes + p->thread_bytes * (size_t)p->threads;
}

qlite_status qlite_spmm_q8_weight_sums(qlite_node *node, const qlite_spw *w, bool transposed,
                                       const int32_t *zw, int64_t **dense_sum,
                                       int32_t **stored_sum) {
    const size_t N = transposed ? w->cols : w->rows, K = transposed ? w->rows : w->cols;
    int64_t *sum = qlite_node_alloc(node, (N ? N : 1) * sizeof(int64_t));
    int64_t *cnt = qlite_node_alloc(node, (N ? N : 1) * sizeof(int64_t));
    int8_t *buf = qlite_node_alloc(node, w->max_row_values ? w->max_row_values : 1);
    if (!sum || !cnt || !buf) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    if (transposed) qlite_spw_sums_i8(w, NULL, NULL, sum, cnt, buf);
    else qlite_spw_sums_i8(w, sum, cnt, NULL, NULL, buf);
    if (stored_sum) {
        int32_t *s32 = qlite_node_alloc(node, (N ? N : 1) * sizeof(int32_t));
        if (!s32) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
        for (size_t n = 0; n < N; n++) s32[n] = (int32_t)sum[n]; /* |sum| <= 128 K */
        *stored_sum = s32;
    }
    if (dense_sum) {
        for (size_t n = 0; n < N; n++)
            sum[n] += ((int64_t)K - cnt[n]) * (zw ? zw[n] : 0);
        *dense_sum = sum;
    }
    return QLITE_OK;
}

/* ---------------------------------------------------------------- */
/* Eval                                                              */
/* ---------------------------------------------------------------- */

typedef struct q8_job {
    const qlite_spmm_q8 *p;
    const qlite_spmm_q8_kernels *k;
    const void *x;
    void *y;
    uint8_t *u;             /* [M][ldu] */
    float *su;              /* [M] hybrid */
    int32_t *zu;            /* [M] hybrid */
    uint8_t *scratch;       /* per-thread parts */
    size_t panels, threads;
    bool split_panels;
} q8_job;

/* 1. the u rows (and the hybrid parameters) of groups [g0, g1). */
static void make_u(const q8_job *j, size_t g0, size_t g1) {
    const qlite_spmm_q8 *p = j->p;
    const size_t K = p->K, G = p->hybrid ? p->group_rows : 1;
    for (size_t g = g0; g < g1; g++) {
        float su = 0.0f;
        int32_t zu = 0;
        if (p->hybrid) su = qlite_hybrid_params((const float *)j->x + g * G * K, G * K, &zu);
        for (size_t m = g * G; m < (g + 1) * G; m++) {
            uint8_t *row = j->u + m * p->ldu;
            if (p->hybrid) {
                qlite_hybrid_apply((const float *)j->x + m * K, K, su, zu, row);
                j->su[m] = su;
                j->zu[m] = zu;
            } else {
                const uint8_t *xr = (const uint8_t *)j->x + m * K;
                for (size_t k = 0; k < K; k++) row[k] = xr[k] ^ p->flip;
            }
            for (size_t k = K; k < p->ldu; k++) row[k] = 0;
        }
    }
}

static void make_u_range(void *arg, size_t begin, size_t end) { make_u(arg, begin, end); }

/* 3. output stage of row m, columns [n0, n1): sums at acc[n * stride]. */
static void output_row(const q8_job *j, size_t m, size_t n0, size_t n1, const int32_t *acc,
                       size_t stride) {
    const qlite_spmm_q8 *p = j->p;
    if (p->hybrid) {
        float *yr = (float *)j->y + m * p->N;
        int32_t *yi = (int32_t *)(void *)yr; /* the sums, then the floats in place */
        for (size_t n = n0; n < n1; n++) yi[n] = acc[n * stride];
        qlite_hybrid_finish(p->hc, n0, n1, j->su[m], j->zu[m], yi, yr);
    } else {
        j->k->out_bytes(p->cols, n0, n1, acc, stride, (uint8_t *)j->y + m * p->N);
    }
}

static void compute_range(void *arg, size_t begin, size_t end) {
    const q8_job *j = arg;
    const qlite_spmm_q8 *p = j->p;
    const qlite_spw *w = p->w;
    const q8_parts s = parts_of(p);
    const size_t T = j->threads;
    for (size_t t = begin; t < end; t++) {
        uint8_t *base = j->scratch + t * p->thread_bytes;
        int8_t *vbuf = (int8_t *)(base + s.vbuf);
        uint8_t *panel = base + s.panel;
        int32_t *acc = (int32_t *)(void *)(base + s.acc);
        size_t p0 = 0, p1 = j->panels, n0 = 0, n1 = p->N;
        if (j->split_panels) {
            qlite_nn_split(j->panels, T, t, &p0, &p1);
        } else if (!p->transposed) {
            size_t r0, r1;
            qlite_spw_split_rows(w, T, t, &r0, &r1);
            n0 = r0 * w->br;
            n1 = r1 * w->br;
        } else if (w->C >= T) {
            size_t c0, c1;
            qlite_nn_split(w->C, T, t, &c0, &c1);
            n0 = c0 * w->bc;
            n1 = c1 * w->bc;
        } else {
            qlite_nn_split(p->N, T, t, &n0, &n1);
        }
        if (p->M == 1) {
            if (!p->transposed) j->k->rows_m1(w, p->zw, j->u, n0 / w->br, n1 / w->br, vbuf,
                                              acc + n0);
            else j->k->cols_m1(w, p->zw, j->u, n0, n1, vbuf, acc);
            output_row(j, 0, n0, n1, acc, 1);
            continue;
        }
        for (size_t pn = p0; pn < p1; pn++) {
            const size_t m0 = pn * 8, valid = p->M - m0 < 8 ? p->M - m0 : 8;
            const uint8_t *u = j->u + m0 * p->ldu;
            if (!p->transposed && j->k->rows_panel_rm &&
                j->k->rows_panel_rm(w, p->zw, u, p->ldu, p->K, valid, n0 / w->br, n1 / w->br,
                                    vbuf, panel, acc, p->N)) {
                for (size_t l = 0; l < valid; l++) output_row(j, m0 + l, n0, n1, acc + l * p->N, 1);
                continue;
            }
            if (!p->transposed)
                j->k->rows_panel(w, p->zw, u, p->ldu, p->K, valid, n0 / w->br, n1 / w->br, vbuf,
                                 panel, acc + n0 * 8);
            else j->k->cols_panel(w, p->zw, u, p->ldu, p->K, valid, n0, n1, vbuf, panel, acc);
            for (size_t l = 0; l < valid; l++) output_row(j, m0 + l, n0, n1, acc + l, 8);
        }
    }
}

/* The readable definition: S by the formula, element by element. */
static void spmm_q8_ref(const q8_job *j) {
    const qlite_spmm_q8 *p = j->p;
    const qlite_spw *w = p->w;
    const q8_parts s = parts_of(p);
    int8_t *vbuf = (int8_t *)(j->scratch + s.vbuf);
    int32_t *acc = (int32_t *)(void *)(j->scratch + s.acc);
    for (size_t m = 0; m < p->M; m++) {
        const uint8_t *u = j->u + m * p->ldu;
        for (size_t n = 0; n < p->N; n++) acc[n] = 0;
        for (size_t r = 0; r < w->R; r++) {
            const int8_t *v = qlite_spw_row_i8(w, r, vbuf);
            for (size_t b = w->row_ptr[r]; b < w->row_ptr[r + 1]; b++) {
                const size_t c = qlite_spw_col(w, b);
                for (size_t i = 0; i < w->br; i++)
                    for (size_t jj = 0; jj < w->bc; jj++) {
                        const size_t row = r * w->br + i, col = c * w->bc + jj;
                        const size_t n = p->transposed ? col : row, k = p->transposed ? row : col;
                        acc[n] += u[k] * (*v++ - (p->zw ? p->zw[n] : 0));
                    }
            }
        }
        output_row(j, m, 0, p->N, acc, 1);
    }
}

void qlite_spmm_q8_run(const qlite_node *node, const qlite_spmm_q8 *p, const void *x, void *y,
                       void *scratch) {
    if (p->M == 0 || p->N == 0) return;
    uint8_t *sc = scratch;
    const size_t ub = up64(p->M * p->ldu), mb = up64(p->M * sizeof(int32_t));
    q8_job j = {.p = p, .k = kernels_for(p), .x = x, .y = y, .u = sc,
                .su = (float *)(void *)(sc + ub), .zu = (int32_t *)(void *)(sc + ub + mb),
                .scratch = sc + p->shared_bytes,
                .panels = p->M >= 2 ? (p->M + 7) / 8 : 1, .threads = (size_t)p->threads};
    const size_t groups = p->hybrid ? p->M / p->group_rows : p->M;
    const size_t work = (p->w->nnz * p->w->br * p->w->bc + p->N) * p->M;
    const bool par = p->threads > 1 && work >= ((size_t)1 << 16);
    if (qlite_node_reference_only(node)) {
        j.k = &qlite_spmm_q8__portable;
        make_u(&j, 0, groups);
        spmm_q8_ref(&j);
        return;
    }
    qlite_kernel_parallel(node, groups, p->K * (p->hybrid ? p->group_rows : 1) * 4, make_u_range,
                          &j);
    j.split_panels = p->M >= 2 && j.panels >= j.threads;
    if (par) {
        qlite_parallel_for(node, j.threads, compute_range, &j);
    } else {
        j.threads = 1;
        j.split_panels = false;
        compute_range(&j, 0, 1);
    }
}
