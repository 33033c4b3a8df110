/*
 * kernel_util.c — shared kernel helpers (see kernel_util.h).
 */
#include "kernels/kernel_util.h"
#include "kernels/quant_params.h"

#include <stdio.h>
#include <string.h>

qlite_status qlite_node_check_io(const qlite_node *node, uint32_t min_in, uint32_t max_in,
                                 uint32_t required, uint32_t num_out) {
    if (node->num_inputs < min_in || node->num_inputs > max_in) {
        if (min_in == max_in)
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                    "expects %u inputs, got %u", min_in, node->num_inputs);
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "expects %u to %u inputs, got %u", min_in, max_in,
                                node->num_inputs);
    }
    for (uint32_t i = 0; i < required && i < node->num_inputs; i++)
        if (!node->inputs[i])
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                    "input %u is required but absent", i);
    if (node->num_outputs != num_out)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "expects %u outputs, got %u",
                                num_out, node->num_outputs);
    for (uint32_t i = 0; i < num_out; i++)
        if (!node->outputs[i])
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "output %u is absent", i);
    return QLITE_OK;
}

qlite_status qlite_node_check_options(const qlite_node *node, qlite_options_type type) {
    if (node->opts->type != type)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "options of type %d expected, found type %d", (int)type,
                                (int)node->opts->type);
    return QLITE_OK;
}

qlite_status qlite_node_check_dtype(const qlite_node *node, const qlite_tensor *t,
                                    const char *what, qlite_dtype dtype) {
    if (t->dtype != dtype)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP, "%s ('%s') is %s; only %s is supported",
                                what, t->info->name, qlite_dtype_name(t->dtype),
                                qlite_dtype_name(dtype));
    return QLITE_OK;
}

const char *qlite_shape_str(uint32_t rank, const int64_t *dims, char *buf, size_t size) {
    size_t n = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    n += (size_t)snprintf(buf + n, size - n, "[");
    for (uint32_t i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, i ? ",%lld" : "%lld", (long long)dims[i]);
    if (n < size) snprintf(buf + n, size - n, "]");
    return buf;
}

bool qlite_broadcast_shape(uint32_t rank_a, const int64_t *dims_a, uint32_t rank_b,
                           const int64_t *dims_b, uint32_t *out_rank, int64_t *out_dims) {
    if (rank_a > QLITE_MAX_RANK || rank_b > QLITE_MAX_RANK) return false;
    uint32_t r = rank_a > rank_b ? rank_a : rank_b;
    for (uint32_t i = 0; i < r; i++) {
        /* align from the right */
        int64_t da = i + rank_a >= r ? dims_a[i + rank_a - r] : 1;
        int64_t db = i + rank_b >= r ? dims_b[i + rank_b - r] : 1;
        if (da == db || db == 1) out_dims[i] = da;
        else if (da == 1) out_dims[i] = db;
        else return false;
    }
    *out_rank = r;
    return true;
}

void qlite_bcast_init(qlite_bcast *b, uint32_t rank_a, const int64_t *dims_a, uint32_t rank_b,
                      const int64_t *dims_b) {
    memset(b, 0, sizeof *b);
    uint32_t r = rank_a > rank_b ? rank_a : rank_b;
    /* 1. aligned dims, dropping output dims of size 1 */
    int64_t out[QLITE_MAX_RANK];
    bool ba[QLITE_MAX_RANK], bb[QLITE_MAX_RANK]; /* operand broadcast along dim */
    uint32_t n = 0;
    size_t count = 1;
    for (uint32_t i = 0; i < r; i++) {
        int64_t da = i + rank_a >= r ? dims_a[i + rank_a - r] : 1;
        int64_t db = i + rank_b >= r ? dims_b[i + rank_b - r] : 1;
        int64_t d = da == 1 ? db : da;
        count *= (size_t)d;
        if (d == 1) continue;
        out[n] = d;
        ba[n] = da == 1;
        bb[n] = db == 1;
        n++;
    }
    /* 2. merge neighbours that broadcast alike */
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (m > 0 && ba[m - 1] == ba[i] && bb[m - 1] == bb[i]) {
            out[m - 1] *= out[i];
        } else {
            out[m] = out[i];
            ba[m] = ba[i];
            bb[m] = bb[i];
            m++;
        }
    }
    if (m == 0) { /* scalar result */
        out[0] = 1;
        ba[0] = bb[0] = false;
        m = 1;
    }
    /* 3. strides in each operand's own (collapsed) layout */
    int64_t sa = 1, sb = 1;
    for (uint32_t i = m; i-- > 0;) {
        b->stride_a[i] = ba[i] ? 0 : sa;
        b->stride_b[i] = bb[i] ? 0 : sb;
        if (!ba[i]) sa *= out[i];
        if (!bb[i]) sb *= out[i];
        b->dims[i] = out[i];
    }
    b->rank = m;
    b->count = count;
}

