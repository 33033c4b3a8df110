/*
 * gemm_q8_neon.c — ARM64 variants of the int8 GEMM (gemm_q8.h):
 *
 *   qlite_q8_gemm__neon_2x16     baseline AArch64 Advanced SIMD: u8 and s8
 *                                widened to int16, products (|p| <= 255 * 128,
 *                                exact in int16) added in pairs into int32
 *                                lanes with SADALP;
 *   qlite_q8_gemm__neondot_4x16  the dot-product extension (FEAT_DotProd,
 *                                HWCAP_ASIMDDP): SDOT by element;
 *   qlite_q8_gemm__i8mm_5x16     FEAT_I8MM (HWCAP2_I8MM): SUDOT by element,
 *                                the mixed-sign dot product (x86 VPDPBUSD's
 *                                u8 x s8).
 *
 * One 64-byte group of the O16I4 layout (16 columns x 4 k) is four 16-byte
 * vectors; vector g holds columns 4g..4g+3, each as its 4 k bytes, which are
 * exactly the four 4-byte lanes SDOT / SUDOT multiply with 4 broadcast bytes
 * of an A row. The file layout that serves x86 VNNI serves these as is.
 *
 * SDOT is s8 x s8, while A is uint8 (int8 activations arrive as x + 128):
 * the kernel multiplies (a ^ 0x80) = a - 128 and adds back 128 * colsum(B),
 * the column sums taken with one more SDOT against a vector of ones. All
 * arithmetic wraps mod 2^32, so the result is the reference's bit for bit.
 *
 * The output stage is the NEON form of qlite_requantize (src/quant.h
 * states it as "what ARM's SQRDMULH + rounding shift compute"): SQSHL for
 * the saturating left shift, SQRDMULH, and the gemmlowp rounding divide
 * (a -1 fixup for negative values, then SRSHL). Then the zero point and the
 * clamp, and the low byte of each lane.
 *
 * The dot-product functions carry their own target attributes; gemm_q8.c
 * selects them only when getauxval reports the feature (see
 * qlite_q8_arm_features). clang before 16 declares those intrinsics only
 * when the whole file is built for the feature (-march=...+dotprod), so a
 * clang build without it has the baseline NEON variant only (gemm_q8_neon.h).
 */
#include "gemm_q8_neon.h"

#ifdef Q8_ARM

#include <arm_neon.h>
#include <string.h>
#include <sys/auxv.h>

#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1ul << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1ul << 13)
#endif

#define Q8_UNROLL _Pragma("GCC unroll 16")
#ifdef __clang__ /* the features are on the command line (gemm_q8_neon.h) */
#define Q8_DOT_ATTR
#define Q8_I8MM_ATTR
#else
#define Q8_DOT_ATTR __attribute__((target("arch=armv8.2-a+dotprod")))
#define Q8_I8MM_ATTR __attribute__((target("arch=armv8.2-a+i8mm")))
#endif

/* Features as gemm_q8.c's table uses them (Advanced SIMD is baseline here). */
unsigned qlite_q8_arm_features(void) {
    unsigned f = QLITE_Q8_F_NEON;
    const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
#ifdef Q8_HAVE_DOTPROD
    if (hw & HWCAP_ASIMDDP) f |= QLITE_Q8_F_DOTPROD;
#endif
#ifdef Q8_HAVE_I8MM
    if (hw2 & HWCAP2_I8MM) f |= QLITE_Q8_F_I8MM;
#endif
    (void)hw;
    (void)hw2;
    return f;
}

static inline size_t q8_min(size_t a, size_t b) { return a < b ? a : b; }

