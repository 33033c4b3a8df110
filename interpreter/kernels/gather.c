/*
 * gather.c — GATHER (ONNX Gather): output = data.shape[:axis] +
 * indices.shape + data.shape[axis+1:], taking slices of `data` along
 * GatherOptions.axis at `indices` (int32 or int64; negative wraps once).
 * An index outside [-d, d) is an error with a message — at prepare when the
 * indices are constant, at eval otherwise — never a read out of bounds.
 *
 * `data` is read in its stored form (raw_inputs bit 0): a big constant
 * (an embedding table) is read straight from the model, and a float16 one is
 * widened row by row into a float32 output instead of being copied whole at
 * prepare. Each gathered slice of `inner` elements is one memcpy; the
 * slices are split between threads when there are enough bytes.
 *
 * An int8 / uint8 table with a float32 output (dynamic-range mode,
 * docs/quantization.md §5: the embedding table int8, one scale per row) is
 * dequantized as it is gathered: y = scale[c] * (q - zero_point[c]), c the
 * gathered index when the table is quantized along the gathered axis, 0
 * when per tensor (float32 arithmetic, DEQUANTIZE's formula).
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"
#include "kernels/quant_params.h"

typedef struct gather_state {
    size_t outer, inner, nidx;   /* inner in elements */
    int64_t d;                   /* size of the gathered axis */
    size_t in_elem, out_elem;
    bool widen_f16;
    bool dequant;                /* int8/uint8 table -> float32 rows */
    bool per_index, is_signed;   /* dequant: one scale per gathered index */
    const float *scale;
    const int32_t *zp;
} gather_state;

static bool get_index(const qlite_tensor *idx, size_t i, int64_t d, int64_t *out) {
    int64_t v = idx->dtype == QLITE_DTYPE_INT32 ? ((const int32_t *)idx->data)[i]
                                                : ((const int64_t *)idx->data)[i];
    if (v < 0) v += d;
    *out = v;
    return v >= 0 && v < d;
}

static qlite_status index_error(const qlite_node *node, const qlite_tensor *idx, size_t i,
                                int64_t d) {
    int64_t v = idx->dtype == QLITE_DTYPE_INT32 ? ((const int32_t *)idx->data)[i]
                                                : ((const int64_t *)idx->data)[i];
    return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                            "index %lld at position %zu of '%s' is outside [%lld, %lld)",
                            (long long)v, i, idx->info->name, (long long)-d, (long long)d);
}

static qlite_status gather_prepare(qlite_node *node) {
    qlite_status st = qlite_node_check_io(node, 2, 2, 2, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *data = node->inputs[0], *idx = node->inputs[1];
    qlite_tensor *y = node->outputs[0];
    if ((st = qlite_node_check_options(node, QLITE_OPTIONS_GATHER)) != QLITE_OK) return st;
    const qlite_tensor_info *di = data->info;
    if (data->is_const && (di->sparsity || di->clustering || di->layout != QLITE_LAYOUT_DEFAULT))
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "sparse, clustered or packed data ('%s') is not supported",
                                di->name);
    gather_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->in_elem = qlite_dtype_size(data->dtype);
    s->out_elem = qlite_dtype_size(y->dtype);
    s->widen_f16 = data->dtype == QLITE_DTYPE_FLOAT16 && y->dtype == QLITE_DTYPE_FLOAT32;
    s->dequant = qlite_is_q8(data->dtype) && y->dtype == QLITE_DTYPE_FLOAT32;
    if (!s->in_elem || (y->dtype != data->dtype && !s->widen_f16 && !s->dequant))
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "gathering %s data into a %s output is not supported",
                                qlite_dtype_name(data->dtype), qlite_dtype_name(y->dtype));
    /* quantized data: the bytes are copied, so the parameters must match */
    if (!s->widen_f16 && !s->dequant &&
        (st = qlite_node_check_same_qparams(node, data, "data", y, "output")) != QLITE_OK)
        return st;
    if (idx->dtype != QLITE_DTYPE_INT32 && idx->dtype != QLITE_DTYPE_INT64)
        return qlite_node_error(node, QLITE_ERR_DTYPE, "indices are %s; int32 or int64 expected",
                                qlite_dtype_name(idx->dtype));
    uint32_t ax;
    if (data->rank == 0 || !qlite_normalize_axis(node->opts->u.gather.axis, data->rank, &ax))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "axis %d is out of range for rank %u", node->opts->u.gather.axis,
                                data->rank);
    if (data->rank - 1 + idx->rank > QLITE_MAX_RANK)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "output rank %u exceeds %d",
                                data->rank - 1 + idx->rank, QLITE_MAX_RANK);
    /* the stored data must hold every element its shape claims */
    const size_t data_n = qlite_tensor_elements(data);
    if (data->is_const && data->bytes / s->in_elem < data_n)
        return qlite_node_error(node, QLITE_ERR_SHAPE, "data '%s' has %zu bytes, %zu needed",
                                di->name, data->bytes, data_n * s->in_elem);
    int64_t dims[QLITE_MAX_RANK];
    uint32_t r = 0;
    for (uint32_t i = 0; i < ax; i++) dims[r++] = data->dims[i];
    for (uint32_t i = 0; i < idx->rank; i++) dims[r++] = idx->dims[i];
    for (uint32_t i = ax + 1; i < data->rank; i++) dims[r++] = data->dims[i];
    if ((st = qlite_node_set_output_shape(node, 0, r, dims)) != QLITE_OK) return st;
    s->outer = s->inner = 1;
    for (uint32_t i = 0; i < ax; i++) s->outer *= (size_t)data->dims[i];
    for (uint32_t i = ax + 1; i < data->rank; i++) s->inner *= (size_t)data->dims[i];
    s->d = data->dims[ax];
    s->nidx = qlite_tensor_elements(idx);
    if (s->dequant) {
        qlite_qparams qp;
        const bool sgn = data->dtype == QLITE_DTYPE_INT8;
        if ((st = qlite_qparams_init(node, data, "data", sgn ? -128 : 0, sgn ? 127 : 255, &qp)))
            return st;
        const qlite_quant *q = di->quant;
        uint32_t qax = 0;
        if (q->count > 1 && (!qlite_normalize_axis(q->axis, data->rank, &qax) || qax != ax))
            return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                    "data '%s' is quantized along axis %d; dequantizing while "
                                    "gathering takes one scale per tensor or per gathered index "
                                    "(axis %u)",
                                    di->name, q->axis, ax);
        s->per_index = q->count > 1;
        s->is_signed = sgn;
        s->scale = q->scale;
        s->zp = q->zero_point;
    }
    if (idx->is_const) {
        int64_t v;
        for (size_t i = 0; i < s->nidx; i++)
            if (!get_index(idx, i, s->d, &v)) return index_error(node, idx, i, s->d);
    }
    node->state = s;
    return QLITE_OK;
}

