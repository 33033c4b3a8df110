/*
 * elementwise_q8.c — the table of element-wise int8 variants and the
 * selection by CPU features (elementwise_q8.h). The x86 functions are in
 * elementwise_q8_x86.c, the ARM64 ones in elementwise_q8_neon.c; another ISA
 * adds its file and its rows here.
 */
#include "kernels/elementwise_q8.h"

#include <stdatomic.h>
#include <string.h>

#include "kernels/gemm_q8.h"
#include "kernels/kernel_util.h"
#include "qlite_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define EW_X86 1
void qlite_q8_binary__avx512vbmi(const qlite_q8_binary_params *p, const uint8_t *a,
                                 const uint8_t *b, uint8_t *y, size_t n, qlite_q8_bshape shape);
void qlite_q8_lut__avx512vbmi(const uint8_t table[256], const uint8_t *x, uint8_t *y, size_t n);
void qlite_q8_lut__avx2(const uint8_t table[256], const uint8_t *x, uint8_t *y, size_t n);
void qlite_q8_binary__avx2(const qlite_q8_binary_params *p, const uint8_t *a, const uint8_t *b,
                           uint8_t *y, size_t n, qlite_q8_bshape shape);
void qlite_q8_binary__avx512(const qlite_q8_binary_params *p, const uint8_t *a, const uint8_t *b,
                             uint8_t *y, size_t n, qlite_q8_bshape shape);
void qlite_q8_quantize__avx2(const float *x, uint8_t *y, size_t n, float scale, int32_t zp,
                             bool is_unsigned);
void qlite_q8_quantize__avx512(const float *x, uint8_t *y, size_t n, float scale, int32_t zp,
                               bool is_unsigned);
void qlite_q8_dequantize__avx2(const uint8_t *x, float *y, size_t n, float scale, int32_t zp,
                               bool is_signed);
void qlite_q8_layer_norm__avx512(const qlite_q8_ln_params *p, const uint8_t *x, uint8_t *y);
void qlite_q8_softmax__avx512(const qlite_q8_softmax_params *p, const uint8_t *x, uint8_t *y,
                              size_t n);
void qlite_q8_dequantize__avx512(const uint8_t *x, float *y, size_t n, float scale, int32_t zp,
                                 bool is_signed);
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#define EW_NEON 1
void qlite_q8_lut__neon(const uint8_t table[256], const uint8_t *x, uint8_t *y, size_t n);
void qlite_q8_binary__neon(const qlite_q8_binary_params *p, const uint8_t *a, const uint8_t *b,
                           uint8_t *y, size_t n, qlite_q8_bshape shape);
void qlite_q8_quantize__neon(const float *x, uint8_t *y, size_t n, float scale, int32_t zp,
                             bool is_unsigned);
void qlite_q8_dequantize__neon(const uint8_t *x, float *y, size_t n, float scale, int32_t zp,
                               bool is_signed);
void qlite_q8_layer_norm__neon(const qlite_q8_ln_params *p, const uint8_t *x, uint8_t *y);
#endif

/*
 * Portable table lookup: eight bytes per step through 64-bit words (one
 * load and one store per eight lookups; restrict lets the compiler keep the
 * pointers in registers across the byte stores).
 */
static void qlite_q8_lut__scalar(const uint8_t table[256], const uint8_t *restrict x,
                                 uint8_t *restrict y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v, r = 0;
        memcpy(&v, x + i, 8);
        for (int k = 0; k < 8; k++) r |= (uint64_t)table[(v >> (8 * k)) & 0xff] << (8 * k);
        memcpy(y + i, &r, 8); /* little- and big-endian alike: bytes in the order loaded */
    }
    for (; i < n; i++) y[i] = table[x[i]];
}

/*
 * Portable SOFTMAX row: the reference's 64-bit division per element replaced
 * by a multiplication with the row's reciprocal and an exact correction.
 * With N = e r + S 2^15 < 2^57 and D = S 2^16, q0 = trunc(N * (1 / D)) in
 * double is within 2^-34 of N / D (three roundings of 2^-53 relative, and
 * N / D <= 2^16 + 1), so floor(N / D) is q0 - 1, q0 or q0 + 1; the integer
 * test against q0 D (< N + D < 2^64, no wrap) picks it. Both steps happen
 * (N / D within ~2^-52 k of an integer k; random rows almost never are):
 * test_kernel_softmax_int8's test_division_correction has a row for each.
 */
