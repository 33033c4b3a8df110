/*
 * gemm_f32.h — the float32 matrix multiply under CONV_2D, FULLY_CONNECTED,
 * BATCH_MATMUL, TRANSPOSE_CONV_2D and the recurrent cells.
 *
 *   C[m][n] = clamp(bias[n] + sum_k A[m][k] * B[k][n], lo, hi)
 *
 *   A  [M, K]  any two strides: A[m][k] = a[m * rsa + k * csa]
 *              (row-major: rsa = K, csa = 1; transposed: rsa = 1, csa = M).
 *   B  [K, N]  row-major (B[k][n] = b[k * ldb + n]) or given as weights
 *              W [N, K] (b_trans: B[k][n] = b[n * ldb + k]), the layout of
 *              FULLY_CONNECTED and CONV_2D weights.
 *   C  [M, N]  row-major with row stride ldc.
 *
 * Two algorithms:
 *   packed  B is copied once per call into panels of NR columns
 *           ([N/NR][K][NR], zero padded), then a register-blocked micro-kernel
 *           computes MR x NR tiles of C, K innermost over the contiguous panel,
 *           in cache blocks (KC along K, MC along M). Used when M is large
 *           enough to amortize the copy.
 *   small   M < QLITE_GEMM_F32_SMALL_M (batch-1 FC, recurrent cells): no copy;
 *           dot products along K for weights, row updates along N otherwise.
 *
 * On AVX-512 (qlite_gemm_f32_o16_fast below) the fast O16 GEMM runs
 * instead: for qlite_gemm_f32_run / _serial with M >= 4 on B packed into
 * O16 (in the same scratch, when it fits there), for the O16 entry points
 * (run_o16 / o16_serial, float32 weights, csa == 1) on the weights in place.
 *
 * Micro-kernels are written once (gemm_f32_ukernel.inc) with the compilers'
 * generic vector types and built for several ISAs (portable, AVX2+FMA,
 * AVX-512); qlite_gemm_f32_select() picks the best one for this CPU. Every
 * output element is computed by the same sequence of operations whatever the
 * thread split, so 1 and N threads give identical results.
 */
#ifndef QLITE_GEMM_F32_H
#define QLITE_GEMM_F32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"

/* Below this many rows the small (no-copy) algorithm is used. */
#define QLITE_GEMM_F32_SMALL_M 4

/* Mode bits of a micro-kernel call. */
#define QLITE_GEMM_LOAD_C 1u /* accumulate onto C (later K blocks) instead of bias/zero */
#define QLITE_GEMM_CLAMP 2u  /* last K block: clamp to [lo, hi] */

/*
 * One ISA variant. `tile` computes an mr x nr (<= MR x NR) tile over kc steps
 * of K from a packed panel, `row` the same for a single row of A (used when M is
 * below MR, where a tile would compute duplicate rows); `dot` and `axpy` are the small-M algorithm for
 * W [N, K] and row-major B [K, N] over columns [n0, n1) of one row of C.
 */
typedef struct qlite_gemm_f32_ukernel {
    const char *name;  /* e.g. "qlite_f32_gemm__avx2_6x16" */
    size_t mr, nr;
    void (*tile)(size_t kc, const float *a, size_t rsa, size_t csa, size_t mr,
                 const float *panel, float *c, size_t ldc, size_t nr,
                 const float *bias /* [NR] padded, or NULL */, unsigned mode, float lo, float hi);
    void (*row)(size_t kc, const float *a, size_t csa, const float *panel, float *c, size_t nr,
                const float *bias /* [NR] padded, or NULL */, unsigned mode, float lo, float hi);
    /* tile and row on a panel of float16 weights, widened in registers as
     * loaded (the same arithmetic as tile/row on the widened panel) */
    void (*tile_h)(size_t kc, const float *a, size_t rsa, size_t csa, size_t mr,
                   const uint16_t *panel, float *c, size_t ldc, size_t nr, const float *bias,
                   unsigned mode, float lo, float hi);
    void (*row_h)(size_t kc, const float *a, size_t csa, const uint16_t *panel, float *c,
                  size_t nr, const float *bias, unsigned mode, float lo, float hi);
    void (*dot)(size_t K, const float *a, size_t csa, const float *w, size_t ldw, size_t n0,
                size_t n1, const float *bias, float *c, float lo, float hi);
    void (*axpy)(size_t K, const float *a, size_t csa, const float *b, size_t ldb, size_t n0,
                 size_t n1, const float *bias, float *c, float lo, float hi);
} qlite_gemm_f32_ukernel;

