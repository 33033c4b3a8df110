/*
 * softmax_q8.c — int8 / uint8 SOFTMAX over any axis (docs/quantization.md
 * §4.7). softmax.c's prepare reads the options and hands int8/uint8 here.
 *
 * Prepare, with sb = sx * |beta| (double):
 *   e[d] = round_half_even(2^23 * exp(-sb * d)) for d = 0..255  (uint32, e[0] = 2^23)
 *   R    = round_half_even(2^16 / sy)                          (1 <= R <= 2^32)
 * Eval, per row of n values along the axis (stride `inner`):
 *   1. m = max_row(x) (min_row(x) when beta < 0); d = |m - x| in [0, 255]
 *   2. S = sum_row e[d]                                        (uint64, S >= 2^23)
 *   3. y = clamp(zy + floor((e[d] * R + S * 2^15) / (S * 2^16)), qmin, qmax)
 * Step 3 is rdiv(e[d] * R, S * 2^16), the rounded (half up) quotient: for
 * the fixed int8 parameters (sy = 1/256, zy = -128) R = 2^24 and it is
 * exactly the doc's clamp(rdiv(e[d] * 256, S) - 128). With n <= 2^24,
 * e * R < 2^56 and S * 2^16 < 2^63: no overflow.
 *
 * Accuracy against the real softmax of the dequantized row:
 * 0.5 LSB + (n + 2) / 2^16 LSB (rounding of e and of R; see the doc).
 */
#include <math.h>
#include <string.h>

#include "kernels/elementwise_q8.h"
#include "kernels/kernels_q8.h"
#include "kernels/quant_params.h"

#define SOFTMAX_Q8_MAX_ROW (1u << 24)

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define SMQ_NEON 1

/* floor(num / den) by the double reciprocal and one integer correction step
 * (elementwise_q8.c's portable row says why one step is enough). */
static inline uint64_t smq_div(uint64_t num, uint64_t den, double inv) {
    uint64_t q = (uint64_t)(int64_t)((double)(int64_t)num * inv);
    const uint64_t prod = q * den;
    if (prod > num) q--;
    else if (num - prod >= den) q++;
    return q;
}

/* One output code: clamp(zy + floor((e r + S 2^15) / (S 2^16))) */
static inline uint8_t smq_out(uint32_t e, uint64_t r, uint64_t half, uint64_t den, double inv,
                              int64_t zy, int64_t lo, int64_t hi) {
    const int64_t v = zy + (int64_t)smq_div((uint64_t)e * r + half, den, inv);
    return (uint8_t)(v > hi ? hi : (v < lo ? lo : v));
}

/*
 * NEON row (contiguous, any n). The bytes are compared in unsigned order
 * (int8 flipped by 0x80, differences unchanged), the extreme and the
 * spread by UMAX / UMIN 16 at a time, d = |m - u| by UABD. The output is a
 * function of d alone: when the row is longer than the d range it meets,
 * y(d) is formed once per d in [0, dmax] (the formula of the reference)
 * and the row maps through that 256-byte table with four TBLs; shorter
 * rows divide element by element.
 */
static void softmax_q8_row_neon(const qlite_q8_softmax_params *p, const uint8_t *x, uint8_t *y,
                                size_t n) {
    const uint8_t flip = p->is_signed ? 0x80 : 0;
    const uint8x16_t vf = vdupq_n_u8(flip);
    uint8x16_t vmx = vdupq_n_u8(0), vmn = vdupq_n_u8(0xff);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const uint8x16_t u = veorq_u8(vld1q_u8(x + i), vf);
        vmx = vmaxq_u8(vmx, u);
        vmn = vminq_u8(vmn, u);
    }
    uint8_t umax = vmaxvq_u8(vmx), umin = vminvq_u8(vmn);
    for (; i < n; i++) {
        const uint8_t u = (uint8_t)(x[i] ^ flip);
        umax = u > umax ? u : umax;
        umin = u < umin ? u : umin;
    }
    const uint8_t m = p->use_min ? umin : umax;
    const unsigned dmax = (unsigned)(umax - umin);
    const uint32_t *e = p->e;
    uint64_t sum = 0;
    for (i = 0; i < n; i++) {
        const uint8_t u = (uint8_t)(x[i] ^ flip);
        sum += e[u > m ? u - m : m - u];
    }
    const uint64_t den = sum << 16, half = sum << 15, r = p->r;
    const double inv = 1.0 / (double)(int64_t)den;
    const int64_t zy = p->zy, lo = p->qmin, hi = p->qmax;
    if (n <= dmax + 16) {
        for (i = 0; i < n; i++) {
            const uint8_t u = (uint8_t)(x[i] ^ flip);
            y[i] = smq_out(e[u > m ? u - m : m - u], r, half, den, inv, zy, lo, hi);
        }
        return;
    }
    uint8_t t[256];
    memset(t, 0, sizeof t);
    for (unsigned d = 0; d <= dmax; d++) t[d] = smq_out(e[d], r, half, den, inv, zy, lo, hi);
