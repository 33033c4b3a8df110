/*
 * quant_params.c — quantization parameters checked at prepare and the shared
 * integer helpers of the int8/uint8 kernels (see quant_params.h).
 */
#include "kernels/quant_params.h"

#include <stdio.h>
#include <string.h>

qlite_status qlite_qparams_init(const qlite_node *node, const qlite_tensor *t, const char *what,
                                int64_t zp_lo, int64_t zp_hi, qlite_qparams *p) {
    const qlite_quant *q = t->info->quant;
    if (!q || q->count == 0 || !q->scale || !q->zero_point)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "%s ('%s') has no quantization parameters", what, t->info->name);
    const size_t n = qlite_tensor_elements(t);
    p->outer = 1;
    p->channels = 1;
    p->inner = n;
    if (q->count > 1) {
        uint32_t ax;
        if (!qlite_normalize_axis(q->axis, t->rank, &ax) || (size_t)t->dims[ax] != q->count)
            return qlite_node_error(node, QLITE_ERR_SHAPE,
                                    "%s ('%s'): %u per-channel scales do not match axis %d",
                                    what, t->info->name, q->count, q->axis);
        p->channels = q->count;
        p->inner = 1;
        for (uint32_t i = 0; i < ax; i++) p->outer *= (size_t)t->dims[i];
        for (uint32_t i = ax + 1; i < t->rank; i++) p->inner *= (size_t)t->dims[i];
    }
    for (uint32_t c = 0; c < q->count; c++) {
        if (!(q->scale[c] > 0.0f) || isinf(q->scale[c]))
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                    "%s ('%s') scale[%u] = %g is not finite and positive", what,
                                    t->info->name, c, (double)q->scale[c]);
        if (q->zero_point[c] < zp_lo || q->zero_point[c] > zp_hi)
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                    "%s ('%s') zero_point[%u] = %d is outside [%lld, %lld]", what,
                                    t->info->name, c, q->zero_point[c], (long long)zp_lo,
                                    (long long)zp_hi);
    }
    p->scale = q->scale;
    p->zero_point = q->zero_point;
    return QLITE_OK;
}

qlite_status qlite_q8_params(const qlite_node *node, const qlite_tensor *t, const char *what,
                             qlite_q8 *out) {
    if (!qlite_is_q8(t->dtype))
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "%s ('%s') is %s; the integer kernel takes int8 or uint8", what,
                                t->info->name, qlite_dtype_name(t->dtype));
    const qlite_quant *q = t->info->quant;
    if (!q || q->count == 0 || !q->scale || !q->zero_point)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "%s ('%s', %s) has no quantization parameters", what,
                                t->info->name, qlite_dtype_name(t->dtype));
    if (q->count != 1)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "%s ('%s') is quantized per channel (%u scales); this kernel "
                                "takes one scale per tensor",
                                what, t->info->name, q->count);
    out->is_signed = t->dtype == QLITE_DTYPE_INT8;
    qlite_dtype_qrange(t->dtype, &out->qmin, &out->qmax);
    if (!(q->scale[0] > 0.0f) || isinf(q->scale[0]))
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "%s ('%s') scale %g is not finite and positive", what,
                                t->info->name, (double)q->scale[0]);
    if (q->zero_point[0] < out->qmin || q->zero_point[0] > out->qmax)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "%s ('%s') zero point %d is outside the %s range [%d, %d]", what,
                                t->info->name, q->zero_point[0], qlite_dtype_name(t->dtype),
                                out->qmin, out->qmax);
    out->scale = q->scale[0];
    out->zero_point = q->zero_point[0];
    return QLITE_OK;
}

qlite_status qlite_node_check_same_dtype(const qlite_node *node, const qlite_tensor *a,
                                         const char *what_a, const qlite_tensor *b,
                                         const char *what_b) {
    if (a->dtype != b->dtype)
        return qlite_node_error(node, QLITE_ERR_DTYPE, "%s ('%s') is %s but %s ('%s') is %s",
                                what_b, b->info->name, qlite_dtype_name(b->dtype), what_a,
                                a->info->name, qlite_dtype_name(a->dtype));
    return QLITE_OK;
}

