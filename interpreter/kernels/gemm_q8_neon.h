/*
 * gemm_q8_neon.h — the ARM64 int8 GEMM variants of gemm_q8_neon.c as
 * gemm_q8.c's variant table lists them (included there on AArch64 only).
 *
 * Q8_ARM_UKERNELS, Q8_ARM_NEEDS and Q8_ARM_RANKS expand to matching entries
 * of its three tables: the variant, the QLITE_Q8_F_* features it needs, its
 * preference rank (higher wins; the x86 ranks are 1..3 and never meet these).
 */
#ifndef QLITE_GEMM_Q8_NEON_H
#define QLITE_GEMM_Q8_NEON_H

#include "gemm_q8.h"

#if defined(__aarch64__) && defined(__GNUC__)
#define Q8_ARM 1

/* clang before 16 declares the SDOT / SUDOT intrinsics only for a build
 * with the feature on the command line (-march=armv8.2-a+dotprod+i8mm). */
#if !defined(__clang__) || defined(__ARM_FEATURE_DOTPROD)
#define Q8_HAVE_DOTPROD 1
#endif
#if !defined(__clang__) || defined(__ARM_FEATURE_MATMUL_INT8)
#define Q8_HAVE_I8MM 1
#endif

/* QLITE_Q8_F_NEON, plus DOTPROD / I8MM from getauxval(AT_HWCAP / AT_HWCAP2). */
unsigned qlite_q8_arm_features(void);

extern const qlite_gemm_q8_ukernel qlite_q8_gemm__neon_2x16;
#define Q8_ARM_NEON_ENTRY &qlite_q8_gemm__neon_2x16,
#define Q8_ARM_NEON_NEEDS QLITE_Q8_F_NEON,
#define Q8_ARM_NEON_RANK 1,

#ifdef Q8_HAVE_DOTPROD
extern const qlite_gemm_q8_ukernel qlite_q8_gemm__neondot_4x16;
#define Q8_ARM_DOT_ENTRY &qlite_q8_gemm__neondot_4x16,
#define Q8_ARM_DOT_NEEDS QLITE_Q8_F_NEON | QLITE_Q8_F_DOTPROD,
#define Q8_ARM_DOT_RANK 2,
#else
#define Q8_ARM_DOT_ENTRY
#define Q8_ARM_DOT_NEEDS
#define Q8_ARM_DOT_RANK
#endif

#ifdef Q8_HAVE_I8MM
extern const qlite_gemm_q8_ukernel qlite_q8_gemm__i8mm_5x16;
#define Q8_ARM_I8MM_ENTRY &qlite_q8_gemm__i8mm_5x16,
#define Q8_ARM_I8MM_NEEDS QLITE_Q8_F_NEON | QLITE_Q8_F_DOTPROD | QLITE_Q8_F_I8MM,
#define Q8_ARM_I8MM_RANK 3,
#else
#define Q8_ARM_I8MM_ENTRY
#define Q8_ARM_I8MM_NEEDS
#define Q8_ARM_I8MM_RANK
#endif

#define Q8_ARM_UKERNELS Q8_ARM_NEON_ENTRY Q8_ARM_DOT_ENTRY Q8_ARM_I8MM_ENTRY
#define Q8_ARM_NEEDS Q8_ARM_NEON_NEEDS Q8_ARM_DOT_NEEDS Q8_ARM_I8MM_NEEDS
#define Q8_ARM_RANKS Q8_ARM_NEON_RANK Q8_ARM_DOT_RANK Q8_ARM_I8MM_RANK

#endif /* __aarch64__ */
#endif /* QLITE_GEMM_Q8_NEON_H */
