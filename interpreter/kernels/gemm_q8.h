/*
 * gemm_q8.h — the 8-bit integer matrix multiply under the int8 and hybrid
 * CONV_2D, TRANSPOSE_CONV_2D, FULLY_CONNECTED, BATCH_MATMUL, LSTM and GRU
 * kernels (docs/quantization.md §4.1, §4.2, §5).
 *
 *   acc[m][n] = bias[n] - zw[n] * rowsum[m] + sum_{k<K} A[m][k] * B[k][n]   (int32)
 *   rowsum[m] = sum_{k<K} A[m][k]
 *   C[m][n]   = clamp(zy + requantize(acc[m][n], M0[n], shift[n]), lo, hi)  (QLITE_GEMM_Q8_BYTES)
 *             | acc[m][n]                                                   (QLITE_GEMM_Q8_INT32)
 *
 *   A  uint8 [M, K], row stride lda (bytes). Kernels read every row up to
 *      K4 = round_up(K, 4) bytes (dot path: up to round_up(K, 64)); those
 *      bytes past K must be readable and are multiplied by the zero padding
 *      of B, so their values do not matter (callers zero them).
 *      int8 activations enter as x ^ 0x80 = x + 128 with zero point zx + 128
 *      (the unsigned operand of x86 VNNI); uint8 ones as they are.
 *   B  int8 weights, the x86-VNNI / ARM-SDOT friendly layout the schema
 *      calls O16I4 ([ceil(N/16)][ceil(K/4)][16][4] over the weight's 2-D
 *      view [N, K], zero padded): 16-column block j starts at
 *      j * K4 * 16, and inside it the 4 weights of column c for k in
 *      [4q, 4q + 4) are the bytes q * 64 + c * 4 + (0..3). A micro-kernel
 *      broadcasts 4 bytes of an A row and multiplies them with one 64-byte
 *      group (16 columns x 4 k) in one VNNI instruction. The packing below
 *      writes that layout into scratch once per call (issue #6 will let
 *      the converter store it in the file; the micro-kernels then read the
 *      mapped weights directly).
 *   C  row stride ldc in elements (bytes for BYTES, int32 for INT32).
 *
 * Column parameters (qlite_q8_cols) are arrays indexed by the global column
 * n and must be readable up to round_up(N, 64) entries (callers allocate
 * them padded): the vector kernels load 16 columns at a time.
 *
 * Integer arithmetic wraps (two's complement); callers bound |acc| (every
 * exact partial result then fits, see qlite_q8_acc_bound in nn_q8.h), so
 * every variant and every thread split gives the same bits.
 *
 * Two algorithms, as for float (gemm_f32.h):
 *   tiles  B packed into O16I4 panels, MR x NR register tiles of C with
 *          the requantization fused into the tile's output stage;
 *   dot    M < QLITE_GEMM_Q8_DOT_M (batch-1 FC, recurrent steps): no
 *          packing; dot products along K of each A row with each weight row
 *          of W [N, K] read in place, 16 columns requantized at a time.
 *
 * Variants (one per ISA, chosen once from CPU features, the portable one as
 * fallback and for QLITE_INTERP_REFERENCE_ONLY-free runs on other CPUs):
 *   qlite_q8_gemm__scalar_4x16       portable C
 *   qlite_q8_gemm__avx2_3x16         AVX2: u8/s8 widened to int16, VPMADDWD;
 *                                    with a workspace (tiles_ws) 6x16 tiles
 *                                    on A and B widened once per call
 *   qlite_q8_gemm__avxvnni_6x16      AVX-VNNI: 256-bit VPDPBUSD
 *   qlite_q8_gemm__avx512vnni_12x16  AVX-512 VNNI: 512-bit VPDPBUSD, one block
 *   qlite_q8_gemm__avx512vnni_8x32   the same, two blocks per tile
 *   qlite_q8_gemm__amx_32x32         Intel AMX TDPBUSD on 16 x 64-byte tiles
 *                                    (gemm_q8_amx.c; Linux, after the tile
 *                                    data permission is granted)
 *   qlite_q8_gemm__neon_2x16         ARM64 NEON: widened to int16, SADALP (gemm_q8_neon.c)
 *   qlite_q8_gemm__neondot_4x16      ARM64 dot product: SDOT by element
 *   qlite_q8_gemm__i8mm_5x16         ARM64 i8mm: SUDOT (u8 x s8) by element
 */