#define SMQ_T4(b) {{vld1q_u8(t + (b)), vld1q_u8(t + (b) + 16), vld1q_u8(t + (b) + 32), vld1q_u8(t + (b) + 48)}}
    const uint8x16x4_t t0 = SMQ_T4(0), t1 = SMQ_T4(64), t2 = SMQ_T4(128), t3 = SMQ_T4(192);
#undef SMQ_T4
    const uint8x16_t vm = vdupq_n_u8(m), k64 = vdupq_n_u8(64);
    for (i = 0; i + 16 <= n; i += 16) {
        const uint8x16_t d0 = vabdq_u8(veorq_u8(vld1q_u8(x + i), vf), vm);
        /* TBL gives 0 for indices >= 64: each quarter answers for its own range */
        const uint8x16_t d1 = vsubq_u8(d0, k64), d2 = vsubq_u8(d1, k64), d3 = vsubq_u8(d2, k64);
        const uint8x16_t v = vorrq_u8(vorrq_u8(vqtbl4q_u8(t0, d0), vqtbl4q_u8(t1, d1)),
                                      vorrq_u8(vqtbl4q_u8(t2, d2), vqtbl4q_u8(t3, d3)));
        vst1q_u8(y + i, v);
    }
    for (; i < n; i++) {
        const uint8_t u = (uint8_t)(x[i] ^ flip);
        y[i] = t[u > m ? u - m : m - u];
    }
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SMQ_AVX2 1
#define SMQ_TARGET __attribute__((target("avx2")))

/*
 * AVX2 row (x86 CPUs without the AVX-512 row, or capped to AVX2), exact
 * like every variant:
 *   1. the extreme on the bytes (int8 flipped by 0x80 to compare unsigned),
 *      32 at a time;
 *   2. e[d] by VPGATHERDD, 8 at a time, S in 64-bit lanes; rows of up to
 *      SMQ_EBUF values keep the gathered e on the stack for step 3;
 *   3. q = floor(T), T = (e R + S 2^15) / D = e R / D + 1/2 (D = S 2^16),
 *      from t = e c + 1/2 in double with c = R / D rounded once (R <= 2^32
 *      and D < 2^63, S < 2^47, are exact doubles; e < 2^24 too). T <= 2^16 + 2
 *      and t is within 2^-34 of it (c and the product 2^-53 relative each on a
 *      value < 2^17, the sum half an ulp, 2^-37), so floor(t) = floor(T)
 *      whenever t - floor(t) (exact) is in [2^-30, 1 - 2^-30]. A group of 8
 *      with a lane outside that band (T an integer or within 2^-30 of one,
 *      e.g. a constant row of 512 values with R = 2^24: T = 1) takes the
 *      reference's integer division for all 8 (smq_exact8);
 *   4. zy added and the clamp taken after saturating narrowing: q <= 2^16 + 2
 *      becomes at most int16 32767 (above every qmax), and each step is
 *      monotone and the identity on [qmin, qmax].
 * The last n % 8 values run steps 2-4 on 8 bytes copied to a buffer and
 * padded with the extreme (d = 0, a valid index); their sum is scalar.
 */
#define SMQ_EBUF 1024

SMQ_TARGET static inline __m256i smq_widen8(const uint8_t *p, bool sg) {
    const __m128i v = _mm_loadl_epi64((const __m128i *)p);
    return sg ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}

typedef struct smq_k {
    __m256d c, half, eps, eps1;  /* R / D, 1/2, 2^-30, 1 - 2^-30 */
    __m128i zy16, lo8, hi8;
    uint64_t r, halfi, den;      /* for smq_exact8 */
    bool sg;
} smq_k;

