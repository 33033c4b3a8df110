/*
 * spmm_q8_x86.c — the AVX-512 VNNI kernels of spmm_q8.h, for weights with
 * zero points 0 (spmm_q8.c picks them only then):
 *
 *   rows form, M == 1 (y = W u, the batch-1 layer):
 *     1x1    16 stored values at a time: their column indices widened to
 *            dwords, VPGATHERDD of the 4 bytes of u at each column, the
 *            values zero-extended to one byte per dword, VPDPBUSD (only
 *            the first byte of each dword pair is non-zero: u[col] * w);
 *     1x4    16 blocks at a time: VPGATHERDD of the 4 bytes u[4c .. 4c+3]
 *            of each block, the 64 stored bytes as they are, VPDPBUSD
 *            (each lane = one block's 4 products);
 *     1x16k  each block's 16-byte runs of u and of the values, VPDPBUSD on
 *            XMM, four accumulators in turn;
 *     dense  (clustered, not sparse) 64 bytes per VPDPBUSD; with 4-bit
 *            indices the centroids come from VPSHUFB straight into the
 *            VPDPBUSD operands (u permuted to the nibbles' order);
 *     16x4   the O16I4 tile: one VPDPBUSD per block (below);
 *     other block shapes: the portable kernel.
 *   rows form, M >= 2: a panel [round_up(K,4)/4][8 rows][4] of u, so the
 *     4 bytes of group k/4 of the 8 rows are one YMM; each stored group of
 *     4 weights (1x4, 1x16, any width multiple of 4) or each single weight
 *     shifted into its byte of the group (other widths) is broadcast and
 *     multiplied with it by one VPDPBUSD: every weight is loaded once per
 *     8 rows.
 *   transposed form: the portable kernels.
 *
 * u rows are readable (and zero) up to 64 bytes past K (spmm_q8.c's ldu),
 * which the gathers and the panel copy rely on; stored values are read
 * with masked loads at the end of a row (the model's bytes end there).
 */
#include "kernels/spmm_q8.h"

#ifdef QLITE_SPMM_Q8_X86

#include <immintrin.h>
#include <string.h>

#include "kernels/cluster_decode.h"
#include "kernels/q8_x86.h"

#define VNNI __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))
#define VNNI_INL static inline __attribute__((always_inline)) VNNI

/* 16 block columns from b (mask m) as dwords. */
VNNI_INL __m512i load_idx(const void *col, size_t b, __mmask16 m, const unsigned cb) {
    switch (cb) {
    case 1: return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, (const uint8_t *)col + b));
    case 2:
        return _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, (const uint16_t *)col + b));
    default: return _mm512_maskz_loadu_epi32(m, (const uint32_t *)col + b);
    }
}

VNNI_INL size_t col_at(const void *col, size_t b, const unsigned cb) {
    switch (cb) {
    case 1: return ((const uint8_t *)col)[b];
    case 2: return ((const uint16_t *)col)[b];
    default: return ((const uint32_t *)col)[b];
    }
}

/* sum_j u[j] * v[j], j < n (u readable to round_up(n, 64)). */
VNNI_INL int32_t dot_dense(const uint8_t *u, const int8_t *v, size_t n) {
    __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
    size_t j = 0;
    for (; j + 128 <= n; j += 128) {
        a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(u + j), _mm512_loadu_si512(v + j));
        a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(u + j + 64),
                                 _mm512_loadu_si512(v + j + 64));
    }
    for (; j < n; j += 64) {
        const size_t left = n - j;
        const __mmask64 m = left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1);
        a0 = _mm512_dpbusd_epi32(a0, _mm512_maskz_loadu_epi8(m, u + j),
                                 _mm512_maskz_loadu_epi8(m, v + j));
    }
    return _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
}

/* zmm -> 4 dwords with the same total. */
VNNI_INL __m128i fold512(__m512i a) {
    const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

/* One block row (1 x bc blocks, bc 1 or 4): 16 blocks per VPGATHERDD + VPDPBUSD. */
VNNI_INL __m128i row_gather(const uint8_t *u, const void *col, size_t b0, size_t nb,
                            const int8_t *v, const size_t bc, const unsigned cb) {
    __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
    size_t b = 0;
    for (; b + 32 <= nb; b += 32) {
        const __m512i i0 = load_idx(col, b0 + b, 0xffff, cb);
        const __m512i i1 = load_idx(col, b0 + b + 16, 0xffff, cb);
        if (bc == 1) {
            a0 = _mm512_dpbusd_epi32(a0, _mm512_i32gather_epi32(i0, u, 1),
                                     _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(v + b))));
            a1 = _mm512_dpbusd_epi32(
                a1, _mm512_i32gather_epi32(i1, u, 1),
                _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(v + b + 16))));
        } else {
            a0 = _mm512_dpbusd_epi32(a0, _mm512_i32gather_epi32(i0, u, 4),
                                     _mm512_loadu_si512(v + 4 * b));
            a1 = _mm512_dpbusd_epi32(a1, _mm512_i32gather_epi32(i1, u, 4),
                                     _mm512_loadu_si512(v + 4 * b + 64));
        }
    }
    for (; b < nb; b += 16) {
        const size_t cnt = nb - b < 16 ? nb - b : 16;
        const __mmask16 m = (__mmask16)((1u << cnt) - 1);
        const __m512i idx = load_idx(col, b0 + b, m, cb);
        __m512i g, wv;
        if (bc == 1) {
            g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, u, 1);
            wv = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, v + b));
        } else {
            g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, u, 4);
            const __mmask64 m64 = cnt == 16 ? ~(__mmask64)0 : (((__mmask64)1 << (4 * cnt)) - 1);
            wv = _mm512_maskz_loadu_epi8(m64, v + 4 * b);
        }
        a0 = _mm512_dpbusd_epi32(a0, g, wv);
    }
    return fold512(_mm512_add_epi32(a0, a1));
}

