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
 *     dense  (clustered, not sparse) 64 bytes per VPDPBUSD;
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

VNNI_INL void rows_m1_t(const qlite_spw *w, const uint8_t *u, size_t r0, size_t r1,
                        int8_t *vbuf, int32_t *acc, const unsigned cb) {
    const size_t bc = w->bc;
    for (size_t r = r0; r < r1; r++) {
        const size_t b0 = w->row_ptr[r], nb = w->row_ptr[r + 1] - b0;
        if (nb == 0) {
            acc[r - r0] = 0;
            continue;
        }
        const int8_t *v = qlite_spw_row_i8(w, r, vbuf);
        if (bc == 1 || bc == 4) {
            __m512i a = _mm512_setzero_si512();
            for (size_t b = 0; b < nb; b += 16) {
                const size_t cnt = nb - b < 16 ? nb - b : 16;
                const __mmask16 m = (__mmask16)((1u << cnt) - 1);
                const __m512i idx = load_idx(w->col, b0 + b, m, cb);
                __m512i g, wv;
                if (bc == 1) {
                    g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, u, 1);
                    wv = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, v + b));
                } else {
                    g = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, u, 4);
                    const __mmask64 m64 = cnt == 16 ? ~(__mmask64)0
                                                    : (((__mmask64)1 << (4 * cnt)) - 1);
                    wv = _mm512_maskz_loadu_epi8(m64, v + 4 * b);
                }
                a = _mm512_dpbusd_epi32(a, g, wv);
            }
            acc[r - r0] = _mm512_reduce_add_epi32(a);
        } else { /* bc % 16 == 0 */
            __m128i s[4] = {_mm_setzero_si128(), _mm_setzero_si128(), _mm_setzero_si128(),
                            _mm_setzero_si128()};
            unsigned t = 0;
            for (size_t b = 0; b < nb; b++) {
                const uint8_t *ub = u + col_at(w->col, b0 + b, cb) * bc;
                const int8_t *vb = v + b * bc;
                for (size_t j = 0; j < bc; j += 16, t = (t + 1) & 3)
                    s[t] = _mm_dpbusd_epi32(s[t], _mm_loadu_si128((const __m128i *)(ub + j)),
                                            _mm_loadu_si128((const __m128i *)(vb + j)));
            }
            __m128i q = _mm_add_epi32(_mm_add_epi32(s[0], s[1]), _mm_add_epi32(s[2], s[3]));
            q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(1, 0, 3, 2)));
            q = _mm_add_epi32(q, _mm_shuffle_epi32(q, _MM_SHUFFLE(2, 3, 0, 1)));
            acc[r - r0] = _mm_cvtsi128_si32(q);
        }
    }
}

VNNI static void rows_m1_avx512(const qlite_spw *w, const int32_t *zw, const uint8_t *u,
                                size_t r0, size_t r1, int8_t *vbuf, int32_t *acc) {
    const size_t br = w->br, bc = w->bc;
    if (zw || br != 1 || !(bc == 1 || bc == 4 || bc % 16 == 0) || w->cols >= ((size_t)1 << 28)) {
        qlite_spmm_q8__portable.rows_m1(w, zw, u, r0, r1, vbuf, acc);
        return;
    }
    switch (w->col_bytes) {
    case 0:
        for (size_t r = r0; r < r1; r++)
            acc[r - r0] = w->row_ptr[r + 1] > w->row_ptr[r]
                              ? dot_dense(u, qlite_spw_row_i8(w, r, vbuf), bc)
                              : 0;
        break;
    case 1: rows_m1_t(w, u, r0, r1, vbuf, acc, 1); break;
    case 2: rows_m1_t(w, u, r0, r1, vbuf, acc, 2); break;
    default: rows_m1_t(w, u, r0, r1, vbuf, acc, 4); break;
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

const qlite_spmm_q8_kernels qlite_spmm_q8__avx512vnni = {
    .rows_m1 = rows_m1_avx512,
    .rows_panel = rows_panel_avx512,
    .cols_m1 = cols_m1_fallback,
    .cols_panel = cols_panel_fallback,
    .panel_bytes_per_k = 8,
};

#endif /* QLITE_SPMM_Q8_X86 */
