/*
 * gemm_q8.c — the int8 GEMM (gemm_q8.h): O16I4 packing, the tile and dot
 * drivers, the readable reference, the portable micro-kernel and the choice
 * of variant by CPU features. The x86 variants are in gemm_q8_x86.c.
 */
#include "gemm_q8.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "kernel_util.h"
#include "nn_common.h"

/* short copy / fill loops stay loops (gcc would call memcpy / memset) */
#if defined(__GNUC__) && !defined(__clang__)
#endif

/* ---------------------------------------------------------------- */
/* Packing                                                           */
/* ---------------------------------------------------------------- */

/* One 16-column block (rows c0 .. c0 + cols of W [N, K], or columns of B [K, N]). */
static void pack_block_portable(size_t K, const uint8_t *b, size_t ldb, bool b_trans,
                                uint8_t flip, size_t c0, size_t cols, uint8_t *dst) {
    const size_t K4 = qlite_gemm_q8_k4(K), full = K / 4;
    const uint32_t flip4 = flip * 0x01010101u;
    if (b_trans) {
        /* W [N, K]: each row's 4-byte groups land 64 bytes apart */
        for (size_t c = 0; c < cols; c++) {
            const uint8_t *src = b + (c0 + c) * ldb;
            for (size_t q = 0; q < full; q++) {
                uint32_t v;
                memcpy(&v, src + 4 * q, 4);
                v ^= flip4;
                memcpy(dst + q * 64 + c * 4, &v, 4);
            }
            for (size_t t = 0; t < 4 && full < K4 / 4; t++)
                dst[full * 64 + c * 4 + t] =
                    4 * full + t < K ? (uint8_t)(src[4 * full + t] ^ flip) : 0;
        }
    } else {
        size_t k0 = 0;
#if defined(__SSE2__)
        /* B [K, N], a full block: 4 rows of 16 bytes interleaved into [16 columns][4 k] by
         * byte then 16-bit unpacks, one 64-byte group per 4 k */
        if (cols == 16) {
            const __m128i fl = _mm_set1_epi8((char)flip);
            for (; k0 + 4 <= K; k0 += 4) {
                const uint8_t *src = b + k0 * ldb + c0;
                const __m128i r0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)src), fl);
                const __m128i r1 =
                    _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + ldb)), fl);
                const __m128i r2 =
                    _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + 2 * ldb)), fl);
                const __m128i r3 =
                    _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + 3 * ldb)), fl);
                const __m128i t0 = _mm_unpacklo_epi8(r0, r1), t1 = _mm_unpackhi_epi8(r0, r1);
                const __m128i t2 = _mm_unpacklo_epi8(r2, r3), t3 = _mm_unpackhi_epi8(r2, r3);
                uint8_t *d = dst + (k0 / 4) * 64;
                _mm_storeu_si128((__m128i *)d, _mm_unpacklo_epi16(t0, t2));
                _mm_storeu_si128((__m128i *)(d + 16), _mm_unpackhi_epi16(t0, t2));
                _mm_storeu_si128((__m128i *)(d + 32), _mm_unpacklo_epi16(t1, t3));
                _mm_storeu_si128((__m128i *)(d + 48), _mm_unpackhi_epi16(t1, t3));
            }
        }
#endif
        for (size_t k = k0; k < K; k++) {
            const uint8_t *src = b + k * ldb + c0;
            uint8_t *d = dst + (k / 4) * 64 + k % 4;
            for (size_t c = 0; c < cols; c++) d[c * 4] = (uint8_t)(src[c] ^ flip);
        }
        for (size_t k = K; k < K4; k++)
            for (size_t c = 0; c < cols; c++) dst[(k / 4) * 64 + c * 4 + k % 4] = 0;
    }
    /* columns past N */
    for (size_t q = 0; q < K4 / 4 && cols < 16; q++)
        memset(dst + q * 64 + cols * 4, 0, 64 - cols * 4);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* gemm_q8_x86.c: the AVX-512 gather form of pack_block_portable for W [N, K]. */
void qlite_gemm_q8_pack_block_avx512(size_t K, const uint8_t *b, size_t ldb, uint8_t flip,
                                     size_t c0, size_t cols, uint8_t *dst);
#endif

unsigned qlite_q8_cpu_features(void);