static inline uint32_t ld4(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* ---------------------------------------------------------------- */
/* Output stage                                                      */
/* ---------------------------------------------------------------- */

/* + bias[n..n+3] - zw[n..n+3] * rowsum (wrapping, as the reference's int32). */
static inline int32x4_t add_terms(int32x4_t acc, const qlite_q8_cols *cols, size_t n,
                                  int32_t rowsum) {
    if (cols->bias) acc = vaddq_s32(acc, vld1q_s32(cols->bias + n));
    if (cols->zw) acc = vmlsq_s32(acc, vld1q_s32(cols->zw + n), vdupq_n_s32(rowsum));
    return acc;
}

/* clamp(zy + requantize(x, M0, shift), lo, hi) for columns n..n+3. */
static inline int32x4_t requant4(int32x4_t x, const qlite_q8_cols *cols, size_t n) {
    if (cols->any_lshift) x = vqshlq_s32(x, vld1q_s32(cols->lshift + n));
    int32x4_t h = vqrdmulhq_s32(x, vld1q_s32(cols->mult + n));
    const int32x4_t sh = vnegq_s32(vld1q_s32(cols->rshift + n)); /* 0 or negative */
    /* ties away from zero: negative values (when shifting) one lower first */
    h = vqaddq_s32(h, vshrq_n_s32(vandq_s32(h, sh), 31));
    h = vrshlq_s32(h, sh);
    /* zp + y saturates (the exact sum is clamped to a byte range anyway) */
    h = vqaddq_s32(h, vdupq_n_s32(cols->zy));
    h = vmaxq_s32(h, vdupq_n_s32(cols->lo));
    return vminq_s32(h, vdupq_n_s32(cols->hi));
}

/*
 * 16 final sums of one row (acc[0..3] = columns n..n+15; the bias and
 * weight zero-point terms not yet added) -> cnt elements at dst.
 */
static inline void out16(const int32x4_t acc[4], const qlite_q8_cols *cols, size_t n,
                         int32_t rowsum, size_t cnt, unsigned mode, void *dst) {
    int32x4_t v[4];
    Q8_UNROLL for (size_t g = 0; g < 4; g++) v[g] = add_terms(acc[g], cols, n + 4 * g, rowsum);
    if (mode == QLITE_GEMM_Q8_INT32) {
        if (cnt == 16) {
            Q8_UNROLL for (size_t g = 0; g < 4; g++) vst1q_s32((int32_t *)dst + 4 * g, v[g]);
        } else {
            int32_t tmp[16];
            Q8_UNROLL for (size_t g = 0; g < 4; g++) vst1q_s32(tmp + 4 * g, v[g]);
            memcpy(dst, tmp, cnt * sizeof(int32_t));
        }
        return;
    }
    Q8_UNROLL for (size_t g = 0; g < 4; g++) v[g] = requant4(v[g], cols, n + 4 * g);
    /* values are in [-128, 255]: the low byte of each lane is the result */
    const int16x8_t h0 = vcombine_s16(vmovn_s32(v[0]), vmovn_s32(v[1]));
    const int16x8_t h1 = vcombine_s16(vmovn_s32(v[2]), vmovn_s32(v[3]));
    const uint8x16_t b = vreinterpretq_u8_s8(vcombine_s8(vmovn_s16(h0), vmovn_s16(h1)));
    if (cnt == 16) {
        vst1q_u8(dst, b);
    } else {
        uint8_t tmp[16];
        vst1q_u8(tmp, b);
        memcpy(dst, tmp, cnt);
    }
}

/* Dot output: 16 sums (cnt valid) of one row -> C[n .. n + cnt). */
static inline void dot_out16(const int32_t sums[16], int32_t rowsum, const qlite_q8_cols *cols,
                             size_t n, size_t cnt, unsigned mode, void *c) {
    int32x4_t acc[4];
    Q8_UNROLL for (size_t g = 0; g < 4; g++) acc[g] = vld1q_s32(sums + 4 * g);
    const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    out16(acc, cols, n, rowsum, cnt, mode, (uint8_t *)c + n * es);
}

/* Wrapping int32 sum of a[k] * w[k] over k in [k0, K) (the scalar tail). */
static inline uint32_t tail_dot(const uint8_t *a, const int8_t *w, size_t k0, size_t K) {
    uint32_t s = 0;
    for (size_t k = k0; k < K; k++) s += (uint32_t)((int32_t)a[k] * w[k]);
    return s;
}

/* ================================================================ */
/* Baseline NEON: widen to int16, multiply, pairwise add into int32  */
/* ================================================================ */

#define NEON_MR 2

/*
 * acc[i][2g + h]: row i, columns 4g + 2h and 4g + 2h + 1, lanes [c:k01,
 * c:k23, c+1:k01, c+1:k23] summed over the 4-k steps; one pairwise add per
 * vector pair at the end puts the columns in order.
 */
static void tile_neon(size_t K4, const uint8_t *a, size_t lda, size_t mr, const int8_t *b,
                      size_t bstride, size_t nr, const qlite_q8_cols *cols, size_t n0,
                      const int32_t *rowsum, void *c, size_t ldc, unsigned mode) {
    (void)bstride;
    int32x4_t acc[NEON_MR][8];
    const uint8_t *ar[NEON_MR];
    Q8_UNROLL for (size_t i = 0; i < NEON_MR; i++) {
        ar[i] = a + (i < mr ? i : mr - 1) * lda;
        Q8_UNROLL for (size_t j = 0; j < 8; j++) acc[i][j] = vdupq_n_s32(0);
    }
    for (size_t k = 0; k < K4; k += 4) {
        const int8_t *bp = b + k * 16;
        int16x8_t av[NEON_MR];
        Q8_UNROLL for (size_t i = 0; i < NEON_MR; i++)
            av[i] = vreinterpretq_s16_u16(
                vmovl_u8(vreinterpret_u8_u32(vdup_n_u32(ld4(ar[i] + k)))));
        Q8_UNROLL for (size_t g = 0; g < 4; g++) {
            const int8x16_t wv = vld1q_s8(bp + 16 * g);
            const int16x8_t w0 = vmovl_s8(vget_low_s8(wv)), w1 = vmovl_high_s8(wv);
            Q8_UNROLL for (size_t i = 0; i < NEON_MR; i++) {
                acc[i][2 * g] = vpadalq_s16(acc[i][2 * g], vmulq_s16(w0, av[i]));
                acc[i][2 * g + 1] = vpadalq_s16(acc[i][2 * g + 1], vmulq_s16(w1, av[i]));
            }
        }
    }
    const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    Q8_UNROLL for (size_t i = 0; i < NEON_MR; i++) {
        if (i >= mr) break;
        int32x4_t s[4];
        Q8_UNROLL for (size_t g = 0; g < 4; g++) s[g] = vpaddq_s32(acc[i][2 * g], acc[i][2 * g + 1]);
        out16(s, cols, n0, rowsum ? rowsum[i] : 0, nr, mode, (uint8_t *)c + i * ldc * es);
    }
}

/* 4 weight rows at a time, 16 k per step, the tail of K scalar. */
static void dot_neon(size_t K, const uint8_t *a, int32_t rowsum, const int8_t *w, size_t ldw,
                     size_t n0, size_t n1, const qlite_q8_cols *cols, void *c, unsigned mode) {
    const size_t K16 = K / 16 * 16;
    for (size_t c0 = n0; c0 < n1; c0 += 16) {
        const size_t cnt = q8_min(16, n1 - c0);
        int32_t sums[16] = {0};
        for (size_t j = 0; j < cnt; j += 4) {
            const size_t nrow = q8_min(4, cnt - j);
            const int8_t *wr[4];
            for (size_t r = 0; r < 4; r++) wr[r] = w + (c0 + j + (r < nrow ? r : 0)) * ldw;
            int32x4_t acc[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
            for (size_t k = 0; k < K16; k += 16) {
                const uint8x16_t au = vld1q_u8(a + k);
                const int16x8_t a0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(au)));
                const int16x8_t a1 = vreinterpretq_s16_u16(vmovl_high_u8(au));
                Q8_UNROLL for (size_t r = 0; r < 4; r++) {
                    const int8x16_t wv = vld1q_s8(wr[r] + k);
                    acc[r] = vpadalq_s16(acc[r], vmulq_s16(a0, vmovl_s8(vget_low_s8(wv))));
                    acc[r] = vpadalq_s16(acc[r], vmulq_s16(a1, vmovl_high_s8(wv)));
                }
            }
            for (size_t r = 0; r < nrow; r++)
                sums[j + r] = (int32_t)((uint32_t)vaddvq_s32(acc[r]) + tail_dot(a, wr[r], K16, K));
        }
        dot_out16(sums, rowsum, cols, c0, cnt, mode, c);
    }
}

