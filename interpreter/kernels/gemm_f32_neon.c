/*
 * gemm_f32_neon.c — ARM64 variants of the float GEMM (gemm_f32.h), built
 * from the same micro-kernel source as the others (gemm_f32_ukernel.inc):
 *
 *   qlite_f32_gemm__neon_6x16  6 rows x 4 vectors: 24 of the 32 vector
 *                              registers hold the tile (the portable 4x16
 *                              uses 16), and the O16 panel width, so the
 *                              converter's packed weights are read in place;
 *   qlite_f32_gemm__neon_8x8   8 rows x 2 vectors, for narrow N.
 *
 * Advanced SIMD with FMLA is baseline on AArch64, so these need no feature
 * test. float16 panels are widened with FCVTL (also baseline: the
 * conversion, not the FEAT_FP16 arithmetic) instead of the portable
 * scalar loop. Built with -ffp-contract=fast like gemm_f32.c (CMakeLists.txt).
 */
#include "gemm_f32.h"

#if defined(__aarch64__) && defined(__GNUC__)

#include <arm_neon.h>
#include <string.h>

#include "kernel_util.h"
#include "nn_common.h"

/* The .inc's own (static) descriptors are replaced by the exported ones below. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-const-variable"

#define UK_ATTR
#define UK_SUFFIX neon_6x16
#define UK_NAME_STR "neon_6x16"
#define UK_MR 6
#define UK_VL 4
#define UK_NV 4
#define UK_LOADH vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)))
#include "gemm_f32_ukernel.inc"

#define UK_ATTR
#define UK_SUFFIX neon_8x8
#define UK_NAME_STR "neon_8x8"
#define UK_MR 8
#define UK_VL 4
#define UK_NV 2
#define UK_LOADH vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)))
#include "gemm_f32_ukernel.inc"

#pragma GCC diagnostic pop

/* Every member of qlite_gemm_f32_ukernel is set below: a new member must be
 * added here too (this assert then fails on ARM64 builds). */
_Static_assert(sizeof(qlite_gemm_f32_ukernel) == sizeof(const char *) + 2 * sizeof(size_t) +
                                                      6 * sizeof(void (*)(void)),
               "gemm_f32_neon.c: set the new qlite_gemm_f32_ukernel member");

#define NEON_UKERNEL(sfx, m, n)                                                                \
    const qlite_gemm_f32_ukernel qlite_f32_gemm__##sfx = {                                     \
        .name = "qlite_f32_gemm__" #sfx, .mr = m, .nr = n,                                     \
        .tile = qlite_f32_gemm_tile__##sfx, .row = qlite_f32_gemm_row__##sfx,                  \
        .tile_h = qlite_f32_gemm_tile_h__##sfx, .row_h = qlite_f32_gemm_row_h__##sfx,          \
        .dot = qlite_f32_gemm_dot__##sfx, .axpy = qlite_f32_gemm_axpy__##sfx}

extern const qlite_gemm_f32_ukernel qlite_f32_gemm__neon_6x16, qlite_f32_gemm__neon_8x8;
NEON_UKERNEL(neon_6x16, 6, 16);
NEON_UKERNEL(neon_8x8, 8, 8);

#endif /* __aarch64__ */