/* The reference's division for 8 gathered e values (the rare near-integer groups). */
__attribute__((noinline)) static void smq_exact8(const smq_k *k, const uint32_t e[8],
                                                 int32_t q[8]) {
    for (int l = 0; l < 8; l++) q[l] = (int32_t)(((uint64_t)e[l] * k->r + k->halfi) / k->den);
}

/* The 8 output bytes of the e values in ev's int32 lanes (steps 3 and 4). */
SMQ_TARGET static inline __m128i smq_out8(const smq_k *k, __m256i ev) {
    const __m256d t0 = _mm256_add_pd(
        _mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(ev)), k->c), k->half);
    const __m256d t1 = _mm256_add_pd(
        _mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(ev, 1)), k->c), k->half);
    const __m256d f0 = _mm256_round_pd(t0, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m256d f1 = _mm256_round_pd(t1, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    const __m256d r0 = _mm256_sub_pd(t0, f0), r1 = _mm256_sub_pd(t1, f1);
    const __m256d bad =
        _mm256_or_pd(_mm256_or_pd(_mm256_cmp_pd(r0, k->eps, _CMP_LT_OQ),
                                  _mm256_cmp_pd(r0, k->eps1, _CMP_GT_OQ)),
                     _mm256_or_pd(_mm256_cmp_pd(r1, k->eps, _CMP_LT_OQ),
                                  _mm256_cmp_pd(r1, k->eps1, _CMP_GT_OQ)));
    __m128i q0 = _mm256_cvttpd_epi32(f0), q1 = _mm256_cvttpd_epi32(f1);
    if (_mm256_movemask_pd(bad)) {
        uint32_t e[8];
        int32_t q[8];
        _mm256_storeu_si256((__m256i *)e, ev);
        smq_exact8(k, e, q);
        q0 = _mm_loadu_si128((const __m128i *)q);
        q1 = _mm_loadu_si128((const __m128i *)(q + 4));
    }
    const __m128i w = _mm_adds_epi16(_mm_packs_epi32(q0, q1), k->zy16);
    if (k->sg) return _mm_min_epi8(_mm_max_epi8(_mm_packs_epi16(w, w), k->lo8), k->hi8);
    return _mm_min_epu8(_mm_max_epu8(_mm_packus_epi16(w, w), k->lo8), k->hi8);
}

SMQ_TARGET static void softmax_q8_row_avx2(const qlite_q8_softmax_params *p, const uint8_t *x,
                                           uint8_t *y, size_t n) {
    const bool sg = p->is_signed;
    const uint8_t flip = sg ? 0x80 : 0;
    const __m256i vf = _mm256_set1_epi8((char)flip);
    __m256i vmx = _mm256_setzero_si256(), vmn = _mm256_set1_epi8(-1);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256i u = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(x + i)), vf);
        vmx = _mm256_max_epu8(vmx, u);
        vmn = _mm256_min_epu8(vmn, u);
    }
    uint8_t bmx[32], bmn[32];
    _mm256_storeu_si256((__m256i *)bmx, vmx);
    _mm256_storeu_si256((__m256i *)bmn, vmn);
    uint8_t umax = 0, umin = 0xff;
    for (int k = 0; k < 32; k++) {
        umax = bmx[k] > umax ? bmx[k] : umax;
        umin = bmn[k] < umin ? bmn[k] : umin;
    }
    for (; i < n; i++) {
        const uint8_t u = (uint8_t)(x[i] ^ flip);
        umax = u > umax ? u : umax;
        umin = u < umin ? u : umin;
    }
    const uint8_t um = (uint8_t)((p->use_min ? umin : umax) ^ flip); /* the extreme's byte */
    const int32_t m = qlite_q8_decode(um, sg);
    const uint32_t *e = p->e;
    const size_t n8 = n & ~(size_t)7;
    const bool keep = n <= SMQ_EBUF;
    uint32_t ebuf[SMQ_EBUF];
    const __m256i vm = _mm256_set1_epi32(m);
    __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
    for (i = 0; i < n8; i += 8) {
        const __m256i d = _mm256_abs_epi32(_mm256_sub_epi32(vm, smq_widen8(x + i, sg)));
        const __m256i ev = _mm256_i32gather_epi32((const int *)e, d, 4);
        if (keep) _mm256_storeu_si256((__m256i *)(ebuf + i), ev);
        s0 = _mm256_add_epi64(s0, _mm256_cvtepu32_epi64(_mm256_castsi256_si128(ev)));
        s1 = _mm256_add_epi64(s1, _mm256_cvtepu32_epi64(_mm256_extracti128_si256(ev, 1)));
    }
    uint64_t sl[4];
    _mm256_storeu_si256((__m256i *)sl, _mm256_add_epi64(s0, s1));
    uint64_t sum = sl[0] + sl[1] + sl[2] + sl[3];
    for (i = n8; i < n; i++) {
        const int32_t v = qlite_q8_decode(x[i], sg);
        sum += e[v > m ? v - m : m - v];
    }
    const uint64_t den = sum << 16;
    smq_k k;
    k.c = _mm256_set1_pd((double)p->r / (double)(int64_t)den);
    k.half = _mm256_set1_pd(0.5);
    k.eps = _mm256_set1_pd(0x1p-30);
    k.eps1 = _mm256_set1_pd(1.0 - 0x1p-30);
    k.zy16 = _mm_set1_epi16((int16_t)p->zy);
    k.lo8 = _mm_set1_epi8((char)(uint8_t)p->qmin);
    k.hi8 = _mm_set1_epi8((char)(uint8_t)p->qmax);
    k.r = p->r;
    k.halfi = sum << 15;
    k.den = den;
    k.sg = sg;
    for (i = 0; i < n8; i += 8) {
        const __m256i ev =
            keep ? _mm256_loadu_si256((const __m256i *)(ebuf + i))
                 : _mm256_i32gather_epi32(
                       (const int *)e,
                       _mm256_abs_epi32(_mm256_sub_epi32(vm, smq_widen8(x + i, sg))), 4);
        _mm_storel_epi64((__m128i *)(y + i), smq_out8(&k, ev));
    }
    if (n8 < n) {
        uint8_t bx[8], by[8];
        memset(bx, um, sizeof bx);
        memcpy(bx, x + n8, n - n8);
        const __m256i d = _mm256_abs_epi32(_mm256_sub_epi32(vm, smq_widen8(bx, sg)));
        _mm_storel_epi64((__m128i *)by,
                         smq_out8(&k, _mm256_i32gather_epi32((const int *)e, d, 4)));
        memcpy(y + n8, by, n - n8);
    }
}
#endif