const qlite_gemm_q8_ukernel qlite_q8_gemm__neon_2x16 = {
    .name = "qlite_q8_gemm__neon_2x16", .mr = NEON_MR, .nr = 16, .tile = tile_neon,
    .dot = dot_neon};

/* ================================================================ */
/* Dot product (SDOT): s8 x s8 with the A bias of 128 added back     */
/* ================================================================ */

#ifdef Q8_HAVE_DOTPROD

#define SDOT_MR 4

/*
 * acc[i][g] = sum (a - 128) * b for row i, columns 4g..4g+3; cs[g] = the
 * columns' sums of b; C = acc + 128 * cs. K4 / 4 steps: by four with 16
 * bytes of each A row (lanes 0..3), then one at a time.
 */
Q8_DOT_ATTR static void tile_sdot(size_t K4, const uint8_t *a, size_t lda, size_t mr,
                                  const int8_t *b, size_t bstride, size_t nr,
                                  const qlite_q8_cols *cols, size_t n0, const int32_t *rowsum,
                                  void *c, size_t ldc, unsigned mode) {
    (void)bstride;
    int32x4_t acc[SDOT_MR][4], cs[4];
    const uint8_t *ar[SDOT_MR];
    const int8x16_t ones = vdupq_n_s8(1);
    const uint8x16_t flip = vdupq_n_u8(0x80);
    Q8_UNROLL for (size_t i = 0; i < SDOT_MR; i++) {
        ar[i] = a + (i < mr ? i : mr - 1) * lda;
        Q8_UNROLL for (size_t g = 0; g < 4; g++) acc[i][g] = vdupq_n_s32(0);
    }
    size_t k = 0;
    for (; k + 16 <= K4; k += 16) {
        int8x16_t av[SDOT_MR];
        Q8_UNROLL for (size_t i = 0; i < SDOT_MR; i++)
            av[i] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(ar[i] + k), flip));
        const int8_t *bp = b + k * 16;
