/*
 * gemm_f32.c — float32 GEMM: ISA variants, B packing, cache blocking,
 * threading, and the readable reference (see gemm_f32.h).
 */
#include "gemm_f32.h"

#include <string.h>

#include "gemm_o16_blocks.h"
#include "gemm_q8.h" /* qlite_q8_feature_limit */
#include "kernel_util.h"
#include "nn_common.h"

_Static_assert(sizeof(float) == 4, "float32");

/* Multiply-adds contract into FMA where the target has it (clang does by
 * default; gcc's ISO C mode needs asking). */
#if defined(__GNUC__) && !defined(__clang__)
#endif
QLITE_NN_OPTIMIZE_LOOPS

/* Portable build: whatever the compiler's baseline ISA is (SSE2, NEON, ...). */
#define UK_ATTR
#define UK_SUFFIX generic_6x8
#define UK_NAME_STR "generic_6x8"
#define UK_MR 6
#define UK_VL 4
#define UK_NV 2
#include "gemm_f32_ukernel.inc"

/* Portable with 16-column panels: reads O16 weights (docs/format.md §6.2). */
#define UK_ATTR
#define UK_SUFFIX generic_4x16
#define UK_NAME_STR "generic_4x16"
#define UK_MR 4
#define UK_VL 4
#define UK_NV 4
#include "gemm_f32_ukernel.inc"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define QLITE_GEMM_X86 1
/* F16C is part of every AVX2 CPU qlite targets (x86-64-v3); the AVX2
 * variants require it, so their float16 panels convert with VCVTPH2PS. */
#define UK_ATTR __attribute__((target("avx2,fma,f16c")))
#define UK_SUFFIX avx2_8x8
#define UK_NAME_STR "avx2_8x8"
#define UK_MR 8
#define UK_VL 8
#define UK_NV 1
#define UK_LOADH _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p))
#include "gemm_f32_ukernel.inc"

#define UK_ATTR __attribute__((target("avx2,fma,f16c")))
#define UK_SUFFIX avx2_6x16
#define UK_NAME_STR "avx2_6x16"
#define UK_MR 6
#define UK_VL 8
#define UK_NV 2
#define UK_LOADH _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p))
#include "gemm_f32_ukernel.inc"

#define UK_ATTR __attribute__((target("avx512f,avx2,fma,f16c")))
#define UK_SUFFIX avx512f_12x16
#define UK_NAME_STR "avx512f_12x16"
#define UK_MR 12
#define UK_VL 16
#define UK_NV 1
#define UK_LOADH _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)p))
#include "gemm_f32_ukernel.inc"

#define UK_ATTR __attribute__((target("avx512f,avx2,fma,f16c")))
#define UK_SUFFIX avx512f_8x32
#define UK_NAME_STR "avx512f_8x32"
#define UK_MR 8
#define UK_VL 16
#define UK_NV 2
#define UK_LOADH _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)p))
#include "gemm_f32_ukernel.inc"
#endif

/* Every variant, by ISA level: 0 portable, 1 AVX2+FMA+F16C, 2 AVX-512F. */
#if defined(__aarch64__) && defined(__GNUC__)
extern const qlite_gemm_f32_ukernel qlite_f32_gemm__neon_8x8, qlite_f32_gemm__neon_6x16;
#endif
static const qlite_gemm_f32_ukernel *const all_ukernels[] = {
    &ukernel_generic_6x8,
    &ukernel_generic_4x16,
#ifdef QLITE_GEMM_X86
    &ukernel_avx2_8x8,
    &ukernel_avx2_6x16,
    &ukernel_avx512f_12x16,
    &ukernel_avx512f_8x32,
#endif
#if defined(__aarch64__) && defined(__GNUC__)
/* gemm_f32_neon.c; level 1 (the entries above are x86-only): NEON is baseline */
#define QLITE_GEMM_ARM64 1
    &qlite_f32_gemm__neon_8x8,
    &qlite_f32_gemm__neon_6x16,
#endif
};
static const int ukernel_level[] = {0, 0, 1, 1, 2, 2};