/* One block row of 1 x 16 blocks: each block's 16 bytes of u and of the
 * values, one XMM VPDPBUSD, four independent accumulators. */
VNNI_INL __m128i row_16(const uint8_t *u, const void *col, size_t b0, size_t nb,
                        const int8_t *v, const unsigned cb) {
    __m128i s0 = _mm_setzero_si128(), s1 = _mm_setzero_si128(), s2 = _mm_setzero_si128(),
            s3 = _mm_setzero_si128();
#define U16(b) _mm_loadu_si128((const __m128i *)(u + col_at(col, b0 + (b), cb) * 16))
#define V16(b) _mm_loadu_si128((const __m128i *)(v + (b) * 16))
    size_t b = 0;
    for (; b + 4 <= nb; b += 4) {
        s0 = _mm_dpbusd_epi32(s0, U16(b), V16(b));
        s1 = _mm_dpbusd_epi32(s1, U16(b + 1), V16(b + 1));
        s2 = _mm_dpbusd_epi32(s2, U16(b + 2), V16(b + 2));
        s3 = _mm_dpbusd_epi32(s3, U16(b + 3), V16(b + 3));
    }
    for (; b < nb; b++) s0 = _mm_dpbusd_epi32(s0, U16(b), V16(b));
#undef U16
#undef V16
    return _mm_add_epi32(_mm_add_epi32(s0, s1), _mm_add_epi32(s2, s3));
}

/* One block row of 1 x bc blocks, bc a multiple of 16. */
VNNI_INL __m128i row_16k(const uint8_t *u, const void *col, size_t b0, size_t nb,
                         const int8_t *v, size_t bc, const unsigned cb) {
    __m128i s0 = _mm_setzero_si128(), s1 = _mm_setzero_si128();
    for (size_t b = 0; b < nb; b++) {
        const uint8_t *ub = u + col_at(col, b0 + b, cb) * bc;
        const int8_t *vb = v + b * bc;
        size_t j = 0;
        for (; j + 32 <= bc; j += 32) {
            s0 = _mm_dpbusd_epi32(s0, _mm_loadu_si128((const __m128i *)(ub + j)),
                                  _mm_loadu_si128((const __m128i *)(vb + j)));
            s1 = _mm_dpbusd_epi32(s1, _mm_loadu_si128((const __m128i *)(ub + j + 16)),
                                  _mm_loadu_si128((const __m128i *)(vb + j + 16)));
        }
        if (j < bc)
            s0 = _mm_dpbusd_epi32(s0, _mm_loadu_si128((const __m128i *)(ub + j)),
                                  _mm_loadu_si128((const __m128i *)(vb + j)));
    }
    return _mm_add_epi32(s0, s1);
}

/* ---- M == 1, sparse values read in place: block sums and prefix sums ----
 *
 * Per-row loops over a handful of blocks spend their time in mispredicted
 * loop exits. Instead the stored blocks of a run of rows are one flat
 * stream: 16 block sums per step (VPDPBUSD), their running total stored as
 * pre[b + 1] = sum of blocks [0, b], and each row's sum is
 * pre[row_ptr[r + 1]] - pre[row_ptr[r]] (int32 arithmetic wraps; the true
 * row sum fits, spmm_q8.c's accumulator bound, so the difference is exact).
 */
#define Q8_FLAT_CHUNK 4096 /* blocks per prefix run (the pre buffer, 16 KiB) */

/* Sums of the 16 blocks b .. b + cnt - 1 (1 x bc, bc 1 / 4 / 16) of the
 * stream starting at stored block B (values v at block B); lanes past cnt 0. */
VNNI_INL __m512i block_sums16(const uint8_t *u, const void *col, size_t B, const int8_t *v,
                              size_t b, size_t cnt, const size_t bc, const unsigned cb) {
    const __mmask16 m = (__mmask16)((1u << cnt) - 1);
    if (bc == 1 || bc == 4) {
        const __m512i idx = load_idx(col, B + b, m, cb);
        __m512i g, wv;
        if (bc == 1) {
            g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, u, 1);
            wv = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, v + b));
        } else {
            g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, u, 4);
            const __mmask64 m64 = cnt == 16 ? ~(__mmask64)0 : (((__mmask64)1 << (4 * cnt)) - 1);
            wv = _mm512_maskz_loadu_epi8(m64, v + 4 * b);
        }
        return _mm512_dpbusd_epi32(_mm512_setzero_si512(), g, wv);
    }
    /* 1 x 16: z[i] lane L = block 4i + L (16 bytes of u at its column, its
     * 16 values), one VPDPBUSD each; then the 4 partial dwords of each block
     * added by a 4x4 transpose per lane, and the blocks put back in order */
    __m512i z[4];
    for (size_t i = 0; i < 4; i++) {
        size_t c[4];
        for (size_t L = 0; L < 4; L++)
            c[L] = 4 * i + L < cnt ? col_at(col, B + b + 4 * i + L, cb) * 16 : 0;
        __m512i uu = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(u + c[0])));
        uu = _mm512_inserti32x4(uu, _mm_loadu_si128((const __m128i *)(u + c[1])), 1);
        uu = _mm512_inserti32x4(uu, _mm_loadu_si128((const __m128i *)(u + c[2])), 2);
        uu = _mm512_inserti32x4(uu, _mm_loadu_si128((const __m128i *)(u + c[3])), 3);
        const size_t have = cnt > 4 * i ? (cnt - 4 * i < 4 ? cnt - 4 * i : 4) : 0;
        const __mmask64 mv = have == 4 ? ~(__mmask64)0 : (((__mmask64)1 << (16 * have)) - 1);
        const __m512i vv = _mm512_maskz_loadu_epi8(mv, v + (b + 4 * i) * 16);
        z[i] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), uu, vv);
    }
    const __m512i t0 = _mm512_add_epi32(_mm512_unpacklo_epi32(z[0], z[1]),
                                        _mm512_unpackhi_epi32(z[0], z[1]));
    const __m512i t1 = _mm512_add_epi32(_mm512_unpacklo_epi32(z[2], z[3]),
                                        _mm512_unpackhi_epi32(z[2], z[3]));
    const __m512i s = _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1),
                                       _mm512_unpackhi_epi64(t0, t1));
    /* s lane L dword i = block 4i + L */
    return _mm512_permutexvar_epi32(
        _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), s);
}

