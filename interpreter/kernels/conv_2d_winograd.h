/*
 * conv_2d_winograd.h — float32 CONV_2D 3x3, stride 1, dilation 1, one group
 * by Winograd's minimal filtering F(4x4, 3x3) (Lavin & Gray 2015, points
 * 0, +-1, +-2): each 4x4 block of output pixels ("tile") is
 *
 *   Y = A^T [ sum_c (G g_c G^T) (.) (B^T d_c B) ] A
 *
 * over the tile's 6x6 input window d_c of each input channel c and the 3x3
 * kernel g_c. The 36 elementwise products summed over channels are 36 GEMMs
 * (one per component of the 6x6 transform):
 *
 *   M_k[tile][o] = sum_c V_k[tile][c] * U_k[c][o],   k = 0..35
 *
 * with V = B^T d B (input transform), U = G g G^T (weight transform, in the
 * O16 layout, so each U_k is an O16 matrix with K = Cin, N = Cout for
 * gemm_f32's O16 GEMMs) and Y = A^T M A + bias, clamped (output transform).
 * 36 multiplies per tile and channel pair instead of 16 * 9 = 144: the GEMM
 * work drops 4x; the transforms add O(tiles * (Cin + Cout)) work.
 *
 * Used by conv_2d.c (float32 input, float32 or float16 weights widened by
 * the transform) unless the interpreter has QLITE_INTERP_EXACT_CONV or
 * QLITE_INTERP_REFERENCE_ONLY; qlite_wino_wanted() is the size rule.
 * Results do not depend on the thread count: every output is the same
 * sequence of operations whatever the split.
 */
#ifndef QLITE_CONV_2D_WINOGRAD_H
#define QLITE_CONV_2D_WINOGRAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gemm_f32.h"

typedef struct qlite_wino {
    int64_t N, H, W, C, O, OH, OW, pt, pl;
    size_t TH, TW, T;      /* tiles down, across, in all (N * TH * TW) */
    size_t chunk;          /* tiles transformed and multiplied together */
    size_t panels;         /* ceil(O / 16) */
    size_t u_stride;       /* floats per component of U (panels * 16 * C) */
    size_t v_stride, m_stride; /* floats per component of a chunk's V / M */
    size_t u_floats, v_floats, m_floats; /* scratch parts (64-byte multiples) */
    size_t wide_floats;    /* per thread: one widened float16 weight panel, or 0 */
    float lo, hi;
    bool fused;            /* one pass over all tiles, U made 6 components at a time */
    bool panel;            /* one pass over all tiles, U made per group of output panels */
    size_t u_floats_thread; /* panel mode: floats of each thread's U (one row of a group) */
    int threads;
    const qlite_gemm_f32_ukernel *uk; /* O16 micro-kernels (nr 16) */
    qlite_gemm_o16_fn fast;           /* the fast O16 GEMM, or NULL */
    const struct qlite_wino_tf *tf;   /* the transforms' instruction set (conv_2d_winograd.c) */
} qlite_wino;

/* Tests: the instruction set of the transforms prepare picks now ("avx512f",
 * "avx2" or "baseline"): the best this CPU has within QLITE_MAX_ISA and the
 * tests' feature cap (gemm_q8.h), as for the GEMMs. */
const char *qlite_wino_transforms_name(void);

/* The size rule: true when F(4x4, 3x3) is measured faster than the direct /
 * implicit-im2col GEMM for an OH x OW output of O channels from C input
 * channels (3x3, stride 1). */
bool qlite_wino_wanted(int64_t OH, int64_t OW, int64_t C, int64_t O);

/* Tests: which convolutions use Winograd, read at prepare. */
typedef enum qlite_wino_mode {
    QLITE_WINO_RULE = 0,       /* the size rule (default) */
    QLITE_WINO_FORCE,          /* every eligible one (3x3, stride 1, ...) */
    QLITE_WINO_FORCE_CHUNKED,  /* every eligible one, in chunks of 6 tiles */
    QLITE_WINO_FORCE_PANEL     /* every eligible one, by groups of output panels */
} qlite_wino_mode;
void qlite_wino_set_mode(qlite_wino_mode mode);

/*
 * Fills *p for a 3x3 stride-1 single-group convolution of x [N, H, W, C]
 * into y [N, OH, OW, O] (OH = H + pt + pb - 2, OW likewise) and returns the
 * scratch bytes eval needs in *scratch_bytes (the transformed weights U are
 * made there on each invoke, nothing is kept). half: the weights eval gets
 * are float16.
 */
qlite_status qlite_wino_prepare(qlite_node *node, qlite_wino *p, int64_t N, int64_t H, int64_t W,
                                int64_t C, int64_t O, int64_t OH, int64_t OW, int64_t pt,
                                int64_t pl, float lo, float hi, bool half,
                                size_t *scratch_bytes);

/* y = clamp(conv(x, w) + b): w16 the O16 weights ([ceil(O/16)][9*C][16],
 * float16 when `half`), b [O] or NULL, scratch the bytes prepare asked for
 * (64-byte aligned). */
void qlite_wino_run(const qlite_node *node, const qlite_wino *p, const float *x, const void *w16,
                    bool half, const float *b, float *y, void *scratch);

#endif /* QLITE_CONV_2D_WINOGRAD_H */
