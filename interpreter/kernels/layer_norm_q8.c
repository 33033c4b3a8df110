/*
 * layer_norm_q8.c — int8 / uint8 LAYER_NORM (docs/quantization.md §4.14).
 * layer_norm.c's prepare reads the options and shapes and hands an int8 or
 * uint8 input here. x, y: per-tensor parameters, same dtype; gamma and beta
 * (beta optional): int8 or uint8 constants with per-tensor parameters, one
 * value per normalized element (what the converter's int8 mode emits).
 *
 * Prepare (per element i of a row of n, and once):
 *   G[i]  = q(gamma[i]) - zg                                   (int32, |G| <= 255)
 *   B[i]  = round_half_even(sb (q(beta[i]) - zb) / sy * 2^16)  (int64, |B| < 2^29)
 *   c     = sx sg / (n sy)                                     (double)
 * Eval, per row of codes q[0..n):
 *   1. s = sum q;  d[i] = n q[i] - s                (int32: x - mean = sx d / n)
 *   2. V = sum d[i]^2                               (uint64: var = sx^2 V / n^3)
 *   3. the row's statistics in double, then one fixed-point multiplier:
 *        a = min(c / sqrt(sx^2 V / n^3 + eps), 2^14)
 *        a = Ma 2^-Ea with Ma in [2^30, 2^31) (Ea >= 16 since a <= 2^14)
 *      (V = 0: every d[i] = 0 and y = beta; eps = 0 allowed)
 *   4. per element, integers only:
 *        T = d[i] G[i] Ma                           (int64, |T| < 2^60)
 *        U = rdbpot(T, Ea - 16)                     (in 2^-16 output LSBs)
 *        y = clamp(zy + rdbpot(U + B[i], 16), qmin, qmax)
 *      rdbpot = src/quant.h's rounding shift (ties away from zero), in 64 bits.
 * Error against the real layer norm of the dequantized x with the
 * dequantized gamma, beta: <= 0.5 + 2^-15 output LSB before clamping (the
 * final rounding, 2^-17 each for U and B, 2^-30 relative for Ma), so the
 * result is the correctly rounded one or its neighbour (within 1 LSB).
 * The 2^14 cap on a changes no output that is not saturated (|y| would be
 * >= 2^14 - 2^13 LSB from the zero point). Rows are limited to n <= 4096
 * (|d| < 2^21) and |beta / sy| < 2^13; other models keep LayerNorm in float.
 */
#include <math.h>
#include <string.h>

#include "kernels/elementwise_q8.h"
#include "kernels/kernels_q8.h"
#include "kernels/quant_params.h"

#define LN_Q8_MAX_N 4096

typedef struct ln_q8_state {
    qlite_eval_fn eval;      /* must stay first (qlite_eval_dispatch) */
    size_t rows;
    qlite_q8_ln_params p;
    qlite_q8_ln_fn row;      /* a variant (elementwise_q8.h), or NULL: ln_q8_row */
} ln_q8_state;

/* round(x / 2^e), ties away from zero, e in 0..62 (src/quant.h's rdbpot in int64) */
static inline int64_t rdbpot64(int64_t x, int e) {
    const int64_t mask = (int64_t)((1ull << e) - 1);
    const int64_t rem = x & mask, thr = (mask >> 1) + (x < 0);
    return (x >> e) + (rem > thr);
}

void qlite_q8_ln_row_multiplier(const qlite_q8_ln_params *p, uint64_t v, int64_t *ma, int *sh) {
    const double dn = (double)p->n;
    double a = p->c / sqrt(p->sx2 * (double)v / (dn * dn * dn) + p->eps);
    if (!(a <= 16384.0)) a = 16384.0;
    int e;
    const double f = frexp(a, &e); /* a = f 2^e, f in [0.5, 1) */
    int64_t m = (int64_t)llround(ldexp(f, 31));
    if (m == (int64_t)1 << 31) m >>= 1, e++;
    *ma = m;
    *sh = 31 - e - 16; /* Ea - 16 >= 0 since a <= 2^14 */
}

