/*
 * gemm_q8_amx.c — the Intel AMX variant of the int8 GEMM (gemm_q8.h):
 *
 *   qlite_q8_gemm__amx_32x32   TDPBUSD on 16-row x 64-byte tiles
 *
 * TDPBUSD (AMX-INT8) is VPDPBUSD on tiles: C[16][16] int32 += A[16][64]
 * (unsigned bytes, 16 rows of 16 groups of 4 k) x B[16][64] (signed bytes,
 * 16 groups of 4 k, each 16 columns x 4 k), the 4 products of a group added
 * to the int32 lane without intermediate saturation and the sum wrapping
 * like VPDPBUSD's. B's tile is exactly 1 KiB of O16I4: the 64 k of one
 * 16-column block starting at k (row stride 64), so the packed weights (or a
 * model's mapped O16I4 bytes) are read in place; A's is 16 rows of A (row
 * stride lda) at byte k.
 *
 * Tiles (one configuration, palette 1, all 8 tiles 16 rows x 64 bytes):
 *   tmm0..3  C: rows 0-15 / 16-31 x blocks 0 / 1 (32 x 32 int32 per block of work)
 *   tmm4, 5  A: rows 0-15, 16-31 at k
 *   tmm6, 7  B: blocks 0, 1 at k
 * so each 64-k step is 2 + 2 loads and 4 TDPBUSD (16 x 16 x 64 each).
 *
 * Edges, each with exactly the bits of the other variants (integer sums in
 * another order: the same wrapped int32):
 *   K   K4 = 64 KB + r. The KB full steps read A bytes [0, 64 KB) <= K4 of
 *       each row and B rows inside the block. The last r bytes go through
 *       zero-filled staging buffers: A's r bytes of each row copied to a
 *       [32][64] buffer, B's r / 4 rows of 64 bytes to a [2][16][64] one
 *       (per 32-column panel): a tile never reads A past K4 (there lie the
 *       next row's bytes, or the end of the buffer) nor B past its block
 *       (the next block, or the end of weights mapped from the file with
 *       exact blocks; ASan does not watch mmapped memory, so this is by
 *       construction: every B tile load is at block + 1024 q, q < KB).
 *   N   32-column panels of two blocks; a last single block uses tmm6 only,
 *       so no block past ceil(N / 16) is read (the variant qualifies for
 *       exact_blocks at every N). Stores are masked to the valid columns.
 *   M   32-row blocks; a remainder of 16+ rows takes a 16-row block (tmm4
 *       only); the last < 16 rows are recomputed in a 16-row block that
 *       ends at row M (it overlaps rows already stored, which are not stored
 *       again) when M >= 16 and the remainder is 2+ rows, else (one row)
 *       they go to the AVX-512 VNNI tiles (8x32 on two blocks, 12x16 on
 *       one). A VNNI tile call costs as much for 2-3 rows as a 16-row
 *       block (same-process A/B, both variants alternating: M = 98 x 96..576
 *       x K 64..96, MobileNetV2's 14x14 1x1 convs at 2 threads, 0.78-0.82x
 *       the time; M = 18/19/34/50, K 256..1024, 0.53-0.86x); for one row
 *       neither wins everywhere (0.85-1.11x over M 17..113, K 128..960).
 *   short K  K4 < 64 (MobileNetV2's first layers: K = 16, 27, 32): one step
 *       on tiles configured K4 bytes wide (A) and K4 / 4 rows high (B), read
 *       in place (no staging, no zero products). The VNNI tiles spent most
 *       of their issue slots there on the output stage, which the vector
 *       units now run alone while the tile unit multiplies.
 * The output stage reads the C tiles back from a stack buffer: + bias
 * - zw * rowsum, then q8_x86.h's rq16w requantization (bit-identical to
 * qlite_requantize), clamp, masked byte stores (or the int32 sums). Without
 * zw and left shifts the bias is folded into the rounding constants
 * (rq16w_fold) and the odd columns are loaded 4 bytes further on
 * (rq16w_q_eo): ~13 vector ops per 16 outputs. It is
 * software-pipelined: a block's output stage (vector units) is issued after
 * the next block's TDPBUSDs (the tile unit) and before their tile stores,
 * with two accumulator buffers, so the two overlap.
 *
 * Tile configuration: loaded by every call of the tile function (which
 * qlite_gemm_q8_tiles calls once per GEMM: any_shape), on the calling
 * thread, so each pool worker configures its own tiles before its first
 * tile instruction. Before loading ours the caller's configuration is
 * saved (STTILECFG) and at the end it is put back (LDTILECFG: a host that
 * had tiles configured finds its shapes again, with its tile data zeroed as
 * any LDTILECFG does), or TILERELEASE when there was none, so no thread is
 * left with a configuration that assumes ours. Calls with fewer than 16
 * rows run on the VNNI tiles and touch no tile state.
 *
 * The instructions are written as inline assembly with "memory" clobbers
 * (gcc 12's _tile_loadd does not tell the compiler it reads memory, so the
 * stores that fill a staging buffer could be moved or dropped): no -mamx
 * flags are needed, and gemm_q8.c runs this only after qlite_q8_amx_usable()
 * said yes (CPUID AMX-TILE and AMX-INT8, XCR0 tile state enabled, and the
 * Linux permission to use tile data granted through arch_prctl).
 */
