/*
 * spmm_f32.c — float32 products with stored sparse / clustered weights
 * (spmm_f32.h): the reference loops, the thread split and three builds of
 * spmm_f32_body.inc (AVX-512, AVX2 + FMA, portable).
 */
#include "kernels/spmm_f32.h"

#include <string.h>

#include "kernels/nn_common.h"

/* clamp(v, lo, hi) (a macro: GCC will not inline a header function into
 * functions of another target) */
#define SP_CLAMP(v, lo, hi) ((v) < (lo) ? (lo) : ((v) > (hi) ? (hi) : (v)))

typedef float sp_v8 __attribute__((vector_size(32)));
typedef float sp_v8a __attribute__((vector_size(32)));
typedef float sp_v4 __attribute__((vector_size(16)));
/* (macros: passing these vectors by value changes the ABI between ISAs) */
#define SP_LD8(v, p) memcpy(&(v), (p), sizeof(sp_v8))
#define SP_LD4(v, p) memcpy(&(v), (p), sizeof(sp_v4))
#define SP_HSUM8(v) (((v)[0] + (v)[4]) + ((v)[1] + (v)[5])) + (((v)[2] + (v)[6]) + ((v)[3] + (v)[7]))

/* Block column of stored block b for an index width cb known at compile
 * time after inlining (0: a dense row, column 0). */
static inline __attribute__((always_inline)) size_t col_at(const void *col, size_t b,
                                                           const unsigned cb) {
    switch (cb) {
    case 1: return ((const uint8_t *)col)[b];
    case 2: return ((const uint16_t *)col)[b];
    case 4: return ((const uint32_t *)col)[b];
    default: return 0;
    }
}

typedef struct sp_f32_kernels {
    void (*rows_m1)(const qlite_spmm_f32 *p, const float *x, float *y, size_t r0, size_t r1,
                    float *vbuf, uint16_t *tmp);
    void (*rows_panel)(const qlite_spmm_f32 *p, const float *x, float *y, size_t p0, size_t p1,
                       size_t r0, size_t r1, float *vbuf, uint16_t *tmp, float *xt, float *accs);
    void (*cols_m1)(const qlite_spmm_f32 *p, const float *x, float *y, size_t n0, size_t n1,
                    float *vbuf, uint16_t *tmp);
    void (*cols_panel)(const qlite_spmm_f32 *p, const float *x, float *y, size_t p0, size_t p1,
                       size_t n0, size_t n1, float *vbuf, uint16_t *tmp, float *xt, float *yt);
} sp_f32_kernels;

#define SFX(name) name##_portable
#define SP_TARGET
#include "kernels/spmm_f32_body.inc"
#undef SFX
#undef SP_TARGET

#if defined(__x86_64__) && defined(__GNUC__)
#define SFX(name) name##_avx2
#define SP_TARGET __attribute__((target("avx2,fma")))
#include "kernels/spmm_f32_body.inc"
#undef SFX
#undef SP_TARGET

#define SFX(name) name##_avx512
#define SP_TARGET __attribute__((target("avx512f,avx512vl,avx512bw,avx2,fma")))
#include "kernels/spmm_f32_body.inc"
#undef SFX
#undef SP_TARGET
#endif

static const sp_f32_kernels *kernels_for(unsigned isa) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (isa == QLITE_SPMM_AVX512) return &kernels_avx512;
    if (isa == QLITE_SPMM_AVX2) return &kernels_avx2;
#else
    (void)isa;
#endif
    return &kernels_portable;
}

/* ---- scratch: per thread [values][halves][x panel][y panel][block accumulators] ---- */

static size_t up64(size_t n) { return (n + 63) / 64 * 64; }

typedef struct sp_parts {
    size_t vbuf, tmp, xt, yt, accs, total;
} sp_parts;

static sp_parts parts_of(const qlite_spmm_f32 *p) {
    sp_parts s;
    const size_t mv = p->w->max_row_values;
    const bool panel = p->M >= 2;
    s.vbuf = 0;
    s.tmp = s.vbuf + up64(mv * sizeof(float));
    s.xt = s.tmp + up64(mv * sizeof(uint16_t));
    s.yt = s.xt + (panel ? up64(p->K * 8 * sizeof(float)) : 0);
    s.accs = s.yt + (panel && p->transposed ? up64(p->N * 8 * sizeof(float)) : 0);
    s.total = s.accs + (panel ? up64(p->w->br * 8 * sizeof(float)) : 0);
    return s;
}

qlite_status qlite_spmm_f32_init(qlite_node *node, qlite_spmm_f32 *p) {
    const qlite_spw *w = p->w;
    const size_t wn = p->transposed ? w->cols : w->rows, wk = p->transposed ? w->rows : w->cols;
    if (wn != p->N || wk != p->K)
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "sparse weights [%zu, %zu] do not fit %zu outputs x %zu inputs",
                                w->rows, w->cols, p->N, p->K);
    if (w->dtype != QLITE_DTYPE_FLOAT32 && w->dtype != QLITE_DTYPE_FLOAT16)
        return qlite_node_error(node, QLITE_ERR_DTYPE, "float kernel with %s weights",
                                qlite_dtype_name(w->dtype));
    /* every scratch size below stays far from overflow */
    if (p->K > SIZE_MAX / 64 || p->N > SIZE_MAX / 64 || w->max_row_values > SIZE_MAX / 16 ||
        w->br > SIZE_MAX / 64)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "sparse product too large");
    p->isa = qlite_spmm_isa();
    p->threads = qlite_node_threads(node);
    p->thread_bytes = parts_of(p).total;
    if (p->thread_bytes > SIZE_MAX / 2 / (size_t)p->threads)
        return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "sparse product scratch too large");
    return QLITE_OK;
}