#define SDOT_STEP(lane)                                                                   \
    Q8_UNROLL for (size_t g = 0; g < 4; g++) {                                            \
        const int8x16_t wv = vld1q_s8(bp + (lane) * 64 + 16 * g);                         \
        Q8_UNROLL for (size_t i = 0; i < SDOT_MR; i++)                                    \
            acc[i][g] = vdotq_laneq_s32(acc[i][g], wv, av[i], lane);                      \
    }
        SDOT_STEP(0)
        SDOT_STEP(1)
        SDOT_STEP(2)
        SDOT_STEP(3)
#undef SDOT_STEP
    }
    for (; k < K4; k += 4) {
        int8x16_t av[SDOT_MR];
        Q8_UNROLL for (size_t i = 0; i < SDOT_MR; i++)
            av[i] = vreinterpretq_s8_u32(vdupq_n_u32(ld4(ar[i] + k) ^ 0x80808080u));
        const int8_t *bp = b + k * 16;
        Q8_UNROLL for (size_t g = 0; g < 4; g++) {
            const int8x16_t wv = vld1q_s8(bp + 16 * g);
            Q8_UNROLL for (size_t i = 0; i < SDOT_MR; i++)
                acc[i][g] = vdotq_s32(acc[i][g], wv, av[i]);
        }
    }
    /* the panel's column sums in a loop of their own (the main loop keeps its
     * registers for the tile) */
    Q8_UNROLL for (size_t g = 0; g < 4; g++) cs[g] = vdupq_n_s32(0);
    for (k = 0; k < K4; k += 4)
        Q8_UNROLL for (size_t g = 0; g < 4; g++)
            cs[g] = vdotq_s32(cs[g], vld1q_s8(b + k * 16 + 16 * g), ones);
    Q8_UNROLL for (size_t g = 0; g < 4; g++) cs[g] = vshlq_n_s32(cs[g], 7);
    const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    Q8_UNROLL for (size_t i = 0; i < SDOT_MR; i++) {
        if (i >= mr) break;
        int32x4_t s[4];
        Q8_UNROLL for (size_t g = 0; g < 4; g++) s[g] = vaddq_s32(acc[i][g], cs[g]);
        out16(s, cols, n0, rowsum ? rowsum[i] : 0, nr, mode, (uint8_t *)c + i * ldc * es);
    }
}