#include "gemm_q8.h"

#include "kernels/q8_x86.h"

#ifdef QLITE_Q8_X86

#include <cpuid.h>
#include <stdalign.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

extern const qlite_gemm_q8_ukernel qlite_q8_gemm__avx512vnni_12x16;
extern const qlite_gemm_q8_ukernel qlite_q8_gemm__avx512vnni_8x32;

/* ---- detection ---- */

#define AMX_ARCH_REQ_XCOMP_PERM 0x1023
#define AMX_XFEATURE_XTILEDATA 18

bool qlite_q8_amx_usable(void);

/* Called once (gemm_q8.c caches the features) after AVX-512 was found. */
bool qlite_q8_amx_usable(void) {
#if defined(__linux__) && defined(SYS_arch_prctl)
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    if (!(edx >> 24 & 1) || !(edx >> 25 & 1)) return false; /* AMX-TILE, AMX-INT8 */
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx >> 27 & 1)) return false; /* OSXSAVE */
    uint32_t xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo >> 17 & 3) != 3) return false; /* XTILECFG and XTILEDATA state enabled */
    /* tile data is disabled per process until asked for (Linux 5.16+) */
    return syscall(SYS_arch_prctl, AMX_ARCH_REQ_XCOMP_PERM, AMX_XFEATURE_XTILEDATA) == 0;
#else
    return false;
#endif
}

/* ---- tile instructions ---- */

#define TLOAD(t, p, s) \
    __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #t ::"r"(p), "r"((long)(s)) : "memory")
