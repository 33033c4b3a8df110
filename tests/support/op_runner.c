#include "op_runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "threadpool.h"

#define MAX_IO 64

static void fill_info(qlite_tensor_info *info, const qlite_op_test_tensor *t, const char *name) {
    memset(info, 0, sizeof *info);
    info->name = name;
    info->dtype = t->dtype;
    info->rank = t->rank;
    info->shape = t->shape;
    info->quant = t->quant;
    info->sparsity = t->sparsity;
    info->clustering = t->clustering;
    info->layout = t->layout;
    if (t->is_const) {
        info->buffer = 1;
        info->data = t->data;
    }
}

static size_t dense_bytes(const qlite_op_test_tensor *t) {
    uint64_t n = qlite_shape_elements(t->rank, t->shape);
    return (size_t)((n * qlite_dtype_bits(t->dtype) + 7) / 8);
}

qlite_status qlite_op_test_run(qlite_op_code code, const qlite_op_options *options,
                               uint32_t num_inputs, qlite_op_test_tensor *inputs,
                               uint32_t num_outputs, qlite_op_test_tensor *outputs, int threads,
                               uint32_t flags) {
    if ((unsigned)code >= QLITE_OP_COUNT || num_inputs > MAX_IO || num_outputs > MAX_IO)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "op runner: bad arguments");
    const qlite_kernel *k = qlite_kernel_registry[code];
    if (!k) return qlite_error(QLITE_ERR_UNSUPPORTED_OP, "op runner: no kernel for %s",
                               qlite_op_name(code));

    static char names[2 * MAX_IO][16];
    qlite_tensor_info infos[2 * MAX_IO];
    qlite_tensor tensors[2 * MAX_IO];
    qlite_tensor *in_ptrs[MAX_IO], *out_ptrs[MAX_IO];
    int32_t in_idx[MAX_IO], out_idx[MAX_IO];
    memset(tensors, 0, sizeof tensors);

    for (uint32_t i = 0; i < num_inputs; i++) {
        in_idx[i] = inputs[i].absent ? -1 : (int32_t)i;
        if (inputs[i].absent) {
            in_ptrs[i] = NULL;
            continue;
        }
        snprintf(names[i], sizeof names[i], "in%u", i);
        fill_info(&infos[i], &inputs[i], names[i]);
        if (inputs[i].is_const)
            infos[i].data_size = inputs[i].data_size ? inputs[i].data_size : dense_bytes(&inputs[i]);
        qlite_tensor *t = &tensors[i];
        t->info = &infos[i];
        t->dtype = inputs[i].dtype;
        t->rank = inputs[i].rank;
        memcpy(t->dims, inputs[i].shape, sizeof t->dims);
        t->data = (void *)inputs[i].data;
        t->bytes = inputs[i].is_const ? (size_t)infos[i].data_size : dense_bytes(&inputs[i]);
        t->is_const = inputs[i].is_const;
        if (inputs[i].quant && inputs[i].quant->count > 0) {
            t->scale = inputs[i].quant->scale[0];
            t->zero_point = inputs[i].quant->zero_point[0];
        }
        in_ptrs[i] = t;
    }
    for (uint32_t i = 0; i < num_outputs; i++) {
        uint32_t s = MAX_IO + i;
        out_idx[i] = (int32_t)s;
        snprintf(names[s], sizeof names[s], "out%u", i);
        fill_info(&infos[s], &outputs[i], names[s]);
        qlite_tensor *t = &tensors[s];
        t->info = &infos[s];
        t->dtype = outputs[i].dtype;
        if (outputs[i].quant && outputs[i].quant->count > 0) {
            t->scale = outputs[i].quant->scale[0];
            t->zero_point = outputs[i].quant->zero_point[0];
        }
        out_ptrs[i] = t;
        outputs[i].out = NULL;
    }

    qlite_op_info op = {.code = code, .name = "test", .num_inputs = num_inputs,
                        .num_outputs = num_outputs, .inputs = in_idx, .outputs = out_idx};
    if (options) op.options = *options;
    qlite_exec_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.flags = flags;
    qlite_status st = QLITE_OK;
    if (threads > 1) {
        st = qlite_threadpool_create(threads, &ctx.pool);
        if (st != QLITE_OK) return st;
    }
    qlite_node node = {.index = 0, .op = &op, .opts = &op.options, .num_inputs = num_inputs,
                       .num_outputs = num_outputs, .inputs = in_ptrs, .outputs = out_ptrs,
                       .ctx = &ctx};
    void *scratch = NULL;
    st = k->prepare ? k->prepare(&node) : QLITE_OK;
    if (st != QLITE_OK) goto done;
    for (uint32_t i = 0; i < num_outputs; i++) {
        qlite_tensor *t = out_ptrs[i];
        if (k->output_aliases_input && i == 0) {
            t->data = in_ptrs[0] ? in_ptrs[0]->data : NULL;
            continue;
        }
        t->data = calloc(1, t->bytes ? t->bytes : 1);
        if (!t->data) {
            st = qlite_error(QLITE_ERR_NO_MEMORY, "op runner: out of memory");
            goto done;
        }
        /* poison so a kernel that forgets to write an element is caught */
        memset(t->data, 0xA5, t->bytes);
    }
    if (node.scratch_bytes) {
        scratch = qlite_aligned_alloc(node.scratch_bytes);
        if (!scratch) {
            st = qlite_error(QLITE_ERR_NO_MEMORY, "op runner: out of memory");
            goto done;
        }
        memset(scratch, 0x5A, node.scratch_bytes);
        node.scratch = scratch;
    }
    st = k->eval(&node);
done:
    for (uint32_t i = 0; i < num_outputs; i++) {
        qlite_tensor *t = out_ptrs[i];
        if (st == QLITE_OK) {
            if (k->output_aliases_input && i == 0) {
                void *copy = malloc(t->bytes ? t->bytes : 1);
                if (copy && t->data) memcpy(copy, t->data, t->bytes);
                outputs[i].out = copy;
            } else {
                outputs[i].out = t->data;
            }
            outputs[i].out_bytes = t->bytes;
            outputs[i].out_rank = t->rank;
            memcpy(outputs[i].out_dims, t->dims, sizeof t->dims);
        } else if (!(k->output_aliases_input && i == 0)) {
            free(t->data);
        }
    }
    qlite_aligned_free(scratch);
    qlite_exec_ctx_free_allocs(&ctx);
    qlite_threadpool_destroy(ctx.pool);
    return st;
}

void qlite_op_test_free(uint32_t num_outputs, qlite_op_test_tensor *outputs) {
    for (uint32_t i = 0; i < num_outputs; i++) {
        free(outputs[i].out);
        outputs[i].out = NULL;
    }
}