/* 4 weight rows at a time, 16 k per SDOT, the correction from the row sums of W. */
Q8_DOT_ATTR static void dot_sdot(size_t K, const uint8_t *a, int32_t rowsum, const int8_t *w,
                                 size_t ldw, size_t n0, size_t n1, const qlite_q8_cols *cols,
                                 void *c, unsigned mode) {
    const size_t K16 = K / 16 * 16;
    const int8x16_t ones = vdupq_n_s8(1);
    const uint8x16_t flip = vdupq_n_u8(0x80);
    for (size_t c0 = n0; c0 < n1; c0 += 16) {
        const size_t cnt = q8_min(16, n1 - c0);
        int32_t sums[16] = {0};
        for (size_t j = 0; j < cnt; j += 4) {
            const size_t nrow = q8_min(4, cnt - j);
            const int8_t *wr[4];
            for (size_t r = 0; r < 4; r++) wr[r] = w + (c0 + j + (r < nrow ? r : 0)) * ldw;
            int32x4_t acc[4], ws[4];
            Q8_UNROLL for (size_t r = 0; r < 4; r++) acc[r] = ws[r] = vdupq_n_s32(0);
            for (size_t k = 0; k < K16; k += 16) {
                const int8x16_t av = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(a + k), flip));
                Q8_UNROLL for (size_t r = 0; r < 4; r++) {
                    const int8x16_t wv = vld1q_s8(wr[r] + k);
                    acc[r] = vdotq_s32(acc[r], wv, av);
                    ws[r] = vdotq_s32(ws[r], wv, ones);
                }
            }
            for (size_t r = 0; r < nrow; r++) {
                const uint32_t s = (uint32_t)vaddvq_s32(acc[r]) +
                                   ((uint32_t)vaddvq_s32(ws[r]) << 7) +
                                   tail_dot(a, wr[r], K16, K);
                sums[j + r] = (int32_t)s;
            }
        }
        dot_out16(sums, rowsum, cols, c0, cnt, mode, c);
    }
}

const qlite_gemm_q8_ukernel qlite_q8_gemm__neondot_4x16 = {
    .name = "qlite_q8_gemm__neondot_4x16", .mr = SDOT_MR, .nr = 16, .tile = tile_sdot,
    .dot = dot_sdot};

#endif /* Q8_HAVE_DOTPROD */

/* ================================================================ */
/* i8mm: SUDOT (s8 x u8), no correction                              */
/* ================================================================ */

#ifdef Q8_HAVE_I8MM

#define SU_MR 5