#define TSTORE(t, p, s) \
    __asm__ volatile("tilestored %%tmm" #t ", (%0,%1,1)" ::"r"(p), "r"((long)(s)) : "memory")
#define TZERO(t) __asm__ volatile("tilezero %%tmm" #t ::)
#define TDP(c, a, b) __asm__ volatile("tdpbusd %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::)

typedef struct amx_cfg {
    uint8_t palette, start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} amx_cfg;
_Static_assert(sizeof(amx_cfg) == 64, "LDTILECFG reads 64 bytes");

static inline void cfg_load(const amx_cfg *c) {
    __asm__ volatile("ldtilecfg (%0)" ::"r"(c) : "memory");
}
static inline void cfg_store(amx_cfg *c) {
    __asm__ volatile("sttilecfg (%0)" ::"r"(c) : "memory");
}
static inline void tile_release(void) { __asm__ volatile("tilerelease" ::: "memory"); }

/* ---- one block of work ---- */

/*
 * C tiles = A rows (16, or 32 when two_a) x the 16 or 32 (two_b) columns of
 * the blocks at b, over KB full 64-k steps, then the staged tail (at
 * [32][64], bt [2][16][64]) when at is set; amx_store puts them in acc.
 */
static void amx_compute(size_t KB, const uint8_t *a, size_t lda, const int8_t *b, size_t bstride,
                        bool two_a, bool two_b, const uint8_t *at, const int8_t *bt) {
    const uint8_t *a1 = a + 16 * lda;
    const int8_t *b1 = b + bstride;
    TZERO(0);
    TZERO(1);
    TZERO(2);
    TZERO(3);
    if (two_a && two_b) {
        for (size_t q = 0; q < KB; q++) {
            TLOAD(4, a + 64 * q, lda);
            TLOAD(6, b + 1024 * q, 64);
            TLOAD(7, b1 + 1024 * q, 64);
            TDP(0, 4, 6);
            TLOAD(5, a1 + 64 * q, lda);
            TDP(1, 4, 7);
            TDP(2, 5, 6);
            TDP(3, 5, 7);
        }
        if (at) {
            TLOAD(4, at, 64);
            TLOAD(6, bt, 64);
            TLOAD(7, bt + 1024, 64);
            TDP(0, 4, 6);
            TLOAD(5, at + 1024, 64);
            TDP(1, 4, 7);
            TDP(2, 5, 6);
            TDP(3, 5, 7);
        }
    } else if (two_b) {
        for (size_t q = 0; q < KB; q++) {
            TLOAD(4, a + 64 * q, lda);
            TLOAD(6, b + 1024 * q, 64);
            TLOAD(7, b1 + 1024 * q, 64);
            TDP(0, 4, 6);
            TDP(1, 4, 7);
        }
        if (at) {
            TLOAD(4, at, 64);
            TLOAD(6, bt, 64);
            TLOAD(7, bt + 1024, 64);
            TDP(0, 4, 6);
            TDP(1, 4, 7);
        }
    } else if (two_a) {
        for (size_t q = 0; q < KB; q++) {
            TLOAD(4, a + 64 * q, lda);
            TLOAD(6, b + 1024 * q, 64);
            TLOAD(5, a1 + 64 * q, lda);
            TDP(0, 4, 6);
            TDP(2, 5, 6);
        }
        if (at) {
            TLOAD(4, at, 64);
            TLOAD(6, bt, 64);
            TLOAD(5, at + 1024, 64);
            TDP(0, 4, 6);
            TDP(2, 5, 6);
        }
    } else {
        for (size_t q = 0; q < KB; q++) {
            TLOAD(4, a + 64 * q, lda);
            TLOAD(6, b + 1024 * q, 64);
            TDP(0, 4, 6);
        }
        if (at) {
            TLOAD(4, at, 64);
            TLOAD(6, bt, 64);
            TDP(0, 4, 6);
        }
    }
}

/* The C tiles into acc [32][32] (row stride 32). */
static void amx_store(bool two_a, bool two_b, int32_t *acc) {
    TSTORE(0, acc, 128);
    if (two_b) TSTORE(1, acc + 16, 128);
    if (two_a) TSTORE(2, acc + 512, 128);
    if (two_a && two_b) TSTORE(3, acc + 528, 128);
}

/* Output bytes of two requantized vectors (rq16w_bytes32_s), the clamp only when it can
 * change a value (lo, hi not the dtype's range: the narrowing saturates there anyway). */
Q8_AVX512 static inline __m256i amx_bytes32(__m512i qa, __m512i qb, const rq16w *p, bool sgn,
                                            bool clamp) {
    if (clamp) return rq16w_bytes32_s(qa, qb, p, sgn);
    const __m512i w = _mm512_adds_epi16(_mm512_packs_epi32(qa, qb), p->zy16);
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
    return _mm512_castsi512_si256(
        _mm512_permutexvar_epi32(order, sgn ? _mm512_packs_epi16(w, w) : _mm512_packus_epi16(w, w)));
}

/*
 * rq16w_q_eo of the row at r (odd columns read at r + 1); corr false: without
 * the correction for a negative h. That correction only lowers results q <= 0
 * (h < 0: q and the uncorrected q are both <= 0), which give zy + q <= zy <=
 * lo when the output's lower clamp is at or above its zero point (ReLU,
 * ReLU6): the same bytes either way, 4 vector ops fewer per 32 outputs.
 */
Q8_AVX512 static inline __attribute__((always_inline)) __m512i
amx_q_eo(const int32_t *r, const rq16w *p, const __m512i lt[2], bool corr) {
    if (corr) return rq16w_q_eo(_mm512_loadu_si512(r), _mm512_loadu_si512(r + 1), p, lt);
    const __m512i te = _mm512_add_epi64(_mm512_mul_epi32(_mm512_loadu_si512(r), p->m0), p->ce);
    const __m512i to =
        _mm512_add_epi64(_mm512_mul_epi32(_mm512_loadu_si512(r + 1), p->m0o), p->co);
    return _mm512_mask_shuffle_epi32(_mm512_srav_epi64(te, p->she), 0xAAAA,
                                     _mm512_srav_epi64(to, p->sho), (_MM_PERM_ENUM)0xA0);
}

/* The fast output stage's rows [i0, i1) (16 or, two, 32 columns; bytes stored under m32). */
Q8_AVX512 static inline __attribute__((always_inline)) void
amx_rows(const int32_t *acc, size_t i0, size_t i1, const rq16w *p0, const rq16w *p1,
         const __m512i lt0[2], const __m512i lt1[2], bool two, bool corr, bool sgn, bool clamp,
         uint8_t *c, size_t ldc, __mmask32 m32) {
    for (size_t i = i0; i < i1; i++) {
        const int32_t *r = acc + 32 * i;
        const __m512i q0 = amx_q_eo(r, p0, lt0, corr);
        const __m512i q1 = two ? amx_q_eo(r + 16, p1, lt1, corr) : q0;
        _mm256_mask_storeu_epi8(c + i * ldc, m32, amx_bytes32(q0, q1, p0, sgn, clamp));
    }
}

/*
 * Output stage of acc rows [i0, i1) (C rows of the block: c, rowsum) for
 * ncols (1..32) columns starting at global column n; p: the panel's
 * requantization (BYTES mode), p[1] only when ncols > 16.
 */
Q8_AVX512 static void amx_out(const int32_t *acc, size_t i0, size_t i1, size_t ncols,
                              const qlite_q8_cols *cols, size_t n, const int32_t *rowsum,
                              void *c, size_t ldc, unsigned mode, const rq16w *p) {
    const bool two = ncols > 16;
    const size_t c1 = two ? ncols - 16 : 0;
    const __mmask16 m0 = (__mmask16)(ncols >= 16 ? 0xffffu : (1u << ncols) - 1);
    const __mmask16 m1 = (__mmask16)(c1 >= 16 ? 0xffffu : (1u << c1) - 1);
    const __mmask32 m32 = ncols >= 32 ? ~(__mmask32)0 : (__mmask32)((1u << ncols) - 1);
    __m512i bias[2];
    for (size_t v = 0; v < 2; v++)
        bias[v] = cols->bias && (v == 0 || two) ? _mm512_loadu_si512(cols->bias + n + 16 * v)
                                                : _mm512_setzero_si512();
    if (mode == QLITE_GEMM_Q8_BYTES && !cols->zw && !p[0].left) {
        /* the bias folded into the requantization constants; the odd columns read 4 bytes
         * further on (acc's rows have 16 int32 of slack), so VPMULDQ finds them in the even
         * lanes without a shift */
        rq16w p0 = p[0], p1 = p[1];
        __m512i lt0[2], lt1[2];
        rq16w_fold(&p0, bias[0], lt0);
        rq16w_fold(&p1, bias[1], lt1);
        const bool sgn = p0.sgn;
        const bool clamp = sgn ? cols->lo > -128 || cols->hi < 127 : cols->lo > 0 || cols->hi < 255;
        const bool corr = cols->lo < cols->zy; /* amx_q_eo */
        uint8_t *cb = c;
        if (two && corr)
            amx_rows(acc, i0, i1, &p0, &p1, lt0, lt1, true, true, sgn, clamp, cb, ldc, m32);
        else if (two)
            amx_rows(acc, i0, i1, &p0, &p1, lt0, lt1, true, false, sgn, clamp, cb, ldc, m32);
        else if (corr)
            amx_rows(acc, i0, i1, &p0, &p1, lt0, lt1, false, true, sgn, clamp, cb, ldc, m32);
        else
            amx_rows(acc, i0, i1, &p0, &p1, lt0, lt1, false, false, sgn, clamp, cb, ldc, m32);
        return;
    }
    /* local copies: the byte stores below may not alias them, so they stay in registers */
    const rq16w p0 = p[0], p1 = p[1];
    __m512i zw[2];
    for (size_t v = 0; v < 2; v++)
        zw[v] = cols->zw && (v == 0 || two) ? _mm512_loadu_si512(cols->zw + n + 16 * v)
                                            : _mm512_setzero_si512();
    for (size_t i = i0; i < i1; i++) {
        __m512i x0 = _mm512_add_epi32(_mm512_loadu_si512(acc + 32 * i), bias[0]);
        __m512i x1 = two ? _mm512_add_epi32(_mm512_loadu_si512(acc + 32 * i + 16), bias[1])
                         : _mm512_setzero_si512();
        if (cols->zw) {
            const __m512i rs = _mm512_set1_epi32(rowsum[i]);
            x0 = _mm512_sub_epi32(x0, _mm512_mullo_epi32(rs, zw[0]));
            x1 = _mm512_sub_epi32(x1, _mm512_mullo_epi32(rs, zw[1]));
        }
        if (mode == QLITE_GEMM_Q8_INT32) {
            int32_t *d = (int32_t *)c + i * ldc;
            _mm512_mask_storeu_epi32(d, m0, x0);
            if (two) _mm512_mask_storeu_epi32(d + 16, m1, x1);
        } else {
            const __m512i q0 = rq16w_q(x0, &p0);
            const __m512i q1 = two ? rq16w_q(x1, &p1) : q0;
            _mm256_mask_storeu_epi8((uint8_t *)c + i * ldc, m32, rq16w_bytes32(q0, q1, &p0));
        }
    }
}

/* ---- the GEMM ---- */

/* Below this many leftover rows (M >= 16) the VNNI tiles take them, else an overlapped block
 * (the M edge in the header). */
#define AMX_OVERLAP_MIN 2

/*
 * The tile function, for any mr and nr (any_shape): C rows [0, M) x columns
 * [0, N) of the blocks at b, column parameters from global column n0.
 */
Q8_AVX512 static void tile_amx(size_t K4, const uint8_t *a, size_t lda, size_t M, const int8_t *b,
                               size_t bstride, size_t N, const qlite_q8_cols *cols, size_t n0,
                               const int32_t *rowsum, void *c, size_t ldc, unsigned mode) {
    if (M == 0 || N == 0) return;
    const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    const size_t KB = K4 / 64, r = K4 % 64, nblk = (N + 15) / 16;
    /* K4 < 64: one step on tiles of K4 bytes (A) and K4 / 4 rows (B), read in place */
    const bool shortk = KB == 0, stage = r && !shortk;
    /* rows: [0, M32) in 32-row blocks, [M32, M16) one 16-row block, then the rest */
    const bool amx = M >= 16;
    const size_t M32 = amx ? M / 32 * 32 : 0, M16 = amx && M - M32 >= 16 ? M32 + 16 : M32;
    const size_t rest = M - M16;
    const bool overlap = amx && rest >= AMX_OVERLAP_MIN;
    const size_t vnni_rows = overlap ? 0 : rest;
    const __mmask64 rmask = stage ? ~0ull >> (64 - r) : 0;
    /* (16 int32 of slack: amx_out reads a row's odd columns 4 bytes further on) */
    alignas(64) int32_t acc[2][32 * 32 + 16];
    alignas(64) uint8_t at[32 * 64];
    alignas(64) int8_t bt[2 * 16 * 64];
    amx_cfg saved, ours;
    if (amx) {
        memset(&ours, 0, sizeof ours);
        ours.palette = 1;
        for (int t = 0; t < 8; t++) {
            ours.colsb[t] = 64;
            ours.rows[t] = 16;
        }
        if (shortk) {
            ours.colsb[4] = ours.colsb[5] = (uint16_t)K4;
            ours.rows[6] = ours.rows[7] = (uint8_t)(K4 / 4);
        }
        cfg_store(&saved);
        cfg_load(&ours);
        if (stage) {
            memset(at, 0, sizeof at);
            memset(bt, 0, sizeof bt);
        }
    }
    for (size_t j = 0; j < nblk; j += 2) {
        const bool two_b = j + 1 < nblk;
        const size_t ncols = N - 16 * j < 32 ? N - 16 * j : 32, n = n0 + 16 * j;
        const int8_t *bp = b + j * bstride;
        uint8_t *cp = (uint8_t *)c + 16 * j * es;
        rq16w p[2];
        if (mode == QLITE_GEMM_Q8_BYTES) {
            p[0] = rq16w_load(cols, n);
            p[1] = two_b ? rq16w_load(cols, n + 16) : p[0];
        } else {
            memset(p, 0, sizeof p);
        }
        if (amx && stage) /* the last r / 4 rows of 64 bytes of each block */
            for (size_t v = 0; v < (two_b ? 2u : 1u); v++)
                memcpy(bt + 1024 * v, bp + v * bstride + 1024 * KB, 16 * r);
        /* software pipeline: a block's output stage (vector units) runs while the next
         * block's TDPBUSDs (the tile unit) are in flight; two accumulator buffers */
        size_t pend_rows = 0, pend_first = 0, pend_mb = 0, cur = 0;
        for (size_t m0 = 0; amx;) {
            /* the block's first row, its rows, and the first of them to store */
            size_t mb = m0, rows, first = 0;
            if (m0 < M32) {
                rows = 32;
            } else if (m0 < M16) {
                rows = 16;
            } else if (overlap && m0 < M) { /* ends at row M, overlapping stored rows */
                mb = M - 16;
                rows = 16;
                first = m0 - mb;
            } else {
                break;
            }
            const uint8_t *ap = a + mb * lda;
            if (stage) /* masked loads: the bytes past r are neither read nor (at) changed */
                for (size_t i = 0; i < rows; i++)
                    _mm512_store_si512(at + 64 * i,
                                       _mm512_maskz_loadu_epi8(rmask, ap + i * lda + 64 * KB));
            amx_compute(shortk ? 1 : KB, ap, lda, bp, bstride, rows == 32, two_b,
                        stage ? at : NULL, bt);
            if (pend_rows)
                amx_out(acc[cur ^ 1], pend_first, pend_rows, ncols, cols, n,
                        rowsum ? rowsum + pend_mb : NULL, cp + pend_mb * ldc * es, ldc, mode, p);
            amx_store(rows == 32, two_b, acc[cur]);
            pend_rows = rows, pend_first = first, pend_mb = mb;
            cur ^= 1;
            m0 = mb + rows;
        }
        if (pend_rows)
            amx_out(acc[cur ^ 1], pend_first, pend_rows, ncols, cols, n,
                    rowsum ? rowsum + pend_mb : NULL, cp + pend_mb * ldc * es, ldc, mode, p);
        if (vnni_rows) {
            const qlite_gemm_q8_ukernel *uk =
                two_b ? &qlite_q8_gemm__avx512vnni_8x32 : &qlite_q8_gemm__avx512vnni_12x16;
            for (size_t m = M - vnni_rows; m < M; m += uk->mr) {
                const size_t rows = M - m < uk->mr ? M - m : uk->mr;
                uk->tile(K4, a + m * lda, lda, rows, bp, bstride, ncols, cols, n,
                         rowsum ? rowsum + m : NULL, cp + m * ldc * es, ldc, mode);
            }
        }
    }
    if (amx) {
        if (saved.palette)
            cfg_load(&saved);
        else
            tile_release();
    }
}

/* The dot algorithm (few rows): AVX-512 VNNI's. */
static void dot_amx(size_t K, const uint8_t *a, int32_t rowsum, const int8_t *w, size_t ldw,
                    size_t n0, size_t n1, const qlite_q8_cols *cols, void *c, unsigned mode) {
    qlite_q8_gemm__avx512vnni_12x16.dot(K, a, rowsum, w, ldw, n0, n1, cols, c, mode);
}

const qlite_gemm_q8_ukernel qlite_q8_gemm__amx_32x32 = {
    .name = "qlite_q8_gemm__amx_32x32", .mr = 32, .nr = 32, .tile = tile_amx, .dot = dot_amx,
    .any_shape = true};

#endif /* x86-64 */