/* The reference row: steps 1-4 of the top comment, element by element. */
static void ln_q8_row(const qlite_q8_ln_params *p, const uint8_t *x, uint8_t *y) {
    const size_t n = p->n;
    const bool sg = p->is_signed;
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += qlite_q8_decode(x[i], sg);
    const int64_t nn = (int64_t)n;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        const int64_t d = nn * qlite_q8_decode(x[i], sg) - sum;
        v += (uint64_t)(d * d);
    }
    if (v == 0) { /* a constant row: x - mean = 0, y = beta */
        for (size_t i = 0; i < n; i++)
            y[i] = (uint8_t)qlite_clamp_i64((int64_t)p->zy + rdbpot64(p->b[i], 16), p->qmin,
                                            p->qmax);
        return;
    }
    int64_t ma;
    int sh;
    qlite_q8_ln_row_multiplier(p, v, &ma, &sh);
    for (size_t i = 0; i < n; i++) {
        const int64_t d = nn * qlite_q8_decode(x[i], sg) - sum;
        const int64_t t = d * p->g[i] * ma;
        const int64_t u = sh >= 62 ? 0 : rdbpot64(t, sh);
        y[i] = (uint8_t)qlite_clamp_i64((int64_t)p->zy + rdbpot64(u + p->b[i], 16), p->qmin,
                                        p->qmax);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define LNQ_AVX2 1
#define LNQ_TARGET __attribute__((target("avx2")))

/*
 * AVX2 row (x86 CPUs without the AVX-512 row, or capped to AVX2): the
 * reference's integer steps, 8 elements at a time; the row multiplier from
 * the same qlite_q8_ln_row_multiplier(). AVX2 has no 64-bit arithmetic
 * shift, min or max: rdbpot shifts logically the sign-folded value
 * (x >> e = ~(~x >>> e) for x < 0) and the clamp compares and blends.
 * The last n % 8 elements take the reference's scalar formula.
 */
LNQ_TARGET static inline __m256i lnq_widen8(const uint8_t *p, bool sg) {
    const __m128i v = _mm_loadl_epi64((const __m128i *)p);
    return sg ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}

/* rdbpot64 on 4 lanes, e in 0..61 */
LNQ_TARGET static inline __m256i lnq_rdbpot4(__m256i x, int e) {
    const __m256i mask = _mm256_set1_epi64x((long long)((1ull << e) - 1));
    const __m256i neg = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x); /* -1 where x < 0 */
    const __m256i rem = _mm256_and_si256(x, mask);
    const __m256i thr = _mm256_sub_epi64(_mm256_srli_epi64(mask, 1), neg);
    const __m128i c = _mm_cvtsi32_si128(e);
    const __m256i q = _mm256_xor_si256(_mm256_srl_epi64(_mm256_xor_si256(x, neg), c), neg);
    return _mm256_sub_epi64(q, _mm256_cmpgt_epi64(rem, thr)); /* rem, thr >= 0 */
}