size_t qlite_spmm_f32_scratch_bytes(const qlite_spmm_f32 *p) {
    return p->thread_bytes * (size_t)p->threads;
}

/* ---- the readable definition ---- */

static void spmm_f32_ref(const qlite_spmm_f32 *p, const float *x, float *y, void *scratch) {
    const qlite_spw *w = p->w;
    const sp_parts s = parts_of(p);
    float *vbuf = (float *)(void *)((uint8_t *)scratch + s.vbuf);
    uint16_t *tmp = (uint16_t *)(void *)((uint8_t *)scratch + s.tmp);
    for (size_t m = 0; m < p->M; m++)
        for (size_t n = 0; n < p->N; n++) y[m * p->N + n] = p->bias ? p->bias[n] : 0.0f;
    for (size_t r = 0; r < w->R; r++) {
        const float *v = qlite_spw_row_f32(w, r, vbuf, tmp);
        for (size_t b = w->row_ptr[r]; b < w->row_ptr[r + 1]; b++) {
            const size_t c = qlite_spw_col(w, b);
            for (size_t i = 0; i < w->br; i++)
                for (size_t j = 0; j < w->bc; j++) {
                    const float wv = *v++;
                    const size_t row = r * w->br + i, col = c * w->bc + j;
                    const size_t n = p->transposed ? col : row, k = p->transposed ? row : col;
                    for (size_t m = 0; m < p->M; m++) y[m * p->N + n] += x[m * p->K + k] * wv;
                }
        }
    }
    for (size_t i = 0; i < p->M * p->N; i++) y[i] = SP_CLAMP(y[i], p->lo, p->hi);
}

/* ---- threads ---- */

typedef struct sp_job {
    const qlite_spmm_f32 *p;
    const sp_f32_kernels *k;
    const float *x;
    float *y;
    uint8_t *scratch;
    size_t panels;
    bool split_panels;
} sp_job;

static void run_range(void *arg, size_t begin, size_t end) {
    const sp_job *j = arg;
    const qlite_spmm_f32 *p = j->p;
    const sp_parts s = parts_of(p);
    const size_t T = (size_t)p->threads;
    for (size_t t = begin; t < end; t++) {
        uint8_t *base = j->scratch + t * p->thread_bytes;
        float *vbuf = (float *)(void *)(base + s.vbuf), *xt = (float *)(void *)(base + s.xt);
        float *yt = (float *)(void *)(base + s.yt), *accs = (float *)(void *)(base + s.accs);
        uint16_t *tmp = (uint16_t *)(void *)(base + s.tmp);
        size_t p0 = 0, p1 = j->panels;
        if (j->split_panels) qlite_nn_split(j->panels, T, t, &p0, &p1);
        if (!p->transposed) {
            size_t r0 = 0, r1 = p->w->R;
            if (!j->split_panels) qlite_spw_split_rows(p->w, T, t, &r0, &r1);
            if (p->M == 1) j->k->rows_m1(p, j->x, j->y, r0, r1, vbuf, tmp);
            else j->k->rows_panel(p, j->x, j->y, p0, p1, r0, r1, vbuf, tmp, xt, accs);
        } else {
            size_t n0 = 0, n1 = p->N;
            if (!j->split_panels) {
                if (p->w->C >= T) {
                    size_t c0, c1;
                    qlite_nn_split(p->w->C, T, t, &c0, &c1);
                    n0 = c0 * p->w->bc;
                    n1 = c1 * p->w->bc;
                } else {
                    qlite_nn_split(p->N, T, t, &n0, &n1);
                }
            }
            if (p->M == 1) j->k->cols_m1(p, j->x, j->y, n0, n1, vbuf, tmp);
            else j->k->cols_panel(p, j->x, j->y, p0, p1, n0, n1, vbuf, tmp, xt, yt);
        }
    }
}

void qlite_spmm_f32_run(const qlite_node *node, const qlite_spmm_f32 *p, const float *x,
                        float *y, void *scratch) {
    if (p->M == 0 || p->N == 0) return;
    if (qlite_node_reference_only(node)) {
        spmm_f32_ref(p, x, y, scratch);
        return;
    }
    sp_job j = {.p = p, .k = kernels_for(p->isa), .x = x, .y = y, .scratch = scratch,
                .panels = p->M >= 2 ? (p->M + 7) / 8 : 1};
    j.split_panels = p->M >= 2 && j.panels >= (size_t)p->threads;
    /* threads only when the work pays for them (about 2^16 multiply-adds) */
    const size_t work = (p->w->nnz * p->w->br * p->w->bc + p->N) * p->M;
    if (p->threads > 1 && work >= ((size_t)1 << 16))
        qlite_parallel_for(node, (size_t)p->threads, run_range, &j);
    else {
        sp_job one = j;
        /* one thread does everything: its ranges are the whole */
        qlite_spmm_f32 single = *p;
        single.threads = 1;
        one.p = &single;
        one.split_panels = false;
        run_range(&one, 0, 1);
    }
}
