/*
 * gemm_f16.c — float32 GEMM with float16 weights read in place (gemm_f16.h):
 * conversion of halves (portable, F16C, AVX-512), packing into the float
 * GEMM's panels, the small-M row kernels, threading.
 */
#include "kernels/gemm_f16.h"

#include <stdatomic.h>
#include <string.h>

#include "kernels/gemm_q8.h" /* qlite_q8_feature_limit: QLITE_MAX_ISA and the test cap */
#include "kernels/kernel_util.h"
#include "kernels/nn_common.h"

/* short copy / fill loops stay loops (gcc would call memcpy / memset) */
#if defined(__GNUC__) && !defined(__clang__)
#endif

/* ---------------------------------------------------------------- */
/* Portable row kernels                                              */
/* ---------------------------------------------------------------- */

static void convert_portable(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = qlite_fp16_to_fp32(src[i]);
}

static void dot_portable(size_t K, const float *a, size_t csa, const uint16_t *w, size_t ldw,
                         size_t n0, size_t n1, const float *bias, float *c, float lo, float hi) {
    for (size_t n = n0; n < n1; n++) {
        const uint16_t *wn = w + n * ldw;
        float acc = 0.0f;
        for (size_t k = 0; k < K; k++) acc += a[k * csa] * qlite_fp16_to_fp32(wn[k]);
        c[n] = qlite_clampf(acc + (bias ? bias[n] : 0.0f), lo, hi);
    }
}

static void axpy_portable(size_t K, const float *a, size_t csa, const uint16_t *b, size_t ldb,
                          size_t n0, size_t n1, const float *bias, float *c, float lo, float hi) {
    for (size_t n = n0; n < n1; n++) c[n] = bias ? bias[n] : 0.0f;
    for (size_t k = 0; k < K; k++) {
        const float x = a[k * csa];
        const uint16_t *bk = b + k * ldb;
        for (size_t n = n0; n < n1; n++) c[n] += x * qlite_fp16_to_fp32(bk[n]);
    }
    for (size_t n = n0; n < n1; n++) c[n] = qlite_clampf(c[n], lo, hi);
}

static const qlite_gemm_f16_rowk rowk_portable = {
    .name = "qlite_f16w_gemm_row__portable", .dot = dot_portable, .axpy = axpy_portable,
    .convert = convert_portable};

/* ---------------------------------------------------------------- */
/* x86: F16C (+ AVX2, FMA) and AVX-512F                              */
/* ---------------------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__)
#define F16_X86 1
#include <cpuid.h>
#include <immintrin.h>

#define AF16 __attribute__((target("avx2,fma,f16c")))
#define A512F __attribute__((target("avx2,fma,f16c,avx512f")))

AF16 static inline __m256 ld8h(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

AF16 static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AF16 static void convert_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, ld8h(src + i));
    for (; i < n; i++) dst[i] = qlite_fp16_to_fp32(src[i]);
}

/* Four weight rows share each load of A; two accumulators per row. */
AF16 static void dot_f16c(size_t K, const float *a, size_t csa, const uint16_t *w, size_t ldw,
                          size_t n0, size_t n1, const float *bias, float *c, float lo, float hi) {
    const size_t K16 = csa == 1 ? K / 16 * 16 : 0;
    for (size_t n = n0; n < n1; n += 4) {
        const size_t rows = n1 - n < 4 ? n1 - n : 4;
        const uint16_t *wr[4];
        for (size_t r = 0; r < 4; r++) wr[r] = w + (n + (r < rows ? r : 0)) * ldw;
        __m256 s0[4], s1[4];
        for (size_t r = 0; r < 4; r++) s0[r] = s1[r] = _mm256_setzero_ps();
        for (size_t k = 0; k < K16; k += 16) {
            const __m256 x0 = _mm256_loadu_ps(a + k), x1 = _mm256_loadu_ps(a + k + 8);
            for (size_t r = 0; r < 4; r++) {
                s0[r] = _mm256_fmadd_ps(x0, ld8h(wr[r] + k), s0[r]);
                s1[r] = _mm256_fmadd_ps(x1, ld8h(wr[r] + k + 8), s1[r]);
            }
        }
        for (size_t r = 0; r < rows; r++) {
            float out = hsum8(_mm256_add_ps(s0[r], s1[r]));
            for (size_t k = K16; k < K; k++) out += a[k * csa] * qlite_fp16_to_fp32(wr[r][k]);
            c[n + r] = qlite_clampf(out + (bias ? bias[n + r] : 0.0f), lo, hi);
        }
    }
}