/* clamp(zy + rdbpot(u + b, 16), lo, hi) on 4 lanes, as int32 in lanes 0..3 */
LNQ_TARGET static inline __m128i lnq_out4(__m256i u, const int64_t *b, __m256i zy, __m256i lo,
                                          __m256i hi) {
    const __m256i w = _mm256_add_epi64(u, _mm256_loadu_si256((const __m256i *)b));
    __m256i q = _mm256_add_epi64(lnq_rdbpot4(w, 16), zy);
    q = _mm256_blendv_epi8(q, lo, _mm256_cmpgt_epi64(lo, q));
    q = _mm256_blendv_epi8(q, hi, _mm256_cmpgt_epi64(q, hi));
    const __m256i even = _mm256_permutevar8x32_epi32(q, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
    return _mm256_castsi256_si128(even);
}

/* The reference's step 4 for elements n8..n-1. */
static void lnq_tail(const qlite_q8_ln_params *p, const uint8_t *x, uint8_t *y, size_t n8,
                     int64_t sum, int sh, int64_t ma) {
    for (size_t i = n8; i < p->n; i++) {
        const int64_t d = (int64_t)p->n * qlite_q8_decode(x[i], p->is_signed) - sum;
        const int64_t t = d * p->g[i] * ma;
        const int64_t u = sh >= 62 ? 0 : rdbpot64(t, sh);
        y[i] = (uint8_t)qlite_clamp_i64((int64_t)p->zy + rdbpot64(u + p->b[i], 16), p->qmin,
                                        p->qmax);
    }
}

/*
 * Step 4 for 1 <= sh <= 61, 8 elements a step with one 64-bit stage:
 *   U = rdbpot(T, sh) = floor((T + 2^(sh-1) - [T < 0]) / 2^sh)   (ties away from zero)
 * as the logical shift of T + 2^62 + 2^(sh-1) - [T < 0] (positive: |T| < 2^60),
 * which is U + 2^(62-sh), the offset divided exactly. U is clamped to
 * [-2^30, 2^30] (CLAMP) when the row's max |d| 255 Ma allows more: that
 * changes no output, as |B| < 2^29 leaves |U + B| > 2^29, far past the
 * 2^16 (255 + 128) where every code saturates, on the same side. Then U + B
 * and the last rounding fit int32 lanes (|w| < 2^30 + 2^29):
 *   rdbpot(w, 16) = (w + 2^15 - [w < 0]) >> 16 (arithmetic),
 * and zy and the clamp come after saturating narrowing (|q| < 2^15: VPACKSSDW
 * is exact, VPADDSW and the byte packs saturate monotonically and keep
 * [qmin, qmax] as it is), as elementwise_q8_x86.c's bytes16.
 */
#define LNQ_OUT(name, CLAMP)                                                                   \
    LNQ_TARGET static void name(const qlite_q8_ln_params *p, const uint8_t *x, uint8_t *y,     \
                                size_t n8, int32_t sum, int sh, int64_t ma) {                  \
        const bool sg = p->is_signed;                                                          \
        const __m256i vn = _mm256_set1_epi32((int32_t)p->n), vs = _mm256_set1_epi32(sum);      \
        const __m256i vma = _mm256_set1_epi64x(ma), vsh = _mm256_set1_epi64x(sh);              \
        const __m256i bias =                                                                   \
            _mm256_set1_epi64x((long long)((1ull << 62) + (1ull << (sh - 1))));                \
        const long long off = 1ll << (62 - sh);                                                \
        const __m256i ulo = _mm256_set1_epi64x(off - (1ll << 30));                             \
        const __m256i uhi = _mm256_set1_epi64x(off + (1ll << 30));                             \
        const __m256i off32 = _mm256_set1_epi32((int32_t)(uint32_t)(uint64_t)off);             \
        const __m256i zero = _mm256_setzero_si256(), h15 = _mm256_set1_epi32(1 << 15);         \
        const __m128i zy16 = _mm_set1_epi16((int16_t)p->zy);                                   \
        const __m128i lo8 = _mm_set1_epi8((char)(uint8_t)p->qmin);                             \
        const __m128i hi8 = _mm_set1_epi8((char)(uint8_t)p->qmax);                             \
        for (size_t i = 0; i < n8; i += 8) {                                                   \
            const __m256i d =                                                                  \
                _mm256_sub_epi32(_mm256_mullo_epi32(vn, lnq_widen8(x + i, sg)), vs);           \
            const __m256i dg =                                                                 \
                _mm256_mullo_epi32(d, _mm256_loadu_si256((const __m256i *)(p->g + i)));        \
            const __m256i te = _mm256_mul_epi32(dg, vma);                                      \
            const __m256i to = _mm256_mul_epi32(_mm256_shuffle_epi32(dg, 0xF5), vma);          \
            __m256i ue = _mm256_srlv_epi64(                                                    \
                _mm256_add_epi64(_mm256_add_epi64(te, bias), _mm256_cmpgt_epi64(zero, te)), vsh); \
            __m256i uo = _mm256_srlv_epi64(                                                    \
                _mm256_add_epi64(_mm256_add_epi64(to, bias), _mm256_cmpgt_epi64(zero, to)), vsh); \
            if (CLAMP) {                                                                       \
                ue = _mm256_blendv_epi8(ue, uhi, _mm256_cmpgt_epi64(ue, uhi));                 \
                ue = _mm256_blendv_epi8(ue, ulo, _mm256_cmpgt_epi64(ulo, ue));                 \
                uo = _mm256_blendv_epi8(uo, uhi, _mm256_cmpgt_epi64(uo, uhi));                 \
                uo = _mm256_blendv_epi8(uo, ulo, _mm256_cmpgt_epi64(ulo, uo));                 \
            }                                                                                  \
            const __m256i u = _mm256_sub_epi32(                                                \
                _mm256_blend_epi32(ue, _mm256_slli_epi64(uo, 32), 0xAA), off32);               \
            const __m256i w =                                                                  \
                _mm256_add_epi32(u, _mm256_loadu_si256((const __m256i *)(p->b32 + i)));        \
            const __m256i q = _mm256_srai_epi32(                                               \
                _mm256_add_epi32(_mm256_add_epi32(w, h15), _mm256_srai_epi32(w, 31)), 16);     \
            const __m128i w16 = _mm_adds_epi16(                                                \
                _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1)),    \
                zy16);                                                                         \
            const __m128i b =                                                                  \
                sg ? _mm_min_epi8(_mm_max_epi8(_mm_packs_epi16(w16, w16), lo8), hi8)           \
                   : _mm_min_epu8(_mm_max_epu8(_mm_packus_epi16(w16, w16), lo8), hi8);         \
            _mm_storel_epi64((__m128i *)(y + i), b);                                           \
        }                                                                                      \
    }
