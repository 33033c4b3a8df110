/*
 * softmax_f32_x86.c — AVX-512F and AVX2+FMA rows of float32 SOFTMAX (last
 * axis) and LAYER_NORM, selected at prepare time by softmax.c / layer_norm.c
 * (softmax_f32.h); the portable loops there stay the fallback.
 *
 * Tails are masked (AVX-512 k-masks, AVX2 VMASKMOV) so a short row (28
 * values: one full vector and one masked one) takes no scalar loop.
 *
 * SOFTMAX row, as softmax.c: m = max(beta x); e = exp(beta x - m) (stored in
 * y); s = sum e in double lanes; y = e * (float)(1 / s).
 * exp is the range-reduced polynomial of qlite_exp_nonpos_f32 (kernel_util.h,
 * also unary_f32_body.inc) with FMAs: z = n ln2 + r, |r| <= ln2/2, ln2 in two
 * parts (n ln2hi exact), degree-7 Taylor polynomial (truncation < 3e-9
 * relative), times 2^n; arguments below -87.3 give 0 (true value < 1.2e-38).
 * Error bound vs exp(z) in double, for z in [-87.3, 0]: 2 ulp (tests measure it through
 * softmax: test_kernel_softmax.c).
 *
 * LAYER_NORM row: the mean in double lanes; d = (x - mf) - cf with mf the mean
 * rounded to float and cf = mean - mf (so an offset row, e.g. values around
 * 500, keeps the mean's double precision); var = mean(d^2) in float lanes;
 * y = d * rstd * g + b with FMA.
 */
#include <math.h>
#include <stdint.h>

#include "kernels/gemm_q8.h"
#include "kernels/softmax_f32.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define A512 __attribute__((target("avx2,fma,avx512f")))
#define A256 __attribute__((target("avx2,fma")))

/* ---------------------------------------------------------------- AVX-512 */

/* e^x for x <= 0 (NaN kept, below -87.3 gives 0). */
A512 static inline __m512 exp512(__m512 x) {
    const __m512 lo = _mm512_set1_ps(-87.3f);
    __m512 c = _mm512_max_ps(x, lo); /* NaN -> -87.3 */
    c = _mm512_min_ps(c, _mm512_setzero_ps());
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(c, _mm512_set1_ps(1.44269504f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), c);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512 y = _mm512_scalef_ps(p, n); /* n in [-126, 0] */
    y = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ), y);
    return _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}

A512 static inline __mmask16 tail16(size_t rem) {
    return (__mmask16)((1u << rem) - 1u);
}

A512 static inline __m512d cvt_lo(__m512 v) {
    return _mm512_cvtps_pd(_mm512_castps512_ps256(v));
}

A512 static inline __m512d cvt_hi(__m512 v) {
    return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

A512 static void softmax_row_avx512(const float *x, float *y, size_t n, float beta) {
    const __m512 vb = _mm512_set1_ps(beta), ninf = _mm512_set1_ps(-INFINITY);
    __m512 vm = ninf;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) vm = _mm512_max_ps(vm, _mm512_mul_ps(vb, _mm512_loadu_ps(x + i)));
    const __mmask16 k = tail16(n - i);
    if (k) vm = _mm512_mask_max_ps(vm, k, vm, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(k, x + i)));
    float m = _mm512_reduce_max_ps(vm);
    if (m == -INFINITY || m != m) m = 0.0f; /* all -inf (or NaN): let exp() decide */
    const __m512 mm = _mm512_set1_ps(m);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (i = 0; i + 16 <= n; i += 16) {
        const __m512 e = exp512(_mm512_fmsub_ps(vb, _mm512_loadu_ps(x + i), mm));
        _mm512_storeu_ps(y + i, e);
        s0 = _mm512_add_pd(s0, cvt_lo(e));
        s1 = _mm512_add_pd(s1, cvt_hi(e));
    }
    if (k) {
        const __m512 e = _mm512_maskz_mov_ps(
            k, exp512(_mm512_fmsub_ps(vb, _mm512_maskz_loadu_ps(k, x + i), mm)));
        _mm512_mask_storeu_ps(y + i, k, e);
        s0 = _mm512_add_pd(s0, cvt_lo(e));
        s1 = _mm512_add_pd(s1, cvt_hi(e));
    }
    const double sum = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    const __m512 vr = _mm512_set1_ps((float)(1.0 / sum));
    for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), vr));
    if (k) _mm512_mask_storeu_ps(y + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, y + i), vr));
}