#ifdef QLITE_GEMM_X86
/* CPUID.1:ECX bit 29 (clang's __builtin_cpu_supports does not know "f16c"). */
static bool cpu_has_f16c(void) {
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
}
#endif

const qlite_gemm_f32_ukernel *const *qlite_gemm_f32_ukernels(size_t *count) {
    int level = 0;
#ifdef QLITE_GEMM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c()) {
        level = 1;
        if (__builtin_cpu_supports("avx512f")) level = 2;
    }
#endif
#ifdef QLITE_GEMM_ARM64
    level = 1;
#endif
    /* within QLITE_MAX_ISA and the tests' cap (gemm_q8.h) */
    const unsigned lim = qlite_q8_feature_limit();
    (void)lim;
#ifdef QLITE_GEMM_X86
    if (level >= 2 && !(lim & QLITE_Q8_F_AVX512)) level = 1;
    if (level >= 1 && !(lim & QLITE_Q8_F_AVX2)) level = 0;
#endif
#ifdef QLITE_GEMM_ARM64
    if (!(lim & QLITE_Q8_F_NEON)) level = 0;
#endif
    size_t n = 0;
    while (n < QLITE_ARRAY_SIZE(all_ukernels) && ukernel_level[n] <= level) n++;
    *count = n;
    return all_ukernels;
}

const qlite_gemm_f32_ukernel *qlite_gemm_f32_select(void) {
    size_t n;
    const qlite_gemm_f32_ukernel *const *all = qlite_gemm_f32_ukernels(&n);
    return all[n - 1];
}

const qlite_gemm_f32_ukernel *qlite_gemm_f32_select_o16(void) {
    size_t n;
    const qlite_gemm_f32_ukernel *const *all = qlite_gemm_f32_ukernels(&n);
    for (size_t i = n; i-- > 0;)
        if (all[i]->nr == 16) return all[i];
    return &ukernel_generic_4x16;
}

const qlite_gemm_f32_ukernel *qlite_gemm_f32_select_for(size_t N) {
    size_t n;
    const qlite_gemm_f32_ukernel *const *all = qlite_gemm_f32_ukernels(&n);
    /* Any SIMD variant the CPU runs (or the portable one when that is all
     * there is) whose panels waste the fewest of the N columns; ties go to
     * the later (wider ISA, wider panel) variant. */
    const qlite_gemm_f32_ukernel *best = all[n - 1];
    double best_eff = -1.0;
    for (size_t i = 0; i < n; i++) {
        if (n > 1 && ukernel_level[i] == 0) continue;
        const size_t nr = all[i]->nr, padded = (N + nr - 1) / nr * nr;
        const double eff = N == 0 ? 1.0 : (double)N / (double)padded;
        if (eff >= best_eff - 1e-9) {
            best_eff = eff > best_eff ? eff : best_eff;
            best = all[i];
        }
    }
    return best;
}

/* Cache blocking: a KC x NR panel block stays in L1 while MC rows of A
 * (MC x KC, in L2) sweep past it. */
#define GEMM_KC 256
#define GEMM_MC_TILES 16

size_t qlite_gemm_f32_packed_size(const qlite_gemm_f32_ukernel *uk, size_t K, size_t N) {
    return (N + uk->nr - 1) / uk->nr * uk->nr * K;
}