/* acc[r - r0] for rows [r0, r1) whose blocks are at most Q8_FLAT_CHUNK (or
 * one row); pre: that many + 17 int32. */
VNNI_INL void rows_flat_run(const qlite_spw *w, const uint8_t *u, size_t r0, size_t r1,
                            int32_t *pre, int32_t *acc, const size_t bc, const unsigned cb) {
    const size_t B = w->row_ptr[r0], n = w->row_ptr[r1] - B;
    const int8_t *v = (const int8_t *)w->values + B * bc;
    const __m512i zero = _mm512_setzero_si512();
    __m512i carry = zero;
    pre[0] = 0;
    for (size_t b = 0; b < n; b += 16) {
        /* full steps with a constant count (no per-lane tests) */
        __m512i x = n - b >= 16 ? block_sums16(u, w->col, B, v, b, 16, bc, cb)
                                : block_sums16(u, w->col, B, v, b, n - b, bc, cb);
        x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, zero, 15));
        x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, zero, 14));
        x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, zero, 12));
        x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, zero, 8));
        x = _mm512_add_epi32(x, carry);
        _mm512_storeu_si512(pre + b + 1, x);
        carry = _mm512_permutexvar_epi32(_mm512_set1_epi32(15), x);
    }
    const uint32_t *rp = w->row_ptr;
    const uint32_t *pu = (const uint32_t *)pre;
    for (size_t r = r0; r < r1; r++) acc[r - r0] = (int32_t)(pu[rp[r + 1] - B] - pu[rp[r] - B]);
}

VNNI_INL void rows_m1_flat(const qlite_spw *w, const uint8_t *u, size_t r0, size_t r1,
                           int32_t *pre, int32_t *acc, const size_t bc, const unsigned cb) {
    const uint32_t *rp = w->row_ptr;
    size_t r = r0;
    while (r < r1) {
        size_t e = r + 1;
        while (e < r1 && rp[e + 1] - rp[r] <= Q8_FLAT_CHUNK) e++;
        rows_flat_run(w, u, r, e, pre, acc + (r - r0), bc, cb);
        r = e;
    }
}

/* Block rows [r0, r1) four at a time: each row's 4 partial dwords, the four
 * rows' totals by two rounds of VPHADDD, one store. Values are the model's
 * bytes (not clustered) or one row decoded at a time into vbuf. */
VNNI_INL void rows_m1_t(const qlite_spw *w, const uint8_t *u, size_t r0, size_t r1,
                        int8_t *vbuf, int32_t *acc, const unsigned cb) {
    const size_t bc = w->bc;
    const int8_t *vals = w->values;
    for (size_t r = r0; r < r1; r += 4) {
        const size_t rows = r1 - r < 4 ? r1 - r : 4;
        __m128i q[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(),
                        _mm_setzero_si128()};
        for (size_t i = 0; i < rows; i++) {
            const size_t b0 = w->row_ptr[r + i], nb = w->row_ptr[r + i + 1] - b0;
            if (nb == 0) continue;
            const int8_t *v = w->bits ? qlite_spw_row_i8(w, r + i, vbuf) : vals + b0 * bc;
            if (bc == 1) q[i] = row_gather(u, w->col, b0, nb, v, 1, cb);
            else if (bc == 4) q[i] = row_gather(u, w->col, b0, nb, v, 4, cb);
            else if (bc == 16) q[i] = row_16(u, w->col, b0, nb, v, cb);
            else q[i] = row_16k(u, w->col, b0, nb, v, bc, cb);
        }
        const __m128i h = _mm_hadd_epi32(_mm_hadd_epi32(q[0], q[1]), _mm_hadd_epi32(q[2], q[3]));
        _mm_mask_storeu_epi32(acc + (r - r0), (__mmask8)((1u << rows) - 1), h);
    }
}

/* Values in place (not clustered) and 1x1 / 1x4 / 1x16 blocks: the flat
 * stream, vbuf holding the prefix sums (spmm_q8.c sizes it so); else per row. */
VNNI_INL void rows_m1_cb(const qlite_spw *w, const uint8_t *u, size_t r0, size_t r1,
                         int8_t *vbuf, int32_t *acc, const unsigned cb) {
    int32_t *pre = (int32_t *)(void *)vbuf;
    if (w->bits) rows_m1_t(w, u, r0, r1, vbuf, acc, cb);
    else if (w->bc == 1) rows_m1_flat(w, u, r0, r1, pre, acc, 1, cb);
    else if (w->bc == 4) rows_m1_flat(w, u, r0, r1, pre, acc, 4, cb);
    else if (w->bc == 16) rows_m1_flat(w, u, r0, r1, pre, acc, 16, cb);
    else rows_m1_t(w, u, r0, r1, vbuf, acc, cb);
}

/* ---- 16 x 4 blocks (the O16I4 tile of docs/format.md §6.2) ----
 *
 * A stored 16 x 4 block is 16 output rows x 4 inputs, 64 bytes row-major:
 * exactly the 16 dwords one VPDPBUSD multiplies with the 4 bytes of u at
 * the block's column broadcast to every lane. Batch 1: one VPDPBUSD per
 * block, four accumulators in turn (the block row's 16 sums are one ZMM).
 * Panels (M >= 2): the 4 bytes of each of the 8 batch rows (one dword of
 * the panel group) broadcast in turn, 8 VPDPBUSD per block into 8 ZMM (one
 * per batch row), stored as the batch rows' sums (rows_panel_rm), so the
 * output stage reads them contiguously.
 */
