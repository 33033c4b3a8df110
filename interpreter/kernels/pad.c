/*
 * pad.c — PAD (any byte-addressable dtype): PadOptions pads
 * [begin_0..begin_{r-1}, end_0..end_{r-1}] (negative = crop), mode
 * CONSTANT / REFLECT / EDGE, value (real units: quantized with the output's
 * scale/zero point for a quantized integer tensor).
 *
 * Quantized int8/uint8 (docs/quantization.md §4.8): input and output must
 * have equal parameters (bytes are copied), and the constant is
 * clamp(round_half_even(value / scale) + zero_point) — 0.0 is the zero point
 * exactly. A NaN constant has no quantized value and is refused.
 *
 * Output coordinate o on an axis of size d with begin pad b reads input
 * i = o - b when 0 <= i < d; outside, CONSTANT writes the value, EDGE reads
 * the nearest edge, REFLECT mirrors without repeating the edge (numpy
 * 'reflect', repeated for pads longer than the axis).
 * eval walks output rows: a row whose outer coordinates fall in the constant
 * border is filled; otherwise its middle is one memcpy and its two borders
 * are computed element by element.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"
#include "kernels/quant_params.h"

typedef struct pad_state {
    uint32_t rank;
    int64_t in_dims[QLITE_MAX_RANK], out_dims[QLITE_MAX_RANK], begin[QLITE_MAX_RANK];
    int64_t in_strides[QLITE_MAX_RANK];
    qlite_pad_mode mode;
    size_t elem, out_count;
    unsigned char value[8];     /* the constant in the tensor's dtype */
} pad_state;

/* Input index for output coordinate o, or -1 for the constant. */
static int64_t pad_source(int64_t o, int64_t b, int64_t d, qlite_pad_mode mode) {
    int64_t i = o - b;
    if (i >= 0 && i < d) return i;
    if (mode == QLITE_PAD_CONSTANT) return -1;
    if (mode == QLITE_PAD_EDGE) return i < 0 ? 0 : d - 1;
    if (d == 1) return 0;
    const int64_t period = 2 * (d - 1);
    i %= period;
    if (i < 0) i += period;
    return i < d ? i : period - i;
}

static void store_value(const qlite_tensor *t, float v, unsigned char *out) {
    union { float f; uint16_t h; int8_t i8; uint8_t u8; int16_t i16; int32_t i32; int64_t i64; } u;
    memset(&u, 0, sizeof u);
    double q = v;
    if (t->scale > 0.0f) q = nearbyint((double)v / (double)t->scale) + t->zero_point;
    if (t->scale > 0.0f && qlite_is_q8(t->dtype)) {
        /* the one rule of QUANTIZE (float32 division, half to even) */
        int32_t lo, hi;
        qlite_dtype_qrange(t->dtype, &lo, &hi);
        q = qlite_quantize_value(v, t->scale, t->zero_point, lo, hi);
    }
    switch (t->dtype) {
    case QLITE_DTYPE_FLOAT32: u.f = v; break;
    case QLITE_DTYPE_FLOAT16: u.h = qlite_fp32_to_fp16(v); break;
#define SAT(T, lo, hi) (q != q ? (T)0 : q <= (lo) ? (T)(lo) : q >= (hi) ? (T)(hi) : (T)q)
    case QLITE_DTYPE_INT8: u.i8 = SAT(int8_t, -128.0, 127.0); break;
    case QLITE_DTYPE_UINT8: u.u8 = SAT(uint8_t, 0.0, 255.0); break;
    case QLITE_DTYPE_BOOL: u.u8 = v != 0.0f; break;
    case QLITE_DTYPE_INT16: u.i16 = SAT(int16_t, -32768.0, 32767.0); break;
    case QLITE_DTYPE_INT32: u.i32 = SAT(int32_t, -2147483648.0, 2147483647.0); break;
    case QLITE_DTYPE_INT64: u.i64 = SAT(int64_t, -9223372036854775808.0, 9223372036854774784.0); break;
#undef SAT
    default: break;
    }
    memcpy(out, &u, 8);
}