void qlite_gemm_f32_pack_b(const qlite_gemm_f32_ukernel *uk, size_t K, size_t N,
                           const float *b, size_t ldb, bool b_trans, size_t p0, size_t p1,
                           float *packed) {
    const size_t nr = uk->nr;
    for (size_t p = p0; p < p1; p++) {
        float *dst = packed + p * K * nr;
        const size_t n0 = p * nr, cols = N - n0 < nr ? N - n0 : nr;
        if (b_trans) {
            /* W [N, K]: read each weight row contiguously, write a column. */
            for (size_t j = 0; j < cols; j++) {
                const float *w = b + (n0 + j) * ldb;
                for (size_t k = 0; k < K; k++) dst[k * nr + j] = w[k];
            }
            for (size_t j = cols; j < nr; j++)
                for (size_t k = 0; k < K; k++) dst[k * nr + j] = 0.0f;
        } else {
            for (size_t k = 0; k < K; k++) {
                const float *src = b + k * ldb + n0;
                float *d = dst + k * nr;
                for (size_t j = 0; j < cols; j++) d[j] = src[j];
                for (size_t j = cols; j < nr; j++) d[j] = 0.0f;
            }
        }
    }
}

float *qlite_gemm_f32_prepack(qlite_node *node, const qlite_gemm_f32_ukernel *uk, size_t K,
                              size_t N, const float *b, size_t ldb, bool b_trans) {
    const size_t floats = qlite_gemm_f32_packed_size(uk, K, N);
    if (floats == 0 || floats > QLITE_GEMM_F32_PREPACK_MAX / sizeof(float)) return NULL;
    float *packed = qlite_node_alloc(node, floats * sizeof(float));
    if (packed) qlite_gemm_f32_pack_b(uk, K, N, b, ldb, b_trans, 0, (N + uk->nr - 1) / uk->nr, packed);
    return packed;
}

/*
 * Reduction steps per pass over the panels for a GEMM of M rows (all of
 * them, not one thread's share, so every split gives the same sums): a few
 * rows (each on the row kernel) stream each panel once over the whole K;
 * tiles keep GEMM_KC steps of the panel in L1/L2 across the row tiles.
 */
static size_t k_block(const qlite_gemm_f32_ukernel *uk, size_t M, size_t K) {
    return M * 4 <= uk->mr && K > 0 ? K : GEMM_KC;
}

/* qlite_gemm_f32_packed on float (half = false) or float16 panels, kb
 * reduction steps per pass (k_block). */
static void packed_any(const qlite_gemm_f32_ukernel *uk, size_t M, size_t N, size_t K,
                       const float *a, size_t rsa, size_t csa, const void *packed, bool half,
                       const float *bias, float *c, size_t ldc, float lo, float hi, size_t kb) {
    const size_t mr = uk->mr, nr = uk->nr, mc = mr * GEMM_MC_TILES, es = half ? 2 : 4;
    float bias_pad[64]; /* nr <= 64 */
    for (size_t k0 = 0;; k0 += kb) {
        const size_t kc = K - k0 < kb ? K - k0 : kb;
        const unsigned mode = (k0 > 0 ? QLITE_GEMM_LOAD_C : 0u) |
                              (k0 + kc >= K ? QLITE_GEMM_CLAMP : 0u);
        for (size_t m0 = 0; m0 < M; m0 += mc) {
            const size_t m1 = M - m0 < mc ? M : m0 + mc;
            for (size_t n0 = 0; n0 < N; n0 += nr) {
                const size_t cols = N - n0 < nr ? N - n0 : nr;
                const void *panel = (const char *)packed + (n0 * K + k0 * nr) * es;
                const float *pb = NULL;
                if (bias && cols == nr) {
                    pb = bias + n0;
                } else if (bias) {
                    memset(bias_pad, 0, sizeof bias_pad);
                    memcpy(bias_pad, bias + n0, cols * sizeof(float));
                    pb = bias_pad;
                }
                for (size_t m = m0; m < m1; m += mr) {
                    const size_t rows = m1 - m < mr ? m1 - m : mr;
                    if (rows * 4 <= mr) { /* a few rows: no duplicate rows of a tile */
                        for (size_t r = 0; r < rows; r++) {
                            if (half)
                                uk->row_h(kc, a + (m + r) * rsa + k0 * csa, csa, panel,
                                          c + (m + r) * ldc + n0, cols, pb, mode, lo, hi);
                            else
                                uk->row(kc, a + (m + r) * rsa + k0 * csa, csa, panel,
                                        c + (m + r) * ldc + n0, cols, pb, mode, lo, hi);
                        }
                        continue;
                    }
                    if (half)
                        uk->tile_h(kc, a + m * rsa + k0 * csa, rsa, csa, rows, panel,
                                   c + m * ldc + n0, ldc, cols, pb, mode, lo, hi);
                    else
                        uk->tile(kc, a + m * rsa + k0 * csa, rsa, csa, rows, panel,
                                 c + m * ldc + n0, ldc, cols, pb, mode, lo, hi);
                }
            }
        }
        if (k0 + kc >= K) break;
    }
}