#ifndef QLITE_GEMM_Q8_H
#define QLITE_GEMM_Q8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"

/* Below this many rows the dot algorithm is used. */
#define QLITE_GEMM_Q8_DOT_M 4

/* Output modes. */
#define QLITE_GEMM_Q8_BYTES 0u /* requantize, clamp, store one byte per element */
#define QLITE_GEMM_Q8_INT32 1u /* store the int32 accumulators */

/* Per-column parameters (arrays [round_up(N, 64)], indexed by column). */
typedef struct qlite_q8_cols {
    const int32_t *bias;    /* accumulator start (folded bias), or NULL = 0 */
    const int32_t *zw;      /* weight zero points (row-sum term), or NULL = none */
    const int32_t *mult;    /* M0 (BYTES mode) */
    const int32_t *lshift;  /* max(shift, 0) */
    const int32_t *rshift;  /* max(-shift, 0) */
    bool any_lshift;        /* some lshift > 0 (else the saturating shift is skipped) */
    int32_t zy, lo, hi;     /* output zero point and clamp, values of the output dtype */
} qlite_q8_cols;

typedef struct qlite_gemm_q8_ukernel {
    const char *name;  /* e.g. "qlite_q8_gemm__avx512vnni_12x16" */
    size_t mr, nr;     /* tile; nr is a multiple of 16 */
    /*
     * One tile: rows [0, mr) (mr <= MR) of A (row stride lda), the nr
     * (<= NR) columns of the packed blocks at b (block stride bstride
     * bytes), columns n0.. of cols; rowsum [mr] when cols->zw is set.
     * Stores C rows at c with stride ldc (elements).
     */
    void (*tile)(size_t K4, const uint8_t *a, size_t lda, size_t mr, const int8_t *b,
                 size_t bstride, size_t nr, const qlite_q8_cols *cols, size_t n0,
                 const int32_t *rowsum, void *c, size_t ldc, unsigned mode);
    /*
     * One row of A (readable and zero padded up to round_up(K, 64)) against
     * weight rows [n0, n1) of W [N, K] (row stride ldw, read in place);
     * writes C's elements [n0, n1) of this row (c points at element 0).
     */
    void (*dot)(size_t K, const uint8_t *a, int32_t rowsum, const int8_t *w, size_t ldw,
                size_t n0, size_t n1, const qlite_q8_cols *cols, void *c, unsigned mode);
    /*
     * tile takes any mr and nr (it walks its own sub-tiles, with per-call set
     * up such as AMX's tile configuration) and reads only the ceil(nr / 16)
     * blocks it covers: qlite_gemm_q8_tiles calls it once for the whole
     * GEMM, and it qualifies for exact_blocks at every N. (Added for AMX;
     * false, the default, for the register-tile variants.)
     */
    bool any_shape;
    /*
     * Optional (NULL: none; AVX2): the whole qlite_gemm_q8_tiles call on
     * operands widened to int16 once in a caller's workspace of
     * ws_bytes(M, K4) bytes (qlite_gemm_q8_tiles_ws): A's M rows once per
     * call, each 16-column block of B once per call, so the inner loop is
     * only multiply-adds.
     */
    void (*tiles_ws)(size_t M, size_t N, size_t K4, const uint8_t *a, size_t lda,
                     const int8_t *packed, size_t bstride, const qlite_q8_cols *cols,
                     const int32_t *rowsum, void *c, size_t ldc, unsigned mode, void *ws);
    size_t (*ws_bytes)(size_t M, size_t K4);
} qlite_gemm_q8_ukernel;