/* Blocks of 32 columns of C in registers over the whole K loop. */
AF16 static void axpy_f16c(size_t K, const float *a, size_t csa, const uint16_t *b, size_t ldb,
                           size_t n0, size_t n1, const float *bias, float *c, float lo,
                           float hi) {
    size_t n = n0;
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    for (; n + 32 <= n1; n += 32) {
        __m256 acc[4];
        for (size_t v = 0; v < 4; v++)
            acc[v] = bias ? _mm256_loadu_ps(bias + n + 8 * v) : _mm256_setzero_ps();
        for (size_t k = 0; k < K; k++) {
            const __m256 x = _mm256_set1_ps(a[k * csa]);
            const uint16_t *bk = b + k * ldb + n;
            for (size_t v = 0; v < 4; v++) acc[v] = _mm256_fmadd_ps(x, ld8h(bk + 8 * v), acc[v]);
        }
        /* max/min return their second operand on NaN: a NaN sum passes, like qlite_clampf */
        for (size_t v = 0; v < 4; v++)
            _mm256_storeu_ps(c + n + 8 * v, _mm256_min_ps(vhi, _mm256_max_ps(vlo, acc[v])));
    }
    if (n < n1) axpy_portable(K, a, csa, b, ldb, n, n1, bias, c, lo, hi);
}

static const qlite_gemm_f16_rowk rowk_f16c = {
    .name = "qlite_f16w_gemm_row__avx2_f16c", .dot = dot_f16c, .axpy = axpy_f16c,
    .convert = convert_f16c};

A512F static inline __m512 ld16h(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

A512F static void convert_avx512(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, ld16h(src + i));
    if (i < n) convert_f16c(src + i, dst + i, n - i);
}

A512F static void dot_avx512(size_t K, const float *a, size_t csa, const uint16_t *w, size_t ldw,
                             size_t n0, size_t n1, const float *bias, float *c, float lo,
                             float hi) {
    const size_t K32 = csa == 1 ? K / 32 * 32 : 0;
    for (size_t n = n0; n < n1; n += 4) {
        const size_t rows = n1 - n < 4 ? n1 - n : 4;
        const uint16_t *wr[4];
        for (size_t r = 0; r < 4; r++) wr[r] = w + (n + (r < rows ? r : 0)) * ldw;
        __m512 s0[4], s1[4];
        for (size_t r = 0; r < 4; r++) s0[r] = s1[r] = _mm512_setzero_ps();
        for (size_t k = 0; k < K32; k += 32) {
            const __m512 x0 = _mm512_loadu_ps(a + k), x1 = _mm512_loadu_ps(a + k + 16);
            for (size_t r = 0; r < 4; r++) {
                s0[r] = _mm512_fmadd_ps(x0, ld16h(wr[r] + k), s0[r]);
                s1[r] = _mm512_fmadd_ps(x1, ld16h(wr[r] + k + 16), s1[r]);
            }
        }
        for (size_t r = 0; r < rows; r++) {
            float out = _mm512_reduce_add_ps(_mm512_add_ps(s0[r], s1[r]));
            for (size_t k = K32; k < K; k++) out += a[k * csa] * qlite_fp16_to_fp32(wr[r][k]);
            c[n + r] = qlite_clampf(out + (bias ? bias[n + r] : 0.0f), lo, hi);
        }
    }
}

A512F static void axpy_avx512(size_t K, const float *a, size_t csa, const uint16_t *b,
                              size_t ldb, size_t n0, size_t n1, const float *bias, float *c,
                              float lo, float hi) {
    size_t n = n0;
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    for (; n + 64 <= n1; n += 64) {
        __m512 acc[4];
        for (size_t v = 0; v < 4; v++)
            acc[v] = bias ? _mm512_loadu_ps(bias + n + 16 * v) : _mm512_setzero_ps();
        for (size_t k = 0; k < K; k++) {
            const __m512 x = _mm512_set1_ps(a[k * csa]);
            const uint16_t *bk = b + k * ldb + n;
            for (size_t v = 0; v < 4; v++) acc[v] = _mm512_fmadd_ps(x, ld16h(bk + 16 * v), acc[v]);
        }
        for (size_t v = 0; v < 4; v++)
            _mm512_storeu_ps(c + n + 16 * v, _mm512_min_ps(vhi, _mm512_max_ps(vlo, acc[v])));
    }
    if (n < n1) axpy_f16c(K, a, csa, b, ldb, n, n1, bias, c, lo, hi);
}