void qlite_gemm_f32_packed(const qlite_gemm_f32_ukernel *uk, size_t M, size_t N, size_t K,
                           const float *a, size_t rsa, size_t csa, const float *packed,
                           const float *bias, float *c, size_t ldc, float lo, float hi) {
    packed_any(uk, M, N, K, a, rsa, csa, packed, false, bias, c, ldc, lo, hi, GEMM_KC);
}

size_t qlite_gemm_f32_scratch_bytes(const qlite_gemm_f32_ukernel *uk, size_t M, size_t N,
                                    size_t K) {
    if (M < QLITE_GEMM_F32_SMALL_M) return 0;
    return qlite_gemm_f32_packed_size(uk, K, N) * sizeof(float);
}

/* Column blocks of the small path: a multiple of every variant's blocking,
 * so a thread split never changes how a column is computed. */
#define SMALL_COLS 64

typedef struct gemm_job {
    const qlite_gemm_f32_ukernel *uk;
    const qlite_gemm_f32_args *g;
    float *packed; /* written by pack_range */
    const void *pb; /* read by compute_range */
    size_t kb;      /* reduction steps per pass (k_block; 0 = GEMM_KC) */
    bool half;      /* pb holds float16 panels */
    size_t panels, row_tiles;
    bool split_rows;
} gemm_job;

static void small_range(void *arg, size_t begin, size_t end) {
    const gemm_job *j = arg;
    const qlite_gemm_f32_args *g = j->g;
    const size_t n0 = begin * SMALL_COLS, n1 = end * SMALL_COLS < g->N ? end * SMALL_COLS : g->N;
    for (size_t m = 0; m < g->M; m++) {
        const float *a = g->a + m * g->rsa;
        float *c = g->c + m * g->ldc;
        if (g->b_trans)
            j->uk->dot(g->K, a, g->csa, g->b, g->ldb, n0, n1, g->bias, c, g->lo, g->hi);
        else
            j->uk->axpy(g->K, a, g->csa, g->b, g->ldb, n0, n1, g->bias, c, g->lo, g->hi);
    }
}

static void pack_range(void *arg, size_t begin, size_t end) {
    const gemm_job *j = arg;
    qlite_gemm_f32_pack_b(j->uk, j->g->K, j->g->N, j->g->b, j->g->ldb, j->g->b_trans, begin, end,
                          j->packed);
}

static void compute_range(void *arg, size_t begin, size_t end) {
    const gemm_job *j = arg;
    const qlite_gemm_f32_args *g = j->g;
    const size_t mr = j->uk->mr, nr = j->uk->nr, kb = j->kb ? j->kb : GEMM_KC;
    if (j->split_rows) {
        const size_t m0 = begin * mr, m1 = end * mr < g->M ? end * mr : g->M;
        packed_any(j->uk, m1 - m0, g->N, g->K, g->a + m0 * g->rsa, g->rsa, g->csa, j->pb,
                   j->half, g->bias, g->c + m0 * g->ldc, g->ldc, g->lo, g->hi, kb);
    } else {
        const size_t n0 = begin * nr, n1 = end * nr < g->N ? end * nr : g->N;
        packed_any(j->uk, g->M, n1 - n0, g->K, g->a, g->rsa, g->csa,
                   (const char *)j->pb + n0 * g->K * (j->half ? 2 : 4), j->half,
                   g->bias ? g->bias + n0 : NULL, g->c + n0, g->ldc, g->lo, g->hi, kb);
    }
}

