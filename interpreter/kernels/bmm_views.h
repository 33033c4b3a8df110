/*
 * bmm_views.h — element strides of BATCH_MATMUL's operands and output, for
 * dense tensors and strided views alike (kernel.h "Strided views"; the
 * float32 kernel batch_matmul.c and the integer one batch_matmul_q8.c).
 *
 * For batch b of the broadcast batch dims (bdims, brank) the matrices start
 * at a + sum idx_i a[i], b + sum idx_i b[i], y + sum idx_i y[i] (elements;
 * 0 for a broadcast dim); A[m][k] is at a_rs m + a_cs k (transpose_a folded
 * in), B[k][n] at b_ks k + b_ns n, Y[m][n] at y_rs m + n (an output view has
 * stride 1 in its last dim; a vector operand's missing row step is the dense
 * one). For dense
 * tensors this is exactly the row-major layout the kernels read without views.
 */
#ifndef QLITE_BMM_VIEWS_H
#define QLITE_BMM_VIEWS_H

#include <string.h>

#include "kernel.h"

typedef struct qlite_bmm_strides {
    int64_t a[QLITE_MAX_RANK], b[QLITE_MAX_RANK], y[QLITE_MAX_RANK];
    int64_t a_rs, a_cs, b_ks, b_ns, y_rs;
} qlite_bmm_strides;

static inline void qlite_bmm_strides_get(const qlite_tensor *a, const qlite_tensor *b,
                                         const qlite_tensor *y, uint32_t brank, bool ta,
                                         bool tb, qlite_bmm_strides *s) {
    const bool a_vec = a->rank == 1, b_vec = b->rank == 1;
    const int ar = a_vec ? 0 : (int)a->rank - 2, br = b_vec ? 0 : (int)b->rank - 2;
    for (int i = 0; i < (int)brank; i++) {
        const int ia = i - ((int)brank - ar), ib = i - ((int)brank - br);
        s->a[i] = ia >= 0 && a->dims[ia] != 1 ? qlite_tensor_stride(a, (uint32_t)ia) : 0;
        s->b[i] = ib >= 0 && b->dims[ib] != 1 ? qlite_tensor_stride(b, (uint32_t)ib) : 0;
        s->y[i] = qlite_tensor_stride(y, (uint32_t)i);
    }
    if (a_vec) { /* M = 1: the row steps are never taken; the dense ones */
        s->a_rs = a->dims[0];
        s->a_cs = qlite_tensor_stride(a, 0);
    } else {
        const uint32_t r = a->rank;
        s->a_rs = qlite_tensor_stride(a, ta ? r - 1 : r - 2);
        s->a_cs = qlite_tensor_stride(a, ta ? r - 2 : r - 1);
    }
    if (b_vec) {
        s->b_ks = qlite_tensor_stride(b, 0);
        s->b_ns = 0;
    } else {
        const uint32_t r = b->rank;
        s->b_ks = qlite_tensor_stride(b, tb ? r - 1 : r - 2);
        s->b_ns = qlite_tensor_stride(b, tb ? r - 2 : r - 1);
    }
    s->y_rs = a_vec ? (b_vec ? 1 : y->dims[y->rank - 1]) : qlite_tensor_stride(y, brank);
}

/* Element offsets of batch `batch`'s A, B and Y matrices. */
static inline void qlite_bmm_offsets(const qlite_bmm_strides *s, const int64_t *bdims,
                                     uint32_t brank, size_t batch, size_t *ao, size_t *bo,
                                     size_t *yo) {
    size_t a = 0, b = 0, y = 0;
    for (int i = (int)brank - 1; i >= 0; i--) {
        const size_t d = (size_t)bdims[i], idx = batch % d;
        batch /= d;
        a += idx * (size_t)s->a[i];
        b += idx * (size_t)s->b[i];
        y += idx * (size_t)s->y[i];
    }
    *ao = a;
    *bo = b;
    *yo = y;
}

/* How a GEMM reads B: row stride ldb, transposed or not (the form transpose_b
 * names first, so a dense B is read as without views); false when neither of
 * B's matrix dims has step 1 (the caller copies B into a dense matrix). */
static inline bool qlite_bmm_b_layout(const qlite_bmm_strides *s, size_t K, size_t N, bool tb,
                                      size_t *ldb, bool *trans) {
    const bool plain = s->b_ns == 1 || N == 1, transposed = s->b_ks == 1 || K == 1;
    if (plain && (!tb || !transposed)) {
        *ldb = (size_t)s->b_ks;
        *trans = false;
        return true;
    }
    if (transposed) {
        *ldb = (size_t)s->b_ns;
        *trans = true;
        return true;
    }
    return false;
}

/* Whether B is a view the GEMM cannot read in place (neither matrix dim of
 * step 1; at prepare: y's strides are not read for this): the kernel then
 * copies each B matrix dense first (qlite_bmm_copy_b). */
static inline bool qlite_bmm_b_copied(const qlite_tensor *a, const qlite_tensor *b,
                                      const qlite_tensor *y, uint32_t brank, bool ta, bool tb,
                                      size_t K, size_t N) {
    if (!b->is_view || b->rank < 2) return false;
    qlite_bmm_strides vs;
    size_t ldb;
    bool bt;
    qlite_bmm_strides_get(a, b, y, brank, ta, tb, &vs);
    return !qlite_bmm_b_layout(&vs, K, N, tb, &ldb, &bt);
}

/* The B matrix at src (elements of es bytes, steps b_ks / b_ns) into dst as a
 * dense K x N matrix. */
static inline void qlite_bmm_copy_b(const qlite_bmm_strides *s, const void *src, size_t es,
                                    size_t K, size_t N, void *dst) {
    const uint8_t *from = src;
    uint8_t *to = dst;
    for (size_t k = 0; k < K; k++)
        for (size_t n = 0; n < N; n++)
            memcpy(to + (k * N + n) * es,
                   from + (k * (size_t)s->b_ks + n * (size_t)s->b_ns) * es, es);
}

/* BATCH_MATMUL's kernel.h takes_view (batch_matmul.c): float32 x float32 and
 * int8/uint8 x int8/uint8 with a dense B; not hybrid, float16 or sparse B.
 * Shared with the sparse-dispatching registry entry (batch_matmul_sparse.c). */
bool qlite_bmm_takes_view(const qlite_op_info *op, const qlite_tensor_info *const *in,
                          int32_t which);

#endif /* QLITE_BMM_VIEWS_H */