static const qlite_gemm_f16_rowk rowk_avx512 = {
    .name = "qlite_f16w_gemm_row__avx512f", .dot = dot_avx512, .axpy = axpy_avx512,
    .convert = convert_avx512};
#endif

static const qlite_gemm_f16_rowk *const all_rowks[] = {
    &rowk_portable,
#ifdef F16_X86
    &rowk_f16c,
    &rowk_avx512,
#endif
};

/* 0 portable, 1 AVX2+FMA+F16C, 2 + AVX-512F; detected once. */
static int cpu_level(void) {
    static _Atomic int cached = -1;
    int level = atomic_load_explicit(&cached, memory_order_relaxed);
    if (level >= 0) return level;
    level = 0;
#ifdef F16_X86
    __builtin_cpu_init();
    unsigned eax, ebx, ecx, edx;
    const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx >> 29 & 1);
    if (f16c && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        level = 1;
        if (__builtin_cpu_supports("avx512f")) level = 2;
    }
#endif
    atomic_store_explicit(&cached, level, memory_order_relaxed);
    return level;
}

const qlite_gemm_f16_rowk *const *qlite_gemm_f16_rowks(size_t *count) {
    *count = QLITE_ARRAY_SIZE(all_rowks);
    return all_rowks;
}

bool qlite_gemm_f16_runnable(const qlite_gemm_f16_rowk *k) {
    const int level = cpu_level();
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(all_rowks); i++)
        if (all_rowks[i] == k) return (int)i <= level;
    return false;
}

const qlite_gemm_f16_rowk *qlite_gemm_f16_rowk_select(void) {
    /* within QLITE_MAX_ISA and the test cap (gemm_q8.h) */
    const unsigned limit = qlite_q8_feature_limit();
    int level = cpu_level();
    if (level >= 2 && !(limit & QLITE_Q8_F_AVX512)) level = 1;
    if (level >= 1 && !(limit & QLITE_Q8_F_AVX2)) level = 0;
    return all_rowks[(size_t)level < QLITE_ARRAY_SIZE(all_rowks) ? level : 0];
}

void qlite_f16_to_f32_row(const uint16_t *src, float *dst, size_t n) {
    qlite_gemm_f16_rowk_select()->convert(src, dst, n);
}

/* ---------------------------------------------------------------- */
/* Packing and the GEMM                                              */
/* ---------------------------------------------------------------- */

void qlite_gemm_f16_pack_b(const qlite_gemm_f32_ukernel *uk, size_t K, size_t N,
                           const uint16_t *b, size_t ldb, bool b_trans, size_t p0, size_t p1,
                           float *packed) {
    const qlite_gemm_f16_rowk *rk = qlite_gemm_f16_rowk_select();
    const size_t nr = uk->nr;
    float buf[256];
    for (size_t p = p0; p < p1; p++) {
        float *dst = packed + p * K * nr;
        const size_t n0 = p * nr, cols = N - n0 < nr ? N - n0 : nr;
        if (b_trans) {
            /* W [N, K]: a weight row converted in chunks, written as a column */
            for (size_t j = 0; j < cols; j++) {
                const uint16_t *w = b + (n0 + j) * ldb;
                for (size_t k0 = 0; k0 < K; k0 += 256) {
                    const size_t n = K - k0 < 256 ? K - k0 : 256;
                    rk->convert(w + k0, buf, n);
                    for (size_t k = 0; k < n; k++) dst[(k0 + k) * nr + j] = buf[k];
                }
            }
            for (size_t j = cols; j < nr; j++)
                for (size_t k = 0; k < K; k++) dst[k * nr + j] = 0.0f;
        } else {
            for (size_t k = 0; k < K; k++) {
                float *d = dst + k * nr;
                rk->convert(b + k * ldb + n0, d, cols);
                for (size_t j = cols; j < nr; j++) d[j] = 0.0f;
            }
        }
    }
}

/* The packed B (or its O16 copy), then from a 64-byte boundary the fast
 * half GEMM's widening buffers. */