typedef struct softmax_q8_state {
    qlite_eval_fn eval;   /* must stay first (qlite_eval_dispatch) */
    size_t outer, n, inner;
    bool is_signed, use_min;
    int32_t zy, qmin, qmax;
    uint64_t r;           /* round(2^16 / sy) */
    uint32_t e[256];      /* round(2^23 exp(-sb d)) */
    qlite_q8_softmax_fn row;      /* contiguous-row variant (elementwise_q8.h), or NULL */
    qlite_q8_softmax_params rp;   /* its parameters */
} softmax_q8_state;

typedef struct softmax_q8_job {
    const softmax_q8_state *s;
    const uint8_t *x;
    uint8_t *y;
} softmax_q8_job;

/* One row: n values at x[0], x[stride], ... */
static void softmax_q8_row(const softmax_q8_state *s, const uint8_t *x, uint8_t *y, size_t n,
                           size_t stride) {
    const bool sg = s->is_signed;
    int32_t m = qlite_q8_decode(x[0], sg);
    for (size_t i = 1; i < n; i++) {
        const int32_t v = qlite_q8_decode(x[i * stride], sg);
        m = s->use_min ? (v < m ? v : m) : (v > m ? v : m);
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        const int32_t v = qlite_q8_decode(x[i * stride], sg);
        sum += s->e[s->use_min ? v - m : m - v];
    }
    const uint64_t den = sum << 16, half = sum << 15;
    for (size_t i = 0; i < n; i++) {
        const int32_t v = qlite_q8_decode(x[i * stride], sg);
        const uint64_t num = (uint64_t)s->e[s->use_min ? v - m : m - v] * s->r;
        const uint64_t q = (num + half) / den; /* <= R / 2^16 + 1 <= 2^16 + 1 */
        y[i * stride] = (uint8_t)qlite_clamp_i64((int64_t)s->zy + (int64_t)q, s->qmin, s->qmax);
    }
}