/* Every variant this build has, portable first, runnable here or not. */
const qlite_gemm_q8_ukernel *const *qlite_gemm_q8_all_ukernels(size_t *count);
/* True when this CPU can run the variant (tests skip the others). */
bool qlite_gemm_q8_runnable(const qlite_gemm_q8_ukernel *uk);
/* This CPU's features as the int8 kernels use them (detected once). */
#define QLITE_Q8_F_AVX2 1u      /* AVX2 */
#define QLITE_Q8_F_AVXVNNI 2u   /* AVX-VNNI (256-bit VPDPBUSD) */
#define QLITE_Q8_F_AVX512 4u    /* AVX-512 F, BW, VL and VNNI */
#define QLITE_Q8_F_NEON 8u      /* AArch64 Advanced SIMD (always there on ARM64) */
#define QLITE_Q8_F_DOTPROD 16u  /* ARM dot product SDOT/UDOT (HWCAP_ASIMDDP) */
#define QLITE_Q8_F_I8MM 32u     /* ARM int8 matrix multiply: USDOT/SUDOT (HWCAP2_I8MM) */
#define QLITE_Q8_F_AMX 64u      /* Intel AMX-TILE + AMX-INT8, OS-enabled, permission granted */
unsigned qlite_q8_cpu_features(void);

/*
 * Tests and benchmarks: make the int8 kernels prepared from now on use only
 * the detected features within `cap` (e.g. QLITE_Q8_F_AVX2 to run the AVX2
 * paths on an AVX-512 machine; 0 = portable only; ~0u = everything, the
 * default). Process-wide; not for use while other threads prepare.
 */
void qlite_q8_set_feature_cap(unsigned cap);

/*
 * The QLITE_MAX_ISA environment variable (docs/api.md): the features the
 * name allows, as a mask of QLITE_Q8_F_* (the named level and all below it;
 * "portable" = 0; a name of the other architecture, e.g. "neon" on x86,
 * limits nothing). NULL, empty or unknown names: ~0u (no limit).
 * qlite_q8_cpu_features() is already within the variable's limit; it is read
 * once, when the features are first detected.
 */
unsigned qlite_q8_isa_limit(const char *name);
/* The limit in force: QLITE_MAX_ISA's and the test cap's, whether this CPU
 * has the features or not. For selections detected elsewhere (e.g. float
 * kernels needing only AVX-512F): a level is allowed while its bit is set. */
unsigned qlite_q8_feature_limit(void);

/* The best variant for this CPU and a GEMM with N columns. */
const qlite_gemm_q8_ukernel *qlite_gemm_q8_select_for(size_t N);
/* The same; exact_blocks: weights of exactly ceil(N/16) blocks (a model's
 * O16I4 bytes read in place), so only tiles whose width divides
 * round_up(N, 16) qualify (a wider tile would read past the buffer). */
const qlite_gemm_q8_ukernel *qlite_gemm_q8_select_packed(size_t N, bool exact_blocks);

/* K rounded up to a multiple of 4, and the packed size of B [N, K] in bytes */
static inline size_t qlite_gemm_q8_k4(size_t K) { return (K + 3) / 4 * 4; }
/* (covers round_up(N, 64) columns: a wide tile may read, never use, blocks past N) */
static inline size_t qlite_gemm_q8_packed_size(size_t K, size_t N) {
    return (N + 63) / 64 * 64 * qlite_gemm_q8_k4(K);
}
/* Row length of an A buffer for the dot path (K padded to 64). */
static inline size_t qlite_gemm_q8_dot_lda(size_t K) { return (K + 63) / 64 * 64; }

/*
 * Packs 16-column blocks [j0, j1) of B into `packed` (O16I4, see above).
 * b_trans: b is W [N, K] (B[k][n] = b[n * ldb + k]); else B [K, N]
 * (B[k][n] = b[k * ldb + n]). Every byte is XORed with `flip` (0x80 turns
 * uint8 values into int8 ones minus 128; 0 keeps them). When colsum is not
 * NULL, colsum[n] = sum_k of the packed values for the block's columns.
 */
void qlite_gemm_q8_pack(size_t K, size_t N, const void *b, size_t ldb, bool b_trans,
                        uint8_t flip, size_t j0, size_t j1, int8_t *packed, int32_t *colsum);