static size_t wbuf_offset(const qlite_gemm_f32_ukernel *uk, size_t M, size_t N, size_t K) {
    return (qlite_gemm_f32_scratch_bytes(uk, M, N, K) + 63) / 64 * 64;
}

size_t qlite_gemm_f16w_scratch_bytes(const qlite_gemm_f32_ukernel *uk, size_t M, size_t N,
                                     size_t K, size_t threads) {
    const size_t wb = qlite_gemm_f16_wbuf_bytes(M, threads);
    return wb ? wbuf_offset(uk, M, N, K) + wb : qlite_gemm_f32_scratch_bytes(uk, M, N, K);
}

#define SMALL_COLS 64

typedef struct f16_job {
    const qlite_gemm_f32_ukernel *uk;
    const qlite_gemm_f16_rowk *rk;
    const qlite_gemm_f16w_args *g;
    float *packed;
    bool split_rows;
} f16_job;

static void small_range(void *arg, size_t begin, size_t end) {
    const f16_job *j = arg;
    const qlite_gemm_f16w_args *g = j->g;
    const size_t n0 = begin * SMALL_COLS, n1 = end * SMALL_COLS < g->N ? end * SMALL_COLS : g->N;
    for (size_t m = 0; m < g->M; m++) {
        const float *a = g->a + m * g->rsa;
        float *c = g->c + m * g->ldc;
        if (g->b_trans)
            j->rk->dot(g->K, a, g->csa, g->b, g->ldb, n0, n1, g->bias, c, g->lo, g->hi);
        else
            j->rk->axpy(g->K, a, g->csa, g->b, g->ldb, n0, n1, g->bias, c, g->lo, g->hi);
    }
}

static void pack_range(void *arg, size_t begin, size_t end) {
    const f16_job *j = arg;
    qlite_gemm_f16_pack_b(j->uk, j->g->K, j->g->N, j->g->b, j->g->ldb, j->g->b_trans, begin, end,
                          j->packed);
}

static void compute_range(void *arg, size_t begin, size_t end) {
    const f16_job *j = arg;
    const qlite_gemm_f16w_args *g = j->g;
    const size_t mr = j->uk->mr, nr = j->uk->nr;
    if (j->split_rows) {
        const size_t m0 = begin * mr, m1 = end * mr < g->M ? end * mr : g->M;
        qlite_gemm_f32_packed(j->uk, m1 - m0, g->N, g->K, g->a + m0 * g->rsa, g->rsa, g->csa,
                              j->packed, g->bias, g->c + m0 * g->ldc, g->ldc, g->lo, g->hi);
    } else {
        const size_t n0 = begin * nr, n1 = end * nr < g->N ? end * nr : g->N;
        qlite_gemm_f32_packed(j->uk, g->M, n1 - n0, g->K, g->a, g->rsa, g->csa,
                              j->packed + n0 * g->K, g->bias ? g->bias + n0 : NULL, g->c + n0,
                              g->ldc, g->lo, g->hi);
    }
}

/*
 * M >= 4 rows, A's columns contiguous, a CPU with the fast half GEMM
 * (gemm_f16_avx512.c): B's halves copied into O16 in scratch (bit copies),
 * then that GEMM, on the node's threads (node NULL: this thread). Taken
 * under the condition on which qlite_gemm_f32_run packs a float B into O16
 * for its fast GEMM (the O16 copy fits the floats of uk's panels), so the
 * sums stay those of the float32 GEMM on the widened weights. False:
 * nothing done.
 */
static bool run_o16_fast(const qlite_node *node, const qlite_gemm_f32_ukernel *uk,
                         const qlite_gemm_f16w_args *g, float *scratch) {
    if (g->csa != 1 || g->M < QLITE_GEMM_F32_SMALL_M || !qlite_gemm_f16_o16_fast() ||
        qlite_gemm_o16_elems(g->K, g->N) > qlite_gemm_f32_packed_size(uk, g->K, g->N))
        return false;
    uint16_t *w16 = (uint16_t *)(void *)scratch;
    qlite_gemm_o16_pack_f16(g->K, g->N, g->b, g->ldb, g->b_trans, w16);
    const qlite_gemm_f32_args a = {.M = g->M, .N = g->N, .K = g->K, .a = g->a, .rsa = g->rsa,
                                   .csa = 1, .bias = g->bias, .c = g->c, .ldc = g->ldc,
                                   .lo = g->lo, .hi = g->hi};
    const size_t threads = node ? (size_t)qlite_node_threads(node) : 1;
    float *wbuf = qlite_gemm_f16_wbuf_bytes(g->M, threads)
                      ? (float *)(void *)((char *)scratch + wbuf_offset(uk, g->M, g->N, g->K))
                      : NULL;
    return qlite_gemm_f16_run_o16_fast(node, &a, w16, wbuf);
}

