/*
 * gemm_f16.h — float32 GEMM whose B operand is float16 read in place (the
 * weights of a --mode float16 model, docs/quantization.md §7):
 *
 *   C[m][n] = clamp(bias[n] + sum_k A[m][k] * half_to_float(B[k][n]), lo, hi)
 *
 * with A, C, bias float32 and the layouts of gemm_f32.h (B as W [N, K] with
 * b_trans, or [K, N]). No float32 copy of B exists: the packed algorithm
 * converts halves while it writes gemm_f32.h's panels ([N/NR][K][NR], the
 * same scratch the float GEMM packs into) and runs gemm_f32.h's
 * micro-kernels on them; the small-M algorithm (dot products / row updates)
 * converts each vector of halves in registers as it loads it (F16C
 * VCVTPH2PS on x86 CPUs that have it, qlite_fp16_to_fp32 otherwise).
 *
 * The products and sums are those of gemm_f32.h on the widened weights, in
 * the same order for the packed algorithm (same micro-kernels), so results
 * equal the float kernels' on widened weights up to float rounding order in
 * the small-M algorithm. Where the fast half GEMM below exists (AVX-512)
 * and qlite_gemm_f32_run would take its fast O16 GEMM (M >= 4, csa 1, O16
 * fits uk's panels), B's halves are copied into O16 in the scratch and
 * that GEMM runs: the float32 fast GEMM's sums, bit for bit.
 */
#ifndef QLITE_GEMM_F16_H
#define QLITE_GEMM_F16_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/gemm_f32.h"

typedef struct qlite_gemm_f16w_args {
    size_t M, N, K;
    const float *a;
    size_t rsa, csa;
    const uint16_t *b;  /* float16 bits */
    size_t ldb;
    bool b_trans;
    const float *bias;  /* [N] or NULL */
    float *c;
    size_t ldc;
    float lo, hi;
} qlite_gemm_f16w_args;

/* n halves to floats (F16C when available). */
void qlite_f16_to_f32_row(const uint16_t *src, float *dst, size_t n);

/* Packs panels [p0, p1) of half B into uk's float panels (gemm_f32.h layout). */
void qlite_gemm_f16_pack_b(const qlite_gemm_f32_ukernel *uk, size_t K, size_t N,
                           const uint16_t *b, size_t ldb, bool b_trans, size_t p0, size_t p1,
                           float *packed);

/* Scratch bytes of qlite_gemm_f16w_run (threads: qlite_node_threads) /
 * _serial (threads 1): packed B, and the fast half GEMM's widening buffers
 * (qlite_gemm_f16_wbuf_bytes) where it may widen. */
size_t qlite_gemm_f16w_scratch_bytes(const qlite_gemm_f32_ukernel *uk, size_t M, size_t N,
                                     size_t K, size_t threads);

/* One GEMM on the node's threads / on the calling thread. */
void qlite_gemm_f16w_run(const qlite_node *node, const qlite_gemm_f32_ukernel *uk,
                         const qlite_gemm_f16w_args *g, float *scratch);
void qlite_gemm_f16w_serial(const qlite_gemm_f32_ukernel *uk, const qlite_gemm_f16w_args *g,
                            float *scratch);

/*
 * C = clamp(A * B + bias) with B float16 in the O16 layout (docs/format.md
 * §6.2; a --mode float16 model's weights read in place), uk with nr == 16:
 * the same sums as qlite_gemm_f32_o16_serial / _run_o16 with half = true,
 * bit for bit, but each block of up to QLITE_GEMM_F16_O16_KC reduction steps
 * of a 16-column panel is widened once into an L1 buffer (16 KiB on the
 * stack) and the float tile kernel runs over every row of C with it,
 * instead of widening the block again in each row tile. A few rows over a
 * longer K (no reuse) use the widening row kernel. On the node's threads
 * (rows or panels split like qlite_gemm_f32_run_o16) / the calling thread.
 * Where the fast half GEMM below exists and g->csa == 1, that runs instead
 * (as qlite_gemm_f32_run_o16 takes the float32 fast GEMM): the sums of
 * qlite_gemm_f32_o16_fast on the widened weights.
 */
#define QLITE_GEMM_F16_O16_KC 256 /* gemm_f32.c's GEMM_KC: the same K passes */
/* wbuf: the fast GEMM's widening buffers (qlite_gemm_f16_run_o16_fast) or NULL. */
void qlite_gemm_f16_o16_run(const qlite_node *node, const qlite_gemm_f32_ukernel *uk,
                            const qlite_gemm_f32_args *g, const uint16_t *packed, float *wbuf);
void qlite_gemm_f16_o16_serial(const qlite_gemm_f32_ukernel *uk, const qlite_gemm_f32_args *g,
                               const uint16_t *packed, float *wbuf);

