/*
 * spmm_f32.c — float32 products with stored sparse / clustered weights
 * (spmm_f32.h): the reference loops, the thread split, three builds of
 * spmm_f32_body.inc (AVX-512, AVX2 + FMA, portable) and the AVX-512 kernel
 * of 4-bit palette rows at batch 1.
 */
#include "kernels/spmm_f32.h"

#include <string.h>

#include "kernels/nn_common.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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
#define SP_ZMM 1
#include "kernels/spmm_f32_body.inc"
#undef SP_ZMM
#undef SFX
#undef SP_TARGET
#endif

/* ---- M == 1, a clustered weight that is not sparse, 4-bit indices (AVX-512) ----
 *
 * The 16 centroids (float32, or float16 widened) are one ZMM, so a weight
 * is one VPERMPS away from its index and never passes through memory: 16
 * stream bytes hold 32 indices, index 2i in byte i's low nibble and 2i + 1
 * in its high nibble. x is permuted once per call into the nibbles' order,
 * for each 32-float chunk c: xp[c + i] = x[c + 2i], xp[c + 16 + i] =
 * x[c + 2i + 1] (i < 16, zero past K), so a chunk is one 16-byte load, the
 * two nibble masks, two widenings, two VPERMPS and two FMAs; four rows
 * share each chunk of xp. K even (every row's indices start on a byte); the
 * tail chunk's stream bytes are a masked load and its weights outside K
 * are masked to 0 (no 0 x inf). Sums in another order than the dense
 * kernel's: within spmm_f32.h's tolerance.
 */
#if defined(__x86_64__) && defined(__GNUC__)
static bool pal4_f32_ok(const qlite_spmm_f32 *p) {
    const qlite_spw *w = p->w;
    return p->isa == QLITE_SPMM_AVX512 && !p->transposed && p->M == 1 && w->bits == 4 &&
           !w->sparse && w->cols % 2 == 0 && w->cols > 0;
}

#include <immintrin.h>
#define PAL4_TARGET __attribute__((target("avx512f,avx512vl,avx512bw,avx2,fma,f16c")))
#define PAL4_INL static inline __attribute__((always_inline)) PAL4_TARGET

PAL4_INL __m512 pal4_book_f32(const qlite_spw *w, size_t r) {
    if (w->book32) return _mm512_loadu_ps(w->book32);
    if (w->dtype == QLITE_DTYPE_FLOAT32)
        return _mm512_loadu_ps((const float *)w->codebook + (w->per_row ? r * 16 : 0));
    const uint16_t *h = (const uint16_t *)w->codebook + (w->per_row ? r * 16 : 0);
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)h));
}

/* One chunk (n = indices left, 1.. ; 32 or more = a whole chunk) of one row. */
PAL4_INL void pal4_f32_chunk(__m512 *a0, __m512 *a1, const uint8_t *s, size_t n, __m512 bk,
                             __m512 xlo, __m512 xhi) {
    const __m128i m = _mm_set1_epi8(0x0f);
    const __mmask16 k = n >= 32 ? (__mmask16)0xffff : (__mmask16)((1u << ((n + 1) / 2)) - 1);
    const __m128i t = n >= 32 ? _mm_loadu_si128((const __m128i *)(const void *)s)
                              : _mm_maskz_loadu_epi8(k, s);
    const __m512i lo = _mm512_cvtepu8_epi32(_mm_and_si128(t, m));
    const __m512i hi = _mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(t, 4), m));
    /* index 2i + 1 < n for lanes i < n / 2 (n even) */
    *a0 = _mm512_fmadd_ps(_mm512_maskz_permutexvar_ps(k, lo, bk), xlo, *a0);
    *a1 = _mm512_fmadd_ps(_mm512_maskz_permutexvar_ps(k, hi, bk), xhi, *a1);
}

static PAL4_TARGET void pal4_rows_f32_avx512(const qlite_spmm_f32 *p, const float *x, float *y,
                                             size_t r0, size_t r1, float *xp) {
    const qlite_spw *w = p->w;
    const size_t K = p->K, half = K / 2;
    const uint8_t *st = w->values;
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28,
                                         30);
    const __m512i od = _mm512_add_epi32(ev, _mm512_set1_epi32(1));
    for (size_t c = 0; c < K; c += 32) {
        const size_t n = K - c;
        const __mmask16 ma = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
        const __mmask16 mb = n >= 32 ? (__mmask16)0xffff
                             : n > 16 ? (__mmask16)((1u << (n - 16)) - 1) : (__mmask16)0;
        const __m512 a = _mm512_maskz_loadu_ps(ma, x + c);
        const __m512 b = _mm512_maskz_loadu_ps(mb, x + c + 16);
        _mm512_storeu_ps(xp + c, _mm512_permutex2var_ps(a, ev, b));
        _mm512_storeu_ps(xp + c + 16, _mm512_permutex2var_ps(a, od, b));
    }
    size_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        __m512 a[8], bk[4];
        for (unsigned i = 0; i < 8; i++) a[i] = _mm512_setzero_ps();
        for (unsigned i = 0; i < 4; i++) bk[i] = pal4_book_f32(w, r + i);
        const uint8_t *s = st + r * half;
        for (size_t c = 0; c < K; c += 32) {
            const __m512 xlo = _mm512_loadu_ps(xp + c), xhi = _mm512_loadu_ps(xp + c + 16);
            for (unsigned i = 0; i < 4; i++)
                pal4_f32_chunk(&a[2 * i], &a[2 * i + 1], s + i * half + c / 2, K - c, bk[i], xlo,
                               xhi);
        }
        for (unsigned i = 0; i < 4; i++) {
            const float v = _mm512_reduce_add_ps(_mm512_add_ps(a[2 * i], a[2 * i + 1])) +
                            (p->bias ? p->bias[r + i] : 0.0f);
            y[r + i] = SP_CLAMP(v, p->lo, p->hi);
        }
    }
    for (; r < r1; r++) {
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        const __m512 bk = pal4_book_f32(w, r);
        const uint8_t *s = st + r * half;
        for (size_t c = 0; c < K; c += 32)
            pal4_f32_chunk(&a0, &a1, s + c / 2, K - c, bk, _mm512_loadu_ps(xp + c),
                           _mm512_loadu_ps(xp + c + 16));
        const float v = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)) +
                        (p->bias ? p->bias[r] : 0.0f);
        y[r] = SP_CLAMP(v, p->lo, p->hi);
    }
}
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
    const size_t mv = p->w->max_row_values, k32 = (p->K + 31) / 32 * 32;
    const bool panel = p->M >= 2;
    s.vbuf = 0;
    /* values of a block row, or x permuted for the 4-bit palette rows */
    s.tmp = s.vbuf + up64((mv > k32 ? mv : k32) * sizeof(float));
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
#if defined(__x86_64__) && defined(__GNUC__)
            if (pal4_f32_ok(p)) pal4_rows_f32_avx512(p, j->x, j->y, r0, r1, vbuf);
            else
#endif
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