A512 static void layer_norm_row_avx512(const float *x, float *y, size_t n, const float *g,
                                       const float *b, float eps) {
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        s0 = _mm512_add_pd(s0, cvt_lo(v));
        s1 = _mm512_add_pd(s1, cvt_hi(v));
    }
    const __mmask16 k = tail16(n - i);
    if (k) {
        const __m512 v = _mm512_maskz_loadu_ps(k, x + i);
        s0 = _mm512_add_pd(s0, cvt_lo(v));
        s1 = _mm512_add_pd(s1, cvt_hi(v));
    }
    const double mean = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1)) / (double)n;
    const float mf = (float)mean;
    const __m512 vmf = _mm512_set1_ps(mf), vcf = _mm512_set1_ps((float)(mean - (double)mf));
    __m512 q0 = _mm512_setzero_ps(), q1 = _mm512_setzero_ps();
    for (i = 0; i + 32 <= n; i += 32) {
        const __m512 d0 = _mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vmf), vcf);
        const __m512 d1 = _mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), vmf), vcf);
        q0 = _mm512_fmadd_ps(d0, d0, q0);
        q1 = _mm512_fmadd_ps(d1, d1, q1);
    }
    for (; i + 16 <= n; i += 16) {
        const __m512 d = _mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vmf), vcf);
        q0 = _mm512_fmadd_ps(d, d, q0);
    }
    if (k) {
        const __m512 d = _mm512_maskz_sub_ps(
            k, _mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), vmf), vcf);
        q1 = _mm512_fmadd_ps(d, d, q1);
    }
    const double var = (double)_mm512_reduce_add_ps(_mm512_add_ps(q0, q1)) / (double)n;
    const __m512 rs = _mm512_set1_ps((float)(1.0 / sqrt(var + (double)eps)));
    for (i = 0; i + 16 <= n; i += 16) {
        const __m512 v =
            _mm512_mul_ps(_mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vmf), vcf), rs);
        const __m512 bb = b ? _mm512_loadu_ps(b + i) : _mm512_setzero_ps();
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(v, _mm512_loadu_ps(g + i), bb));
    }
    if (k) {
        const __m512 v = _mm512_mul_ps(
            _mm512_sub_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), vmf), vcf), rs);
        const __m512 bb = b ? _mm512_maskz_loadu_ps(k, b + i) : _mm512_setzero_ps();
        _mm512_mask_storeu_ps(y + i, k, _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(k, g + i), bb));
    }
}

/* ---------------------------------------------------------------- AVX2+FMA */

A256 static inline __m256 exp256(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.3f);
    __m256 c = _mm256_max_ps(x, lo); /* NaN -> -87.3 */
    c = _mm256_min_ps(c, _mm256_setzero_ps());
    /* n = round(c log2e) by adding 1.5 2^23 + 127 (ulp 1 there: the addition rounds to
     * the nearest integer, ties to even, as VROUNDPS did), which also leaves n + 127 in
     * the low mantissa bits for the 2^n below */
    const __m256 magic = _mm256_set1_ps(12583039.0f);
    const __m256 t = _mm256_add_ps(_mm256_mul_ps(c, _mm256_set1_ps(1.44269504f)), magic);
    const __m256 n = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), c);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(t), 23); /* n in [-126, 0] */
    __m256 y = _mm256_mul_ps(p, _mm256_castsi256_ps(e));
    y = _mm256_and_ps(y, _mm256_cmp_ps(x, lo, _CMP_GE_OQ));
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

static const int32_t mask_tab[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

A256 static inline __m256i tail8(size_t rem) {
    return _mm256_loadu_si256((const __m256i *)(mask_tab + 8 - rem));
}

A256 static inline __m256d sum4_pd(__m256 v, __m256d acc) {
    acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

A256 static inline double hsum_pd(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

A256 static inline float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

A256 static inline float hmax_ps(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}

A256 static void softmax_row_avx2(const float *x, float *y, size_t n, float beta) {
    const __m256 vb = _mm256_set1_ps(beta), ninf = _mm256_set1_ps(-INFINITY);
    __m256 vm = ninf;
    __m256 vm1 = ninf;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) { /* two chains */
        vm = _mm256_max_ps(vm, _mm256_mul_ps(vb, _mm256_loadu_ps(x + i)));
        vm1 = _mm256_max_ps(vm1, _mm256_mul_ps(vb, _mm256_loadu_ps(x + i + 8)));
    }
    for (; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_mul_ps(vb, _mm256_loadu_ps(x + i)));
    const size_t rem = n - i;
    const __m256i k = tail8(rem);
    if (rem) {
        const __m256 v = _mm256_mul_ps(vb, _mm256_maskload_ps(x + i, k));
        vm = _mm256_max_ps(vm, _mm256_blendv_ps(ninf, v, _mm256_castsi256_ps(k)));
    }
    float m = hmax_ps(_mm256_max_ps(vm, vm1));
    if (m == -INFINITY || m != m) m = 0.0f; /* all -inf (or NaN): let exp() decide */
    const __m256 mm = _mm256_set1_ps(m);
    /* four independent double chains (one chain of two dependent adds per
     * 8 values left the loop waiting on the adder's latency) */
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    for (i = 0; i + 16 <= n; i += 16) {
        const __m256 e0 = exp256(_mm256_fmsub_ps(vb, _mm256_loadu_ps(x + i), mm));
        const __m256 e1 = exp256(_mm256_fmsub_ps(vb, _mm256_loadu_ps(x + i + 8), mm));
        _mm256_storeu_ps(y + i, e0);
        _mm256_storeu_ps(y + i + 8, e1);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e0)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e0, 1)));
        s2 = _mm256_add_pd(s2, _mm256_cvtps_pd(_mm256_castps256_ps128(e1)));
        s3 = _mm256_add_pd(s3, _mm256_cvtps_pd(_mm256_extractf128_ps(e1, 1)));
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 e = exp256(_mm256_fmsub_ps(vb, _mm256_loadu_ps(x + i), mm));
        _mm256_storeu_ps(y + i, e);
        s0 = sum4_pd(e, s0);
    }
    if (rem) {
        const __m256 e = _mm256_and_ps(
            exp256(_mm256_fmsub_ps(vb, _mm256_maskload_ps(x + i, k), mm)), _mm256_castsi256_ps(k));
        _mm256_maskstore_ps(y + i, k, e);
        s1 = sum4_pd(e, s1);
    }
    const double sum = hsum_pd(_mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
    const __m256 vr = _mm256_set1_ps((float)(1.0 / sum));
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), vr));
    if (rem) _mm256_maskstore_ps(y + i, k, _mm256_mul_ps(_mm256_maskload_ps(y + i, k), vr));
}

