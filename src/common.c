/*
 * common.c — status strings, the per-thread error message, dtype and op
 * names, fp16 conversion, aligned allocation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite_internal.h"

static _Thread_local char last_error[QLITE_ERROR_MAX];

static const char *const status_names[] = {
    [QLITE_OK] = "QLITE_OK",
    [QLITE_ERR_INVALID_ARGUMENT] = "QLITE_ERR_INVALID_ARGUMENT",
    [QLITE_ERR_NO_MEMORY] = "QLITE_ERR_NO_MEMORY",
    [QLITE_ERR_IO] = "QLITE_ERR_IO",
    [QLITE_ERR_NOT_QLITE] = "QLITE_ERR_NOT_QLITE",
    [QLITE_ERR_UNSUPPORTED_VERSION] = "QLITE_ERR_UNSUPPORTED_VERSION",
    [QLITE_ERR_CORRUPT] = "QLITE_ERR_CORRUPT",
    [QLITE_ERR_UNSUPPORTED_OP] = "QLITE_ERR_UNSUPPORTED_OP",
    [QLITE_ERR_UNSUPPORTED] = "QLITE_ERR_UNSUPPORTED",
    [QLITE_ERR_BAD_STATE] = "QLITE_ERR_BAD_STATE",
    [QLITE_ERR_SHAPE] = "QLITE_ERR_SHAPE",
    [QLITE_ERR_DTYPE] = "QLITE_ERR_DTYPE",
    [QLITE_ERR_CHECKSUM] = "QLITE_ERR_CHECKSUM",
};
_Static_assert(QLITE_ARRAY_SIZE(status_names) == QLITE_STATUS_COUNT, "status_names out of date");

const char *qlite_status_string(qlite_status status) {
    if ((unsigned)status >= QLITE_STATUS_COUNT) return "QLITE_ERR_UNKNOWN";
    return status_names[status];
}

const char *qlite_version(void) { return QLITE_VERSION_STRING; }

const char *qlite_last_error(void) { return last_error; }

void qlite_clear_error(void) { last_error[0] = '\0'; }

qlite_status qlite_verror(qlite_status status, const char *fmt, va_list ap) {
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    return status;
}

qlite_status qlite_error(qlite_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    qlite_verror(status, fmt, ap);
    va_end(ap);
    return status;
}

static const struct {
    const char *name;
    uint32_t bits;
} dtype_table[] = {
    [QLITE_DTYPE_FLOAT32] = {"float32", 32}, [QLITE_DTYPE_FLOAT16] = {"float16", 16},
    [QLITE_DTYPE_INT8] = {"int8", 8},        [QLITE_DTYPE_UINT8] = {"uint8", 8},
    [QLITE_DTYPE_INT16] = {"int16", 16},     [QLITE_DTYPE_INT32] = {"int32", 32},
    [QLITE_DTYPE_INT64] = {"int64", 64},     [QLITE_DTYPE_BOOL] = {"bool", 8},
    [QLITE_DTYPE_INT4] = {"int4", 4},
};
_Static_assert(QLITE_ARRAY_SIZE(dtype_table) == QLITE_DTYPE_COUNT, "dtype_table out of date");

const char *qlite_dtype_name(qlite_dtype dtype) {
    return (unsigned)dtype < QLITE_DTYPE_COUNT ? dtype_table[dtype].name : "?";
}

uint32_t qlite_dtype_bits(qlite_dtype dtype) {
    return (unsigned)dtype < QLITE_DTYPE_COUNT ? dtype_table[dtype].bits : 0;
}

static const char *const op_names[] = {
    [QLITE_OP_CONV_2D] = "CONV_2D",
    [QLITE_OP_DEPTHWISE_CONV_2D] = "DEPTHWISE_CONV_2D",
    [QLITE_OP_TRANSPOSE_CONV_2D] = "TRANSPOSE_CONV_2D",
    [QLITE_OP_FULLY_CONNECTED] = "FULLY_CONNECTED",
    [QLITE_OP_BATCH_MATMUL] = "BATCH_MATMUL",
    [QLITE_OP_ADD] = "ADD",
    [QLITE_OP_SUB] = "SUB",
    [QLITE_OP_MUL] = "MUL",
    [QLITE_OP_DIV] = "DIV",
    [QLITE_OP_POW] = "POW",
    [QLITE_OP_MINIMUM] = "MINIMUM",
    [QLITE_OP_MAXIMUM] = "MAXIMUM",
    [QLITE_OP_SQRT] = "SQRT",
    [QLITE_OP_EXP] = "EXP",
    [QLITE_OP_LOG] = "LOG",
    [QLITE_OP_ERF] = "ERF",
    [QLITE_OP_NEG] = "NEG",
    [QLITE_OP_ABS] = "ABS",
    [QLITE_OP_RELU] = "RELU",
    [QLITE_OP_RELU6] = "RELU6",
    [QLITE_OP_LEAKY_RELU] = "LEAKY_RELU",
    [QLITE_OP_PRELU] = "PRELU",
    [QLITE_OP_CLIP] = "CLIP",
    [QLITE_OP_LOGISTIC] = "LOGISTIC",
    [QLITE_OP_TANH] = "TANH",
    [QLITE_OP_HARD_SIGMOID] = "HARD_SIGMOID",
    [QLITE_OP_HARD_SWISH] = "HARD_SWISH",
    [QLITE_OP_GELU] = "GELU",
    [QLITE_OP_SOFTMAX] = "SOFTMAX",
    [QLITE_OP_LOG_SOFTMAX] = "LOG_SOFTMAX",
    [QLITE_OP_MAX_POOL_2D] = "MAX_POOL_2D",
    [QLITE_OP_AVERAGE_POOL_2D] = "AVERAGE_POOL_2D",
    [QLITE_OP_RESHAPE] = "RESHAPE",
    [QLITE_OP_TRANSPOSE] = "TRANSPOSE",
    [QLITE_OP_CONCATENATION] = "CONCATENATION",
    [QLITE_OP_SPLIT] = "SPLIT",
    [QLITE_OP_SLICE] = "SLICE",
    [QLITE_OP_PAD] = "PAD",
    [QLITE_OP_GATHER] = "GATHER",
    [QLITE_OP_REDUCE_MEAN] = "REDUCE_MEAN",
    [QLITE_OP_REDUCE_SUM] = "REDUCE_SUM",
    [QLITE_OP_REDUCE_MAX] = "REDUCE_MAX",
    [QLITE_OP_REDUCE_MIN] = "REDUCE_MIN",
    [QLITE_OP_BATCH_NORM] = "BATCH_NORM",
    [QLITE_OP_LAYER_NORM] = "LAYER_NORM",
    [QLITE_OP_RESIZE] = "RESIZE",
    [QLITE_OP_LSTM] = "LSTM",
    [QLITE_OP_GRU] = "GRU",
    [QLITE_OP_CAST] = "CAST",
    [QLITE_OP_QUANTIZE] = "QUANTIZE",
    [QLITE_OP_DEQUANTIZE] = "DEQUANTIZE",
    [QLITE_OP_ELU] = "ELU",
    [QLITE_OP_RECIPROCAL] = "RECIPROCAL",
    [QLITE_OP_SQUARE] = "SQUARE",
    [QLITE_OP_EMBEDDING_BAG] = "EMBEDDING_BAG",
};
_Static_assert(QLITE_ARRAY_SIZE(op_names) == QLITE_OP_COUNT, "op_names out of date");

const char *qlite_op_name(qlite_op_code code) {
    return (unsigned)code < QLITE_OP_COUNT ? op_names[code] : "?";
}

uint64_t qlite_shape_elements(uint32_t rank, const int64_t *shape) {
    uint64_t n = 1;
    for (uint32_t i = 0; i < rank; i++) {
        if (shape[i] < -1) return 0;
        uint64_t d = shape[i] < 0 ? 1 : (uint64_t)shape[i];
        if (qlite_mul_overflow_u64(n, d, &n)) return 0;
    }
    return n;
}

/* binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. */
float qlite_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {                         /* inf / nan */
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp != 0) {                     /* normal */
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    } else if (man == 0) {                     /* zero */
        bits = sign;
    } else {                                   /* subnormal: normalize */
        uint32_t e = 113;
        while (!(man & 0x400u)) {
            man <<= 1;
            e--;
        }
        bits = sign | (e << 23) | ((man & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

uint16_t qlite_fp32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t exp = (x >> 23) & 0xffu;
    uint32_t man = x & 0x7fffffu;
    if (exp == 0xff)                           /* inf / nan (keep a quiet nan) */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u | (man >> 13) : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 0x1f) return (uint16_t)(sign | 0x7c00u); /* overflow -> inf */
    if (e <= 0) {                              /* subnormal or zero */
        if (e < -10) return sign;
        man |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1);
        uint32_t mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1u))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) half++; /* may carry into inf: correct */
    return (uint16_t)(sign | half);
}

void *qlite_aligned_alloc(size_t size) {
    if (size == 0) return NULL;
    size_t rounded = (size + 63) & ~(size_t)63;
    if (rounded < size) return NULL;
    return aligned_alloc(64, rounded);
}

void qlite_aligned_free(void *p) { free(p); }