VNNI_INL int32_t ld_u32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

VNNI_INL void rows_m1_o16i4(const qlite_spw *w, const uint8_t *u, size_t r0, size_t r1,
                            int8_t *vbuf, int32_t *acc, const unsigned cb) {
    for (size_t r = r0; r < r1; r++) {
        const size_t b0 = w->row_ptr[r], nb = w->row_ptr[r + 1] - b0;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        const int8_t *v = !nb ? NULL
                          : w->bits ? qlite_spw_row_i8(w, r, vbuf)
                                    : (const int8_t *)w->values + b0 * 64;
#define UB(b) _mm512_set1_epi32(ld_u32(u + 4 * col_at(w->col, b0 + (b), cb)))
#define VB(b) _mm512_loadu_si512(v + 64 * (b))
        size_t b = 0;
        for (; b + 4 <= nb; b += 4) {
            a0 = _mm512_dpbusd_epi32(a0, UB(b), VB(b));
            a1 = _mm512_dpbusd_epi32(a1, UB(b + 1), VB(b + 1));
            a2 = _mm512_dpbusd_epi32(a2, UB(b + 2), VB(b + 2));
            a3 = _mm512_dpbusd_epi32(a3, UB(b + 3), VB(b + 3));
        }
        for (; b < nb; b++) a0 = _mm512_dpbusd_epi32(a0, UB(b), VB(b));
#undef UB
#undef VB
        _mm512_storeu_si512(acc + (r - r0) * 16,
                            _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)));
    }
}

/* ---- M == 1, a clustered weight that is not sparse, 4-bit indices ----
 *
 * The 16 int8 centroids are one VPSHUFB table, so the weights never pass
 * through memory: 64 stream bytes hold 128 indices, index 2i in byte i's
 * low nibble and 2i + 1 in its high nibble. Instead of interleaving the
 * nibbles back into index order, u is permuted once per call (per thread)
 * into the nibbles' order: for each 128-byte chunk c,
 *   up[128c + i] = u[128c + 2i],  up[128c + 64 + i] = u[128c + 2i + 1]  (i < 64),
 * so per chunk: one load, two masks, two VPSHUFB, two VPDPBUSD. Needs K
 * even (every row's indices start on a byte); the tail chunk's stream
 * bytes are a masked load (the model's bytes end there) and u's zero
 * padding past K makes the extra lanes add nothing. Four rows share each
 * chunk of up.
 */

/* up (round_up(K, 128) bytes) from u (zero and readable to that length). */
VNNI_INL void pal4_permute_u(const uint8_t *u, size_t K, uint8_t *up) {
    for (size_t c = 0; c < K; c += 128) {
        const __m512i a = _mm512_loadu_si512(u + c), b = _mm512_loadu_si512(u + c + 64);
        _mm256_storeu_si256((__m256i *)(void *)(up + c), _mm512_cvtepi16_epi8(a));
        _mm256_storeu_si256((__m256i *)(void *)(up + c + 32), _mm512_cvtepi16_epi8(b));
        _mm256_storeu_si256((__m256i *)(void *)(up + c + 64),
                            _mm512_cvtepi16_epi8(_mm512_srli_epi16(a, 8)));
        _mm256_storeu_si256((__m256i *)(void *)(up + c + 96),
                            _mm512_cvtepi16_epi8(_mm512_srli_epi16(b, 8)));
    }
}

/* acc += the products of one 128-index chunk (n indices left, 1..128 as
 * stream bytes s) of one row with table bk. */
VNNI_INL void pal4_chunk(__m512i *a0, __m512i *a1, const uint8_t *s, size_t n, __m512i bk,
                         __m512i ulo, __m512i uhi) {
    const __m512i m = _mm512_set1_epi8(0x0f);
    const __m512i t = n >= 128 ? _mm512_loadu_si512(s)
                               : _mm512_maskz_loadu_epi8(((__mmask64)1 << ((n + 1) / 2)) - 1, s);
    const __m512i lo = _mm512_and_si512(t, m), hi = _mm512_and_si512(_mm512_srli_epi16(t, 4), m);
    *a0 = _mm512_dpbusd_epi32(*a0, ulo, _mm512_shuffle_epi8(bk, lo));
    *a1 = _mm512_dpbusd_epi32(*a1, uhi, _mm512_shuffle_epi8(bk, hi));
}

VNNI_INL __m512i pal4_book(const qlite_spw *w, size_t r) {
    const int8_t *b = (const int8_t *)w->codebook + (w->per_row ? r * 16 : 0);
    return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)b));
}

VNNI_INL void rows_m1_pal4(const qlite_spw *w, const uint8_t *u, size_t r0, size_t r1,
                           uint8_t *up, int32_t *acc) {
    const size_t K = w->cols, half = K / 2;
    const uint8_t *st = w->values;
    pal4_permute_u(u, K, up);
    size_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        __m512i a[8], bk[4];
        for (unsigned i = 0; i < 8; i++) a[i] = _mm512_setzero_si512();
        for (unsigned i = 0; i < 4; i++) bk[i] = pal4_book(w, r + i);
        const uint8_t *s = st + r * half;
        for (size_t c = 0; c < K; c += 128) {
            const __m512i ulo = _mm512_loadu_si512(up + c), uhi = _mm512_loadu_si512(up + c + 64);
            for (unsigned i = 0; i < 4; i++)
                pal4_chunk(&a[2 * i], &a[2 * i + 1], s + i * half + c / 2, K - c, bk[i], ulo,
                           uhi);
        }
        for (unsigned i = 0; i < 4; i++)
            acc[r + i - r0] = _mm512_reduce_add_epi32(_mm512_add_epi32(a[2 * i], a[2 * i + 1]));
    }
    for (; r < r1; r++) {
        __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
        const __m512i bk = pal4_book(w, r);
        const uint8_t *s = st + r * half;
        for (size_t c = 0; c < K; c += 128)
            pal4_chunk(&a0, &a1, s + c / 2, K - c, bk, _mm512_loadu_si512(up + c),
                       _mm512_loadu_si512(up + c + 64));
        acc[r - r0] = _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
    }
}