/* Rows (or, for few rows, panels) of a packed-B GEMM split between threads. */
static void run_compute(const qlite_node *node, gemm_job *j) {
    const qlite_gemm_f32_args *g = j->g;
    j->panels = (g->N + j->uk->nr - 1) / j->uk->nr;
    j->row_tiles = (g->M + j->uk->mr - 1) / j->uk->mr;
    const size_t threads = (size_t)qlite_node_threads(node);
    j->split_rows = j->row_tiles >= 2 * threads || j->row_tiles >= j->panels;
    qlite_parallel_for(node, j->split_rows ? j->row_tiles : j->panels, compute_range, j);
}

static bool run_fast_unpacked(const qlite_node *node, const qlite_gemm_f32_ukernel *uk,
                              const qlite_gemm_f32_args *g, float *scratch);

void qlite_gemm_f32_run(const qlite_node *node, const qlite_gemm_f32_ukernel *uk,
                        const qlite_gemm_f32_args *g, float *scratch) {
    if (g->M == 0 || g->N == 0) return;
    if (run_fast_unpacked(node, uk, g, scratch)) return;
    gemm_job j = {.uk = uk, .g = g, .packed = scratch, .pb = scratch};
    if (g->M < QLITE_GEMM_F32_SMALL_M) {
        qlite_parallel_for(node, (g->N + SMALL_COLS - 1) / SMALL_COLS, small_range, &j);
        return;
    }
    qlite_parallel_for(node, (g->N + uk->nr - 1) / uk->nr, pack_range, &j);
    run_compute(node, &j);
}

void qlite_gemm_f32_run_packed(const qlite_node *node, const qlite_gemm_f32_ukernel *uk,
                               const qlite_gemm_f32_args *g, const float *packed) {
    if (g->M == 0 || g->N == 0) return;
    gemm_job j = {.uk = uk, .g = g, .pb = packed};
    run_compute(node, &j);
}

/* The fast O16 GEMM (qlite_gemm_f32_o16_fast) on the node's threads, split
 * by qlite_o16_grid_split (gemm_o16_blocks.h): by rows alone when the
 * weights are at most 512 KiB and 3x the bytes of A and C and there are at
 * least two row units a thread, else over the column-major grid.
 * MobileNetV2 float32 at 2 threads, per-op medians of 3 interleaved rounds
 * (1 / 2 threads, 40 profiled runs each), rows vs columns: the sum of op
 * medians 1T/2T 1.43 -> 1.77 (CONV_2D x1.44 -> x1.78, and the depthwise
 * convolutions after them x1.35 -> x1.78: their input now on the core that
 * reads it; the 14x14 576->96 projections x1.32 -> x1.77). Up to 2 MiB of
 * weights (also the 7x7 layers' 614 KiB - 1.6 MiB) was worse there: the
 * 7x7 960->320 and 320->1280 convolutions x1.63 -> x1.46 and x1.66 ->
 * x1.45, the 160<->960 ones x1.44-1.52 -> x1.37-1.38 (few pixels: the
 * weights outweigh the activations). Weights over 3x A and C: ResNet-18's
 * 7x7 256->512 downsample (512 KiB of weights, 150 KiB of A and C) took
 * 0.128-0.133 ms at 2 threads split by rows, 0.101-0.110 by columns (4
 * interleaved rounds); its 28x28 64->128 one (32 KiB) 0.096-0.104 by rows,
 * 0.126-0.140 by columns; MobileNetV2's 7x7 576->160 (368 KiB, 144 KiB)
 * about the same either way. */
