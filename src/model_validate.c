/*
 * model_validate.c — the semantic rules of docs/format.md ("Validation") over
 * the decoded model. model_decode.c has already checked every value on its
 * own (enums, index ranges, vector lengths, buffer ranges); this file checks
 * how values fit together:
 *   1. each tensor: dims, overflow-checked element and byte counts, the
 *      constant's byte size against its shape, dtype and storage (dense,
 *      O16I4, sparse, clustered), quantization against the shape and dtype;
 *   2. sparse index arrays: row pointers and column indices (the only bytes
 *      of the data section that open reads);
 *   3. the graph: indices in range, inputs/outputs unique, each op's options
 *      type fits its op code, every op input defined before use, every tensor
 *      produced at most once, graph outputs defined.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "packed_layout.h"

/* ------------------------------------------------------------------------ */
/* Op code -> options table                                                  */
/* ------------------------------------------------------------------------ */

static const uint8_t op_options[QLITE_OP_COUNT] = {
    [QLITE_OP_CONV_2D] = QLITE_OPTIONS_CONV_2D,
    [QLITE_OP_DEPTHWISE_CONV_2D] = QLITE_OPTIONS_CONV_2D,
    [QLITE_OP_TRANSPOSE_CONV_2D] = QLITE_OPTIONS_CONV_2D,
    [QLITE_OP_FULLY_CONNECTED] = QLITE_OPTIONS_FULLY_CONNECTED,
    [QLITE_OP_BATCH_MATMUL] = QLITE_OPTIONS_BATCH_MATMUL,
    [QLITE_OP_ADD] = QLITE_OPTIONS_BINARY,
    [QLITE_OP_SUB] = QLITE_OPTIONS_BINARY,
    [QLITE_OP_MUL] = QLITE_OPTIONS_BINARY,
    [QLITE_OP_DIV] = QLITE_OPTIONS_BINARY,
    [QLITE_OP_POW] = QLITE_OPTIONS_BINARY,
    [QLITE_OP_MINIMUM] = QLITE_OPTIONS_BINARY,
    [QLITE_OP_MAXIMUM] = QLITE_OPTIONS_BINARY,
    [QLITE_OP_SQRT] = QLITE_OPTIONS_NONE,
    [QLITE_OP_EXP] = QLITE_OPTIONS_NONE,
    [QLITE_OP_LOG] = QLITE_OPTIONS_NONE,
    [QLITE_OP_ERF] = QLITE_OPTIONS_NONE,
    [QLITE_OP_NEG] = QLITE_OPTIONS_NONE,
    [QLITE_OP_ABS] = QLITE_OPTIONS_NONE,
    [QLITE_OP_RELU] = QLITE_OPTIONS_NONE,
    [QLITE_OP_RELU6] = QLITE_OPTIONS_NONE,
    [QLITE_OP_LEAKY_RELU] = QLITE_OPTIONS_ACTIVATION,
    [QLITE_OP_PRELU] = QLITE_OPTIONS_NONE,
    [QLITE_OP_CLIP] = QLITE_OPTIONS_ACTIVATION,
    [QLITE_OP_LOGISTIC] = QLITE_OPTIONS_NONE,
    [QLITE_OP_TANH] = QLITE_OPTIONS_NONE,
    [QLITE_OP_HARD_SIGMOID] = QLITE_OPTIONS_ACTIVATION,
    [QLITE_OP_HARD_SWISH] = QLITE_OPTIONS_NONE,
    [QLITE_OP_GELU] = QLITE_OPTIONS_ACTIVATION,
    [QLITE_OP_SOFTMAX] = QLITE_OPTIONS_SOFTMAX,
    [QLITE_OP_LOG_SOFTMAX] = QLITE_OPTIONS_SOFTMAX,
    [QLITE_OP_MAX_POOL_2D] = QLITE_OPTIONS_POOL_2D,
    [QLITE_OP_AVERAGE_POOL_2D] = QLITE_OPTIONS_POOL_2D,
    [QLITE_OP_RESHAPE] = QLITE_OPTIONS_RESHAPE,
    [QLITE_OP_TRANSPOSE] = QLITE_OPTIONS_TRANSPOSE,
    [QLITE_OP_CONCATENATION] = QLITE_OPTIONS_CONCATENATION,
    [QLITE_OP_SPLIT] = QLITE_OPTIONS_SPLIT,
    [QLITE_OP_SLICE] = QLITE_OPTIONS_SLICE,
    [QLITE_OP_PAD] = QLITE_OPTIONS_PAD,
    [QLITE_OP_GATHER] = QLITE_OPTIONS_GATHER,
    [QLITE_OP_REDUCE_MEAN] = QLITE_OPTIONS_REDUCE,
    [QLITE_OP_REDUCE_SUM] = QLITE_OPTIONS_REDUCE,
    [QLITE_OP_REDUCE_MAX] = QLITE_OPTIONS_REDUCE,
    [QLITE_OP_REDUCE_MIN] = QLITE_OPTIONS_REDUCE,
    [QLITE_OP_BATCH_NORM] = QLITE_OPTIONS_NORM,
    [QLITE_OP_LAYER_NORM] = QLITE_OPTIONS_NORM,
    [QLITE_OP_RESIZE] = QLITE_OPTIONS_RESIZE,
    [QLITE_OP_LSTM] = QLITE_OPTIONS_RNN,
    [QLITE_OP_GRU] = QLITE_OPTIONS_RNN,
    [QLITE_OP_CAST] = QLITE_OPTIONS_CAST,
    [QLITE_OP_QUANTIZE] = QLITE_OPTIONS_NONE,
    [QLITE_OP_DEQUANTIZE] = QLITE_OPTIONS_NONE,
    [QLITE_OP_ELU] = QLITE_OPTIONS_ACTIVATION,
    [QLITE_OP_RECIPROCAL] = QLITE_OPTIONS_NONE,
    [QLITE_OP_SQUARE] = QLITE_OPTIONS_NONE,
    [QLITE_OP_EMBEDDING_BAG] = QLITE_OPTIONS_NONE,
};
_Static_assert(QLITE_OP_EMBEDDING_BAG + 1 == QLITE_OP_COUNT, "op_options out of date");