/* acc[l * ld + r] = the total of a[l], l < 8: halves added, two rounds of
 * VPHADDD, lanes added. */
VNNI_INL void store_sums8(const __m512i a[8], int32_t *acc, size_t ld, size_t r) {
    __m256i y[8];
    for (unsigned l = 0; l < 8; l++)
        y[l] = _mm256_add_epi32(_mm512_castsi512_si256(a[l]),
                                _mm512_extracti64x4_epi64(a[l], 1));
    const __m256i q0 = _mm256_hadd_epi32(_mm256_hadd_epi32(y[0], y[1]),
                                         _mm256_hadd_epi32(y[2], y[3]));
    const __m256i q1 = _mm256_hadd_epi32(_mm256_hadd_epi32(y[4], y[5]),
                                         _mm256_hadd_epi32(y[6], y[7]));
    int32_t tot[8];
    const __m128i t0 =
        _mm_add_epi32(_mm256_castsi256_si128(q0), _mm256_extracti128_si256(q0, 1));
    const __m128i t1 =
        _mm_add_epi32(_mm256_castsi256_si128(q1), _mm256_extracti128_si256(q1, 1));
    _mm_storeu_si128((__m128i *)(void *)tot, t0);
    _mm_storeu_si128((__m128i *)(void *)(tot + 4), t1);
    for (unsigned l = 0; l < 8; l++) acc[l * ld + r] = tot[l];
}

/* Batch panels of a 4-bit palette weight (clustered, not sparse): each
 * batch row's u permuted into the nibbles' order as for batch 1
 * (pal4_permute_u; up holds 8 of them, zero rows past `valid`), each
 * 128-index chunk of a weight row decoded once by VPSHUFB and multiplied
 * with all 8 rows (16 VPDPBUSD per chunk), the 8 sums of a weight row
 * reduced together and stored row-major (rows_panel_rm). */
VNNI_INL void rows_panel_pal4(const qlite_spw *w, const uint8_t *u, size_t ldu, size_t valid,
                              size_t r0, size_t r1, uint8_t *up, int32_t *acc, size_t ld) {
    const size_t K = w->cols, half = K / 2, L = (K + 127) / 128 * 128;
    const uint8_t *st = w->values;
    for (size_t l = 0; l < 8; l++) {
        if (l < valid) pal4_permute_u(u + l * ldu, K, up + l * L);
        else memset(up + l * L, 0, L);
    }
    const __m512i m = _mm512_set1_epi8(0x0f);
    for (size_t r = r0; r < r1; r++) {
        __m512i a[8];
        for (unsigned l = 0; l < 8; l++) a[l] = _mm512_setzero_si512();
        const __m512i bk = pal4_book(w, r);
        const uint8_t *s = st + r * half;
        for (size_t c = 0; c < K; c += 128) {
            const size_t n = K - c;
            const __m512i t = n >= 128 ? _mm512_loadu_si512(s + c / 2)
                                       : _mm512_maskz_loadu_epi8(
                                             ((__mmask64)1 << ((n + 1) / 2)) - 1, s + c / 2);
            const __m512i wlo = _mm512_shuffle_epi8(bk, _mm512_and_si512(t, m));
            const __m512i whi =
                _mm512_shuffle_epi8(bk, _mm512_and_si512(_mm512_srli_epi16(t, 4), m));
            for (unsigned l = 0; l < 8; l++) {
                const uint8_t *ul = up + l * L + c;
                a[l] = _mm512_dpbusd_epi32(a[l], _mm512_loadu_si512(ul), wlo);
                a[l] = _mm512_dpbusd_epi32(a[l], _mm512_loadu_si512(ul + 64), whi);
            }
        }
        store_sums8(a, acc, ld, r);
    }
}


/* ---- M == 1, a clustered weight that is not sparse, any other width ----
 * (AVX-512 VBMI; K a multiple of 8, so every row's indices start on a
 * byte): per 64 indices, the 8b stream bytes spread one 8-index group per
 * qword (VPERMB), the indices extracted (VPMULTISHIFTQB + mask), the int8
 * centroids looked up (VPERMB / VPERMI2B over the row's codebook), one
 * VPDPBUSD with u in its own order. The tail's stream bytes are a masked
 * load; lanes past K meet u's zero padding. */
#define VBMI_INL static inline __attribute__((always_inline, \
    target("avx2,avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")))
#define VBMI_FN \
    static __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")))

/* The per-width constants of the decoder (spread, shifts, index mask) and
 * one row's codebook in up to four ZMMs (entries past 2^b read as 0). */
typedef struct palb_dec {
    __m512i spread, shifts, mask;
    __mmask64 have;
    unsigned b;
} palb_dec;
typedef struct palb_book {
    __m512i t0, t1, t2, t3;
} palb_book;

VBMI_INL palb_dec palb_dec_init(unsigned b) {
    uint8_t sp[64], sh[64];
    for (unsigned g = 0; g < 8; g++)
        for (unsigned q = 0; q < 8; q++) {
            sp[g * 8 + q] = (uint8_t)(g * b + q);
            sh[g * 8 + q] = (uint8_t)(q * b);
        }
    const size_t entries = (size_t)1 << b;
    palb_dec d = {_mm512_loadu_si512(sp), _mm512_loadu_si512(sh),
                  _mm512_set1_epi8((char)((1u << b) - 1)),
                  (__mmask64)(~0ull >> (64 - (entries < 64 ? entries : 64))), b};
    return d;
}

