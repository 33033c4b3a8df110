/*
 * cluster_decode.c — bitstream-of-indices decoders (cluster_decode.h).
 *
 * Steps for indices [first, first + n):
 *   1. head: single indices (qlite_cluster_index) until the position is a
 *      multiple of 8 (or n runs out);
 *   2. 4-bit indices on a CPU with the vector unit: a byte-table lookup per
 *      index straight from the nibbles (below); other widths with AVX-512
 *      VBMI: 64 indices per step (below); as many whole steps as fit;
 *   3. groups: 8 indices = b bytes, read little-endian as a 64-bit word
 *      (one 8-byte load while 8 bytes of the stream remain, byte by byte for
 *      the last groups), entry t = book[(word >> t*b) & mask]; one
 *      specialised loop per bit width b (1..8) so every shift is a constant;
 *   4. tail: single indices again.
 *
 * The 4-bit vector paths (a 4-bit codebook has exactly 16 entries):
 *   int8 entries    the 16 bytes of the book are one VPSHUFB / TBL table:
 *                   32 stream bytes -> low and high nibbles -> interleaved
 *                   back into index order (index 2i is byte i's low nibble)
 *                   -> one table lookup per 32 (AVX2) or 16 (NEON) indices;
 *   16-bit entries  the book's low bytes and high bytes as two byte tables
 *                   (SSSE3 PSHUFB inside the AVX2 build), the two results
 *                   interleaved back into halves;
 *   32-bit entries  AVX-512: the book is one ZMM, index bytes widened to
 *                   dwords, one VPERMD per 16 entries; AVX2: two YMM halves,
 *                   VPERMD on each and a blend on the index's bit 3.
 * They copy entries as bits, like the scalar code, so every path gives the
 * same bytes; which one runs follows qlite_q8_cpu_features() (gemm_q8.h),
 * so qlite_q8_set_feature_cap() selects the scalar code for tests.
 */
#include "kernels/cluster_decode.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "kernels/gemm_q8.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CD_X86 1
#define CD_AVX2 static __attribute__((target("avx2"))) __attribute__((noinline))
#define CD_AVX2_INL static inline __attribute__((always_inline, target("avx2")))
#define CD_AVX512 static __attribute__((target("avx2,avx512f,avx512bw,avx512vl"))) \
    __attribute__((noinline))
#elif defined(__aarch64__)
#include <arm_neon.h>
#define CD_NEON 1
#endif

/* b bytes (1..8) at s as a little-endian 64-bit word, byte by byte (the
 * stream's last groups, where 8 bytes may not be readable). */
static inline uint64_t load_le(const uint8_t *s, unsigned b) {
    uint64_t g = 0;
    for (unsigned q = 0; q < b; q++) g |= (uint64_t)s[q] << (8 * q);
    return g;
}

/* 8 bytes at s as a little-endian 64-bit word (one load). */
static inline uint64_t load_le8(const uint8_t *s) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t g;
    memcpy(&g, s, 8);
    return g;
#else
    return load_le(s, 8);
#endif
}

/* ---- 4-bit vector paths: return how many indices (a multiple of 8) they
 * decoded from the byte-aligned stream s; the caller does the rest ---- */

#ifdef CD_X86
/* 32 stream bytes (64 indices) -> index bytes 0..31 (*o0) and 32..63 (*o1). */
CD_AVX2_INL void nibbles64(const uint8_t *s, __m256i *o0, __m256i *o1) {
    const __m256i m = _mm256_set1_epi8(0x0f);
    const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)s);
    const __m256i lo = _mm256_and_si256(v, m), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m);
    const __m256i a = _mm256_unpacklo_epi8(lo, hi); /* lane 0: 0..15, lane 1: 32..47 */
    const __m256i b = _mm256_unpackhi_epi8(lo, hi); /* lane 0: 16..31, lane 1: 48..63 */
    *o0 = _mm256_permute2x128_si256(a, b, 0x20);
    *o1 = _mm256_permute2x128_si256(a, b, 0x31);
}