LNQ_OUT(lnq_out_free, false)
LNQ_OUT(lnq_out_clamped, true)

LNQ_TARGET static void ln_q8_row_avx2(const qlite_q8_ln_params *p, const uint8_t *x,
                                      uint8_t *y) {
    const size_t n = p->n, n8 = n & ~(size_t)7;
    const bool sg = p->is_signed;
    /* Steps 1 and 2 in one pass over 16 values at a time: S1 = sum q, S2 = sum q^2
     * (VPMADDWD pairs: |q| <= 255, a lane gathers <= 2 * 255^2 * 4096 / 16 < 2^25),
     * V = sum (n q - s)^2 = n^2 S2 - 2 n s S1 + n s^2 = n (n S2 - s^2) exactly (s = S1;
     * n S2 < 2^40, the product < 2^53), and the extremes of q for max |d|. */
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i a1 = _mm256_setzero_si256(), a2 = _mm256_setzero_si256();
    __m256i vmx = _mm256_set1_epi16(-32768), vmn = _mm256_set1_epi16(32767);
    size_t ix = 0;
    for (; ix + 16 <= n; ix += 16) {
        const __m128i raw = _mm_loadu_si128((const __m128i *)(x + ix));
        const __m256i w = sg ? _mm256_cvtepi8_epi16(raw) : _mm256_cvtepu8_epi16(raw);
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(w, ones));
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(w, w));
        vmx = _mm256_max_epi16(vmx, w);
        vmn = _mm256_min_epi16(vmn, w);
    }
    int32_t l1[8], l2[8];
    int16_t lmx[16], lmn[16];
    _mm256_storeu_si256((__m256i *)l1, a1);
    _mm256_storeu_si256((__m256i *)l2, a2);
    _mm256_storeu_si256((__m256i *)lmx, vmx);
    _mm256_storeu_si256((__m256i *)lmn, vmn);
    int64_t sum = 0, sq = 0;
    int32_t qmx = -32768, qmn = 32767;
    for (int k = 0; k < 8; k++) sum += l1[k], sq += l2[k];
    for (int k = 0; k < 16; k++) {
        qmx = lmx[k] > qmx ? lmx[k] : qmx;
        qmn = lmn[k] < qmn ? lmn[k] : qmn;
    }
    for (; ix < n; ix++) {
        const int32_t q = qlite_q8_decode(x[ix], sg);
        sum += q;
        sq += (int64_t)q * q;
        qmx = q > qmx ? q : qmx;
        qmn = q < qmn ? q : qmn;
    }
    const int64_t nn = (int64_t)n; /* |sum| <= 4096 * 255, |d| < 2^21 */
    const uint64_t v = (uint64_t)(nn * (nn * sq - sum * sum));
    const __m256i vn = _mm256_set1_epi32((int32_t)n), vs = _mm256_set1_epi32((int32_t)sum);
    int64_t ma = 0;
    int sh = 0;
    if (v) qlite_q8_ln_row_multiplier(p, v, &ma, &sh);
    if (v && sh >= 1 && sh <= 61 && p->b32 && n8) {
        const int64_t dhi = nn * qmx - sum, dlo = sum - nn * qmn; /* both >= 0 */
        const uint64_t dmax = (uint64_t)(dhi > dlo ? dhi : dlo);
        /* |T| <= dmax 255 Ma < 2^60; |U| <= 2^30 without a clamp when that is at most
         * 2^(sh+30) - 2^(sh-1) */
        const bool clampu =
            sh + 30 < 63 && dmax * 255u * (uint64_t)ma > (1ull << (sh + 30)) - (1ull << (sh - 1));
        (clampu ? lnq_out_clamped : lnq_out_free)(p, x, y, n8, (int32_t)sum, sh, ma);
        lnq_tail(p, x, y, n8, sum, sh, ma);
        return;
    }
    /* v = 0: d = 0 everywhere, u = 0 and y = beta, as in the reference */
    const __m256i vma = _mm256_set1_epi64x(ma);
    const __m256i zy = _mm256_set1_epi64x(p->zy), lo = _mm256_set1_epi64x(p->qmin),
                  hi = _mm256_set1_epi64x(p->qmax);
    const __m128i low_bytes = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1,
                                            -1, -1);
    for (size_t i = 0; i < n8; i += 8) {
        const __m256i d = _mm256_sub_epi32(_mm256_mullo_epi32(vn, lnq_widen8(x + i, sg)), vs);
        const __m256i dg =
            _mm256_mullo_epi32(d, _mm256_loadu_si256((const __m256i *)(p->g + i)));
        __m128i q4[2];
        for (int h = 0; h < 2; h++) {
            const __m128i dgh = h ? _mm256_extracti128_si256(dg, 1) : _mm256_castsi256_si128(dg);
            const __m256i t = _mm256_mul_epi32(_mm256_cvtepi32_epi64(dgh), vma);
            const __m256i u = sh >= 62 ? _mm256_setzero_si256() : lnq_rdbpot4(t, sh);
            q4[h] = lnq_out4(u, p->b + i + 4 * h, zy, lo, hi);
        }
        /* codes in [-128, 255]: int16, then their low bytes */
        const __m128i w16 = _mm_packs_epi32(q4[0], q4[1]);
        _mm_storel_epi64((__m128i *)(y + i), _mm_shuffle_epi8(w16, low_bytes));
    }
    lnq_tail(p, x, y, n8, sum, sh, ma);
}
#endif