qlite_status qlite_node_multiplier(const qlite_node *node, double m, const char *what,
                                   int32_t *multiplier, int32_t *shift) {
    if (qlite_quantize_multiplier(m, multiplier, shift) != QLITE_OK)
        return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                "requantization multiplier %s = %g is outside [0, 2^30): the "
                                "scales are too far apart for integer arithmetic",
                                what, m);
    return QLITE_OK;
}

double qlite_round_half_even_f64(double x) {
    double r = floor(x);
    double diff = x - r; /* exact for |x| < 2^52; 0 beyond, where x is an integer */
    if (diff > 0.5 || (diff == 0.5 && fmod(r, 2.0) != 0.0)) r += 1.0;
    return r;
}

void qlite_q8_table(uint8_t table[256], const qlite_q8 *in, const qlite_q8 *out, int32_t lo,
                    int32_t hi, qlite_real_fn f, const void *ctx) {
    const int32_t nan_q = out->zero_point < lo ? lo : (out->zero_point > hi ? hi : out->zero_point);
    for (int b = 0; b < 256; b++) {
        const int32_t q = qlite_q8_decode((uint8_t)b, in->is_signed);
        const double x = (double)in->scale * (double)(q - in->zero_point);
        const double v = f(x, ctx) / (double)out->scale;
        int32_t y;
        if (v != v) {
            y = nan_q;
        } else {
            /* clamp before converting: +-inf and huge values saturate */
            const double r = qlite_round_half_even_f64(v) + (double)out->zero_point;
            y = r <= (double)lo ? lo : (r >= (double)hi ? hi : (int32_t)r);
        }
        table[b] = (uint8_t)y;
    }
}

qlite_status qlite_q8_rescale_table(const qlite_node *node, uint8_t table[256], const qlite_q8 *in,
                                    const qlite_q8 *out, int32_t lo, int32_t hi, const char *what) {
    int32_t m, sh;
    qlite_status st =
        qlite_node_multiplier(node, (double)in->scale / (double)out->scale, what, &m, &sh);
    if (st != QLITE_OK) return st;
    for (int b = 0; b < 256; b++) {
        const int32_t q = qlite_q8_decode((uint8_t)b, in->is_signed);
        table[b] = (uint8_t)qlite_q8_out(q - in->zero_point, m, sh, out->zero_point, lo, hi);
    }
    return QLITE_OK;
}

static bool is_float_dtype(qlite_dtype d) {
    return d == QLITE_DTYPE_FLOAT32 || d == QLITE_DTYPE_FLOAT16;
}

/* "scale 0.5 zero point -3", "per channel (8 scales)" or "no quantization" */
static void describe_quant(const qlite_quant *q, char *buf, size_t size) {
    if (!q || q->count == 0) snprintf(buf, size, "no quantization");
    else if (q->count == 1) snprintf(buf, size, "scale %.9g zero point %d", (double)q->scale[0],
                                     q->zero_point[0]);
    else snprintf(buf, size, "per-channel quantization (%u scales, axis %d)", q->count, q->axis);
}

qlite_status qlite_node_check_same_qparams(const qlite_node *node, const qlite_tensor *in,
                                           const char *what_in, const qlite_tensor *out,
                                           const char *what_out) {
    if (is_float_dtype(in->dtype) && is_float_dtype(out->dtype)) return QLITE_OK;
    const qlite_quant *a = in->info->quant, *b = out->info->quant;
    const uint32_t na = a ? a->count : 0, nb = b ? b->count : 0;
    bool same = na == nb;
    for (uint32_t i = 0; same && i < na; i++)
        same = memcmp(&a->scale[i], &b->scale[i], sizeof(float)) == 0 &&
               a->zero_point[i] == b->zero_point[i];
    if (same) return QLITE_OK;
    char da[96], db[96];
    describe_quant(a, da, sizeof da);
    describe_quant(b, db, sizeof db);
    return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                            "%s ('%s') has %s but %s ('%s') has %s: this op moves bytes and "
                            "needs equal quantization on both (requantize with QUANTIZE first)",
                            what_out, out->info->name, db, what_in, in->info->name, da);
}