void qlite_gemm_q8_pack(size_t K, size_t N, const void *bv, size_t ldb, bool b_trans,
                        uint8_t flip, size_t j0, size_t j1, int8_t *packed, int32_t *colsum) {
    const uint8_t *b = bv;
    const size_t K4 = qlite_gemm_q8_k4(K), nblocks = (N + 15) / 16;
#if defined(__x86_64__) && defined(__GNUC__)
    /* gathers of 16 rows need the row offsets in int32 */
    const bool gather = b_trans && (qlite_q8_cpu_features() & QLITE_Q8_F_AVX512) &&
                        ldb < (1u << 26);
#endif
    for (size_t j = j0; j < j1; j++) {
        uint8_t *dst = (uint8_t *)packed + j * K4 * 16;
        const size_t c0 = j * 16, cols = N - c0 < 16 ? N - c0 : 16;
#if defined(__x86_64__) && defined(__GNUC__)
        if (gather)
            qlite_gemm_q8_pack_block_avx512(K, b, ldb, flip, c0, cols, dst);
        else
#endif
            pack_block_portable(K, b, ldb, b_trans, flip, c0, cols, dst);
        if (colsum && b_trans) {
            for (size_t c = 0; c < cols; c++) {
                const uint8_t *src = b + (c0 + c) * ldb;
                int32_t sum = 0;
                for (size_t k = 0; k < K; k++) sum += (int8_t)(src[k] ^ flip);
                colsum[c0 + c] = sum;
            }
        } else if (colsum) {
            int32_t sum[16] = {0};
            for (size_t k = 0; k < K; k++) {
                const uint8_t *src = b + k * ldb + c0;
                for (size_t c = 0; c < cols; c++) sum[c] += (int8_t)(src[c] ^ flip);
            }
            for (size_t c = 0; c < cols; c++) colsum[c0 + c] = sum[c];
        }
    }
    /* the blocks a 32- or 64-column tile reads past the last one: zero */
    if (j1 == nblocks && nblocks > 0) {
        const size_t padded = (N + 63) / 64 * 4;
        for (size_t j = nblocks; j < padded; j++)
            memset((uint8_t *)packed + j * K4 * 16, 0, K4 * 16);
    }
}

void qlite_gemm_q8_copy_a(size_t rows, size_t K, const uint8_t *a, size_t lda_in, uint8_t flip,
                          uint8_t *out, size_t lda, int32_t *rowsum) {
    if (!rowsum && lda == K && lda_in == K && rows > 1) {
        /* rows back to back in and out, no padding (a 1x1 conv's pixels of C % 4 == 0
         * channels): one run of rows x K bytes, not rows short loops */
        qlite_gemm_q8_copy_a(1, rows * K, a, rows * K, flip, out, rows * K, NULL);
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *src = a + r * lda_in;
        uint8_t *dst = out + r * lda;
        int32_t sum = 0;
        size_t k = 0;
#if defined(__SSE2__)
        /* 16 bytes at a time (SSE2 is part of x86-64): XOR, store, and the row sum by
         * PSADBW against zero (sums of 8 bytes in each 64-bit half) only when asked */
        const __m128i fl = _mm_set1_epi8((char)flip), zero = _mm_setzero_si128();
        __m128i acc = zero;
        for (; k + 16 <= K; k += 16) {
            const __m128i v = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + k)), fl);
            _mm_storeu_si128((__m128i *)(dst + k), v);
            if (rowsum) acc = _mm_add_epi64(acc, _mm_sad_epu8(v, zero));
        }
        sum = _mm_cvtsi128_si32(acc) + _mm_cvtsi128_si32(_mm_unpackhi_epi64(acc, acc));
#endif
        for (; k < K; k++) {
            const uint8_t v = (uint8_t)(src[k] ^ flip);
            dst[k] = v;
            sum += v;
        }
        for (k = K; k < lda; k++) dst[k] = 0;
        if (rowsum) rowsum[r] = sum;
    }
}

/* ---------------------------------------------------------------- */
/* Reference                                                         */
/* ---------------------------------------------------------------- */

