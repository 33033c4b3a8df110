/*
 * node.c — the services kernels get from whoever runs them (kernel.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "threadpool.h"

struct qlite_alloc {
    struct qlite_alloc *next;
    size_t bytes;
    /* 64-byte aligned payload follows the header's own 64-byte slot */
};

#define ALLOC_HEADER 64
_Static_assert(sizeof(struct qlite_alloc) <= ALLOC_HEADER, "alloc header too large");

qlite_status qlite_node_error(const qlite_node *node, qlite_status status, const char *fmt, ...) {
    char detail[QLITE_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    const char *name = node->op && node->op->name ? node->op->name : "";
    qlite_error(status, "op %u %s '%s': %s", node->index,
                node->op ? qlite_op_name(node->op->code) : "?", name, detail);
    if (node->ctx) snprintf(node->ctx->error, sizeof node->ctx->error, "%s", qlite_last_error());
    return status;
}

qlite_status qlite_node_set_output_shape(qlite_node *node, uint32_t index, uint32_t rank,
                                         const int64_t *dims) {
    if (index >= node->num_outputs || !node->outputs[index])
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "no output %u", index);
    if (rank > QLITE_MAX_RANK)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "output rank %u exceeds %d", rank,
                                QLITE_MAX_RANK);
    qlite_tensor *t = node->outputs[index];
    const qlite_tensor_info *info = t->info;
    uint64_t n = 1;
    for (uint32_t i = 0; i < rank; i++) {
        if (dims[i] < 0 || dims[i] > INT32_MAX)
            return qlite_node_error(node, QLITE_ERR_SHAPE, "output %u ('%s') dim %u is %lld",
                                    index, info->name, i, (long long)dims[i]);
        if (qlite_mul_overflow_u64(n, (uint64_t)dims[i], &n))
            return qlite_node_error(node, QLITE_ERR_SHAPE, "output %u ('%s') size overflows",
                                    index, info->name);
    }
    /* The model's declared shape must agree, except a dynamic (-1) dim 0. */
    if (info->rank != rank) {
        return qlite_node_error(node, QLITE_ERR_SHAPE,
                                "output %u ('%s') has rank %u but the model declares %u", index,
                                info->name, rank, info->rank);
    }
    for (uint32_t i = 0; i < rank; i++) {
        if (info->shape[i] == -1 && i == 0) continue;
        if (info->shape[i] != dims[i]) {
            return qlite_node_error(node, QLITE_ERR_SHAPE,
                                    "output %u ('%s') dim %u is %lld but the model declares %lld",
                                    index, info->name, i, (long long)dims[i],
                                    (long long)info->shape[i]);
        }
    }
    uint64_t bits = qlite_dtype_bits(t->dtype), bytes;
    if (qlite_mul_overflow_u64(n, bits, &bytes) || bytes / 8 > (uint64_t)SIZE_MAX / 2)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "output %u ('%s') is too large", index,
                                info->name);
    t->rank = rank;
    for (uint32_t i = 0; i < rank; i++) t->dims[i] = dims[i];
    t->bytes = (size_t)((bytes + 7) / 8);
    return QLITE_OK;
}

void *qlite_node_alloc(qlite_node *node, size_t bytes) {
    if (bytes == 0) bytes = 1;
    if (bytes > SIZE_MAX - 2 * ALLOC_HEADER) return NULL;
    struct qlite_alloc *a = qlite_aligned_alloc(ALLOC_HEADER + bytes);
    if (!a) return NULL;
    memset(a, 0, ALLOC_HEADER + bytes);
    a->bytes = bytes;
    a->next = node->ctx->allocs;
    node->ctx->allocs = a;
    node->ctx->alloc_bytes += bytes;
    return (char *)a + ALLOC_HEADER;
}

void qlite_exec_ctx_free_allocs(qlite_exec_ctx *ctx) {
    struct qlite_alloc *a = ctx->allocs;
    while (a) {
        struct qlite_alloc *next = a->next;
        qlite_aligned_free(a);
        a = next;
    }
    ctx->allocs = NULL;
    ctx->alloc_bytes = 0;
}

int qlite_node_threads(const qlite_node *node) {
    return qlite_threadpool_threads(node->ctx->pool);
}

bool qlite_node_reference_only(const qlite_node *node) {
    return (node->ctx->flags & QLITE_INTERP_REFERENCE_ONLY) != 0;
}

bool qlite_node_exact_conv(const qlite_node *node) {
    return (node->ctx->flags & (QLITE_INTERP_EXACT_CONV | QLITE_INTERP_REFERENCE_ONLY)) != 0;
}

void qlite_parallel_for(const qlite_node *node, size_t count, qlite_range_fn fn, void *arg) {
    qlite_threadpool_run(node->ctx->pool, count, fn, arg);
}

void qlite_parallel_for_thread(const qlite_node *node, size_t count, qlite_thread_range_fn fn,
                               void *arg) {
    qlite_threadpool_run_thread(node->ctx->pool, count, fn, arg);
}