void qlite_bcast_iter_seek(const qlite_bcast *b, qlite_bcast_iter *it, size_t flat) {
    it->off_a = it->off_b = 0;
    for (uint32_t i = b->rank; i-- > 0;) {
        size_t d = (size_t)b->dims[i];
        size_t c = d ? flat % d : 0;
        flat = d ? flat / d : 0;
        it->coord[i] = (int64_t)c;
        it->off_a += c * (size_t)b->stride_a[i];
        it->off_b += c * (size_t)b->stride_b[i];
    }
}

void qlite_bcast_iter_next_row(const qlite_bcast *b, qlite_bcast_iter *it) {
    uint32_t last = b->rank - 1;
    it->off_a -= (size_t)(it->coord[last] * b->stride_a[last]);
    it->off_b -= (size_t)(it->coord[last] * b->stride_b[last]);
    it->coord[last] = 0;
    for (uint32_t i = last; i-- > 0;) {
        it->coord[i]++;
        it->off_a += (size_t)b->stride_a[i];
        it->off_b += (size_t)b->stride_b[i];
        if (it->coord[i] < b->dims[i]) return;
        it->off_a -= (size_t)(it->coord[i] * b->stride_a[i]);
        it->off_b -= (size_t)(it->coord[i] * b->stride_b[i]);
        it->coord[i] = 0;
    }
}

/* Below this much work (in simple float ops) threads cost more than they save. */
#define PARALLEL_MIN_WORK (1u << 16)

/* Whether count items of cost_per_item are worth the node's threads. */
static bool worth_threads(const qlite_node *node, size_t count, size_t cost_per_item) {
    if (cost_per_item == 0) cost_per_item = 1;
    size_t work = count > SIZE_MAX / cost_per_item ? SIZE_MAX : count * cost_per_item;
    return count > 1 && work >= PARALLEL_MIN_WORK && qlite_node_threads(node) > 1;
}

void qlite_kernel_parallel(const qlite_node *node, size_t count, size_t cost_per_item,
                           qlite_range_fn fn, void *arg) {
    if (count == 0) return;
    if (worth_threads(node, count, cost_per_item))
        qlite_parallel_for(node, count, fn, arg);
    else
        fn(arg, 0, count);
}

void qlite_kernel_parallel_thread(const qlite_node *node, size_t count, size_t cost_per_item,
                                  qlite_thread_range_fn fn, void *arg) {
    if (count == 0) return;
    if (worth_threads(node, count, cost_per_item))
        qlite_parallel_for_thread(node, count, fn, arg);
    else
        fn(arg, 0, 0, count);
}

void qlite_shape_strides(uint32_t rank, const int64_t *dims, int64_t *strides) {
    int64_t st = 1;
    for (uint32_t i = rank; i-- > 0;) {
        strides[i] = st;
        st *= dims[i];
    }
}

size_t qlite_node_shape_op_elem(const qlite_node *node, const qlite_tensor *in,
                                const qlite_tensor *out, qlite_status *st) {
    size_t elem = qlite_dtype_size(in->dtype);
    if (!elem) {
        *st = qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP, "dtype %s is not supported",
                               qlite_dtype_name(in->dtype));
        return 0;
    }
    if (out->dtype != in->dtype) {
        *st = qlite_node_error(node, QLITE_ERR_DTYPE, "output is %s but the input is %s",
                               qlite_dtype_name(out->dtype), qlite_dtype_name(in->dtype));
        return 0;
    }
    if ((*st = qlite_node_check_same_qparams(node, in, "input", out, "output")) != QLITE_OK)
        return 0;
    return elem;
}