void qlite_gemm_f16w_run(const qlite_node *node, const qlite_gemm_f32_ukernel *uk,
                         const qlite_gemm_f16w_args *g, float *scratch) {
    if (g->M == 0 || g->N == 0) return;
    if (run_o16_fast(node, uk, g, scratch)) return;
    f16_job j = {.uk = uk, .rk = qlite_gemm_f16_rowk_select(), .g = g, .packed = scratch};
    if (g->M < QLITE_GEMM_F32_SMALL_M) {
        qlite_kernel_parallel(node, (g->N + SMALL_COLS - 1) / SMALL_COLS, SMALL_COLS * g->K * g->M,
                              small_range, &j);
        return;
    }
    const size_t panels = (g->N + uk->nr - 1) / uk->nr, row_tiles = (g->M + uk->mr - 1) / uk->mr;
    qlite_kernel_parallel(node, panels, uk->nr * g->K, pack_range, &j);
    const size_t threads = (size_t)qlite_node_threads(node);
    j.split_rows = row_tiles >= 2 * threads || row_tiles >= panels;
    const size_t items = j.split_rows ? row_tiles : panels;
    qlite_kernel_parallel(node, items, g->M * g->N * g->K / items, compute_range, &j);
}

void qlite_gemm_f16w_serial(const qlite_gemm_f32_ukernel *uk, const qlite_gemm_f16w_args *g,
                            float *scratch) {
    if (g->M == 0 || g->N == 0) return;
    if (run_o16_fast(NULL, uk, g, scratch)) return;
    f16_job j = {.uk = uk, .rk = qlite_gemm_f16_rowk_select(), .g = g, .packed = scratch};
    if (g->M < QLITE_GEMM_F32_SMALL_M) {
        small_range(&j, 0, (g->N + SMALL_COLS - 1) / SMALL_COLS);
        return;
    }
    qlite_gemm_f16_pack_b(uk, g->K, g->N, g->b, g->ldb, g->b_trans, 0, (g->N + uk->nr - 1) / uk->nr,
                          scratch);
    qlite_gemm_f32_packed(uk, g->M, g->N, g->K, g->a, g->rsa, g->csa, scratch, g->bias, g->c,
                          g->ldc, g->lo, g->hi);
}

/* ---------------------------------------------------------------- */
/* O16 halves, widened once per block (qlite_gemm_f16_o16_*)          */
/* ---------------------------------------------------------------- */

/* Reduction steps per pass: gemm_f32.c's k_block (the whole K for a few
 * rows, else QLITE_GEMM_F16_O16_KC), from all M rows of the GEMM. */
static size_t o16h_kblock(const qlite_gemm_f32_ukernel *uk, size_t M, size_t K) {
    return M * 4 <= uk->mr && K > 0 ? K : QLITE_GEMM_F16_O16_KC;
}

/*
 * Rows [m0, m1) x panels [p0, p1) of C, kb steps per pass: per (pass, block
 * of MC rows, panel) the kc x 16 halves are widened into an L1 buffer once,
 * then the float tile (or row) kernel runs over the block's row tiles with
 * it (A's block of MC rows stays in L2 across the panels, as in gemm_f32.c).
 * Per element this is packed_any's order (passes in K order, the same tile /
 * row choice per row tile), so the same sums.
 */