VBMI_INL palb_book palb_book_load(const qlite_spw *w, const palb_dec *d, size_t r) {
    const unsigned b = d->b;
    const int8_t *bk = (const int8_t *)w->codebook + (w->per_row ? r * ((size_t)1 << b) : 0);
    palb_book k;
    k.t0 = _mm512_maskz_loadu_epi8(d->have, bk);
    k.t1 = b >= 7 ? _mm512_loadu_si512(bk + 64) : k.t0;
    k.t2 = b == 8 ? _mm512_loadu_si512(bk + 128) : k.t0;
    k.t3 = b == 8 ? _mm512_loadu_si512(bk + 192) : k.t0;
    return k;
}

VBMI_INL __m512i palb_weights(const uint8_t *s, size_t nbytes, const palb_dec *d,
                              const palb_book *k) {
    const __m512i raw = _mm512_maskz_loadu_epi8((__mmask64)(~0ull >> (64 - nbytes)), s);
    const __m512i ix = _mm512_and_si512(
        _mm512_multishift_epi64_epi8(d->shifts, _mm512_permutexvar_epi8(d->spread, raw)),
        d->mask);
    if (d->b <= 6) return _mm512_permutexvar_epi8(ix, k->t0);
    if (d->b == 7) return _mm512_permutex2var_epi8(k->t0, ix, k->t1);
    return _mm512_mask_blend_epi8(_mm512_movepi8_mask(ix),
                                  _mm512_permutex2var_epi8(k->t0, ix, k->t1),
                                  _mm512_permutex2var_epi8(k->t2, ix, k->t3));
}

VBMI_FN void rows_m1_palb(const qlite_spw *w, const uint8_t *u, size_t r0, size_t r1,
                          int32_t *acc) {
    const unsigned b = w->bits;
    const size_t K = w->cols, rb = K / 8 * b;
    const palb_dec d = palb_dec_init(b);
    for (size_t r = r0; r < r1; r++) {
        const palb_book k = palb_book_load(w, &d, r);
        const uint8_t *s = (const uint8_t *)w->values + r * rb;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0;
        size_t c = 0;
        for (; c + 128 <= K; c += 128) {
            a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(u + c),
                                     palb_weights(s + c / 8 * b, 8 * b, &d, &k));
            a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(u + c + 64),
                                     palb_weights(s + (c + 64) / 8 * b, 8 * b, &d, &k));
        }
        for (; c < K; c += 64) {
            const size_t n = K - c < 64 ? K - c : 64; /* a multiple of 8 */
            a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(u + c),
                                     palb_weights(s + c / 8 * b, n / 8 * b, &d, &k));
        }
        acc[r - r0] = _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
    }
}

/* Batch panels of a palette of any other width (VBMI, K a multiple of 8):
 * each 64-index step of a weight row decoded once in registers, multiplied
 * with the 8 batch rows of u (in their own order; rows past `valid` are
 * skipped, their sums 0), the 8 sums reduced and stored row-major. */
VBMI_FN void rows_panel_palb(const qlite_spw *w, const uint8_t *u, size_t ldu, size_t valid,
                             size_t r0, size_t r1, int32_t *acc, size_t ld) {
    const unsigned b = w->bits;
    const size_t K = w->cols, rb = K / 8 * b;
    const palb_dec d = palb_dec_init(b);
    for (size_t r = r0; r < r1; r++) {
        const palb_book k = palb_book_load(w, &d, r);
        const uint8_t *s = (const uint8_t *)w->values + r * rb;
        __m512i a[8];
        for (unsigned l = 0; l < 8; l++) a[l] = _mm512_setzero_si512();
        for (size_t c = 0; c < K; c += 64) {
            const size_t n = K - c < 64 ? K - c : 64;
            const __m512i wv = palb_weights(s + c / 8 * b, n / 8 * b, &d, &k);
            for (unsigned l = 0; l < 8; l++)
                if (l < valid)
                    a[l] = _mm512_dpbusd_epi32(a[l], _mm512_loadu_si512(u + l * ldu + c), wv);
        }
        store_sums8(a, acc, ld, r);
    }
}

VNNI static void rows_m1_avx512(const qlite_spw *w, const int32_t *zw, const uint8_t *u,
                                size_t r0, size_t r1, int8_t *vbuf, int32_t *acc) {
    const size_t br = w->br, bc = w->bc;
    if (!zw && br == 16 && bc == 4 && w->col_bytes) {
        switch (w->col_bytes) {
        case 1: rows_m1_o16i4(w, u, r0, r1, vbuf, acc, 1); break;
        case 2: rows_m1_o16i4(w, u, r0, r1, vbuf, acc, 2); break;
        default: rows_m1_o16i4(w, u, r0, r1, vbuf, acc, 4); break;
        }
        return;
    }
    if (zw || br != 1 || !(bc == 1 || bc == 4 || bc % 16 == 0) || w->cols >= ((size_t)1 << 28)) {
        qlite_spmm_q8__portable.rows_m1(w, zw, u, r0, r1, vbuf, acc);
        return;
    }
    switch (w->col_bytes) {
    case 0:
        if (w->bits == 4 && w->cols % 2 == 0) {
            rows_m1_pal4(w, u, r0, r1, (uint8_t *)vbuf, acc);
            break;
        }
        if (w->bits && w->cols % 8 == 0 && qlite_cluster_vbmi()) {
            rows_m1_palb(w, u, r0, r1, acc);
            break;
        }
        for (size_t r = r0; r < r1; r++)
            acc[r - r0] = w->row_ptr[r + 1] > w->row_ptr[r]
                              ? dot_dense(u, qlite_spw_row_i8(w, r, vbuf), bc)
                              : 0;
        break;
    case 1: rows_m1_cb(w, u, r0, r1, vbuf, acc, 1); break;
    case 2: rows_m1_cb(w, u, r0, r1, vbuf, acc, 2); break;
    default: rows_m1_cb(w, u, r0, r1, vbuf, acc, 4); break;
    }
}