typedef struct gather_job {
    const gather_state *s;
    const qlite_tensor *idx;
    const unsigned char *data;
    unsigned char *out;
} gather_job;

/* Output slices [begin, end) of outer * nidx (slice o * nidx + j: outer
 * index o, index position j), each a copy, widening or dequantization of
 * one gathered slice of `inner` elements. */
static void gather_range(void *arg, size_t begin, size_t end) {
    const gather_job *g = arg;
    const gather_state *s = g->s;
    const size_t in_row = s->inner * s->in_elem, out_row = s->inner * s->out_elem;
    for (size_t r = begin; r < end; r++) {
        const size_t o = r / s->nidx, j = r % s->nidx;
        int64_t v;
        get_index(g->idx, j, s->d, &v);
        const unsigned char *row = g->data + (o * (size_t)s->d + (size_t)v) * in_row;
        unsigned char *dst = g->out + r * out_row;
        if (s->widen_f16) {
            const uint16_t *h = (const uint16_t *)(const void *)row;
            float *f = (float *)(void *)dst;
            for (size_t k = 0; k < s->inner; k++) f[k] = qlite_fp16_to_fp32(h[k]);
        } else if (s->dequant) {
            const size_t c = s->per_index ? (size_t)v : 0;
            const float sc = s->scale[c];
            const int32_t z = s->zp[c];
            float *f = (float *)(void *)dst;
            for (size_t k = 0; k < s->inner; k++)
                f[k] = sc * (float)(qlite_q8_decode(row[k], s->is_signed) - z);
        } else {
            memcpy(dst, row, out_row);
        }
    }
}

static qlite_status gather_eval(qlite_node *node) {
    const gather_state *s = node->state;
    const qlite_tensor *idx = node->inputs[1];
    for (size_t j = 0; j < s->nidx; j++) { /* check all before writing anything */
        int64_t v;
        if (!get_index(idx, j, s->d, &v)) return index_error(node, idx, j, s->d);
    }
    gather_job g = {.s = s, .idx = idx, .data = node->inputs[0]->data,
                    .out = node->outputs[0]->data};
    /* slices between threads; the cost is the bytes moved (a copy of data
     * another op's threads wrote runs at cache-to-cache speed: issue #6,
     * threadpool.c), so e.g. one of a transformer's q / k / v slices of a
     * 128 x 768 float32 activation (128 KiB) is split and its int8 form is
     * at the threshold */
    qlite_kernel_parallel(node, s->outer * s->nidx, s->inner * (s->in_elem + s->out_elem),
                          gather_range, &g);
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_gather = {
    .prepare = gather_prepare, .eval = gather_eval, .raw_inputs = 1u << 0};