void qlite_gemm_q8_ref(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda,
                       const void *bv, size_t ldb, bool b_trans, uint8_t flip,
                       const qlite_q8_cols *cols, void *c, size_t ldc, unsigned mode) {
    const uint8_t *b = bv;
    for (size_t m = 0; m < M; m++) {
        int32_t rowsum = 0;
        for (size_t k = 0; k < K; k++) rowsum += a[m * lda + k];
        for (size_t n = 0; n < N; n++) {
            int64_t acc = cols->bias ? cols->bias[n] : 0;
            if (cols->zw) acc -= (int64_t)cols->zw[n] * rowsum;
            for (size_t k = 0; k < K; k++) {
                const int8_t w = (int8_t)(b[b_trans ? n * ldb + k : k * ldb + n] ^ flip);
                acc += (int64_t)a[m * lda + k] * w;
            }
            const int32_t acc32 = (int32_t)(uint32_t)(uint64_t)acc; /* callers bound |acc| */
            if (mode == QLITE_GEMM_Q8_INT32)
                ((int32_t *)c)[m * ldc + n] = acc32;
            else
                ((uint8_t *)c)[m * ldc + n] = qlite_q8_cols_out(cols, n, acc32);
        }
    }
}

/* ---------------------------------------------------------------- */
/* Portable micro-kernels                                            */
/* ---------------------------------------------------------------- */

#define SC_MR 4
#define SC_NR 16

/* Accumulators wrap (uint32): callers bound the exact result to int32. */
static void tile_scalar(size_t K4, const uint8_t *a, size_t lda, size_t mr, const int8_t *b,
                        size_t bstride, size_t nr, const qlite_q8_cols *cols, size_t n0,
                        const int32_t *rowsum, void *c, size_t ldc, unsigned mode) {
    (void)bstride;
    uint32_t acc[SC_MR][SC_NR];
    for (size_t i = 0; i < SC_MR; i++)
        for (size_t j = 0; j < SC_NR; j++) {
            uint32_t v = cols->bias ? (uint32_t)cols->bias[n0 + j] : 0u;
            if (cols->zw && i < mr) v -= (uint32_t)cols->zw[n0 + j] * (uint32_t)rowsum[i];
            acc[i][j] = v;
        }
    for (size_t q = 0; q < K4 / 4; q++) {
        const int8_t *bq = b + q * 64;
        for (size_t i = 0; i < mr; i++) {
            const uint8_t *aq = a + i * lda + q * 4;
            for (size_t j = 0; j < SC_NR; j++) {
                int32_t s = 0;
                for (size_t t = 0; t < 4; t++) s += (int32_t)aq[t] * bq[j * 4 + t];
                acc[i][j] += (uint32_t)s;
            }
        }
    }
    for (size_t i = 0; i < mr; i++)
        for (size_t j = 0; j < nr; j++) {
            const int32_t v = (int32_t)acc[i][j];
            if (mode == QLITE_GEMM_Q8_INT32)
                ((int32_t *)c)[i * ldc + j] = v;
            else
                ((uint8_t *)c)[i * ldc + j] = qlite_q8_cols_out(cols, n0 + j, v);
        }
}

static void dot_scalar(size_t K, const uint8_t *a, int32_t rowsum, const int8_t *w, size_t ldw,
                       size_t n0, size_t n1, const qlite_q8_cols *cols, void *c, unsigned mode) {
    for (size_t n = n0; n < n1; n++) {
        const int8_t *wr = w + n * ldw;
        uint32_t acc = cols->bias ? (uint32_t)cols->bias[n] : 0u;
        if (cols->zw) acc -= (uint32_t)cols->zw[n] * (uint32_t)rowsum;
        int32_t s = 0;
        for (size_t k = 0; k < K; k++) s += (int32_t)a[k] * wr[k];
        acc += (uint32_t)s;
        if (mode == QLITE_GEMM_Q8_INT32)
            ((int32_t *)c)[n] = (int32_t)acc;
        else
            ((uint8_t *)c)[n] = qlite_q8_cols_out(cols, n, (int32_t)acc);
    }
}

static const qlite_gemm_q8_ukernel ukernel_scalar = {
    .name = "qlite_q8_gemm__scalar_4x16", .mr = SC_MR, .nr = SC_NR, .tile = tile_scalar,
    .dot = dot_scalar};

/* ---------------------------------------------------------------- */
/* Drivers                                                           */
/* ---------------------------------------------------------------- */

/*
 * A variant with tiles_ws called without a workspace (BATCH_MATMUL, RNN
 * steps): when QLITE_GEMM_Q8_STACK_WS bytes hold the workspace of 12+ rows
 * (short reductions: K4 <= 176 on AVX2), the rows run through it in chunks
 * (each widens B's blocks once). False: not taken. Its own frame, so only
 * these calls use the stack.
 */
