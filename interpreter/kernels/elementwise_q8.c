/*
 * elementwise_q8.c — the table of element-wise int8 variants and the
 * selection by CPU features (elementwise_q8.h). The x86 functions are in
 * elementwise_q8_x86.c; another ISA adds its file and its rows here.
 */
#include "kernels/elementwise_q8.h"

#include <stdatomic.h>
#include <string.h>

#include "kernels/gemm_q8.h"
#include "kernels/kernel_util.h"
#include "qlite_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define EW_X86 1
void qlite_q8_lut__avx512vbmi(const uint8_t table[256], const uint8_t *x, uint8_t *y, size_t n);
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
void qlite_q8_dequantize__avx512(const uint8_t *x, float *y, size_t n, float scale, int32_t zp,
                                 bool is_signed);
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

/* Worst first: selection keeps the last runnable row with the member. */
static const qlite_q8_ew_ukernels rows[] = {
    {.name = "scalar", .needs = 0, .lut = qlite_q8_lut__scalar},
#ifdef EW_X86
    {.name = "avx2",
     .needs = QLITE_Q8_EW_F_AVX2,
     .binary = qlite_q8_binary__avx2,
     .quantize = qlite_q8_quantize__avx2,
     .dequantize = qlite_q8_dequantize__avx2},
    {.name = "avx512",
     .needs = QLITE_Q8_EW_F_AVX2 | QLITE_Q8_EW_F_AVX512,
     .binary = qlite_q8_binary__avx512,
     .quantize = qlite_q8_quantize__avx512,
     .dequantize = qlite_q8_dequantize__avx512},
    {.name = "avx512vbmi",
     .needs = QLITE_Q8_EW_F_AVX2 | QLITE_Q8_EW_F_AVX512 | QLITE_Q8_EW_F_VBMI,
     .lut = qlite_q8_lut__avx512vbmi},
#endif
};

/* VBMI is not one of gemm_q8.h's levels: detected here, once. */
static bool has_vbmi(void) {
#ifdef EW_X86
    static _Atomic int cached; /* 0 unknown, 1 no, 2 yes */
    int c = atomic_load_explicit(&cached, memory_order_relaxed);
    if (!c) {
        __builtin_cpu_init();
        c = __builtin_cpu_supports("avx512vbmi") ? 2 : 1;
        atomic_store_explicit(&cached, c, memory_order_relaxed);
    }
    return c == 2;
#else
    return false;
#endif
}

unsigned qlite_q8_ew_features(void) {
    const unsigned g = qlite_q8_cpu_features(); /* within the test cap */
    unsigned f = 0;
    if (g & QLITE_Q8_F_AVX2) f |= QLITE_Q8_EW_F_AVX2;
    if (g & QLITE_Q8_F_AVX512) {
        f |= QLITE_Q8_EW_F_AVX512;
        if (has_vbmi()) f |= QLITE_Q8_EW_F_VBMI;
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