/* ---- panels ---- */

/* pan[(q * 8 + l) * 4 + t] = u[l][4q + t] for q < round_up(K, 4) / 4 (0 for missing rows). */
VNNI_INL void make_panel(const uint8_t *u, size_t ldu, size_t K, size_t valid, uint8_t *pan) {
    const size_t Q = (K + 3) / 4;
    size_t q = 0;
    if (valid == 8 && ldu < ((size_t)1 << 27)) {
        /* one dword of each of the 8 rows per group: a gather with the row offsets */
        const __m256i rows = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                                _mm256_set1_epi32((int)ldu));
        for (; q < Q; q++)
            _mm256_storeu_si256((__m256i *)(pan + q * 32),
                                _mm256_i32gather_epi32((const int *)(const void *)(u + 4 * q),
                                                       rows, 1));
    }
    for (; q < Q; q++)
        for (size_t l = 0; l < 8; l++) {
            uint32_t d = 0;
            if (l < valid) memcpy(&d, u + l * ldu + 4 * q, 4);
            memcpy(pan + (q * 8 + l) * 4, &d, 4);
        }
}

VNNI_INL __m256i group_at(const uint8_t *pan, size_t k) {
    return _mm256_loadu_si256((const __m256i *)(pan + (k >> 2) * 32));
}

VNNI_INL int32_t ld4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

VNNI_INL void rows_panel_t(const qlite_spw *w, const uint8_t *pan, size_t r0, size_t r1,
                           int8_t *vbuf, int32_t *acc, const unsigned cb) {
    const size_t br = w->br, bc = w->bc;
    const bool quads = bc % 4 == 0;
    for (size_t r = r0; r < r1; r++) {
        const size_t b0 = w->row_ptr[r], nb = w->row_ptr[r + 1] - b0;
        int32_t *a = acc + (r - r0) * br * 8;
        if (nb == 0) {
            memset(a, 0, br * 8 * sizeof(int32_t));
            continue;
        }
        const int8_t *v = qlite_spw_row_i8(w, r, vbuf);
        if (br == 1 && bc == 1) {
            /* one weight per block: four accumulators in turn, so consecutive
             * VPDPBUSDs do not wait on each other (integer sums: same result) */
            __m256i s[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(),
                            _mm256_setzero_si256(), _mm256_setzero_si256()};
            size_t b = 0;
            for (; b + 4 <= nb; b += 4)
                for (unsigned t = 0; t < 4; t++) {
                    const size_t k = cb ? col_at(w->col, b0 + b + t, cb) : b + t;
                    const int32_t d = (int32_t)((uint32_t)(uint8_t)v[b + t] << (8 * (k & 3)));
                    s[t] = _mm256_dpbusd_epi32(s[t], group_at(pan, k), _mm256_set1_epi32(d));
                }
            for (; b < nb; b++) {
                const size_t k = cb ? col_at(w->col, b0 + b, cb) : b;
                const int32_t d = (int32_t)((uint32_t)(uint8_t)v[b] << (8 * (k & 3)));
                s[0] = _mm256_dpbusd_epi32(s[0], group_at(pan, k), _mm256_set1_epi32(d));
            }
            _mm256_storeu_si256((__m256i *)a, _mm256_add_epi32(_mm256_add_epi32(s[0], s[1]),
                                                               _mm256_add_epi32(s[2], s[3])));
            continue;
        }
        if (br == 1) {
            __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
            for (size_t b = 0; b < nb; b++) {
                const size_t kb = (cb ? col_at(w->col, b0 + b, cb) : 0) * bc;
                const int8_t *vb = v + b * bc;
                if (quads) {
                    size_t j = 0;
                    for (; j + 8 <= bc; j += 8) {
                        s0 = _mm256_dpbusd_epi32(s0, group_at(pan, kb + j),
                                                 _mm256_set1_epi32(ld4(vb + j)));
                        s1 = _mm256_dpbusd_epi32(s1, group_at(pan, kb + j + 4),
                                                 _mm256_set1_epi32(ld4(vb + j + 4)));
                    }
                    if (j < bc)
                        s0 = _mm256_dpbusd_epi32(s0, group_at(pan, kb + j),
                                                 _mm256_set1_epi32(ld4(vb + j)));
                } else {
                    for (size_t j = 0; j < bc; j++) {
                        const size_t k = kb + j;
                        const int32_t d = (int32_t)((uint32_t)(uint8_t)vb[j] << (8 * (k & 3)));
                        s0 = _mm256_dpbusd_epi32(s0, group_at(pan, k), _mm256_set1_epi32(d));
                    }
                }
            }
            _mm256_storeu_si256((__m256i *)a, _mm256_add_epi32(s0, s1));
            continue;
        }
        /* any block height: one accumulator per row of the block, in memory */
        for (size_t i = 0; i < br; i++) _mm256_storeu_si256((__m256i *)(a + i * 8),
                                                            _mm256_setzero_si256());
        for (size_t b = 0; b < nb; b++) {
            const size_t kb = (cb ? col_at(w->col, b0 + b, cb) : 0) * bc;
            const int8_t *vb = v + b * br * bc;
            for (size_t i = 0; i < br; i++) {
                __m256i s = _mm256_loadu_si256((const __m256i *)(a + i * 8));
                const int8_t *vi = vb + i * bc;
                if (quads) {
                    for (size_t j = 0; j < bc; j += 4)
                        s = _mm256_dpbusd_epi32(s, group_at(pan, kb + j),
                                                _mm256_set1_epi32(ld4(vi + j)));
                } else {
                    for (size_t j = 0; j < bc; j++) {
                        const size_t k = kb + j;
                        const int32_t d = (int32_t)((uint32_t)(uint8_t)vi[j] << (8 * (k & 3)));
                        s = _mm256_dpbusd_epi32(s, group_at(pan, k), _mm256_set1_epi32(d));
                    }
                }
                _mm256_storeu_si256((__m256i *)(a + i * 8), s);
            }
        }
    }
}