/*
 * rows x K bytes of A (row stride lda_in) into a buffer of row stride lda,
 * every byte XORed with flip, bytes [K, lda) zeroed; rowsum[r] = sum of a
 * row's K copied bytes when rowsum is not NULL.
 */
void qlite_gemm_q8_copy_a(size_t rows, size_t K, const uint8_t *a, size_t lda_in, uint8_t flip,
                          uint8_t *out, size_t lda, int32_t *rowsum);

/*
 * C = the formula above for rows [0, M), columns [0, N) of a packed B on the
 * calling thread (callers split rows or column blocks between threads).
 */
void qlite_gemm_q8_tiles(const qlite_gemm_q8_ukernel *uk, size_t M, size_t N, size_t K,
                         const uint8_t *a, size_t lda, const int8_t *packed,
                         const qlite_q8_cols *cols, const int32_t *rowsum, void *c, size_t ldc,
                         unsigned mode);

/*
 * Workspace bytes qlite_gemm_q8_tiles_ws can use for a call of up to M rows
 * (0: the variant takes none; callers then pass NULL).
 */
size_t qlite_gemm_q8_ws_bytes(const qlite_gemm_q8_ukernel *uk, size_t M, size_t K);
/* Below this many rows the workspace path is not worth widening B's blocks. */
#define QLITE_GEMM_Q8_WS_MIN_M 12
/*
 * qlite_gemm_q8_tiles, the same bits; with ws (qlite_gemm_q8_ws_bytes(uk, M,
 * K) bytes, any alignment, the caller's per thread) and M >= WS_MIN_M, a
 * variant with tiles_ws runs on operands widened into ws.
 */
void qlite_gemm_q8_tiles_ws(const qlite_gemm_q8_ukernel *uk, size_t M, size_t N, size_t K,
                            const uint8_t *a, size_t lda, const int8_t *packed,
                            const qlite_q8_cols *cols, const int32_t *rowsum, void *c,
                            size_t ldc, unsigned mode, void *ws);

/* The dot algorithm for rows [0, M), columns [n0, n1) (A rows of stride lda). */
void qlite_gemm_q8_dot_rows(const qlite_gemm_q8_ukernel *uk, size_t M, size_t K,
                            const uint8_t *a, size_t lda, const int32_t *rowsum, const int8_t *w,
                            size_t ldw, size_t n0, size_t n1, const qlite_q8_cols *cols, void *c,
                            size_t ldc, unsigned mode);

/*
 * The readable definition (any M, unpacked W [N, K] or B [K, N] as in
 * qlite_gemm_q8_pack, flip applied to B's bytes): what every variant must
 * equal bit for bit.
 */
void qlite_gemm_q8_ref(size_t M, size_t N, size_t K, const uint8_t *a, size_t lda,
                       const void *b, size_t ldb, bool b_trans, uint8_t flip,
                       const qlite_q8_cols *cols, void *c, size_t ldc, unsigned mode);

/* The output stage of one element (the scalar form of every variant's). */
static inline uint8_t qlite_q8_cols_out(const qlite_q8_cols *cols, size_t n, int32_t acc);

/* cols seen from column n0 (for a thread that takes columns n0..). */
static inline qlite_q8_cols qlite_q8_cols_from(const qlite_q8_cols *cols, size_t n0) {
    qlite_q8_cols c = *cols;
    if (c.bias) c.bias += n0;
    if (c.zw) c.zw += n0;
    if (c.mult) c.mult += n0;
    if (c.lshift) c.lshift += n0;
    if (c.rshift) c.rshift += n0;
    return c;
}

/* ---- inline definitions ---- */

#include "kernels/quant_params.h"

static inline uint8_t qlite_q8_cols_out(const qlite_q8_cols *cols, size_t n, int32_t acc) {
    const int32_t shift = cols->lshift[n] - cols->rshift[n];
    return (uint8_t)qlite_q8_out(acc, cols->mult[n], shift, cols->zy, cols->lo, cols->hi);
}

#endif /* QLITE_GEMM_Q8_H */