/* 16 stream bytes (32 indices) -> index bytes 0..15 (*o0) and 16..31 (*o1). */
CD_AVX2_INL void nibbles32(const uint8_t *s, __m128i *o0, __m128i *o1) {
    const __m128i m = _mm_set1_epi8(0x0f);
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    const __m128i lo = _mm_and_si128(v, m), hi = _mm_and_si128(_mm_srli_epi16(v, 4), m);
    *o0 = _mm_unpacklo_epi8(lo, hi);
    *o1 = _mm_unpackhi_epi8(lo, hi);
}

CD_AVX2 size_t fast4_8_avx2(const uint8_t *s, size_t n, const uint8_t *book, uint8_t *out) {
    const __m256i bk = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)book));
    size_t d = 0;
    for (; d + 64 <= n; d += 64, s += 32) {
        __m256i o0, o1;
        nibbles64(s, &o0, &o1);
        _mm256_storeu_si256((__m256i *)(void *)(out + d), _mm256_shuffle_epi8(bk, o0));
        _mm256_storeu_si256((__m256i *)(void *)(out + d + 32), _mm256_shuffle_epi8(bk, o1));
    }
    return d;
}

CD_AVX2 size_t fast4_16_avx2(const uint8_t *s, size_t n, const uint16_t *book, uint16_t *out) {
    /* tl = the 16 entries' low bytes, th = their high bytes */
    const __m128i split = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    const __m128i b0 =
        _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)book), split);
    const __m128i b1 =
        _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(book + 8)), split);
    const __m128i tl = _mm_unpacklo_epi64(b0, b1), th = _mm_unpackhi_epi64(b0, b1);
    size_t d = 0;
    for (; d + 32 <= n; d += 32, s += 16) {
        __m128i i0, i1;
        nibbles32(s, &i0, &i1);
        const __m128i l0 = _mm_shuffle_epi8(tl, i0), h0 = _mm_shuffle_epi8(th, i0);
        const __m128i l1 = _mm_shuffle_epi8(tl, i1), h1 = _mm_shuffle_epi8(th, i1);
        __m128i *o = (__m128i *)(void *)(out + d);
        _mm_storeu_si128(o, _mm_unpacklo_epi8(l0, h0));
        _mm_storeu_si128(o + 1, _mm_unpackhi_epi8(l0, h0));
        _mm_storeu_si128(o + 2, _mm_unpacklo_epi8(l1, h1));
        _mm_storeu_si128(o + 3, _mm_unpackhi_epi8(l1, h1));
    }
    return d;
}

CD_AVX2 size_t fast4_32_avx2(const uint8_t *s, size_t n, const uint32_t *book, uint32_t *out) {
    const __m256i lo8 = _mm256_loadu_si256((const __m256i *)(const void *)book);
    const __m256i hi8 = _mm256_loadu_si256((const __m256i *)(const void *)(book + 8));
    size_t d = 0;
    for (; d + 32 <= n; d += 32, s += 16) {
        __m128i ib[2];
        nibbles32(s, &ib[0], &ib[1]);
        for (unsigned h = 0; h < 4; h++) {
            const __m128i q = (h & 1) ? _mm_srli_si128(ib[h >> 1], 8) : ib[h >> 1];
            const __m256i z = _mm256_cvtepu8_epi32(q);
            const __m256 a = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(lo8, z));
            const __m256 b = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(hi8, z));
            const __m256 sel = _mm256_castsi256_ps(_mm256_slli_epi32(z, 28)); /* bit 3 -> sign */
            _mm256_storeu_ps((float *)(void *)(out + d + 8 * h), _mm256_blendv_ps(a, b, sel));
        }
    }
    return d;
}

