/*
 * kernel_util.c — shared kernel helpers (see kernel_util.h).
 */
#include "kernels/kernel_util.h"

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

void qlite_kernel_parallel(const qlite_node *node, size_t count, size_t cost_per_item,
                           qlite_range_fn fn, void *arg) {
    if (count == 0) return;
    if (cost_per_item == 0) cost_per_item = 1;
    size_t work = count > SIZE_MAX / cost_per_item ? SIZE_MAX : count * cost_per_item;
    if (count > 1 && work >= PARALLEL_MIN_WORK && qlite_node_threads(node) > 1)
        qlite_parallel_for(node, count, fn, arg);
    else
        fn(arg, 0, count);
}