#define O16H_MC_TILES 16
static void o16h_block(const qlite_gemm_f32_ukernel *uk, const qlite_gemm_f32_args *g,
                       const uint16_t *packed, size_t kb, size_t m0, size_t m1, size_t p0,
                       size_t p1) {
    float buf[QLITE_GEMM_F16_O16_KC * 16] __attribute__((aligned(64)));
    float bias_pad[16];
    const size_t mr = uk->mr, mc = mr * O16H_MC_TILES;
    for (size_t k0 = 0;; k0 += kb) {
        const size_t kc = g->K - k0 < kb ? g->K - k0 : kb;
        const unsigned mode = (k0 > 0 ? QLITE_GEMM_LOAD_C : 0u) |
                              (k0 + kc >= g->K ? QLITE_GEMM_CLAMP : 0u);
        for (size_t mb = m0; mb < m1; mb += mc) {
            const size_t me = m1 - mb < mc ? m1 : mb + mc;
            for (size_t p = p0; p < p1; p++) {
                const size_t n0 = p * 16, cols = g->N - n0 < 16 ? g->N - n0 : 16;
                const uint16_t *src = packed + n0 * g->K + k0 * 16;
                const float *pb = NULL;
                if (g->bias && cols == 16) {
                    pb = g->bias + n0;
                } else if (g->bias) {
                    memset(bias_pad, 0, sizeof bias_pad);
                    memcpy(bias_pad, g->bias + n0, cols * sizeof(float));
                    pb = bias_pad;
                }
                if (kc > QLITE_GEMM_F16_O16_KC) { /* a few rows over a long K: no reuse */
                    for (size_t m = mb; m < me; m++)
                        uk->row_h(kc, g->a + m * g->rsa + k0 * g->csa, g->csa, src,
                                  g->c + m * g->ldc + n0, cols, pb, mode, g->lo, g->hi);
                    continue;
                }
                qlite_f16_to_f32_row(src, buf, kc * 16);
                for (size_t m = mb; m < me; m += mr) {
                    const size_t rows = me - m < mr ? me - m : mr;
                    const float *a = g->a + m * g->rsa + k0 * g->csa;
                    float *c = g->c + m * g->ldc + n0;
                    if (rows * 4 <= mr) {
                        for (size_t r = 0; r < rows; r++)
                            uk->row(kc, a + r * g->rsa, g->csa, buf, c + r * g->ldc, cols, pb,
                                    mode, g->lo, g->hi);
                    } else {
                        uk->tile(kc, a, g->rsa, g->csa, rows, buf, c, g->ldc, cols, pb, mode,
                                 g->lo, g->hi);
                    }
                }
            }
        }
        if (k0 + kc >= g->K) break;
    }
}

void qlite_gemm_f16_o16_serial(const qlite_gemm_f32_ukernel *uk, const qlite_gemm_f32_args *g,
                               const uint16_t *packed, float *wbuf) {
    if (g->M == 0 || g->N == 0) return;
    if (qlite_gemm_f16_run_o16_fast(NULL, g, packed, wbuf)) return;
    o16h_block(uk, g, packed, o16h_kblock(uk, g->M, g->K), 0, g->M, 0, (g->N + 15) / 16);
}

typedef struct o16h_job {
    const qlite_gemm_f32_ukernel *uk;
    const qlite_gemm_f32_args *g;
    const uint16_t *packed;
    size_t kb;
    bool split_rows;
} o16h_job;

static void o16h_range(void *arg, size_t begin, size_t end) {
    const o16h_job *j = arg;
    const qlite_gemm_f32_args *g = j->g;
    if (j->split_rows) {
        const size_t mr = j->uk->mr, m1 = end * mr < g->M ? end * mr : g->M;
        o16h_block(j->uk, g, j->packed, j->kb, begin * mr, m1, 0, (g->N + 15) / 16);
    } else {
        o16h_block(j->uk, g, j->packed, j->kb, 0, g->M, begin, end);
    }
}

void qlite_gemm_f16_o16_run(const qlite_node *node, const qlite_gemm_f32_ukernel *uk,
                            const qlite_gemm_f32_args *g, const uint16_t *packed, float *wbuf) {
    if (g->M == 0 || g->N == 0) return;
    if (qlite_gemm_f16_run_o16_fast(node, g, packed, wbuf)) return;
    const size_t panels = (g->N + 15) / 16, row_tiles = (g->M + uk->mr - 1) / uk->mr;
    const size_t threads = (size_t)qlite_node_threads(node);
    o16h_job j = {.uk = uk, .g = g, .packed = packed, .kb = o16h_kblock(uk, g->M, g->K),
                  .split_rows = row_tiles >= 2 * threads || row_tiles >= panels};
    const size_t items = j.split_rows ? row_tiles : panels;
    qlite_kernel_parallel(node, items, g->M * g->N * g->K / items, o16h_range, &j);
}