CD_AVX512 size_t fast4_32_avx512(const uint8_t *s, size_t n, const uint32_t *book,
                                 uint32_t *out) {
    const __m512i bk = _mm512_loadu_si512(book);
    size_t d = 0;
    for (; d + 32 <= n; d += 32, s += 16) {
        __m128i i0, i1;
        nibbles32(s, &i0, &i1);
        _mm512_storeu_si512(out + d, _mm512_permutexvar_epi32(_mm512_cvtepu8_epi32(i0), bk));
        _mm512_storeu_si512(out + d + 16, _mm512_permutexvar_epi32(_mm512_cvtepu8_epi32(i1), bk));
    }
    return d;
}

static size_t fast4_8(const uint8_t *s, size_t n, const uint8_t *book, uint8_t *out) {
    return (qlite_q8_cpu_features() & QLITE_Q8_F_AVX2) ? fast4_8_avx2(s, n, book, out) : 0;
}
static size_t fast4_16(const uint8_t *s, size_t n, const uint16_t *book, uint16_t *out) {
    return (qlite_q8_cpu_features() & QLITE_Q8_F_AVX2) ? fast4_16_avx2(s, n, book, out) : 0;
}
static size_t fast4_32(const uint8_t *s, size_t n, const uint32_t *book, uint32_t *out) {
    const unsigned f = qlite_q8_cpu_features();
    if (f & QLITE_Q8_F_AVX512) return fast4_32_avx512(s, n, book, out);
    return (f & QLITE_Q8_F_AVX2) ? fast4_32_avx2(s, n, book, out) : 0;
}
#elif defined(CD_NEON)
static size_t fast4_8(const uint8_t *s, size_t n, const uint8_t *book, uint8_t *out) {
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_NEON)) return 0;
    const uint8x16_t bk = vld1q_u8(book), m = vdupq_n_u8(0x0f);
    size_t d = 0;
    for (; d + 32 <= n; d += 32, s += 16) {
        const uint8x16_t v = vld1q_u8(s);
        const uint8x16_t lo = vandq_u8(v, m), hi = vshrq_n_u8(v, 4);
        vst1q_u8(out + d, vqtbl1q_u8(bk, vzip1q_u8(lo, hi)));
        vst1q_u8(out + d + 16, vqtbl1q_u8(bk, vzip2q_u8(lo, hi)));
    }
    return d;
}
static size_t fast4_16(const uint8_t *s, size_t n, const uint16_t *book, uint16_t *out) {
    (void)s, (void)n, (void)book, (void)out;
    return 0;
}
static size_t fast4_32(const uint8_t *s, size_t n, const uint32_t *book, uint32_t *out) {
    if (!(qlite_q8_cpu_features() & QLITE_Q8_F_NEON)) return 0;
    /* the 64 book bytes as one TBL table; entry e's bytes at 4e .. 4e + 3 */
    const uint8x16x4_t bk = vld1q_u8_x4((const uint8_t *)(const void *)book);
    const uint8x16_t m = vdupq_n_u8(0x0f);
    static const uint8_t spread[4][16] = {{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3},
                                          {4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7},
                                          {8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11},
                                          {12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15,
                                           15, 15}};
    static const uint8_t byte_of[16] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3};
    const uint8x16_t bo = vld1q_u8(byte_of);
    size_t d = 0;
    for (; d + 32 <= n; d += 32, s += 16) {
        const uint8x16_t v = vld1q_u8(s);
        const uint8x16_t lo = vandq_u8(v, m), hi = vshrq_n_u8(v, 4);
        const uint8x16_t q[2] = {vshlq_n_u8(vzip1q_u8(lo, hi), 2),
                                 vshlq_n_u8(vzip2q_u8(lo, hi), 2)};
        for (unsigned h = 0; h < 8; h++) {
            const uint8x16_t sel = vaddq_u8(vqtbl1q_u8(q[h >> 2], vld1q_u8(spread[h & 3])), bo);
            vst1q_u8((uint8_t *)(void *)(out + d + 4 * h), vqtbl4q_u8(bk, sel));
        }
    }
    return d;
}
#else
static size_t fast4_8(const uint8_t *s, size_t n, const uint8_t *book, uint8_t *out) {
    (void)s, (void)n, (void)book, (void)out;
    return 0;
}
static size_t fast4_16(const uint8_t *s, size_t n, const uint16_t *book, uint16_t *out) {
    (void)s, (void)n, (void)book, (void)out;
    return 0;
}
static size_t fast4_32(const uint8_t *s, size_t n, const uint32_t *book, uint32_t *out) {
    (void)s, (void)n, (void)book, (void)out;
    return 0;
}
#endif

