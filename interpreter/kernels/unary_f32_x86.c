/*
 * unary_f32_x86.c — AVX2+FMA and AVX-512 copies of unary_f32_body.inc (ERF,
 * GELU erf / tanh, LOGISTIC, TANH), selected by unary.c at prepare time.
 *
 * The same C source compiled per ISA with a target attribute: the
 * compiler vectorizes the branch-free loops 8 (16) lanes wide, with the
 * selects as blends. This file is built with -ffp-contract=fast
 * (CMakeLists.txt): the polynomials' a * b + c become FMAs (~1.5x faster:
 * bench_q8 GELU 3.4 -> 2.2 ns/element), so results differ from the portable
 * copy by rounding (one rounding less per step); the bounds against double
 * stated in unary_f32_body.inc hold for both (tests/test_kernel_unary.c
 * checks each ISA level against double over the same sweep).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/gemm_q8.h"
#include "kernels/unary_f32.h"

#if defined(__x86_64__) && defined(__GNUC__)

#define UF(name) name##_avx2
#define UF_ATTR __attribute__((target("avx2,fma")))
#include "kernels/unary_f32_body.inc"
#undef UF
#undef UF_ATTR

#define UF(name) name##_avx512
#if defined(__clang__)
#define UF_ATTR __attribute__((target("avx2,fma,avx512f,avx512dq,avx512vl")))
#else
#define UF_ATTR __attribute__((target("avx2,fma,avx512f,avx512dq,avx512vl,prefer-vector-width=512")))
#endif
#include "kernels/unary_f32_body.inc"
#undef UF
#undef UF_ATTR

unary_fn qlite_unary_f32_simd(unary_simd_op op) {
    static const unary_fn avx2[] = {erf_row_avx2, gelu_erf_row_avx2, gelu_tanh_row_avx2,
                                    sigmoid_row_avx2, tanh_row_avx2};
    static const unary_fn avx512[] = {erf_row_avx512, gelu_erf_row_avx512,
                                      gelu_tanh_row_avx512, sigmoid_row_avx512,
                                      tanh_row_avx512};
    if ((unsigned)op >= sizeof avx2 / sizeof avx2[0]) return NULL;
    const unsigned f = qlite_q8_cpu_features();
    if ((f & QLITE_Q8_F_AVX512) && __builtin_cpu_supports("avx512dq")) return avx512[op];
    if ((f & QLITE_Q8_F_AVX2) && __builtin_cpu_supports("fma")) return avx2[op];
    return NULL;
}

#elif !defined(__aarch64__) /* ARM64: unary_f32_neon.c */

unary_fn qlite_unary_f32_simd(unary_simd_op op) {
    (void)op;
    return NULL;
}

#endif