/* The small-M row kernels by ISA (tests compare each against the portable one). */
typedef struct qlite_gemm_f16_rowk {
    const char *name;
    /* c[n] = clamp(bias[n] + sum_k a[k*csa] * W[n][k]), n in [n0, n1), W [N, K] halves */
    void (*dot)(size_t K, const float *a, size_t csa, const uint16_t *w, size_t ldw, size_t n0,
                size_t n1, const float *bias, float *c, float lo, float hi);
    /* the same with B [K, N] halves */
    void (*axpy)(size_t K, const float *a, size_t csa, const uint16_t *b, size_t ldb, size_t n0,
                 size_t n1, const float *bias, float *c, float lo, float hi);
    /* n halves to floats */
    void (*convert)(const uint16_t *src, float *dst, size_t n);
} qlite_gemm_f16_rowk;

/* Every variant this build has (portable first), and whether this CPU runs one. */
const qlite_gemm_f16_rowk *const *qlite_gemm_f16_rowks(size_t *count);
bool qlite_gemm_f16_runnable(const qlite_gemm_f16_rowk *k);
/* The best for this CPU. */
const qlite_gemm_f16_rowk *qlite_gemm_f16_rowk_select(void);

/*
 * The fast GEMM on float16 O16 weights (AVX-512, gemm_f16_avx512.c; NULL
 * when this CPU, within the qlite_q8 feature cap, has none): the
 * signatures of gemm_f32.h's qlite_gemm_o16_fn / qlite_gemm_o16_ind_fn with
 * W [N, K] float16 in O16, and their arithmetic: every output is the chain
 * acc = bias[n] (or 0); acc = fma(A[m][k], W[n][k], acc) for k in order,
 * then the clamp, so the results equal qlite_gemm_f32_o16_fast's (and
 * _ind_fast's) on the widened weights bit for bit, for any blocking or
 * thread split. Serial. When M > QLITE_GEMM_F16_WIDEN_ROWS and wbuf is not
 * NULL (QLITE_GEMM_F16_WBUF_BYTES, 64-byte aligned, e.g. a slice of the
 * node's scratch), weight blocks are widened once into wbuf; otherwise in
 * registers as loaded (same bits). Never allocates.
 */
#define QLITE_GEMM_F16_WIDEN_ROWS 48
#define QLITE_GEMM_F16_WBUF_BYTES ((size_t)288 * 1024) /* 4 panels x 1152 steps x 16 floats */
typedef void (*qlite_gemm_o16h_fn)(size_t M, size_t N, size_t K, const float *a, size_t rsa,
                                   const uint16_t *w16, const float *bias, float *c, size_t ldc,
                                   float lo, float hi, float *wbuf);
typedef void (*qlite_gemm_o16h_ind_fn)(size_t M, size_t N, size_t nseg, size_t seg,
                                       const float *const *ind, const uint16_t *w16,
                                       const float *bias, float *c, size_t ldc, float lo,
                                       float hi, float *wbuf);
qlite_gemm_o16h_fn qlite_gemm_f16_o16_fast(void);
qlite_gemm_o16h_ind_fn qlite_gemm_f16_o16_ind_fast(void);

/* Widening buffer bytes the runners below (M rows on `threads` threads:
 * qlite_node_threads, 1 for node NULL) use, to reserve in scratch at prepare:
 * threads x QLITE_GEMM_F16_WBUF_BYTES where the fast GEMM exists and
 * M > QLITE_GEMM_F16_WIDEN_ROWS, else 0. */
size_t qlite_gemm_f16_wbuf_bytes(size_t M, size_t threads);

/* C = clamp(A * W^T + bias) (g: M, N, K, a, rsa, bias, c, ldc, lo, hi; g->b
 * ignored) on the node's threads (node NULL: this thread) with the fast
 * GEMM: false (nothing done) when there is none or g->csa != 1. wbuf:
 * qlite_gemm_f16_wbuf_bytes(g->M, threads) bytes (64-byte aligned; each
 * thread widens into its own slice) or NULL (widening in registers). */
bool qlite_gemm_f16_run_o16_fast(const qlite_node *node, const qlite_gemm_f32_args *g,
                                 const uint16_t *w16, float *wbuf);
/* The runs form (implicit im2col) on the node's threads; fn non-NULL. */
void qlite_gemm_f16_run_o16_ind(const qlite_node *node, qlite_gemm_o16h_ind_fn fn, size_t M,
                                size_t N, size_t nseg, size_t seg, const float *const *ind,
                                const uint16_t *w16, const float *bias, float *c, size_t ldc,
                                float lo, float hi, float *wbuf);

#endif /* QLITE_GEMM_F16_H */