#define QLITE_GEMM_Q8_STACK_WS 12288
#if defined(__GNUC__)
#define Q8_NOINLINE __attribute__((noinline))
#else
#define Q8_NOINLINE
#endif
static Q8_NOINLINE bool tiles_stack_ws(const qlite_gemm_q8_ukernel *uk, size_t M, size_t N,
                                       size_t K4, const uint8_t *a, size_t lda,
                                       const int8_t *packed, const qlite_q8_cols *cols,
                                       const int32_t *rowsum, void *c, size_t ldc,
                                       unsigned mode) {
    size_t rows = M;
    while (rows >= QLITE_GEMM_Q8_WS_MIN_M && uk->ws_bytes(rows, K4) > QLITE_GEMM_Q8_STACK_WS)
        rows = rows > 6 ? (rows - 1) / 6 * 6 : 0; /* whole 6-row tiles */
    if (rows < QLITE_GEMM_Q8_WS_MIN_M) return false;
    uint8_t ws[QLITE_GEMM_Q8_STACK_WS];
    const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    for (size_t m0 = 0; m0 < M; m0 += rows) {
        const size_t r = M - m0 < rows ? M - m0 : rows;
        uk->tiles_ws(r, N, K4, a + m0 * lda, lda, packed, K4 * 16, cols,
                     rowsum ? rowsum + m0 : NULL, (uint8_t *)c + m0 * ldc * es, ldc, mode, ws);
    }
    return true;
}

void qlite_gemm_q8_tiles(const qlite_gemm_q8_ukernel *uk, size_t M, size_t N, size_t K,
                         const uint8_t *a, size_t lda, const int8_t *packed,
                         const qlite_q8_cols *cols, const int32_t *rowsum, void *c, size_t ldc,
                         unsigned mode) {
    const size_t K4 = qlite_gemm_q8_k4(K), bstride = K4 * 16;
    const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    if (uk->tiles_ws && M >= QLITE_GEMM_Q8_WS_MIN_M && N &&
        tiles_stack_ws(uk, M, N, K4, a, lda, packed, cols, rowsum, c, ldc, mode))
        return;
    if (uk->any_shape) {
        if (M && N) uk->tile(K4, a, lda, M, packed, bstride, N, cols, 0, rowsum, c, ldc, mode);
        return;
    }
    for (size_t n0 = 0; n0 < N; n0 += uk->nr) {
        const size_t nr = N - n0 < uk->nr ? N - n0 : uk->nr;
        const int8_t *panel = packed + (n0 / 16) * bstride;
        for (size_t m0 = 0; m0 < M; m0 += uk->mr) {
            const size_t rows = M - m0 < uk->mr ? M - m0 : uk->mr;
            uk->tile(K4, a + m0 * lda, lda, rows, panel, bstride, nr, cols, n0,
                     rowsum ? rowsum + m0 : NULL, (uint8_t *)c + (m0 * ldc + n0) * es, ldc,
                     mode);
        }
    }
}

size_t qlite_gemm_q8_ws_bytes(const qlite_gemm_q8_ukernel *uk, size_t M, size_t K) {
    if (!uk->tiles_ws || M < QLITE_GEMM_Q8_WS_MIN_M) return 0;
    return uk->ws_bytes(M, qlite_gemm_q8_k4(K));
}

void qlite_gemm_q8_tiles_ws(const qlite_gemm_q8_ukernel *uk, size_t M, size_t N, size_t K,
                            const uint8_t *a, size_t lda, const int8_t *packed,
                            const qlite_q8_cols *cols, const int32_t *rowsum, void *c,
                            size_t ldc, unsigned mode, void *ws) {
    if (!ws || !uk->tiles_ws || M < QLITE_GEMM_Q8_WS_MIN_M || N == 0) {
        qlite_gemm_q8_tiles(uk, M, N, K, a, lda, packed, cols, rowsum, c, ldc, mode);
        return;
    }
    const size_t K4 = qlite_gemm_q8_k4(K);
    uk->tiles_ws(M, N, K4, a, lda, packed, K4 * 16, cols, rowsum, c, ldc, mode, ws);
}

void qlite_gemm_q8_dot_rows(const qlite_gemm_q8_ukernel *uk, size_t M, size_t K,
                            const uint8_t *a, size_t lda, const int32_t *rowsum, const int8_t *w,
                            size_t ldw, size_t n0, size_t n1, const qlite_q8_cols *cols, void *c,
                            size_t ldc, unsigned mode) {
    const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    for (size_t m = 0; m < M; m++)
        uk->dot(K, a + m * lda, rowsum ? rowsum[m] : 0, w, ldw, n0, n1, cols,
                (uint8_t *)c + m * ldc * es, mode);
}