static void qlite_q8_softmax__scalar(const qlite_q8_softmax_params *p, const uint8_t *x,
                                     uint8_t *y, size_t n) {
    const bool sg = p->is_signed, use_min = p->use_min;
    const uint32_t *e = p->e;
    /* the extreme on the raw bytes: int8 compares signed, uint8 unsigned */
    int32_t m = sg ? (int8_t)x[0] : x[0];
    for (size_t i = 1; i < n; i++) {
        const int32_t v = sg ? (int8_t)x[i] : x[i];
        m = use_min ? (v < m ? v : m) : (v > m ? v : m);
    }
    const int32_t sgn = use_min ? -1 : 1; /* d = sgn (m - v) >= 0 */
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += e[sgn * (m - (sg ? (int8_t)x[i] : x[i]))];
    const uint64_t den = sum << 16, half = sum << 15, r = p->r;
    /* signed conversions (one instruction each): every value is < 2^63 */
    const double inv = 1.0 / (double)(int64_t)den;
    const int32_t zy = p->zy, lo = p->qmin, hi = p->qmax;
    for (size_t i = 0; i < n; i++) {
        const uint64_t num = (uint64_t)e[sgn * (m - (sg ? (int8_t)x[i] : x[i]))] * r + half;
        uint64_t q = (uint64_t)(int64_t)((double)(int64_t)num * inv);
        const uint64_t prod = q * den;
        if (prod > num) q--;
        else if (num - prod >= den) q++;
        int64_t v = (int64_t)zy + (int64_t)q;
        v = v > hi ? hi : v;
        v = v < lo ? lo : v;
        y[i] = (uint8_t)v;
    }
}

/* Worst first: selection keeps the last runnable row with the member. */
static const qlite_q8_ew_ukernels rows[] = {
    {.name = "scalar", .needs = 0, .lut = qlite_q8_lut__scalar,
     .softmax = qlite_q8_softmax__scalar},
#ifdef EW_X86
    {.name = "avx2",
     .needs = QLITE_Q8_EW_F_AVX2,
     .lut = qlite_q8_lut__avx2,
     .binary = qlite_q8_binary__avx2,
     .quantize = qlite_q8_quantize__avx2,
     .dequantize = qlite_q8_dequantize__avx2},
    {.name = "avx512",
     .needs = QLITE_Q8_EW_F_AVX2 | QLITE_Q8_EW_F_AVX512,
     .binary = qlite_q8_binary__avx512,
     .quantize = qlite_q8_quantize__avx512,
     .dequantize = qlite_q8_dequantize__avx512,
     .softmax = qlite_q8_softmax__avx512,
     .layer_norm = qlite_q8_layer_norm__avx512},
    {.name = "avx512vbmi",
     .needs = QLITE_Q8_EW_F_AVX2 | QLITE_Q8_EW_F_AVX512 | QLITE_Q8_EW_F_VBMI,
     .lut = qlite_q8_lut__avx512vbmi,
     .binary = qlite_q8_binary__avx512vbmi},
#endif
#ifdef EW_NEON
    {.name = "neon", .needs = QLITE_Q8_EW_F_NEON, .lut = qlite_q8_lut__neon,
     .binary = qlite_q8_binary__neon, .quantize = qlite_q8_quantize__neon,
     .dequantize = qlite_q8_dequantize__neon, .layer_norm = qlite_q8_layer_norm__neon},
#endif
};

/* What gemm_q8.h's levels do not say, detected here once: bit 0 AVX-512 DQ
 * (the SOFTMAX row's 64-bit lanes), bit 1 VBMI. */
static unsigned extra_x86(void) {
#ifdef EW_X86
    static _Atomic unsigned cached; /* bit 31: known */
    unsigned c = atomic_load_explicit(&cached, memory_order_relaxed);
    if (!c) {
        __builtin_cpu_init();
        c = 1u << 31;
        if (__builtin_cpu_supports("avx512dq")) c |= 1u;
        if (__builtin_cpu_supports("avx512vbmi")) c |= 2u;
        atomic_store_explicit(&cached, c, memory_order_relaxed);
    }
    return c;
#else
    return 0;
#endif
}

unsigned qlite_q8_ew_features(void) {
    const unsigned g = qlite_q8_cpu_features(); /* within the test cap */
    unsigned f = 0;
    if (g & QLITE_Q8_F_AVX2) f |= QLITE_Q8_EW_F_AVX2;
    if (g & QLITE_Q8_F_NEON) f |= QLITE_Q8_EW_F_NEON;
    const unsigned x = extra_x86();
    if ((g & QLITE_Q8_F_AVX512) && (x & 1u)) {
        f |= QLITE_Q8_EW_F_AVX512;
        if (x & 2u) f |= QLITE_Q8_EW_F_VBMI;
    }
    return f;
}

const qlite_q8_ew_ukernels *qlite_q8_ew_all(size_t *count) {
    *count = QLITE_ARRAY_SIZE(rows);
    return rows;
}

static bool has_kind(const qlite_q8_ew_ukernels *r, qlite_q8_ew_kind kind) {
    switch (kind) {
    case QLITE_Q8_EW_LUT: return r->lut != NULL;
    case QLITE_Q8_EW_BINARY: return r->binary != NULL;
    case QLITE_Q8_EW_QUANTIZE: return r->quantize != NULL;
    case QLITE_Q8_EW_DEQUANTIZE: return r->dequantize != NULL;
    case QLITE_Q8_EW_SOFTMAX: return r->softmax != NULL;
    case QLITE_Q8_EW_LAYER_NORM: return r->layer_norm != NULL;
    default: return false;
    }
}

const qlite_q8_ew_ukernels *qlite_q8_ew_select(qlite_q8_ew_kind kind) {
    const unsigned f = qlite_q8_ew_features();
    const qlite_q8_ew_ukernels *best = NULL;
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(rows); i++)
        if ((rows[i].needs & f) == rows[i].needs && has_kind(&rows[i], kind)) best = &rows[i];
    return best;
}
