/*
 * sparse_weights.c — checking and reading stored sparse / clustered
 * weights (sparse_weights.h).
 *
 * The model validator already checked every index of a file at open
 * (docs/format.md §9); qlite_spw_init checks them again because the cores
 * index activations with them (a tensor handed over by other means, e.g.
 * the one-op test runner, must not make a kernel read out of bounds). The
 * check is one pass over row_ptr and col_index at prepare.
 */
#include "kernels/sparse_weights.h"

#include <string.h>

#include "kernels/cluster_decode.h"
#include "kernels/gemm_f16.h"
#include "kernels/gemm_q8.h"

bool qlite_spw_form_supported(const qlite_tensor_info *w) {
    return w && w->buffer != 0 && (w->sparsity || w->clustering) &&
           w->layout == QLITE_LAYOUT_DEFAULT &&
           (w->dtype == QLITE_DTYPE_FLOAT32 || w->dtype == QLITE_DTYPE_FLOAT16 ||
            w->dtype == QLITE_DTYPE_INT8);
}

static uint64_t read_index(const void *p, qlite_index_type t, uint64_t i) {
    switch (t) {
    case QLITE_INDEX_UINT8: return ((const uint8_t *)p)[i];
    case QLITE_INDEX_UINT16: {
        uint16_t v;
        memcpy(&v, (const uint8_t *)p + 2 * i, 2);
        return v;
    }
    default: {
        uint32_t v;
        memcpy(&v, (const uint8_t *)p + 4 * i, 4);
        return v;
    }
    }
}

static unsigned index_bytes(qlite_index_type t) {
    return t == QLITE_INDEX_UINT8 ? 1 : t == QLITE_INDEX_UINT16 ? 2 : 4;
}

#define WF "%s '%s'"

/* Block-CSR structure of §6.3: row pointers widened, columns checked. */
static qlite_status init_sparse(qlite_node *node, const qlite_tensor *t, const char *what,
                                qlite_spw *w) {
    const char *name = t->info->name;
    const qlite_sparsity *sp = t->info->sparsity;
    if (sp->block_rows == 0 || sp->block_cols == 0 || w->rows % sp->block_rows ||
        w->cols % sp->block_cols)
        return qlite_node_error(node, QLITE_ERR_CORRUPT,
                                WF ": %ux%u blocks do not divide its 2-D view [%zu, %zu]", what,
                                name, sp->block_rows, sp->block_cols, w->rows, w->cols);
    if ((unsigned)sp->row_ptr_type >= QLITE_INDEX_COUNT ||
        (unsigned)sp->col_index_type >= QLITE_INDEX_COUNT)
        return qlite_node_error(node, QLITE_ERR_CORRUPT, WF ": unknown index type", what, name);
    w->sparse = true;
    w->br = sp->block_rows;
    w->bc = sp->block_cols;
    w->R = w->rows / w->br;
    w->C = w->cols / w->bc;
    if (sp->nnz_blocks > (uint64_t)w->R * w->C || sp->nnz_blocks > UINT32_MAX)
        return qlite_node_error(node, QLITE_ERR_CORRUPT,
                                WF ": %llu stored blocks in a grid of %zu x %zu", what, name,
                                (unsigned long long)sp->nnz_blocks, w->R, w->C);
    w->nnz = (size_t)sp->nnz_blocks;
    if (!sp->row_ptr || (w->nnz && !sp->col_index))
        return qlite_node_error(node, QLITE_ERR_CORRUPT, WF ": sparse index data is missing",
                                what, name);
    uint32_t *rp = qlite_node_alloc(node, (w->R + 1) * sizeof(uint32_t));
    if (!rp) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    const unsigned cb = index_bytes(sp->col_index_type);
    uint64_t prev = 0;
    w->max_row_values = 0;
    for (size_t r = 0; r <= w->R; r++) {
        const uint64_t v = read_index(sp->row_ptr, sp->row_ptr_type, r);
        if ((r == 0 && v != 0) || v < prev || v > w->nnz || (r == w->R && v != w->nnz))
            return qlite_node_error(node, QLITE_ERR_CORRUPT,
                                    WF ": row_ptr[%zu] = %llu (row pointers start at 0, never "
                                    "decrease and end at %zu)",
                                    what, name, r, (unsigned long long)v, w->nnz);
        rp[r] = (uint32_t)v;
        if (r > 0) {
            for (uint64_t b = prev; b < v; b++) {
                const uint64_t c = read_index(sp->col_index, sp->col_index_type, b);
                if (c >= w->C ||
                    (b > prev && c <= read_index(sp->col_index, sp->col_index_type, b - 1)))
                    return qlite_node_error(node, QLITE_ERR_CORRUPT,
                                            WF ": col_index[%llu] = %llu is out of range (%zu "
                                            "block columns) or not increasing",
                                            what, name, (unsigned long long)b,
                                            (unsigned long long)c, w->C);
            }
            const size_t vals = (size_t)(v - prev) * w->br * w->bc;
            if (vals > w->max_row_values) w->max_row_values = vals;
        }
        prev = v;
    }
    w->row_ptr = rp;
    w->col = sp->col_index; /* may be NULL without blocks: then never read */
    w->col_bytes = cb;
    return QLITE_OK;
}

