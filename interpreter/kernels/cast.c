/*
 * cast.c — CAST between float32, float16, int8, uint8, int16, int32, int64
 * and bool (CastOptions.to, which must equal the output's dtype).
 *
 * ONNX Cast semantics (onnx/docs/Operators.md, Cast):
 *   float -> float   round to nearest even; out of range gives +-inf;
 *   float -> integer truncate toward zero. ONNX leaves out-of-range values
 *                    undefined (C too): qlite saturates to the type's range
 *                    and maps NaN to 0, so the result is defined everywhere;
 *   integer -> integer keep the low bits (two's complement wrap, 200 -> -56);
 *   integer -> float nearest value;
 *   x -> bool        x != 0 (NaN is true);  bool -> x  1 or 0.
 * Elements go through a small block of double (float sources) or int64
 * (integer sources), which holds every source value exactly.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

enum { BLOCK = 256 };

static bool is_float(qlite_dtype t) { return t == QLITE_DTYPE_FLOAT32 || t == QLITE_DTYPE_FLOAT16; }

static bool cast_supported(qlite_dtype t) {
    return t == QLITE_DTYPE_FLOAT32 || t == QLITE_DTYPE_FLOAT16 || t == QLITE_DTYPE_INT8 ||
           t == QLITE_DTYPE_UINT8 || t == QLITE_DTYPE_INT16 || t == QLITE_DTYPE_INT32 ||
           t == QLITE_DTYPE_INT64 || t == QLITE_DTYPE_BOOL;
}

static void load_float(qlite_dtype t, const void *src, double *v, size_t n) {
    if (t == QLITE_DTYPE_FLOAT32) {
        const float *s = src;
        for (size_t i = 0; i < n; i++) v[i] = s[i];
    } else {
        const uint16_t *s = src;
        for (size_t i = 0; i < n; i++) v[i] = qlite_fp16_to_fp32(s[i]);
    }
}

static void load_int(qlite_dtype t, const void *src, int64_t *v, size_t n) {
    switch (t) {
#define LOAD(DT, T)                                                    \
    case DT: {                                                         \
        const T *s = src;                                              \
        for (size_t i = 0; i < n; i++) v[i] = (int64_t)s[i];           \
        break;                                                         \
    }
        LOAD(QLITE_DTYPE_INT8, int8_t)
        LOAD(QLITE_DTYPE_UINT8, uint8_t)
        LOAD(QLITE_DTYPE_INT16, int16_t)
        LOAD(QLITE_DTYPE_INT32, int32_t)
        LOAD(QLITE_DTYPE_INT64, int64_t)
#undef LOAD
    default: { /* bool: any non-zero byte is true */
        const uint8_t *s = src;
        for (size_t i = 0; i < n; i++) v[i] = s[i] != 0;
    }
    }
}

/* Truncate toward zero and saturate; NaN -> 0. */
#define SAT_TRUNC(T, d, lo, hi) \
    ((d) != (d) ? (T)0 : (d) <= (double)(lo) ? (T)(lo) : (d) >= (double)(hi) ? (T)(hi) : (T)(d))

static void store_from_float(qlite_dtype t, const double *v, void *dst, size_t n) {
    switch (t) {
    case QLITE_DTYPE_FLOAT32: {
        float *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = (float)v[i];
        break;
    }
    case QLITE_DTYPE_FLOAT16: {
        uint16_t *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = qlite_fp32_to_fp16((float)v[i]);
        break;
    }
    case QLITE_DTYPE_BOOL: {
        uint8_t *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = v[i] != 0.0;
        break;
    }
#define STORE(DT, T, LO, HI)                                                     \
    case DT: {                                                                   \
        T *d = dst;                                                              \
        for (size_t i = 0; i < n; i++) d[i] = SAT_TRUNC(T, v[i], LO, HI);        \
        break;                                                                   \
    }
        STORE(QLITE_DTYPE_INT8, int8_t, INT8_MIN, INT8_MAX)
        STORE(QLITE_DTYPE_UINT8, uint8_t, 0, UINT8_MAX)
        STORE(QLITE_DTYPE_INT16, int16_t, INT16_MIN, INT16_MAX)
        STORE(QLITE_DTYPE_INT32, int32_t, INT32_MIN, INT32_MAX)
#undef STORE
    case QLITE_DTYPE_INT64: {
        /* 2^63 is the first double above INT64_MAX */
        int64_t *d = dst;
        for (size_t i = 0; i < n; i++)
            d[i] = v[i] != v[i] ? 0
                   : v[i] >= 9223372036854775808.0 ? INT64_MAX
                   : v[i] <= -9223372036854775808.0 ? INT64_MIN : (int64_t)v[i];
        break;
    }
    default: break;
    }
}

static void store_from_int(qlite_dtype t, const int64_t *v, void *dst, size_t n) {
    switch (t) {
    case QLITE_DTYPE_FLOAT32: {
        float *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = (float)v[i];
        break;
    }
    case QLITE_DTYPE_FLOAT16: {
        uint16_t *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = qlite_fp32_to_fp16((float)v[i]);
        break;
    }
    case QLITE_DTYPE_BOOL: {
        uint8_t *d = dst;
        for (size_t i = 0; i < n; i++) d[i] = v[i] != 0;
        break;
    }
    default: {
        /* keep the low bytes (little-endian host: the first ones) */
        const size_t e = qlite_dtype_size(t);
        unsigned char *d = dst;
        for (size_t i = 0; i < n; i++) memcpy(d + i * e, &v[i], e);
    }
    }
}

static qlite_status cast_prepare(qlite_node *node) {
    qlite_status st = qlite_node_check_io(node, 1, 1, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    qlite_tensor *y = node->outputs[0];
    if (node->opts->type == QLITE_OPTIONS_CAST) {
        if (node->opts->u.cast.to != y->dtype)
            return qlite_node_error(node, QLITE_ERR_DTYPE,
                                    "casts to %s but the output is %s",
                                    qlite_dtype_name(node->opts->u.cast.to),
                                    qlite_dtype_name(y->dtype));
    } else if (node->opts->type != QLITE_OPTIONS_NONE) {
        return qlite_node_check_options(node, QLITE_OPTIONS_CAST);
    }
    if (!cast_supported(x->dtype) || !cast_supported(y->dtype))
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP, "cast from %s to %s is not supported",
                                qlite_dtype_name(x->dtype), qlite_dtype_name(y->dtype));
    return qlite_node_set_output_shape(node, 0, x->rank, x->dims);
}

static qlite_status cast_eval(qlite_node *node) {
    const qlite_tensor *x = node->inputs[0];
    qlite_tensor *y = node->outputs[0];
    const size_t n = qlite_tensor_elements(x);
    const size_t ein = qlite_dtype_size(x->dtype), eout = qlite_dtype_size(y->dtype);
    const unsigned char *src = x->data;
    unsigned char *dst = y->data;
    if (x->dtype == y->dtype) {
        if (dst != src) memmove(dst, src, n * ein);
        return QLITE_OK;
    }
    union { double f[BLOCK]; int64_t i[BLOCK]; } buf;
    for (size_t i = 0; i < n; i += BLOCK) {
        size_t m = n - i < BLOCK ? n - i : BLOCK;
        if (is_float(x->dtype)) {
            load_float(x->dtype, src + i * ein, buf.f, m);
            store_from_float(y->dtype, buf.f, dst + i * eout, m);
        } else {
            load_int(x->dtype, src + i * ein, buf.i, m);
            store_from_int(y->dtype, buf.i, dst + i * eout, m);
        }
    }
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_cast = {.prepare = cast_prepare, .eval = cast_eval};