typedef struct fast_job {
    qlite_gemm_o16_fn fn;         /* A a matrix (g->a, g->rsa) */
    qlite_gemm_o16_ind_fn ind_fn; /* or runs: ind, nseg, seg */
    const qlite_gemm_f32_args *g; /* M, N, K, bias, c, ldc, lo, hi */
    const float *w16;
    const float *const *ind;
    size_t nseg, seg;
    qlite_o16_grid grid;
} fast_job;

/* Rows [m0, m1) x columns [n0, n1) of a fast job. */
static void fast_block(const fast_job *j, size_t m0, size_t m1, size_t n0, size_t n1) {
    const qlite_gemm_f32_args *g = j->g;
    if (j->ind_fn)
        j->ind_fn(m1 - m0, n1 - n0, j->nseg, j->seg, j->ind + m0 * j->nseg, j->w16 + n0 * g->K,
                  g->bias ? g->bias + n0 : NULL, g->c + m0 * g->ldc + n0, g->ldc, g->lo, g->hi);
    else
        j->fn(m1 - m0, n1 - n0, g->K, g->a + m0 * g->rsa, g->rsa, j->w16 + n0 * g->K,
              g->bias ? g->bias + n0 : NULL, g->c + m0 * g->ldc + n0, g->ldc, g->lo, g->hi);
}

static void fast_range(void *arg, size_t begin, size_t end) {
    const fast_job *j = arg;
    for (size_t u = begin; u < end;) {
        size_t m0, m1, n0, n1;
        qlite_o16_grid_block(&j->grid, &u, end, &m0, &m1, &n0, &n1);
        fast_block(j, m0, m1, n0, n1);
    }
}

static void run_fast_job(const qlite_node *node, fast_job *j) {
    const qlite_gemm_f32_args *g = j->g;
    const size_t threads = node ? (size_t)qlite_node_threads(node) : 1;
    if (threads <= 1) {
        fast_block(j, 0, g->M, 0, g->N);
        return;
    }
    j->grid = qlite_o16_grid_split(g->M, g->N, g->K, threads);
    qlite_parallel_for(node, j->grid.units, fast_range, j);
}

static bool run_fast(const qlite_node *node, const qlite_gemm_f32_args *g, const void *packed,
                     bool half) {
    qlite_gemm_o16_fn fn = half || g->csa != 1 ? NULL : qlite_gemm_f32_o16_fast();
    if (!fn) return false;
    fast_job j = {.fn = fn, .g = g, .w16 = packed};
    run_fast_job(node, &j);
    return true;
}

/* B given per call (BATCH_MATMUL, TRANSPOSE_CONV_2D, ...): packed into O16
 * in the caller's scratch (sized for uk's panels: used when O16 fits in
 * it) and multiplied by the fast GEMM; node NULL = this thread only. */
static bool run_fast_unpacked(const qlite_node *node, const qlite_gemm_f32_ukernel *uk,
                              const qlite_gemm_f32_args *g, float *scratch) {
    if (g->csa != 1 || g->M < QLITE_GEMM_F32_SMALL_M ||
        qlite_gemm_o16_elems(g->K, g->N) > qlite_gemm_f32_packed_size(uk, g->K, g->N))
        return false;
    qlite_gemm_o16_fn fn = qlite_gemm_f32_o16_fast();
    if (!fn) return false;
    gemm_job pj = {.uk = &ukernel_generic_4x16, .g = g, .packed = scratch};
    if (node)
        qlite_parallel_for(node, (g->N + 15) / 16, pack_range, &pj);
    else
        pack_range(&pj, 0, (g->N + 15) / 16);
    fast_job j = {.fn = fn, .g = g, .w16 = scratch};
    run_fast_job(node, &j);
    return true;
}