VNNI_INL void rows_panel_o16i4(const qlite_spw *w, const uint8_t *pan, size_t r0, size_t r1,
                               int8_t *vbuf, int32_t *acc, size_t ld, const unsigned cb) {
    for (size_t r = r0; r < r1; r++) {
        const size_t b0 = w->row_ptr[r], nb = w->row_ptr[r + 1] - b0;
        __m512i a[8];
        for (unsigned l = 0; l < 8; l++) a[l] = _mm512_setzero_si512();
        const int8_t *v = !nb ? NULL
                          : w->bits ? qlite_spw_row_i8(w, r, vbuf)
                                    : (const int8_t *)w->values + b0 * 64;
        for (size_t b = 0; b < nb; b++) {
            const __m512i wv = _mm512_loadu_si512(v + 64 * b);
            const uint8_t *g = pan + col_at(w->col, b0 + b, cb) * 32;
            for (unsigned l = 0; l < 8; l++)
                a[l] = _mm512_dpbusd_epi32(a[l], _mm512_set1_epi32(ld_u32(g + 4 * l)), wv);
        }
        for (unsigned l = 0; l < 8; l++) _mm512_storeu_si512(acc + l * ld + r * 16, a[l]);
    }
}

/* 16 x 4 blocks and palettes: the sums row-major (spmm_q8.h rows_panel_rm). */
VNNI static bool rows_panel_rm_avx512(const qlite_spw *w, const int32_t *zw, const uint8_t *u,
                                      size_t ldu, size_t K, size_t valid, size_t r0, size_t r1,
                                      int8_t *vbuf, uint8_t *panel, int32_t *acc, size_t ld) {
    if (!zw && !w->col_bytes && w->bits == 4 && w->cols % 2 == 0) {
        rows_panel_pal4(w, u, ldu, valid, r0, r1, panel, acc, ld);
        return true;
    }
    if (!zw && !w->col_bytes && w->bits && w->cols % 8 == 0 && qlite_cluster_vbmi()) {
        rows_panel_palb(w, u, ldu, valid, r0, r1, acc, ld);
        return true;
    }
    if (zw || w->br != 16 || w->bc != 4 || !w->col_bytes) return false;
    make_panel(u, ldu, K, valid, panel);
    switch (w->col_bytes) {
    case 1: rows_panel_o16i4(w, panel, r0, r1, vbuf, acc, ld, 1); break;
    case 2: rows_panel_o16i4(w, panel, r0, r1, vbuf, acc, ld, 2); break;
    default: rows_panel_o16i4(w, panel, r0, r1, vbuf, acc, ld, 4); break;
    }
    return true;
}

VNNI static void rows_panel_avx512(const qlite_spw *w, const int32_t *zw, const uint8_t *u,
                                   size_t ldu, size_t K, size_t valid, size_t r0, size_t r1,
                                   int8_t *vbuf, uint8_t *panel, int32_t *acc) {
    if (zw) {
        qlite_spmm_q8__portable.rows_panel(w, zw, u, ldu, K, valid, r0, r1, vbuf, panel, acc);
        return;
    }
    make_panel(u, ldu, K, valid, panel);
    switch (w->col_bytes) {
    case 0: rows_panel_t(w, panel, r0, r1, vbuf, acc, 0); break;
    case 1: rows_panel_t(w, panel, r0, r1, vbuf, acc, 1); break;
    case 2: rows_panel_t(w, panel, r0, r1, vbuf, acc, 2); break;
    default: rows_panel_t(w, panel, r0, r1, vbuf, acc, 4); break;
    }
}

static void cols_m1_fallback(const qlite_spw *w, const int32_t *zw, const uint8_t *u, size_t n0,
                             size_t n1, int8_t *vbuf, int32_t *acc) {
    qlite_spmm_q8__portable.cols_m1(w, zw, u, n0, n1, vbuf, acc);
}

static void cols_panel_fallback(const qlite_spw *w, const int32_t *zw, const uint8_t *u,
                                size_t ldu, size_t K, size_t valid, size_t n0, size_t n1,
                                int8_t *vbuf, uint8_t *panel, int32_t *acc) {
    qlite_spmm_q8__portable.cols_panel(w, zw, u, ldu, K, valid, n0, n1, vbuf, panel, acc);
}

/* The output stage 16 columns at a time (q8_x86.h, bit-identical to
 * qlite_q8_cols_out); acc[n * stride] gathered when stride > 1. */
VNNI static void out_bytes_avx512(const qlite_q8_cols *c, size_t n0, size_t n1,
                                  const int32_t *acc, size_t stride, uint8_t *y) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i vidx = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)stride));
    for (size_t n = n0; n < n1; n += 16) {
        const size_t cnt = n1 - n < 16 ? n1 - n : 16;
        const __mmask16 m = (__mmask16)((1u << cnt) - 1);
        const rq16 p = rq16_load(c, n);
        const __m512i a = stride == 1
                              ? _mm512_maskz_loadu_epi32(m, acc + n)
                              : _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, vidx,
                                                            acc + n * stride, 4);
        const __m512i x = _mm512_add_epi32(_mm512_loadu_si512(c->bias + n), a);
        _mm_mask_storeu_epi8(y + n, m, _mm512_cvtepi32_epi8(rq16_apply(x, &p)));
    }
}

const qlite_spmm_q8_kernels qlite_spmm_q8__avx512vnni = {
    .rows_m1 = rows_m1_avx512,
    .rows_panel = rows_panel_avx512,
    .rows_panel_rm = rows_panel_rm_avx512,
    .cols_m1 = cols_m1_fallback,
    .cols_panel = cols_panel_fallback,
    .panel_bytes_per_k = 8,
    .out_bytes = out_bytes_avx512,
};

#endif /* QLITE_SPMM_Q8_X86 */