typedef struct ln_q8_job {
    const ln_q8_state *s;
    const uint8_t *x;
    uint8_t *y;
} ln_q8_job;

static void ln_q8_rows(void *arg, size_t begin, size_t end) {
    const ln_q8_job *j = arg;
    const ln_q8_state *s = j->s;
    const size_t n = s->p.n;
    for (size_t r = begin; r < end; r++) {
        if (s->row) s->row(&s->p, j->x + r * n, j->y + r * n);
        else ln_q8_row(&s->p, j->x + r * n, j->y + r * n);
    }
}

static qlite_status ln_q8_eval(qlite_node *node) {
    const ln_q8_state *s = node->state;
    if (s->p.n == 0) return QLITE_OK;
    ln_q8_job j = {s, node->inputs[0]->data, node->outputs[0]->data};
    qlite_kernel_parallel(node, s->rows, s->p.n * 6, ln_q8_rows, &j);
    return QLITE_OK;
}

qlite_status qlite_layer_norm_q8_prepare(qlite_node *node, size_t rows, size_t n,
                                         float epsilon) {
    const qlite_tensor *x = node->inputs[0], *gt = node->inputs[1];
    const qlite_tensor *bt = qlite_node_input(node, 2);
    qlite_tensor *y = node->outputs[0];
    qlite_status st;
    qlite_q8 qx, qy, qg, qb;
    if ((st = qlite_node_check_same_dtype(node, x, "input", y, "output")) != QLITE_OK ||
        (st = qlite_q8_params(node, x, "input", &qx)) != QLITE_OK ||
        (st = qlite_q8_params(node, y, "output", &qy)) != QLITE_OK ||
        (st = qlite_q8_params(node, gt, "gamma", &qg)) != QLITE_OK ||
        (bt && (st = qlite_q8_params(node, bt, "beta", &qb)) != QLITE_OK))
        return st;
    if (!gt->is_const || !gt->data || (bt && (!bt->is_const || !bt->data)))
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "int8 LAYER_NORM needs constant gamma and beta");
    if (n > LN_Q8_MAX_N)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "rows of %zu values exceed the int8 kernel's %d", n,
                                LN_Q8_MAX_N);
    if ((st = qlite_node_set_output_shape(node, 0, x->rank, x->dims)) != QLITE_OK) return st;
    ln_q8_state *s = qlite_node_alloc(node, sizeof *s);
    int32_t *g = qlite_node_alloc(node, (n ? n : 1) * sizeof *g);
    int64_t *b = qlite_node_alloc(node, (n ? n : 1) * sizeof *b);
    int32_t *b32 = qlite_node_alloc(node, (n ? n : 1) * sizeof *b32);
    if (!s || !g || !b || !b32) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    const uint8_t *gq = gt->data, *bq = bt ? bt->data : NULL;
    for (size_t i = 0; i < n; i++) {
        g[i] = qlite_q8_decode(gq[i], qg.is_signed) - qg.zero_point;
        if (!bq) continue;
        const double beta = (double)qb.scale *
                            (double)(qlite_q8_decode(bq[i], qb.is_signed) - qb.zero_point) /
                            (double)qy.scale;
        if (!(fabs(beta) < 8192.0))
            return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                    "beta[%zu] is %g output steps: beyond the int8 kernel's "
                                    "2^13",
                                    i, beta);
        b[i] = (int64_t)qlite_round_half_even_f64(beta * 65536.0);
    }
    for (size_t i = 0; i < n; i++) b32[i] = (int32_t)b[i]; /* |b| < 2^29 */
    s->eval = ln_q8_eval;
    s->rows = rows;
    s->p = (qlite_q8_ln_params){
        .n = n, .is_signed = qx.is_signed, .zy = qy.zero_point, .qmin = qy.qmin,
        .qmax = qy.qmax, .g = g, .b = b, .b32 = b32,
        .c = (double)qx.scale * (double)qg.scale / ((double)n * (double)qy.scale),
        .sx2 = (double)qx.scale * (double)qx.scale, .eps = (double)epsilon};
    const bool ref_only = qlite_node_reference_only(node);
    const qlite_q8_ew_ukernels *v = ref_only ? NULL : qlite_q8_ew_select(QLITE_Q8_EW_LAYER_NORM);
    s->row = v ? v->layer_norm : NULL;
#ifdef LNQ_AVX2
    /* x86 without the AVX-512 row (or capped below it): this file's AVX2 row */
    if (!ref_only && (!v || !(v->needs & QLITE_Q8_EW_F_AVX512)) &&
        (qlite_q8_ew_features() & QLITE_Q8_EW_F_AVX2))
        s->row = ln_q8_row_avx2;
#endif
    node->state = s;
    return QLITE_OK;
}