/* ---------------------------------------------------------------- */
/* Variants and CPU features                                         */
/* ---------------------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__)
#define Q8_X86 1
#include <cpuid.h>
extern const qlite_gemm_q8_ukernel qlite_q8_gemm__avx2_3x16;
extern const qlite_gemm_q8_ukernel qlite_q8_gemm__avxvnni_6x16;
extern const qlite_gemm_q8_ukernel qlite_q8_gemm__avx512vnni_12x16;
extern const qlite_gemm_q8_ukernel qlite_q8_gemm__avx512vnni_8x32;
extern const qlite_gemm_q8_ukernel qlite_q8_gemm__amx_32x32;
bool qlite_q8_amx_usable(void); /* gemm_q8_amx.c */
#endif
#if defined(__aarch64__) && defined(__GNUC__)
#include "gemm_q8_neon.h" /* Q8_ARM: NEON, SDOT, i8mm variants (gemm_q8_neon.c) */
#endif

enum {
    F_AVX2 = QLITE_Q8_F_AVX2,
    F_AVXVNNI = QLITE_Q8_F_AVXVNNI,
    F_AVX512VNNI = QLITE_Q8_F_AVX512,
    F_AMX = QLITE_Q8_F_AMX
};

static const qlite_gemm_q8_ukernel *const all_ukernels[] = {
    &ukernel_scalar,
#ifdef Q8_X86
    &qlite_q8_gemm__avx2_3x16,
    &qlite_q8_gemm__avxvnni_6x16,
    &qlite_q8_gemm__avx512vnni_12x16,
    &qlite_q8_gemm__avx512vnni_8x32,
    &qlite_q8_gemm__amx_32x32,
#endif
#ifdef Q8_ARM
    Q8_ARM_UKERNELS
#endif
};
/* features each needs, and a preference rank (higher wins) */
static const unsigned ukernel_needs[] = {0,
#ifdef Q8_X86
                                         F_AVX2, F_AVX2 | F_AVXVNNI, F_AVX512VNNI,
                                         F_AVX512VNNI, F_AVX512VNNI | F_AMX,
#endif
#ifdef Q8_ARM
                                         Q8_ARM_NEEDS
#endif
};
static const int ukernel_rank[] = {0,
#ifdef Q8_X86
                                   1, 2, 3, 3, 4,
#endif
#ifdef Q8_ARM
                                   Q8_ARM_RANKS
#endif
};
_Static_assert(sizeof ukernel_needs / sizeof ukernel_needs[0] == QLITE_ARRAY_SIZE(all_ukernels) &&
                   sizeof ukernel_rank / sizeof ukernel_rank[0] == QLITE_ARRAY_SIZE(all_ukernels),
               "one needs / rank entry per variant");

#define ISA_X86_ALL (QLITE_Q8_F_AVX2 | QLITE_Q8_F_AVXVNNI | QLITE_Q8_F_AVX512 | QLITE_Q8_F_AMX)
#define ISA_ARM_ALL (QLITE_Q8_F_NEON | QLITE_Q8_F_DOTPROD | QLITE_Q8_F_I8MM)

/* ASCII case-insensitive equality (no locale: strcasecmp follows LC_CTYPE). */
static bool isa_name_is(const char *a, const char *b) {
    for (;; a++, b++) {
        const char ca = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (ca != *b) return false;
        if (!ca) return true;
    }
}

unsigned qlite_q8_isa_limit(const char *name) {
    /* a level and every level below it; a name of the other architecture
     * leaves this one's features alone */
    static const struct {
        const char *name;
        unsigned mask;
    } levels[] = {
        {"portable", 0u},
        {"avx2", ISA_ARM_ALL | QLITE_Q8_F_AVX2},
        {"avxvnni", ISA_ARM_ALL | QLITE_Q8_F_AVX2 | QLITE_Q8_F_AVXVNNI},
        {"avx512", ISA_ARM_ALL | QLITE_Q8_F_AVX2 | QLITE_Q8_F_AVXVNNI | QLITE_Q8_F_AVX512},
        {"amx", ISA_ARM_ALL | ISA_X86_ALL},
        {"neon", ISA_X86_ALL | QLITE_Q8_F_NEON},
        {"dotprod", ISA_X86_ALL | QLITE_Q8_F_NEON | QLITE_Q8_F_DOTPROD},
        {"i8mm", ISA_X86_ALL | ISA_ARM_ALL},
    };
    if (name)
        for (size_t i = 0; i < QLITE_ARRAY_SIZE(levels); i++)
            if (isa_name_is(name, levels[i].name)) return levels[i].mask;
    return ~0u; /* unset, empty or unknown: no limit */
}