qlite_options_type qlite_op_options_type(qlite_op_code code) {
    return (unsigned)code < QLITE_OP_COUNT ? (qlite_options_type)op_options[code]
                                           : QLITE_OPTIONS_NONE;
}

static const char *const options_names[] = {
    "NONE",
    "Conv2DOptions",
    "Pool2DOptions",
    "FullyConnectedOptions",
    "BatchMatMulOptions",
    "BinaryOptions",
    "ActivationOptions",
    "SoftmaxOptions",
    "ReshapeOptions",
    "TransposeOptions",
    "ConcatenationOptions",
    "SplitOptions",
    "SliceOptions",
    "PadOptions",
    "GatherOptions",
    "ReduceOptions",
    "NormOptions",
    "ResizeOptions",
    "RnnOptions",
    "CastOptions",
};
_Static_assert(QLITE_ARRAY_SIZE(options_names) == QLITE_OPTIONS_COUNT, "options_names");

/* ------------------------------------------------------------------------ */
/* Tensors                                                                   */
/* ------------------------------------------------------------------------ */

#define TF "tensor %u '%s'"

static const char *fmt_shape(char *buf, size_t n, const qlite_tensor_info *t) {
    size_t k = 0;
    buf[0] = '\0';
    k += (size_t)snprintf(buf, n, "[");
    for (uint32_t i = 0; i < t->rank && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
    return buf;
}

static uint32_t index_width(qlite_index_type t) {
    return t == QLITE_INDEX_UINT8 ? 1u : t == QLITE_INDEX_UINT16 ? 2u : 4u;
}

static uint64_t load_index(const uint8_t *p, uint32_t width, uint64_t i) {
    if (width == 1) return p[i];
    if (width == 2) {
        uint16_t v;
        memcpy(&v, p + 2 * i, 2);
        return v;
    }
    uint32_t v;
    memcpy(&v, p + 4 * i, 4);
    return v;
}

static qlite_status validate_quant(const qlite_model *m, uint32_t ti) {
    const qlite_tensor_info *t = &m->tensors[ti];
    const qlite_quant *q = t->quant;
    int64_t lo, hi;
    switch (t->dtype) {
    case QLITE_DTYPE_INT8: lo = -128; hi = 127; break;
    case QLITE_DTYPE_UINT8: lo = 0; hi = 255; break;
    case QLITE_DTYPE_INT16: lo = -32768; hi = 32767; break;
    case QLITE_DTYPE_INT32: lo = INT32_MIN; hi = INT32_MAX; break;
    case QLITE_DTYPE_INT4: lo = -8; hi = 7; break;
    default:
        return qlite_error(QLITE_ERR_CORRUPT,
                           TF ": quantization on a %s tensor (only int8, uint8, int16, int32 and "
                           "int4 tensors are quantized)",
                           ti, t->name, qlite_dtype_name(t->dtype));
    }
    if (q->count > 1) {
        char s[128];
        if (q->axis < 0 || (uint32_t)q->axis >= t->rank)
            return qlite_error(QLITE_ERR_CORRUPT,
                               TF ": per-channel quantization axis %d is outside rank %u", ti,
                               t->name, q->axis, t->rank);
        if (t->shape[q->axis] != (int64_t)q->count)
            return qlite_error(QLITE_ERR_CORRUPT,
                               TF ": %u per-channel scales but dim %d of shape %s is %lld", ti,
                               t->name, q->count, q->axis, fmt_shape(s, sizeof s, t),
                               (long long)t->shape[q->axis]);
    }
    for (uint32_t i = 0; i < q->count; i++) {
        if (!isfinite(q->scale[i]) || !(q->scale[i] > 0.0f))
            return qlite_error(QLITE_ERR_CORRUPT,
                               TF ": quantization scale[%u] = %g (must be finite and > 0)", ti,
                               t->name, i, (double)q->scale[i]);
        if (q->zero_point[i] < lo || q->zero_point[i] > hi)
            return qlite_error(QLITE_ERR_CORRUPT,
                               TF ": zero_point[%u] = %d is outside the %s range %lld..%lld", ti,
                               t->name, i, q->zero_point[i], qlite_dtype_name(t->dtype),
                               (long long)lo, (long long)hi);
    }
    for (uint32_t i = 0; i < q->range_count; i++) {
        if (!isfinite(q->min[i]) || !isfinite(q->max[i]) || q->min[i] > q->max[i])
            return qlite_error(QLITE_ERR_CORRUPT,
                               TF ": calibration range[%u] = [%g, %g] (must be finite, min <= max)",
                               ti, t->name, i, (double)q->min[i], (double)q->max[i]);
    }
    return QLITE_OK;
}

static qlite_status expect_size(const qlite_model *m, uint32_t ti, const char *what,
                                uint32_t buffer, uint64_t want) {
    const qlite_tensor_info *t = &m->tensors[ti];
    uint64_t have = buffer ? m->buffers[buffer].size : 0;
    if (have == want) return QLITE_OK;
    char s[128];
    return qlite_error(QLITE_ERR_CORRUPT,
                       TF ": %s (buffer %u) has %llu bytes, but %s %s needs %llu", ti, t->name,
                       what, buffer, (unsigned long long)have, qlite_dtype_name(t->dtype),
                       fmt_shape(s, sizeof s, t), (unsigned long long)want);
}

/* Clustered storage of nvalues indices over `rows` rows of the 2-D view. */
static qlite_status validate_clustering(const qlite_model *m, uint32_t ti, uint64_t nvalues,
                                        uint64_t rows) {
    const qlite_tensor_info *t = &m->tensors[ti];
    const qlite_clustering *c = t->clustering;
    uint32_t bits = 0;
    while ((1u << bits) < c->num_clusters) bits++;
    if (c->index_bits != bits)
        return qlite_error(QLITE_ERR_CORRUPT,
                           TF ": clustering index_bits is %u but %u clusters need exactly %u", ti,
                           t->name, c->index_bits, c->num_clusters, bits);
    if (c->codebook_buffer == 0)
        return qlite_error(QLITE_ERR_CORRUPT, TF ": clustered but codebook_buffer is 0", ti,
                           t->name);
    uint64_t entries = 1ull << bits, cb_bytes, stream_bits;
    if (c->per_row && (t->rank == 0 || qlite_mul_overflow_u64(entries, rows, &entries)))
        return qlite_error(QLITE_ERR_CORRUPT, TF ": per-row codebook size overflows", ti, t->name);
    if (!qlite_dtype_bytes(t->dtype, entries, &cb_bytes))
        return qlite_error(QLITE_ERR_CORRUPT, TF ": codebook size overflows", ti, t->name);
    if (m->buffers[c->codebook_buffer].size != cb_bytes)
        return qlite_error(QLITE_ERR_CORRUPT,
                           TF ": codebook (buffer %u) has %llu bytes, expected %llu (%llu %s "
                           "entries: 2^%u%s)",
                           ti, t->name, c->codebook_buffer,
                           (unsigned long long)m->buffers[c->codebook_buffer].size,
                           (unsigned long long)cb_bytes, (unsigned long long)entries,
                           qlite_dtype_name(t->dtype), bits, c->per_row ? " per row" : "");
    if (qlite_mul_overflow_u64(nvalues, bits, &stream_bits))
        return qlite_error(QLITE_ERR_CORRUPT, TF ": index bitstream size overflows", ti, t->name);
    uint64_t want = stream_bits / 8 + (stream_bits % 8 != 0);
    if (t->data_size != want)
        return qlite_error(QLITE_ERR_CORRUPT,
                           TF ": clustered index bitstream (buffer %u) has %llu bytes, expected "
                           "%llu (%llu values x %u bits)",
                           ti, t->name, t->buffer, (unsigned long long)t->data_size,
                           (unsigned long long)want, (unsigned long long)nvalues, bits);
    return QLITE_OK;
}

static qlite_status validate_sparsity(qlite_model *m, uint32_t ti, uint64_t rows, uint64_t cols) {
    const qlite_tensor_info *t = &m->tensors[ti];
    const qlite_sparsity *sp = t->sparsity;
    char s[128];
    if (t->rank == 0)
        return qlite_error(QLITE_ERR_CORRUPT, TF ": a sparse tensor needs rank >= 1", ti, t->name);
    if (rows % sp->block_rows || cols % sp->block_cols)
        return qlite_error(QLITE_ERR_CORRUPT,
                           TF ": sparse block %ux%u does not divide the 2-D view [%llu, %llu] of "
                           "shape %s",
                           ti, t->name, sp->block_rows, sp->block_cols, (unsigned long long)rows,
                           (unsigned long long)cols, fmt_shape(s, sizeof s, t));
    uint64_t nbr = rows / sp->block_rows, nbc = cols / sp->block_cols, max_nnz;
    if (qlite_mul_overflow_u64(nbr, nbc, &max_nnz) || sp->nnz_blocks > max_nnz)
        return qlite_error(QLITE_ERR_CORRUPT,
                           TF ": nnz_blocks %llu exceeds the %llu x %llu blocks of the tensor", ti,
                           t->name, (unsigned long long)sp->nnz_blocks, (unsigned long long)nbr,
                           (unsigned long long)nbc);
    uint32_t wr = index_width(sp->row_ptr_type), wc = index_width(sp->col_index_type);
    uint64_t rp_bytes, ci_bytes;
    if (qlite_mul_overflow_u64(nbr + 1, wr, &rp_bytes) ||
        qlite_mul_overflow_u64(sp->nnz_blocks, wc, &ci_bytes) ||
        rp_bytes > UINT64_MAX - ci_bytes)
        return qlite_error(QLITE_ERR_CORRUPT, TF ": sparse index sizes overflow", ti, t->name);
    if (sp->row_ptr_buffer == 0)
        return qlite_error(QLITE_ERR_CORRUPT, TF ": sparse but row_ptr_buffer is 0", ti, t->name);
    if (m->buffers[sp->row_ptr_buffer].size != rp_bytes)
        return qlite_error(QLITE_ERR_CORRUPT,
                           TF ": row_ptr (buffer %u) has %llu bytes, expected %llu (%llu rows of "
                           "blocks + 1, %u-byte indices)",
                           ti, t->name, sp->row_ptr_buffer,
                           (unsigned long long)m->buffers[sp->row_ptr_buffer].size,
                           (unsigned long long)rp_bytes, (unsigned long long)nbr, wr);
    uint64_t ci_have = sp->col_index_buffer ? m->buffers[sp->col_index_buffer].size : 0;
    if (ci_have != ci_bytes)
        return qlite_error(QLITE_ERR_CORRUPT,
                           TF ": col_index (buffer %u) has %llu bytes, expected %llu (%llu blocks, "
                           "%u-byte indices)",
                           ti, t->name, sp->col_index_buffer, (unsigned long long)ci_have,
                           (unsigned long long)ci_bytes, (unsigned long long)sp->nnz_blocks, wc);
    uint64_t nvalues = sp->nnz_blocks * sp->block_rows * sp->block_cols, vbytes; /* <= rows*cols */
    qlite_status st;
    if (t->clustering) {
        if ((st = validate_clustering(m, ti, nvalues, rows))) return st;
    } else {
        if (!qlite_dtype_bytes(t->dtype, nvalues, &vbytes))
            return qlite_error(QLITE_ERR_CORRUPT, TF ": value size overflows", ti, t->name);
        if (t->data_size != vbytes)
            return qlite_error(QLITE_ERR_CORRUPT,
                               TF ": sparse values (buffer %u) have %llu bytes, expected %llu "
                               "(%llu blocks of %ux%u %s)",
                               ti, t->name, t->buffer, (unsigned long long)t->data_size,
                               (unsigned long long)vbytes, (unsigned long long)sp->nnz_blocks,
                               sp->block_rows, sp->block_cols, qlite_dtype_name(t->dtype));
    }

    /* The index arrays themselves: the only data-section bytes open reads. */
    if (rp_bytes + ci_bytes > m->scan_budget)
        return qlite_error(QLITE_ERR_CORRUPT,
                           TF ": sparse index arrays exceed the validation budget (index "
                           "buffers shared by many tensors?)",
                           ti, t->name);
    m->scan_budget -= rp_bytes + ci_bytes;
    const uint8_t *rp = sp->row_ptr, *ci = sp->col_index;
    uint64_t rp_off = m->buffers[sp->row_ptr_buffer].offset;
    uint64_t ci_off = sp->col_index_buffer ? m->buffers[sp->col_index_buffer].offset : 0;
    uint64_t prev = load_index(rp, wr, 0);
    if (prev != 0)
        return qlite_error(QLITE_ERR_CORRUPT, TF ": row_ptr[0] = %llu (file byte %llu), must be 0",
                           ti, t->name, (unsigned long long)prev, (unsigned long long)rp_off);
    for (uint64_t r = 0; r < nbr; r++) {
        uint64_t next = load_index(rp, wr, r + 1);
        if (next < prev || next > sp->nnz_blocks)
            return qlite_error(QLITE_ERR_CORRUPT,
                               TF ": row_ptr[%llu] = %llu (file byte %llu) after %llu: row "
                               "pointers must rise monotonically from 0 to nnz_blocks = %llu",
                               ti, t->name, (unsigned long long)(r + 1), (unsigned long long)next,
                               (unsigned long long)(rp_off + (r + 1) * wr),
                               (unsigned long long)prev, (unsigned long long)sp->nnz_blocks);
        for (uint64_t k = prev; k < next; k++) {
            uint64_t c = load_index(ci, wc, k);
            if (c >= nbc)
                return qlite_error(QLITE_ERR_CORRUPT,
                                   TF ": col_index[%llu] = %llu (file byte %llu) in block row %llu "
                                   "is not below the %llu block columns",
                                   ti, t->name, (unsigned long long)k, (unsigned long long)c,
                                   (unsigned long long)(ci_off + k * wc), (unsigned long long)r,
                                   (unsigned long long)nbc);
            if (k > prev && c <= load_index(ci, wc, k - 1))
                return qlite_error(QLITE_ERR_CORRUPT,
                                   TF ": col_index[%llu] = %llu (file byte %llu) in block row %llu "
                                   "does not increase strictly",
                                   ti, t->name, (unsigned long long)k, (unsigned long long)c,
                                   (unsigned long long)(ci_off + k * wc), (unsigned long long)r);
        }
        prev = next;
    }
    if (prev != sp->nnz_blocks)
        return qlite_error(QLITE_ERR_CORRUPT,
                           TF ": row_ptr ends at %llu but nnz_blocks is %llu", ti, t->name,
                           (unsigned long long)prev, (unsigned long long)sp->nnz_blocks);
    return QLITE_OK;
}

static qlite_status validate_tensor(qlite_model *m, uint32_t ti) {
    const qlite_tensor_info *t = &m->tensors[ti];
    bool is_const = t->buffer != 0;
    char s[128];
    uint64_t elements = 1, bytes, cols = 1;
    for (uint32_t d = 0; d < t->rank; d++) {
        int64_t v = t->shape[d];
        if (v < 0 && !(v == -1 && d == 0 && !is_const))
            return qlite_error(QLITE_ERR_CORRUPT,
                               TF ": dim %u of shape %s is %lld (dims are >= 0; only dim 0 of a "
                               "non-constant may be -1)",
                               ti, t->name, d, fmt_shape(s, sizeof s, t), (long long)v);
        uint64_t u = v < 0 ? 1 : (uint64_t)v;
        if (qlite_mul_overflow_u64(elements, u, &elements))
            return qlite_error(QLITE_ERR_CORRUPT, TF ": element count of shape %s overflows", ti,
                               t->name, fmt_shape(s, sizeof s, t));
        if (d > 0 && qlite_mul_overflow_u64(cols, u, &cols))
            return qlite_error(QLITE_ERR_CORRUPT, TF ": column count of shape %s overflows", ti,
                               t->name, fmt_shape(s, sizeof s, t));
    }
    if (!qlite_dtype_bytes(t->dtype, elements, &bytes))
        return qlite_error(QLITE_ERR_CORRUPT, TF ": byte size of %s %s overflows", ti, t->name,
                           qlite_dtype_name(t->dtype), fmt_shape(s, sizeof s, t));
    qlite_status st;
    if (t->quant && (st = validate_quant(m, ti))) return st;
    if (!is_const) {
        if (t->sparsity || t->clustering || t->layout != QLITE_LAYOUT_DEFAULT)
            return qlite_error(QLITE_ERR_CORRUPT,
                               TF ": has %s but no buffer (only constants have a storage form)",
                               ti, t->name,
                               t->sparsity     ? "sparsity"
                               : t->clustering ? "clustering"
                                               : "a packed layout");
        return QLITE_OK;
    }
    uint64_t rows = t->rank ? (uint64_t)t->shape[0] : 1;
    if (qlite_layout_is_packed(t->layout)) {
        const char *lname = t->layout == QLITE_LAYOUT_O16I4 ? "O16I4" : "O16";
        if (t->sparsity || t->clustering)
            return qlite_error(QLITE_ERR_CORRUPT,
                               TF ": the %s layout cannot be combined with %s", ti, t->name,
                               lname, t->sparsity ? "sparsity" : "clustering");
        if (t->layout == QLITE_LAYOUT_O16 && t->dtype != QLITE_DTYPE_FLOAT32 &&
            t->dtype != QLITE_DTYPE_FLOAT16)
            return qlite_error(QLITE_ERR_CORRUPT,
                               TF ": the O16 layout holds float32 or float16, not %s", ti,
                               t->name, qlite_dtype_name(t->dtype));
        /* every matrix of the packed view, padded (packed_layout.h) */
        qlite_packed_view v;
        if (!qlite_packed_view_of(t->layout, t->rank, t->shape, &v) ||
            !qlite_dtype_bytes(t->dtype, qlite_packed_elems(&v), &bytes))
            return qlite_error(QLITE_ERR_CORRUPT, TF ": %s size overflows", ti, t->name, lname);
        return expect_size(m, ti, t->layout == QLITE_LAYOUT_O16I4 ? "O16I4 data" : "O16 data",
                           t->buffer, bytes);
    }
    if (t->sparsity) return validate_sparsity(m, ti, rows, cols);
    if (t->clustering) return validate_clustering(m, ti, elements, rows);
    return expect_size(m, ti, "data", t->buffer, bytes);
}

/* ------------------------------------------------------------------------ */
/* Graph                                                                     */
/* ------------------------------------------------------------------------ */

enum { T_INPUT = 1, T_OUTPUT = 2 };

static qlite_status validate_graph(const qlite_model *m, int32_t *producer, uint8_t *flags) {
    uint32_t nt = m->num_tensors;
    for (uint32_t i = 0; i < nt; i++) producer[i] = -1;

    for (uint32_t i = 0; i < m->num_inputs; i++) {
        int32_t x = m->inputs[i];
        if (x < 0 || (uint32_t)x >= nt)
            return qlite_error(QLITE_ERR_CORRUPT, "graph input %u is tensor %d, out of range (%u tensors)",
                               i, x, nt);
        if (flags[x] & T_INPUT)
            return qlite_error(QLITE_ERR_CORRUPT, "graph input %u: tensor %d '%s' is listed twice",
                               i, x, m->tensors[x].name);
        if (m->tensors[x].buffer)
            return qlite_error(QLITE_ERR_CORRUPT,
                               "graph input %u: tensor %d '%s' is a constant (has buffer %u)", i,
                               x, m->tensors[x].name, m->tensors[x].buffer);
        flags[x] |= T_INPUT;
    }

    /* Pass 1: who produces what; outputs in range, produced at most once. */
    for (uint32_t oi = 0; oi < m->num_ops; oi++) {
        const qlite_op_info *op = &m->ops[oi];
        for (uint32_t k = 0; k < op->num_outputs; k++) {
            int32_t x = op->outputs[k];
            if (x < 0 || (uint32_t)x >= nt)
                return qlite_error(QLITE_ERR_CORRUPT,
                                   "op %u %s '%s': output %u is tensor %d, out of range (%u "
                                   "tensors)",
                                   oi, qlite_op_name(op->code), op->name, k, x, nt);
            const qlite_tensor_info *t = &m->tensors[x];
            if (producer[x] >= 0)
                return qlite_error(QLITE_ERR_CORRUPT,
                                   "tensor %d '%s' is produced twice: by op %d and by op %u %s "
                                   "'%s'",
                                   x, t->name, producer[x], oi, qlite_op_name(op->code), op->name);
            if (t->buffer || (flags[x] & T_INPUT))
                return qlite_error(QLITE_ERR_CORRUPT,
                                   "op %u %s '%s': output %u writes tensor %d '%s', which is a %s",
                                   oi, qlite_op_name(op->code), op->name, k, x, t->name,
                                   t->buffer ? "constant" : "graph input");
            producer[x] = (int32_t)oi;
        }
    }

    /* Pass 2, in execution order: options fit the op, inputs defined. */
    for (uint32_t oi = 0; oi < m->num_ops; oi++) {
        const qlite_op_info *op = &m->ops[oi];
        qlite_options_type want = qlite_op_options_type(op->code);
        if (op->options.type != want)
            return qlite_error(QLITE_ERR_CORRUPT, "op %u %s '%s': options are %s, expected %s", oi,
                               qlite_op_name(op->code), op->name, options_names[op->options.type],
                               want ? options_names[want] : "none");
        for (uint32_t k = 0; k < op->num_inputs; k++) {
            int32_t x = op->inputs[k];
            if (x == -1) continue; /* optional input absent */
            if (x < -1 || (uint32_t)x >= nt)
                return qlite_error(QLITE_ERR_CORRUPT,
                                   "op %u %s '%s': input %u is tensor %d, out of range (-1 or "
                                   "0..%u)",
                                   oi, qlite_op_name(op->code), op->name, k, x, nt ? nt - 1 : 0);
            const qlite_tensor_info *t = &m->tensors[x];
            if (t->buffer || (flags[x] & T_INPUT)) continue;
            if (producer[x] < 0)
                return qlite_error(QLITE_ERR_CORRUPT,
                                   "op %u %s '%s': input %u is tensor %d '%s', which is not a "
                                   "graph input, not a constant and produced by no op",
                                   oi, qlite_op_name(op->code), op->name, k, x, t->name);
            if ((uint32_t)producer[x] >= oi)
                return qlite_error(QLITE_ERR_CORRUPT,
                                   "op %u %s '%s': input %u is tensor %d '%s', produced by op %d "
                                   "which does not run before it (cycle or use before definition)",
                                   oi, qlite_op_name(op->code), op->name, k, x, t->name,
                                   producer[x]);
        }
    }

    for (uint32_t i = 0; i < m->num_outputs; i++) {
        int32_t x = m->outputs[i];
        if (x < 0 || (uint32_t)x >= nt)
            return qlite_error(QLITE_ERR_CORRUPT,
                               "graph output %u is tensor %d, out of range (%u tensors)", i, x, nt);
        if (flags[x] & T_OUTPUT)
            return qlite_error(QLITE_ERR_CORRUPT, "graph output %u: tensor %d '%s' is listed twice",
                               i, x, m->tensors[x].name);
        flags[x] |= T_OUTPUT;
        if (producer[x] < 0 && !(flags[x] & T_INPUT))
            return qlite_error(QLITE_ERR_CORRUPT,
                               "graph output %u: tensor %d '%s' is neither produced by an op nor a "
                               "graph input",
                               i, x, m->tensors[x].name);
    }
    return QLITE_OK;
}

qlite_status qlite_model_validate(qlite_model *m) {
    qlite_status st;
    for (uint32_t i = 0; i < m->num_tensors; i++)
        if ((st = validate_tensor(m, i))) return st;
    size_t nt = m->num_tensors ? m->num_tensors : 1;
    int32_t *producer = malloc(nt * sizeof *producer);
    uint8_t *flags = calloc(nt, 1);
    if (!producer || !flags) {
        free(producer);
        free(flags);
        return qlite_error(QLITE_ERR_NO_MEMORY, "validate: out of memory");
    }
    st = validate_graph(m, producer, flags);
    free(producer);
    free(flags);
    return st;
}