/* A clustered weight that is not sparse: one 1 x cols block per row. */
static qlite_status init_dense_rows(qlite_node *node, qlite_spw *w) {
    if (w->rows > UINT32_MAX)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP, "%zu weight rows", w->rows);
    uint32_t *rp = qlite_node_alloc(node, (w->rows + 1) * sizeof(uint32_t));
    if (!rp) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    const bool any = w->cols > 0;
    for (size_t r = 0; r <= w->rows; r++) rp[r] = any ? (uint32_t)r : 0;
    w->br = 1;
    w->bc = any ? w->cols : 1;
    w->R = w->rows;
    w->C = any ? 1 : 0;
    w->nnz = any ? w->rows : 0;
    w->row_ptr = rp;
    w->max_row_values = w->cols;
    return QLITE_OK;
}

qlite_status qlite_spw_init(qlite_node *node, const qlite_tensor *t, const char *what,
                            qlite_spw *w) {
    const qlite_tensor_info *info = t->info;
    memset(w, 0, sizeof *w);
    if (!qlite_spw_form_supported(info))
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                WF ": %s weights stored %s%s%s are not read in place (this kernel "
                                "reads sparse / clustered float32, float16 and int8 weights in "
                                "the default layout)",
                                what, info->name, qlite_dtype_name(info->dtype),
                                info->sparsity ? "sparse" : "",
                                info->sparsity && info->clustering ? " + " : "",
                                info->clustering ? "clustered" : "");
    uint64_t cols = 1, n;
    for (uint32_t i = 1; i < t->rank; i++)
        if (t->dims[i] < 0 || qlite_mul_overflow_u64(cols, (uint64_t)t->dims[i], &cols))
            return qlite_node_error(node, QLITE_ERR_CORRUPT, WF ": bad shape", what, info->name);
    const uint64_t rows = t->rank ? (uint64_t)(t->dims[0] < 0 ? 0 : t->dims[0]) : 1;
    if ((t->rank && t->dims[0] < 0) || qlite_mul_overflow_u64(rows, cols, &n) ||
        n > SIZE_MAX / 8)
        return qlite_node_error(node, QLITE_ERR_CORRUPT, WF ": bad shape", what, info->name);
    w->rows = (size_t)rows;
    w->cols = (size_t)cols;
    w->dtype = info->dtype;
    w->values = t->data;
    qlite_status st = info->sparsity ? init_sparse(node, t, what, w) : init_dense_rows(node, w);
    if (st != QLITE_OK) return st;

    const size_t es = qlite_dtype_bits(w->dtype) / 8;
    const uint64_t stored = (uint64_t)w->nnz * w->br * w->bc; /* <= rows * cols */
    uint64_t need = stored * es;
    const qlite_clustering *cl = info->clustering;
    if (cl) {
        if (cl->index_bits < 1 || cl->index_bits > 8 || cl->num_clusters < 2 ||
            cl->num_clusters > (1u << cl->index_bits) || !cl->codebook)
            return qlite_node_error(node, QLITE_ERR_CORRUPT,
                                    WF ": %u clusters with %u-bit indices%s", what, info->name,
                                    cl->num_clusters, cl->index_bits,
                                    cl->codebook ? "" : " and no codebook");
        w->bits = cl->index_bits;
        w->codebook = cl->codebook;
        w->per_row = cl->per_row;
        need = qlite_cluster_stream_bytes(stored, w->bits);
        if (w->dtype == QLITE_DTYPE_FLOAT16 && !w->per_row) {
            const size_t entries = (size_t)1 << w->bits;
            float *b32 = qlite_node_alloc(node, entries * sizeof(float));
            if (!b32) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
            qlite_f16_to_f32_row(w->codebook, b32, entries);
            w->book32 = b32;
        }
    }
    if (info->data_size < need || (need && !t->data))
        return qlite_node_error(node, QLITE_ERR_CORRUPT,
                                WF ": %llu data bytes, its stored form needs %llu", what,
                                info->name, (unsigned long long)info->data_size,
                                (unsigned long long)need);
    return QLITE_OK;
}

/* ---- one block row's values ---- */

/* Runs decode(first value, count, codebook row) over block row r's values:
 * one run when every value shares a codebook, else one per block line. */