/* QLITE_MAX_ISA, read once with the detection below (like oneDNN's
 * ONEDNN_MAX_CPU_ISA: set it before the process first prepares a model). */
static _Atomic unsigned env_limit_cached; /* bit 31: known */

static unsigned env_limit(void) {
    unsigned l = atomic_load_explicit(&env_limit_cached, memory_order_relaxed);
    if (l) return l | 1u << 31; /* the limit never uses bit 31 */
    l = qlite_q8_isa_limit(getenv("QLITE_MAX_ISA"));
    atomic_store_explicit(&env_limit_cached, l | 1u << 31, memory_order_relaxed);
    return l | 1u << 31;
}

/* Detected once (cpuid can trap to a hypervisor), within QLITE_MAX_ISA;
 * bit 31 marks "known". */
static unsigned cpu_features(void) {
    static _Atomic unsigned cached;
    unsigned f = atomic_load_explicit(&cached, memory_order_relaxed);
    if (f) return f & ~(1u << 31);
    const unsigned limit = env_limit();
    f = 0;
#ifdef Q8_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        f |= F_AVX2;
        unsigned eax, ebx, ecx, edx;
        /* AVX-VNNI: CPUID.(EAX=7, ECX=1):EAX[4] (the OS saves YMM: avx2 above says so) */
        if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax >> 4 & 1)) f |= F_AVXVNNI;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni"))
            f |= F_AVX512VNNI;
        /* AMX: its output stage and leftover rows are AVX-512 VNNI's */
        /* (below an "amx" limit the tile permission is not even asked for) */
        if ((f & F_AVX512VNNI) && (limit & F_AMX) && qlite_q8_amx_usable()) f |= F_AMX;
    }
#endif
#ifdef Q8_ARM
    f |= qlite_q8_arm_features();
#endif
    f &= limit & ~(1u << 31);
    atomic_store_explicit(&cached, f | 1u << 31, memory_order_relaxed);
    return f;
}

const qlite_gemm_q8_ukernel *const *qlite_gemm_q8_all_ukernels(size_t *count) {
    *count = QLITE_ARRAY_SIZE(all_ukernels);
    return all_ukernels;
}

static _Atomic unsigned feature_cap = ~0u;

void qlite_q8_set_feature_cap(unsigned cap) {
    atomic_store_explicit(&feature_cap, cap, memory_order_relaxed);
}

unsigned qlite_q8_cpu_features(void) {
    return cpu_features() & atomic_load_explicit(&feature_cap, memory_order_relaxed);
}

unsigned qlite_q8_feature_limit(void) {
    return env_limit() & ~(1u << 31) & atomic_load_explicit(&feature_cap, memory_order_relaxed);
}

bool qlite_gemm_q8_runnable(const qlite_gemm_q8_ukernel *uk) {
    const unsigned f = cpu_features();
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(all_ukernels); i++)
        if (all_ukernels[i] == uk) return (ukernel_needs[i] & f) == ukernel_needs[i];
    return false;
}

const qlite_gemm_q8_ukernel *qlite_gemm_q8_select_for(size_t N) {
    return qlite_gemm_q8_select_packed(N, false);
}

const qlite_gemm_q8_ukernel *qlite_gemm_q8_select_packed(size_t N, bool exact_blocks) {
    const unsigned f = qlite_q8_cpu_features();
    const size_t n16 = (N + 15) / 16 * 16;
    const qlite_gemm_q8_ukernel *best = &ukernel_scalar;
    int best_rank = -1;
    double best_eff = 0.0;
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(all_ukernels); i++) {
        if ((ukernel_needs[i] & f) != ukernel_needs[i]) continue;
        const size_t nr = all_ukernels[i]->nr, padded = (N + nr - 1) / nr * nr;
        /* would read a block past the end */
        if (exact_blocks && n16 % nr != 0 && !all_ukernels[i]->any_shape) continue;
        const double eff = N == 0 ? 1.0 : (double)N / (double)padded;
        /* the best ISA; within it, the tile that wastes least of N (ties: wider) */
        if (ukernel_rank[i] > best_rank || (ukernel_rank[i] == best_rank && eff >= best_eff)) {
            best = all_ukernels[i];
            best_rank = ukernel_rank[i];
            best_eff = eff;
        }
    }
    return best;
}