/* Every variant this build has that this CPU can run (portable first). */
const qlite_gemm_f32_ukernel *const *qlite_gemm_f32_ukernels(size_t *count);
/* The fastest variant for this CPU (for wide N). */
const qlite_gemm_f32_ukernel *qlite_gemm_f32_select(void);
/* The variant for a GEMM with N columns: the best ISA, with a panel width
 * that wastes little of its tile on N (e.g. 8 columns for N = 6). */
const qlite_gemm_f32_ukernel *qlite_gemm_f32_select_for(size_t N);

/* Floats of a packed copy of B [K, N]. */
size_t qlite_gemm_f32_packed_size(const qlite_gemm_f32_ukernel *uk, size_t K, size_t N);

/* Packs panels [p0, p1) of B (panel p = columns p*NR .. p*NR+NR-1). */
void qlite_gemm_f32_pack_b(const qlite_gemm_f32_ukernel *uk, size_t K, size_t N,
                           const float *b, size_t ldb, bool b_trans, size_t p0, size_t p1,
                           float *packed);

/*
 * Packs a constant B once at prepare time into qlite_node_alloc memory (so
 * eval does not repack it on every invoke), when the packed copy is at most
 * QLITE_GEMM_F32_PREPACK_MAX bytes; NULL otherwise (or out of memory), and
 * the caller packs into scratch at eval. The copy is counted in the
 * interpreter's prepared size; the cap bounds the duplicated weight memory.
 */
#define QLITE_GEMM_F32_PREPACK_MAX (1u << 20)
float *qlite_gemm_f32_prepack(qlite_node *node, const qlite_gemm_f32_ukernel *uk, size_t K,
                              size_t N, const float *b, size_t ldb, bool b_trans);

/*
 * C = clamp(A * B + bias) for rows [0, M) and the panels of a packed B.
 * Single-threaded: callers split rows (or panels, by offsetting packed by
 * p * K * NR, bias and c by p * NR) between threads.
 */
void qlite_gemm_f32_packed(const qlite_gemm_f32_ukernel *uk, size_t M, size_t N, size_t K,
                           const float *a, size_t rsa, size_t csa, const float *packed,
                           const float *bias, float *c, size_t ldc, float lo, float hi);

/* One whole GEMM, threads included. */
typedef struct qlite_gemm_f32_args {
    size_t M, N, K;
    const float *a;
    size_t rsa, csa;
    const float *b;
    size_t ldb;
    bool b_trans;
    const float *bias; /* [N] or NULL */
    float *c;
    size_t ldc;
    float lo, hi;
} qlite_gemm_f32_args;

/* Scratch bytes qlite_gemm_f32_run needs for these sizes (0 for the small path). */
size_t qlite_gemm_f32_scratch_bytes(const qlite_gemm_f32_ukernel *uk, size_t M, size_t N,
                                    size_t K);

/* Runs one GEMM on the node's threads; scratch must hold scratch_bytes. */
void qlite_gemm_f32_run(const qlite_node *node, const qlite_gemm_f32_ukernel *uk,
                        const qlite_gemm_f32_args *g, float *scratch);

/* The same with B already packed (qlite_gemm_f32_prepack); g->b is ignored. */
void qlite_gemm_f32_run_packed(const qlite_node *node, const qlite_gemm_f32_ukernel *uk,
                               const qlite_gemm_f32_args *g, const float *packed);

/* The same on the calling thread only (for callers that split work themselves). */
void qlite_gemm_f32_serial(const qlite_gemm_f32_ukernel *uk, const qlite_gemm_f32_args *g,
                           float *scratch);