void qlite_strided_finish(qlite_strided *s) {
    size_t count = 1;
    uint32_t m = 0;
    for (uint32_t i = 0; i < s->rank; i++) {
        count *= (size_t)s->dims[i];
        if (s->dims[i] == 1) continue;
        if (m > 0 && s->stride[m - 1] == s->stride[i] * s->dims[i]) {
            s->dims[m - 1] *= s->dims[i];
            s->stride[m - 1] = s->stride[i];
        } else {
            s->dims[m] = s->dims[i];
            s->stride[m] = s->stride[i];
            m++;
        }
    }
    if (m == 0) {
        s->dims[0] = 1;
        s->stride[0] = 1;
        m = 1;
    }
    s->rank = m;
    s->count = count;
}

/* Row of n elements read with a stride (in elements). */
static void gather_row(const char *src, int64_t stride, char *dst, size_t n, size_t elem) {
    switch (elem) {
#define GATHER_CASE(T)                                                                     \
    case sizeof(T): {                                                                      \
        const T *s_ = (const T *)(const void *)src;                                        \
        T *d_ = (T *)(void *)dst;                                                          \
        for (size_t i = 0; i < n; i++) d_[i] = s_[(int64_t)i * stride];                    \
        break;                                                                             \
    }
        GATHER_CASE(uint8_t)
        GATHER_CASE(uint16_t)
        GATHER_CASE(uint32_t)
        GATHER_CASE(uint64_t)
#undef GATHER_CASE
    default:
        for (size_t i = 0; i < n; i++) memcpy(dst + i * elem, src + (int64_t)i * stride * (int64_t)elem, elem);
    }
}

/* dst[r][c] = src[c * ld_src + r] for an R x C output tile (a blocked 2-D transpose). */
static void transpose_2d(const char *src, int64_t src_col_stride, char *dst, size_t rows,
                         size_t cols, size_t elem) {
    enum { TILE = 32 };
    for (size_t r0 = 0; r0 < rows; r0 += TILE) {
        size_t r1 = r0 + TILE < rows ? r0 + TILE : rows;
        for (size_t c0 = 0; c0 < cols; c0 += TILE) {
            size_t c1 = c0 + TILE < cols ? c0 + TILE : cols;
            switch (elem) {
#define TILE_CASE(T)                                                                       \
    case sizeof(T): {                                                                      \
        const T *s_ = (const T *)(const void *)src;                                        \
        T *d_ = (T *)(void *)dst;                                                          \
        for (size_t r = r0; r < r1; r++)                                                   \
            for (size_t c = c0; c < c1; c++)                                               \
                d_[r * cols + c] = s_[(int64_t)c * src_col_stride + (int64_t)r];           \
        break;                                                                             \
    }
                TILE_CASE(uint8_t)
                TILE_CASE(uint16_t)
                TILE_CASE(uint32_t)
                TILE_CASE(uint64_t)
#undef TILE_CASE
            default:
                for (size_t r = r0; r < r1; r++)
                    for (size_t c = c0; c < c1; c++)
                        memcpy(dst + (r * cols + c) * elem,
                               src + ((int64_t)c * src_col_stride + (int64_t)r) * (int64_t)elem,
                               elem);
            }
        }
    }
}

void qlite_strided_copy(const qlite_strided *s, const void *src_v, void *dst_v) {
    const char *src = src_v;
    char *dst = dst_v;
    if (s->count == 0) return;
    const uint32_t last = s->rank - 1;
    const size_t elem = s->elem;
    /* blocked 2-D transpose: the source is contiguous along the next-to-last
     * output dim and the last output dim walks its rows */
    const bool t2d = s->rank >= 2 && s->stride[last - 1] == 1 && s->stride[last] != 1 &&
                     s->dims[last] > 1;
    const uint32_t inner_dims = t2d ? 2 : 1;
    const size_t block = t2d ? (size_t)(s->dims[last] * s->dims[last - 1]) : (size_t)s->dims[last];
    int64_t coord[QLITE_MAX_RANK] = {0};
    int64_t off = s->offset;
    for (size_t pos = 0; pos < s->count; pos += block) {
        const char *sp = src + off * (int64_t)elem;
        char *dp = dst + pos * elem;
        if (t2d)
            transpose_2d(sp, s->stride[last], dp, (size_t)s->dims[last - 1],
                         (size_t)s->dims[last], elem);
        else if (s->stride[last] == 1)
            memcpy(dp, sp, block * elem);
        else
            gather_row(sp, s->stride[last], dp, block, elem);
        for (uint32_t d = s->rank - inner_dims; d-- > 0;) {
            coord[d]++;
            off += s->stride[d];
            if (coord[d] < s->dims[d]) break;
            off -= s->stride[d] * coord[d];
            coord[d] = 0;
        }
    }
}