/* ---- any width on AVX-512 VBMI: 64 indices per step ----
 * 8 indices of b bits are b bytes; the 8 b-byte groups of a step (8b <= 64
 * stream bytes, a masked load) are spread one per 64-bit lane by VPERMB
 * (lane g gets bytes g*b .. g*b + 7), VPMULTISHIFTQB takes the 8 bits at
 * offsets 0, b, ..., 7b of each lane (index t of the group in byte t), and
 * a mask keeps b of them. Entries: int8 by VPERMB on the codebook (b <= 6:
 * one table, masked to its 2^b bytes; 7: VPERMI2B over 128; 8: two
 * VPERMI2B and a blend on bit 7); 32-bit by VPERMD (b <= 4) or VPERMI2D
 * (b = 5; wider 32-bit books stay with the scalar groups). */
#ifdef CD_X86
#define CD_VBMI_TARGET target("avx2,avx512f,avx512bw,avx512vl,avx512vbmi")
#define CD_VBMI static __attribute__((CD_VBMI_TARGET)) __attribute__((noinline))
#define CD_VBMI_INL static inline __attribute__((always_inline, CD_VBMI_TARGET))

bool qlite_cluster_vbmi(void) {
    static _Atomic int known; /* 0 unknown, 1 no, 2 yes */
    int v = atomic_load_explicit(&known, memory_order_relaxed);
    if (!v) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx512vbmi") ? 2 : 1;
        atomic_store_explicit(&known, v, memory_order_relaxed);
    }
    return v == 2 && (qlite_q8_cpu_features() & QLITE_Q8_F_AVX512);
}

/* The 64 indices of the 8b stream bytes at s, one per byte. */
CD_VBMI_INL __m512i vbmi_indices(const uint8_t *s, unsigned b, __m512i spread, __m512i shifts,
                                 __m512i mask) {
    const __m512i raw = _mm512_maskz_loadu_epi8((__mmask64)(~0ull >> (64 - 8 * b)), s);
    return _mm512_and_si512(
        _mm512_multishift_epi64_epi8(shifts, _mm512_permutexvar_epi8(spread, raw)), mask);
}

CD_VBMI_INL void vbmi_controls(unsigned b, __m512i *spread, __m512i *shifts, __m512i *mask) {
    uint8_t sp[64], sh[64];
    for (unsigned g = 0; g < 8; g++)
        for (unsigned q = 0; q < 8; q++) {
            sp[g * 8 + q] = (uint8_t)(g * b + q);
            sh[g * 8 + q] = (uint8_t)(q * b);
        }
    *spread = _mm512_loadu_si512(sp);
    *shifts = _mm512_loadu_si512(sh);
    *mask = _mm512_set1_epi8((char)((1u << b) - 1));
}

