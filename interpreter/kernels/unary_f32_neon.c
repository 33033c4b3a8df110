/*
 * unary_f32_neon.c — the ARM64 copy of unary_f32_body.inc (ERF, GELU erf /
 * tanh, LOGISTIC, TANH), selected by unary.c at prepare time when the CPU
 * features (within qlite_q8_set_feature_cap) include NEON.
 *
 * As unary_f32_x86.c: the same C source, vectorized by the compiler four
 * lanes wide (Advanced SIMD is the AArch64 baseline, so no target attribute
 * is needed), built with -ffp-contract=fast (CMakeLists.txt) so that the
 * polynomials' a * b + c become FMLA; the portable copy in unary.c has no
 * contraction, which is the only difference (rounding). The bounds against
 * double stated in unary_f32_body.inc hold for both (tests/test_kernel_unary.c
 * checks the NEON level against double over the same sweep, under qemu).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/gemm_q8.h"
#include "kernels/unary_f32.h"

#if defined(__aarch64__) && defined(__GNUC__)
#define UF(name) name##_neon
#define UF_ATTR
#include "kernels/unary_f32_body.inc"
#undef UF
#undef UF_ATTR

unary_fn qlite_unary_f32_simd(unary_simd_op op) {
    static const unary_fn neon[] = {erf_row_neon, gelu_erf_row_neon, gelu_tanh_row_neon,
                                    sigmoid_row_neon, tanh_row_neon};
    if ((unsigned)op >= sizeof neon / sizeof neon[0]) return NULL;
    if (qlite_q8_cpu_features() & QLITE_Q8_F_NEON) return neon[op];
    return NULL;
}
#else
typedef int qlite_unary_f32_neon_unused; /* not an empty translation unit */
#endif