/* Rows r in [begin, end) of the outer * inner rows. */
static void softmax_q8_rows(void *arg, size_t begin, size_t end) {
    const softmax_q8_job *j = arg;
    const softmax_q8_state *s = j->s;
    if (s->row) { /* inner == 1: rows are contiguous */
        for (size_t r = begin; r < end; r++) s->row(&s->rp, j->x + r * s->n, j->y + r * s->n, s->n);
        return;
    }
    for (size_t r = begin; r < end; r++) {
        const size_t o = r / s->inner, k = r % s->inner;
        const size_t off = o * s->n * s->inner + k;
        softmax_q8_row(s, j->x + off, j->y + off, s->n, s->inner);
    }
}

static qlite_status softmax_q8_eval(qlite_node *node) {
    const softmax_q8_state *s = node->state;
    if (s->n == 0) return QLITE_OK;
    softmax_q8_job j = {s, node->inputs[0]->data, node->outputs[0]->data};
    qlite_kernel_parallel(node, s->outer * s->inner, s->n * 8, softmax_q8_rows, &j);
    return QLITE_OK;
}

qlite_status qlite_softmax_q8_prepare(qlite_node *node, size_t outer, size_t n, size_t inner,
                                      float beta) {
    const qlite_tensor *x = node->inputs[0];
    qlite_tensor *y = node->outputs[0];
    qlite_status st;
    qlite_q8 qx, qy;
    if (node->op->code != QLITE_OP_SOFTMAX)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "%s has no integer kernel (the converter keeps it in float, "
                                "docs/quantization.md §6)",
                                qlite_op_name(node->op->code));
    if ((st = qlite_node_check_same_dtype(node, x, "input", y, "output")) != QLITE_OK ||
        (st = qlite_q8_params(node, x, "input", &qx)) != QLITE_OK ||
        (st = qlite_q8_params(node, y, "output", &qy)) != QLITE_OK)
        return st;
    if (n > SOFTMAX_Q8_MAX_ROW)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "rows of %zu values exceed the integer kernel's 2^24", n);
    const double r = qlite_round_half_even_f64(65536.0 / (double)qy.scale);
    if (!(r >= 1.0 && r <= 4294967296.0))
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "output scale %g is outside [2^-16, 2^17): softmax outputs in "
                                "[0, 1] cannot use it",
                                (double)qy.scale);
    if ((st = qlite_node_set_output_shape(node, 0, x->rank, x->dims)) != QLITE_OK) return st;
    softmax_q8_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->eval = softmax_q8_eval;
    s->outer = outer;
    s->n = n;
    s->inner = inner;
    s->is_signed = qx.is_signed;
    s->use_min = beta < 0.0f;
    s->zy = qy.zero_point;
    s->qmin = qy.qmin;
    s->qmax = qy.qmax;
    s->r = (uint64_t)r;
    const double sb = (double)qx.scale * fabs((double)beta);
    for (int d = 0; d < 256; d++)
        s->e[d] = (uint32_t)qlite_round_half_even_f64(8388608.0 * exp(-sb * (double)d));
    const qlite_q8_ew_ukernels *v = qlite_node_reference_only(node) || inner != 1
                                        ? NULL
                                        : qlite_q8_ew_select(QLITE_Q8_EW_SOFTMAX);
#ifdef SMQ_NEON
    /* ARM64: the NEON row when the CPU features (within the cap) have NEON */
    if (v && (qlite_q8_ew_features() & QLITE_Q8_EW_F_NEON)) {
        static const qlite_q8_ew_ukernels neon = {.name = "neon",
                                                  .softmax = softmax_q8_row_neon};
        v = &neon;
    }
#endif
#ifdef SMQ_AVX2
    /* x86 without the AVX-512 row (or capped below it): this file's AVX2 row */
    if (v && !(v->needs & QLITE_Q8_EW_F_AVX512) &&
        (qlite_q8_ew_features() & QLITE_Q8_EW_F_AVX2)) {
        static const qlite_q8_ew_ukernels avx2 = {
            .name = "avx2", .needs = QLITE_Q8_EW_F_AVX2, .softmax = softmax_q8_row_avx2};
        v = &avx2;
    }
#endif
    if (v) {
        s->row = v->softmax;
        s->rp = (qlite_q8_softmax_params){.e = s->e, .r = s->r, .zy = s->zy, .qmin = s->qmin,
                                          .qmax = s->qmax, .is_signed = s->is_signed,
                                          .use_min = s->use_min};
    }
    node->state = s;
    return QLITE_OK;
}
