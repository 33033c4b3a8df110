/*
 * sparse_weights.h — a constant weight read in its stored sparse and/or
 * clustered form (docs/format.md §6.3, §6.4), straight from the mapped
 * model: no dense copy exists. The kernels of fully_connected_sparse.c,
 * conv_2d_sparse.c and batch_matmul_sparse.c describe their weight with a
 * qlite_spw at prepare and hand it to the SpMM cores (spmm_f32.h,
 * spmm_q8.h).
 *
 * The weight is the 2-D view [rows = shape[0], cols = product of the rest]
 * in blocks of br x bc:
 *
 *   block row r (output rows r*br .. r*br + br - 1) holds the stored blocks
 *   row_ptr[r] .. row_ptr[r+1] - 1; block b sits at block column col(b)
 *   and its br*bc values are value numbers (b*br + i)*bc + j, row-major
 *   inside the block.
 *
 * A clustered weight that is not sparse is read as the same structure with
 * one 1 x cols block per row at column 0 (col_bytes == 0), so its value number
 * (r*cols + j) is the dense row-major position, as §6.4 stores it. Values
 * are the stored ones (FLOAT32, FLOAT16, INT8) or, when clustered, the
 * codebook entries their indices select; qlite_spw_row_* produce one block
 * row's values in the kernel's arithmetic type (pointing into the model
 * when nothing needs converting).
 *
 * Elements outside the stored blocks are real zeros: 0.0 for float, the
 * channel's zero point for int8 (the int8 cores subtract it, so they
 * contribute nothing).
 */
#ifndef QLITE_SPARSE_WEIGHTS_H
#define QLITE_SPARSE_WEIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel.h"

typedef struct qlite_spw {
    size_t rows, cols;          /* the 2-D view */
    size_t br, bc;              /* block shape */
    size_t R, C;                /* block rows (rows / br), block columns (cols / bc) */
    size_t nnz;                 /* stored blocks */
    const uint32_t *row_ptr;    /* [R + 1] (widened at prepare; node memory) */
    const void *col;            /* [nnz] block columns as stored (sparse) */
    unsigned col_bytes;         /* 1, 2 or 4; 0 = not sparse: every block at column 0 */
    qlite_dtype dtype;          /* FLOAT32, FLOAT16 or INT8 (values / centroids) */
    const void *values;         /* stored values, or the bitstream of indices */
    unsigned bits;              /* index bits, 0 = not clustered */
    const void *codebook;       /* 2^bits entries, per row of the view when per_row */
    bool per_row;
    bool sparse;                /* stored as §6.3 */
    size_t max_row_values;      /* most values in one block row (decode buffers) */
    const float *book32;        /* FLOAT16 per-tensor codebook widened at prepare, or NULL */
} qlite_spw;

/* True when t reaches the kernel in its stored sparse / clustered form
 * (kernel.h reads_stored): the model's own bytes, not a dense copy. */
static inline bool qlite_spw_is_stored(const qlite_tensor *t) {
    return t && t->is_const && t->info && (t->info->sparsity || t->info->clustering) &&
           t->data == t->info->data;
}

/* True for the stored forms these kernels read: sparse and/or clustered,
 * layout DEFAULT, values FLOAT32 / FLOAT16 / INT8. */
bool qlite_spw_form_supported(const qlite_tensor_info *w);

/*
 * Checks the stored form of constant t (block shape divides the view,
 * row_ptr from 0, non-decreasing, ending at nnz_blocks, every col_index
 * inside the view and increasing within its block row, index widths,
 * bit width, data sizes) and fills w. Node memory holds the widened row
 * pointers (and a float16 codebook widened to float32). `what` names the
 * tensor in messages; errors are QLITE_ERR_CORRUPT (inconsistent indices)
 * or QLITE_ERR_UNSUPPORTED_OP (a form not listed above).
 */
qlite_status qlite_spw_init(qlite_node *node, const qlite_tensor *t, const char *what,
                            qlite_spw *w);

/* Block column of stored block b. */
static inline size_t qlite_spw_col(const qlite_spw *w, size_t b) {
    switch (w->col_bytes) {
    case 1: return ((const uint8_t *)w->col)[b];
    case 2: return ((const uint16_t *)w->col)[b];
    case 4: return ((const uint32_t *)w->col)[b];
    default: return 0;
    }
}

/*
 * The values of block row r as float32: a pointer into the model (FLOAT32
 * not clustered) or buf (max_row_values floats; plus as many uint16 at
 * tmp16 for FLOAT16 forms, which may alias nothing else).
 */
const float *qlite_spw_row_f32(const qlite_spw *w, size_t r, float *buf, uint16_t *tmp16);

/* The values of block row r as int8 (INT8 forms): the model's bytes or buf
 * (max_row_values bytes). */
const int8_t *qlite_spw_row_i8(const qlite_spw *w, size_t r, int8_t *buf);

/*
 * INT8: per row of the view, the sum of the stored values and how many are
 * stored (row_sum/row_cnt [rows], either may be NULL); per column likewise
 * (col_sum/col_cnt [cols], may be NULL). buf: max_row_values bytes.
 */
void qlite_spw_sums_i8(const qlite_spw *w, int64_t *row_sum, int64_t *row_cnt, int64_t *col_sum,
                       int64_t *col_cnt, int8_t *buf);

/*
 * The instruction set the SpMM cores use on this CPU: AVX-512 (F, BW, VL;
 * with VNNI for the int8 cores), AVX2 + FMA, or portable C. Follows
 * qlite_q8_cpu_features() (gemm_q8.h), so qlite_q8_set_feature_cap() caps it
 * too (tests run every variant the CPU has).
 */
#define QLITE_SPMM_PORTABLE 0u
#define QLITE_SPMM_AVX2 1u
#define QLITE_SPMM_AVX512 2u
unsigned qlite_spmm_isa(void);

/* Splits block rows [0, R) into `parts` ranges of about equal work (stored
 * blocks + 1 per row); range t is [*r0, *r1). */
void qlite_spw_split_rows(const qlite_spw *w, size_t parts, size_t t, size_t *r0, size_t *r1);

#endif /* QLITE_SPARSE_WEIGHTS_H */