/*
 * Weights in the O16 layout (docs/format.md §6.2): [ceil(N/16)][K][16] over
 * W [N, K], zero padded in N, float32 or float16 — exactly the panels of a
 * variant with NR = 16, so the tile/row kernels read a mapped model's
 * weights in place (no packing at prepare or per call). Written by the
 * converter; qlite_gemm_o16_pack*() make the same bytes from a DEFAULT
 * weight (the prepare-time fallback for hand-written or --no-pack files).
 */

/* The best variant with 16-column panels for this CPU. */
const qlite_gemm_f32_ukernel *qlite_gemm_f32_select_o16(void);

/* Elements of one O16 matrix for N columns and K steps. */
static inline size_t qlite_gemm_o16_elems(size_t K, size_t N) { return (N + 15) / 16 * 16 * K; }

/* B (W [N, K] when b_trans, else [K, N], row stride ldb) into O16: floats
 * to floats, halves to halves (bit copies, no rounding). */
void qlite_gemm_o16_pack_f32(size_t K, size_t N, const float *b, size_t ldb, bool b_trans,
                             float *out);
void qlite_gemm_o16_pack_f16(size_t K, size_t N, const uint16_t *b, size_t ldb, bool b_trans,
                             uint16_t *out);

/* C = clamp(A * B + bias) with B in O16 (float32, or float16 when `half`);
 * uk must have nr == 16. g->b is ignored. On the node's threads / the
 * calling thread only. */
void qlite_gemm_f32_run_o16(const qlite_node *node, const qlite_gemm_f32_ukernel *uk,
                            const qlite_gemm_f32_args *g, const void *packed, bool half);
void qlite_gemm_f32_o16_serial(const qlite_gemm_f32_ukernel *uk, const qlite_gemm_f32_args *g,
                               const void *packed, bool half);

/*
 * The fastest float32 O16 GEMM this CPU has (within the qlite_q8 feature
 * cap tests set): AVX-512, 6x64 register tiles (gemm_f32_avx512.c); NULL
 * when there is none (the ukernels above are used). Serial:
 * C[M, N] (row stride ldc) = clamp(A[M, K] (row stride rsa, columns
 * contiguous) * W^T + bias) with W [N, K] in O16. Every output is the
 * sequential chain acc = bias[n] (or 0); acc = fma(A[m][k], W[n][k], acc)
 * for k = 0..K-1, then the clamp, whatever M, N, the blocking or a thread
 * split: 1 and N threads give identical results.
 * qlite_gemm_f32_run_o16 / qlite_gemm_f32_o16_serial use it for float32
 * weights when it exists.
 */
typedef void (*qlite_gemm_o16_fn)(size_t M, size_t N, size_t K, const float *a, size_t rsa,
                                  const float *w16, const float *bias, float *c, size_t ldc,
                                  float lo, float hi);
qlite_gemm_o16_fn qlite_gemm_f32_o16_fast(void);

/*
 * The same GEMM with A given as runs (implicit im2col, no copy of the
 * patches): row m's K = nseg * seg values are ind[m * nseg + s][0, seg)
 * for s = 0..nseg-1 (a convolution: one run per kernel row, pointing into
 * the input, or at zeros / a gathered row where the window leaves it).
 * Same results as qlite_gemm_o16_fn on the gathered matrix, bit for bit.
 * NULL where qlite_gemm_f32_o16_fast is NULL. Serial.
 */
typedef void (*qlite_gemm_o16_ind_fn)(size_t M, size_t N, size_t nseg, size_t seg,
                                      const float *const *ind, const float *w16,
                                      const float *bias, float *c, size_t ldc, float lo,
                                      float hi);
qlite_gemm_o16_ind_fn qlite_gemm_f32_o16_ind_fast(void);
/* It on the node's threads (rows or a 6x64 grid), when it exists. */
void qlite_gemm_f32_run_o16_ind(const qlite_node *node, qlite_gemm_o16_ind_fn fn, size_t M,
                                size_t N, size_t nseg, size_t seg, const float *const *ind,
                                const float *w16, const float *bias, float *c, size_t ldc,
                                float lo, float hi);

/* The readable definition: plain loops, double accumulation. */
void qlite_gemm_f32_ref(const qlite_gemm_f32_args *g);

#endif /* QLITE_GEMM_F32_H */