void qlite_gemm_f32_run_o16_ind(const qlite_node *node, qlite_gemm_o16_ind_fn fn, size_t M,
                                size_t N, size_t nseg, size_t seg, const float *const *ind,
                                const float *w16, const float *bias, float *c, size_t ldc,
                                float lo, float hi) {
    if (M == 0 || N == 0 || !fn) return;
    const qlite_gemm_f32_args g = {.M = M, .N = N, .K = nseg * seg, .bias = bias, .c = c,
                                   .ldc = ldc, .lo = lo, .hi = hi};
    fast_job j = {.ind_fn = fn, .g = &g, .w16 = w16, .ind = ind, .nseg = nseg, .seg = seg};
    run_fast_job(node, &j);
}

void qlite_gemm_f32_run_o16(const qlite_node *node, const qlite_gemm_f32_ukernel *uk,
                            const qlite_gemm_f32_args *g, const void *packed, bool half) {
    if (g->M == 0 || g->N == 0) return;
    if (run_fast(node, g, packed, half)) return;
    gemm_job j = {.uk = uk, .g = g, .pb = packed, .half = half, .kb = k_block(uk, g->M, g->K)};
    run_compute(node, &j);
}

void qlite_gemm_f32_o16_serial(const qlite_gemm_f32_ukernel *uk, const qlite_gemm_f32_args *g,
                               const void *packed, bool half) {
    if (g->M == 0 || g->N == 0) return;
    if (run_fast(NULL, g, packed, half)) return;
    packed_any(uk, g->M, g->N, g->K, g->a, g->rsa, g->csa, packed, half, g->bias, g->c, g->ldc,
               g->lo, g->hi, k_block(uk, g->M, g->K));
}

void qlite_gemm_o16_pack_f32(size_t K, size_t N, const float *b, size_t ldb, bool b_trans,
                             float *out) {
    qlite_gemm_f32_pack_b(&ukernel_generic_4x16, K, N, b, ldb, b_trans, 0, (N + 15) / 16, out);
}

void qlite_gemm_o16_pack_f16(size_t K, size_t N, const uint16_t *b, size_t ldb, bool b_trans,
                             uint16_t *out) {
    for (size_t p = 0; p < (N + 15) / 16; p++)
        for (size_t k = 0; k < K; k++)
            for (size_t j = 0; j < 16; j++) {
                const size_t n = p * 16 + j;
                out[(p * K + k) * 16 + j] =
                    n >= N ? 0 : b_trans ? b[n * ldb + k] : b[k * ldb + n];
            }
}

void qlite_gemm_f32_serial(const qlite_gemm_f32_ukernel *uk, const qlite_gemm_f32_args *g,
                           float *scratch) {
    if (g->M == 0 || g->N == 0) return;
    if (run_fast_unpacked(NULL, uk, g, scratch)) return;
    gemm_job j = {.uk = uk, .g = g, .packed = scratch};
    if (g->M < QLITE_GEMM_F32_SMALL_M) {
        small_range(&j, 0, (g->N + SMALL_COLS - 1) / SMALL_COLS);
        return;
    }
    qlite_gemm_f32_pack_b(uk, g->K, g->N, g->b, g->ldb, g->b_trans, 0,
                          (g->N + uk->nr - 1) / uk->nr, scratch);
    qlite_gemm_f32_packed(uk, g->M, g->N, g->K, g->a, g->rsa, g->csa, scratch, g->bias, g->c,
                          g->ldc, g->lo, g->hi);
}

void qlite_gemm_f32_ref(const qlite_gemm_f32_args *g) {
    for (size_t m = 0; m < g->M; m++) {
        for (size_t n = 0; n < g->N; n++) {
            double acc = g->bias ? g->bias[n] : 0.0;
            for (size_t k = 0; k < g->K; k++) {
                const float b = g->b_trans ? g->b[n * g->ldb + k] : g->b[k * g->ldb + n];
                acc += (double)g->a[m * g->rsa + k * g->csa] * b;
            }
            g->c[m * g->ldc + n] = qlite_clampf((float)acc, g->lo, g->hi);
        }
    }
}