static qlite_status pad_prepare(qlite_node *node) {
    /* ONNX's pads / constant_value inputs may be present; the options hold them */
    qlite_status st = qlite_node_check_io(node, 1, 4, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *x = node->inputs[0];
    qlite_tensor *y = node->outputs[0];
    size_t elem = qlite_node_shape_op_elem(node, x, y, &st);
    if (!elem) return st;
    if ((st = qlite_node_check_options(node, QLITE_OPTIONS_PAD)) != QLITE_OK) return st;
    const qlite_pad_options *o = &node->opts->u.pad;
    if (o->count != 2 * x->rank || (o->count && !o->pads))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "%u pads for an input of rank %u (expected %u)", o->count, x->rank,
                                2 * x->rank);
    if ((unsigned)o->mode >= QLITE_PAD_MODE_COUNT)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "pad mode %d is not valid",
                                (int)o->mode);
    if (y->scale > 0.0f && isnan(o->value))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "pad value NaN has no quantized %s value",
                                qlite_dtype_name(y->dtype));
    pad_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->rank = x->rank;
    s->mode = o->mode;
    s->elem = elem;
    for (uint32_t i = 0; i < x->rank; i++) {
        const int64_t b = o->pads[i], e = o->pads[x->rank + i], d = x->dims[i];
        if (b < -(int64_t)INT32_MAX || b > INT32_MAX || e < -(int64_t)INT32_MAX || e > INT32_MAX ||
            d + b + e < 0)
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                    "pads %lld, %lld on axis %u of size %lld are not valid",
                                    (long long)b, (long long)e, i, (long long)d);
        if (d == 0 && o->mode != QLITE_PAD_CONSTANT && d + b + e > 0)
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                    "cannot %s-pad the empty axis %u",
                                    o->mode == QLITE_PAD_EDGE ? "edge" : "reflect", i);
        s->in_dims[i] = d;
        s->begin[i] = b;
        s->out_dims[i] = d + b + e;
    }
    if ((st = qlite_node_set_output_shape(node, 0, x->rank, s->out_dims)) != QLITE_OK) return st;
    qlite_shape_strides(x->rank, x->dims, s->in_strides);
    s->out_count = qlite_tensor_elements(y);
    store_value(y, o->value, s->value);
    node->state = s;
    return QLITE_OK;
}

static void fill(unsigned char *dst, const unsigned char *value, size_t n, size_t elem) {
    for (size_t i = 0; i < n; i++) memcpy(dst + i * elem, value, elem);
}

static qlite_status pad_eval(qlite_node *node) {
    const pad_state *s = node->state;
    const unsigned char *in = node->inputs[0]->data;
    unsigned char *out = node->outputs[0]->data;
    if (s->out_count == 0) return QLITE_OK;
    const size_t elem = s->elem;
    if (s->rank == 0) {
        memcpy(out, in, elem);
        return QLITE_OK;
    }
    const uint32_t last = s->rank - 1;
    const int64_t L = s->out_dims[last], d = s->in_dims[last], b = s->begin[last];
    /* the middle run [m0, m1) of the last axis copies input [m0 - b, m1 - b) */
    const int64_t m0 = b > 0 ? b : 0, m1 = b + d < L ? b + d : L;
    int64_t coord[QLITE_MAX_RANK] = {0};
    for (size_t pos = 0; pos < s->out_count; pos += (size_t)L) {
        unsigned char *row = out + pos * elem;
        int64_t src = 0;
        bool constant = false;
        for (uint32_t k = 0; k < last && !constant; k++) {
            int64_t i = pad_source(coord[k], s->begin[k], s->in_dims[k], s->mode);
            if (i < 0) constant = true;
            else src += i * s->in_strides[k];
        }
        if (constant) {
            fill(row, s->value, (size_t)L, elem);
        } else {
            const unsigned char *irow = in + (size_t)src * elem;
            if (m1 > m0) memcpy(row + (size_t)m0 * elem, irow + (size_t)(m0 - b) * elem,
                                (size_t)(m1 - m0) * elem);
            for (int64_t o = 0; o < L; o++) {
                if (o == m0 && m1 > m0) o = m1;
                if (o >= L) break;
                int64_t i = pad_source(o, b, d, s->mode);
                if (i < 0) memcpy(row + (size_t)o * elem, s->value, elem);
                else memcpy(row + (size_t)o * elem, irow + (size_t)i * elem, elem);
            }
        }
        for (uint32_t k = last; k-- > 0;) {
            if (++coord[k] < s->out_dims[k]) break;
            coord[k] = 0;
        }
    }
    return QLITE_OK;
}

const qlite_kernel qlite_kernel_pad = {.prepare = pad_prepare, .eval = pad_eval};