CD_VBMI size_t fastb_8_vbmi(const uint8_t *s, unsigned b, size_t n, const uint8_t *book,
                            uint8_t *out) {
    __m512i spread, shifts, mask;
    vbmi_controls(b, &spread, &shifts, &mask);
    const size_t entries = (size_t)1 << b;
    const __mmask64 have = (__mmask64)(~0ull >> (64 - (entries < 64 ? entries : 64)));
    const __m512i t0 = _mm512_maskz_loadu_epi8(have, book);
    const __m512i t1 = b >= 7 ? _mm512_loadu_si512(book + 64) : t0;
    const __m512i t2 = b == 8 ? _mm512_loadu_si512(book + 128) : t0;
    const __m512i t3 = b == 8 ? _mm512_loadu_si512(book + 192) : t0;
    size_t d = 0;
    for (; d + 64 <= n; d += 64, s += 8 * b) {
        const __m512i ix = vbmi_indices(s, b, spread, shifts, mask);
        __m512i v;
        if (b <= 6) {
            v = _mm512_permutexvar_epi8(ix, t0);
        } else if (b == 7) {
            v = _mm512_permutex2var_epi8(t0, ix, t1);
        } else {
            const __m512i lo = _mm512_permutex2var_epi8(t0, ix, t1);
            const __m512i hi = _mm512_permutex2var_epi8(t2, ix, t3);
            v = _mm512_mask_blend_epi8(_mm512_movepi8_mask(ix), lo, hi);
        }
        _mm512_storeu_si512(out + d, v);
    }
    return d;
}

CD_VBMI size_t fastb_32_vbmi(const uint8_t *s, unsigned b, size_t n, const uint32_t *book,
                             uint32_t *out) {
    __m512i spread, shifts, mask;
    vbmi_controls(b, &spread, &shifts, &mask);
    const size_t entries = (size_t)1 << b;
    const __m512i t0 = b <= 4 ? _mm512_maskz_loadu_epi32((__mmask16)((1u << entries) - 1), book)
                              : _mm512_loadu_si512(book); /* b = 5: 32 entries in t0, t1 */
    const __m512i t1 = b == 5 ? _mm512_loadu_si512(book + 16) : t0;
    size_t d = 0;
    for (; d + 64 <= n; d += 64, s += 8 * b) {
        const __m512i ix = vbmi_indices(s, b, spread, shifts, mask);
        /* (the 128-bit lane numbers must be constants for clang) */
        const __m128i q[4] = {_mm512_extracti32x4_epi32(ix, 0), _mm512_extracti32x4_epi32(ix, 1),
                              _mm512_extracti32x4_epi32(ix, 2), _mm512_extracti32x4_epi32(ix, 3)};
        for (unsigned h = 0; h < 4; h++) {
            const __m512i z = _mm512_cvtepu8_epi32(q[h]);
            __m512i v;
            if (b <= 4) v = _mm512_permutexvar_epi32(z, t0);
            else v = _mm512_permutex2var_epi32(t0, z, t1);
            _mm512_storeu_si512(out + d + 16 * h, v);
        }
    }
    return d;
}

static size_t fastb_8(const uint8_t *s, unsigned b, size_t n, const uint8_t *book,
                      uint8_t *out) {
    return n >= 64 && qlite_cluster_vbmi() ? fastb_8_vbmi(s, b, n, book, out) : 0;
}
static size_t fastb_16(const uint8_t *s, unsigned b, size_t n, const uint16_t *book,
                       uint16_t *out) {
    (void)s, (void)b, (void)n, (void)book, (void)out;
    return 0;
}
static size_t fastb_32(const uint8_t *s, unsigned b, size_t n, const uint32_t *book,
                       uint32_t *out) {
    /* wider books would need a gather per 16 entries: no faster than the scalar code */
    return n >= 64 && b <= 5 && qlite_cluster_vbmi() ? fastb_32_vbmi(s, b, n, book, out) : 0;
}
#else
bool qlite_cluster_vbmi(void) { return false; }
static size_t fastb_8(const uint8_t *s, unsigned b, size_t n, const uint8_t *book,
                      uint8_t *out) {
    (void)s, (void)b, (void)n, (void)book, (void)out;
    return 0;
}
static size_t fastb_16(const uint8_t *s, unsigned b, size_t n, const uint16_t *book,
                       uint16_t *out) {
    (void)s, (void)b, (void)n, (void)book, (void)out;
    return 0;
}
static size_t fastb_32(const uint8_t *s, unsigned b, size_t n, const uint32_t *book,
                       uint32_t *out) {
    (void)s, (void)b, (void)n, (void)book, (void)out;
    return 0;
}
#endif