Q8_I8MM_ATTR static void tile_sudot(size_t K4, const uint8_t *a, size_t lda, size_t mr,
                                    const int8_t *b, size_t bstride, size_t nr,
                                    const qlite_q8_cols *cols, size_t n0, const int32_t *rowsum,
                                    void *c, size_t ldc, unsigned mode) {
    (void)bstride;
    int32x4_t acc[SU_MR][4];
    const uint8_t *ar[SU_MR];
    Q8_UNROLL for (size_t i = 0; i < SU_MR; i++) {
        ar[i] = a + (i < mr ? i : mr - 1) * lda;
        Q8_UNROLL for (size_t g = 0; g < 4; g++) acc[i][g] = vdupq_n_s32(0);
    }
    size_t k = 0;
    for (; k + 16 <= K4; k += 16) {
        uint8x16_t av[SU_MR];
        Q8_UNROLL for (size_t i = 0; i < SU_MR; i++) av[i] = vld1q_u8(ar[i] + k);
        const int8_t *bp = b + k * 16;
#define SU_STEP(lane)                                                                     \
    Q8_UNROLL for (size_t g = 0; g < 4; g++) {                                            \
        const int8x16_t wv = vld1q_s8(bp + (lane) * 64 + 16 * g);                         \
        Q8_UNROLL for (size_t i = 0; i < SU_MR; i++)                                      \
            acc[i][g] = vsudotq_laneq_s32(acc[i][g], wv, av[i], lane);                    \
    }
        SU_STEP(0)
        SU_STEP(1)
        SU_STEP(2)
        SU_STEP(3)
#undef SU_STEP
    }
    for (; k < K4; k += 4) {
        uint8x16_t av[SU_MR];
        Q8_UNROLL for (size_t i = 0; i < SU_MR; i++)
            av[i] = vreinterpretq_u8_u32(vdupq_n_u32(ld4(ar[i] + k)));
        const int8_t *bp = b + k * 16;
        Q8_UNROLL for (size_t g = 0; g < 4; g++) {
            const int8x16_t wv = vld1q_s8(bp + 16 * g);
            Q8_UNROLL for (size_t i = 0; i < SU_MR; i++)
                acc[i][g] = vusdotq_s32(acc[i][g], av[i], wv);
        }
    }
    const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    Q8_UNROLL for (size_t i = 0; i < SU_MR; i++) {
        if (i >= mr) break;
        out16(acc[i], cols, n0, rowsum ? rowsum[i] : 0, nr, mode, (uint8_t *)c + i * ldc * es);
    }
}

Q8_I8MM_ATTR static void dot_usdot(size_t K, const uint8_t *a, int32_t rowsum, const int8_t *w,
                                   size_t ldw, size_t n0, size_t n1, const qlite_q8_cols *cols,
                                   void *c, unsigned mode) {
    const size_t K16 = K / 16 * 16;
    for (size_t c0 = n0; c0 < n1; c0 += 16) {
        const size_t cnt = q8_min(16, n1 - c0);
        int32_t sums[16] = {0};
        for (size_t j = 0; j < cnt; j += 4) {
            const size_t nrow = q8_min(4, cnt - j);
            const int8_t *wr[4];
            for (size_t r = 0; r < 4; r++) wr[r] = w + (c0 + j + (r < nrow ? r : 0)) * ldw;
            int32x4_t acc[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
            for (size_t k = 0; k < K16; k += 16) {
                const uint8x16_t av = vld1q_u8(a + k);
                Q8_UNROLL for (size_t r = 0; r < 4; r++)
                    acc[r] = vusdotq_s32(acc[r], av, vld1q_s8(wr[r] + k));
            }
            for (size_t r = 0; r < nrow; r++)
                sums[j + r] = (int32_t)((uint32_t)vaddvq_s32(acc[r]) + tail_dot(a, wr[r], K16, K));
        }
        dot_out16(sums, rowsum, cols, c0, cnt, mode, c);
    }
}

const qlite_gemm_q8_ukernel qlite_q8_gemm__i8mm_5x16 = {
    .name = "qlite_q8_gemm__i8mm_5x16", .mr = SU_MR, .nr = 16, .tile = tile_sudot,
    .dot = dot_usdot};

#endif /* Q8_HAVE_I8MM */

#endif /* Q8_ARM */