#define FOR_EACH_RUN(w, r, BODY)                                                           \
    do {                                                                                    \
        const size_t b0_ = (w)->row_ptr[r], b1_ = (w)->row_ptr[(r) + 1];                    \
        const size_t bv_ = (w)->br * (w)->bc;                                               \
        if (!(w)->per_row || (w)->br == 1) {                                                \
            const size_t first = b0_ * bv_, count = (b1_ - b0_) * bv_, pos = 0;             \
            const size_t book_row = (w)->per_row ? (r) : 0;                                 \
            BODY;                                                                           \
        } else {                                                                            \
            for (size_t b_ = b0_; b_ < b1_; b_++)                                           \
                for (size_t i_ = 0; i_ < (w)->br; i_++) {                                   \
                    const size_t first = (b_ * (w)->br + i_) * (w)->bc, count = (w)->bc;    \
                    const size_t pos = first - b0_ * bv_, book_row = (r) * (w)->br + i_;    \
                    BODY;                                                                   \
                }                                                                           \
        }                                                                                   \
    } while (0)

const float *qlite_spw_row_f32(const qlite_spw *w, size_t r, float *buf, uint16_t *tmp16) {
    const size_t bv = w->br * w->bc, b0 = w->row_ptr[r], b1 = w->row_ptr[r + 1];
    const size_t entries = (size_t)1 << w->bits;
    if (!w->bits) {
        if (w->dtype == QLITE_DTYPE_FLOAT32) return (const float *)w->values + b0 * bv;
        qlite_f16_to_f32_row((const uint16_t *)w->values + b0 * bv, buf, (b1 - b0) * bv);
        return buf;
    }
    const uint8_t *s = w->values;
    if (w->dtype == QLITE_DTYPE_FLOAT32 || w->book32) {
        const uint32_t *book = w->book32 ? (const void *)w->book32 : w->codebook;
        FOR_EACH_RUN(w, r,
                     qlite_cluster_decode_32(s, w->bits, first, count, book + book_row * entries,
                                             (uint32_t *)(void *)buf + pos));
        return buf;
    }
    /* float16 with a codebook per row: halves first, then widened together */
    const uint16_t *book = w->codebook;
    FOR_EACH_RUN(w, r,
                 qlite_cluster_decode_16(s, w->bits, first, count, book + book_row * entries,
                                         tmp16 + pos));
    qlite_f16_to_f32_row(tmp16, buf, (b1 - b0) * bv);
    return buf;
}

const int8_t *qlite_spw_row_i8(const qlite_spw *w, size_t r, int8_t *buf) {
    const size_t bv = w->br * w->bc, b0 = w->row_ptr[r];
    if (!w->bits) return (const int8_t *)w->values + b0 * bv;
    const uint8_t *s = w->values, *book = w->codebook;
    const size_t entries = (size_t)1 << w->bits;
    FOR_EACH_RUN(w, r,
                 qlite_cluster_decode_8(s, w->bits, first, count, book + book_row * entries,
                                        (uint8_t *)buf + pos));
    return buf;
}

void qlite_spw_sums_i8(const qlite_spw *w, int64_t *row_sum, int64_t *row_cnt, int64_t *col_sum,
                       int64_t *col_cnt, int8_t *buf) {
    if (row_sum) memset(row_sum, 0, w->rows * sizeof *row_sum);
    if (row_cnt) memset(row_cnt, 0, w->rows * sizeof *row_cnt);
    if (col_sum) memset(col_sum, 0, w->cols * sizeof *col_sum);
    if (col_cnt) memset(col_cnt, 0, w->cols * sizeof *col_cnt);
    for (size_t r = 0; r < w->R; r++) {
        const int8_t *v = qlite_spw_row_i8(w, r, buf);
        for (size_t b = w->row_ptr[r]; b < w->row_ptr[r + 1]; b++) {
            const size_t c = qlite_spw_col(w, b);
            for (size_t i = 0; i < w->br; i++)
                for (size_t j = 0; j < w->bc; j++) {
                    const int64_t x = *v++;
                    const size_t g = r * w->br + i, k = c * w->bc + j;
                    if (row_sum) row_sum[g] += x;
                    if (row_cnt) row_cnt[g]++;
                    if (col_sum) col_sum[k] += x;
                    if (col_cnt) col_cnt[k]++;
                }
        }
    }
}

unsigned qlite_spmm_isa(void) {
    const unsigned f = qlite_q8_cpu_features();
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    const bool fma = __builtin_cpu_supports("fma");
    if (fma && (f & QLITE_Q8_F_AVX512)) return QLITE_SPMM_AVX512;
    if (fma && (f & QLITE_Q8_F_AVX2)) return QLITE_SPMM_AVX2;
#else
    (void)f;
#endif
    return QLITE_SPMM_PORTABLE;
}

/* First block row r with cost(r) = row_ptr[r] + r >= target. */
static size_t row_at_cost(const qlite_spw *w, size_t target) {
    size_t lo = 0, hi = w->R;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if ((size_t)w->row_ptr[mid] + mid < target) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

void qlite_spw_split_rows(const qlite_spw *w, size_t parts, size_t t, size_t *r0, size_t *r1) {
    const size_t total = w->nnz + w->R;
    *r0 = t == 0 ? 0 : row_at_cost(w, total * t / parts);
    *r1 = t + 1 >= parts ? w->R : row_at_cost(w, total * (t + 1) / parts);
}