A256 static void layer_norm_row_avx2(const float *x, float *y, size_t n, const float *g,
                                     const float *b, float eps) {
    __m256d s0 = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) s0 = sum4_pd(_mm256_loadu_ps(x + i), s0);
    const size_t rem = n - i;
    const __m256i k = tail8(rem);
    const __m256 kf = _mm256_castsi256_ps(k);
    if (rem) s0 = sum4_pd(_mm256_maskload_ps(x + i, k), s0);
    const double mean = hsum_pd(s0) / (double)n;
    const float mf = (float)mean;
    const __m256 vmf = _mm256_set1_ps(mf), vcf = _mm256_set1_ps((float)(mean - (double)mf));
    __m256 q0 = _mm256_setzero_ps(), q1 = _mm256_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        const __m256 d0 = _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmf), vcf);
        const __m256 d1 = _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vmf), vcf);
        q0 = _mm256_fmadd_ps(d0, d0, q0);
        q1 = _mm256_fmadd_ps(d1, d1, q1);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmf), vcf);
        q0 = _mm256_fmadd_ps(d, d, q0);
    }
    if (rem) {
        const __m256 d = _mm256_and_ps(
            _mm256_sub_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, k), vmf), vcf), kf);
        q1 = _mm256_fmadd_ps(d, d, q1);
    }
    const double var = (double)hsum_ps(_mm256_add_ps(q0, q1)) / (double)n;
    const __m256 rs = _mm256_set1_ps((float)(1.0 / sqrt(var + (double)eps)));
    for (i = 0; i + 8 <= n; i += 8) {
        const __m256 v =
            _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmf), vcf), rs);
        const __m256 bb = b ? _mm256_loadu_ps(b + i) : _mm256_setzero_ps();
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(v, _mm256_loadu_ps(g + i), bb));
    }
    if (rem) {
        const __m256 v = _mm256_mul_ps(
            _mm256_sub_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, k), vmf), vcf), rs);
        const __m256 bb = b ? _mm256_maskload_ps(b + i, k) : _mm256_setzero_ps();
        _mm256_maskstore_ps(y + i, k, _mm256_fmadd_ps(v, _mm256_maskload_ps(g + i, k), bb));
    }
}

softmax_f32_row_fn qlite_softmax_f32_row_simd(void) {
    const unsigned f = qlite_q8_cpu_features();
    if (f & QLITE_Q8_F_AVX512) return softmax_row_avx512;
    if ((f & QLITE_Q8_F_AVX2) && __builtin_cpu_supports("fma")) return softmax_row_avx2;
    return NULL;
}

layer_norm_f32_row_fn qlite_layer_norm_f32_row_simd(void) {
    const unsigned f = qlite_q8_cpu_features();
    if (f & QLITE_Q8_F_AVX512) return layer_norm_row_avx512;
    if ((f & QLITE_Q8_F_AVX2) && __builtin_cpu_supports("fma")) return layer_norm_row_avx2;
    return NULL;
}

#else

softmax_f32_row_fn qlite_softmax_f32_row_simd(void) { return NULL; }
layer_norm_f32_row_fn qlite_layer_norm_f32_row_simd(void) { return NULL; }

#endif