#define DEFINE_DECODER(NAME, T, FAST4, FASTB)                                                     \
    static inline __attribute__((always_inline)) void NAME##_groups(                         \
        const uint8_t *s, size_t groups, size_t avail, const unsigned b,                     \
        const T *restrict book, T *restrict out) {                                           \
        const uint64_t mask = (1u << b) - 1;                                                 \
        /* groups whose 8-byte load stays inside the avail bytes at s */                     \
        size_t safe = avail >= 8 ? (avail - 8) / b + 1 : 0;                                  \
        if (safe > groups) safe = groups;                                                    \
        size_t g = 0;                                                                        \
        for (; g < safe; g++, s += b, out += 8) {                                            \
            /* all 8 lookups before the stores: no store waits on a book load */             \
            const uint64_t w = load_le8(s);                                                  \
            T v[8];                                                                          \
            for (unsigned t = 0; t < 8; t++) v[t] = book[(w >> (t * b)) & mask];             \
            memcpy(out, v, sizeof v);                                                        \
        }                                                                                    \
        for (; g < groups; g++, s += b, out += 8) {                                          \
            const uint64_t w = load_le(s, b);                                                \
            for (unsigned t = 0; t < 8; t++) out[t] = book[(w >> (t * b)) & mask];           \
        }                                                                                    \
    }                                                                                        \
    void NAME(const uint8_t *stream, unsigned bits, uint64_t first, size_t n, const T *book, \
              T *out) {                                                                      \
        size_t i = 0;                                                                        \
        uint64_t j = first;                                                                  \
        for (; i < n && (j & 7); i++, j++) out[i] = book[qlite_cluster_index(stream, bits, j)]; \
        const uint8_t *s = stream + (j / 8) * bits;                                          \
        if (bits == 4 && i < n) {                                                            \
            const size_t done = FAST4(s, n - i, book, out + i);                              \
            i += done;                                                                       \
            j += done;                                                                       \
            s += done / 2;                                                                   \
        } else if (i < n) {                                                                  \
            const size_t done = FASTB(s, bits, n - i, book, out + i);                        \
            i += done;                                                                       \
            j += done;                                                                       \
            s += done / 8 * bits;                                                            \
        }                                                                                    \
        const size_t groups = (n - i) / 8;                                                   \
        /* bytes readable from s: up to the end of index first + n - 1 */                    \
        const size_t avail =                                                                 \
            (size_t)(qlite_cluster_stream_bytes(first + n, bits) - (uint64_t)(s - stream));  \
        switch (bits) {                                                                      \
        case 1: NAME##_groups(s, groups, avail, 1, book, out + i); break;                    \
        case 2: NAME##_groups(s, groups, avail, 2, book, out + i); break;                    \
        case 3: NAME##_groups(s, groups, avail, 3, book, out + i); break;                    \
        case 4: NAME##_groups(s, groups, avail, 4, book, out + i); break;                    \
        case 5: NAME##_groups(s, groups, avail, 5, book, out + i); break;                    \
        case 6: NAME##_groups(s, groups, avail, 6, book, out + i); break;                    \
        case 7: NAME##_groups(s, groups, avail, 7, book, out + i); break;                    \
        default: NAME##_groups(s, groups, avail, 8, book, out + i); break;                   \
        }                                                                                    \
        i += groups * 8;                                                                     \
        j += groups * 8;                                                                     \
        for (; i < n; i++, j++) out[i] = book[qlite_cluster_index(stream, bits, j)];         \
    }

DEFINE_DECODER(qlite_cluster_decode_8, uint8_t, fast4_8, fastb_8)
DEFINE_DECODER(qlite_cluster_decode_16, uint16_t, fast4_16, fastb_16)
DEFINE_DECODER(qlite_cluster_decode_32, uint32_t, fast4_32, fastb_32)
