/*
 * quant.c — quantization parameter selection and multiplier decomposition.
 */
#include "quant.h"

#include <float.h>

#include "qlite_internal.h"

qlite_status qlite_quantize_multiplier(double m, int32_t *multiplier, int32_t *shift) {
    if (!(m >= 0.0) || !isfinite(m) || m >= (double)(1 << 30))
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "requantization multiplier %g out of range",
                           m);
    if (m < 1.0 / 2147483648.0) { /* below 2^-31: every int32 product rounds to 0 */
        *multiplier = 0;
        *shift = 0;
        return QLITE_OK;
    }
    int exp;
    double frac = frexp(m, &exp); /* m = frac * 2^exp, frac in [0.5, 1) */
    int64_t q = llround(frac * 2147483648.0);
    if (q == (1ll << 31)) { /* frac rounded up to 1.0 */
        q /= 2;
        exp++;
    }
    if (exp < -31) { /* representable only with a larger right shift: scale M0 down */
        q >>= (-31 - exp);
        exp = -31;
    }
    *multiplier = (int32_t)q;
    *shift = exp;
    return QLITE_OK;
}

void qlite_dtype_qrange(qlite_dtype dtype, int32_t *qmin, int32_t *qmax) {
    switch (dtype) {
    case QLITE_DTYPE_INT8: *qmin = -128; *qmax = 127; break;
    case QLITE_DTYPE_UINT8: *qmin = 0; *qmax = 255; break;
    case QLITE_DTYPE_INT16: *qmin = -32768; *qmax = 32767; break;
    case QLITE_DTYPE_INT4: *qmin = -8; *qmax = 7; break;
    case QLITE_DTYPE_INT32: *qmin = INT32_MIN; *qmax = INT32_MAX; break;
    default: *qmin = 0; *qmax = 0; break;
    }
}

qlite_status qlite_choose_asymmetric(float rmin, float rmax, qlite_dtype dtype, float *scale,
                                     int32_t *zero_point) {
    if (!isfinite(rmin) || !isfinite(rmax) || rmin > rmax)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "bad calibration range [%g, %g]",
                           (double)rmin, (double)rmax);
    int32_t qmin, qmax;
    qlite_dtype_qrange(dtype, &qmin, &qmax);
    if (qmax <= qmin || dtype == QLITE_DTYPE_INT32)
        return qlite_error(QLITE_ERR_DTYPE, "no asymmetric quantization for %s",
                           qlite_dtype_name(dtype));
    if (rmin > 0.0f) rmin = 0.0f;
    if (rmax < 0.0f) rmax = 0.0f;
    double s = ((double)rmax - (double)rmin) / (double)(qmax - qmin);
    if (s == 0.0 || s < (double)FLT_MIN) {
        *scale = 1.0f;
        *zero_point = qmin < 0 && qmax > 0 ? 0 : qmin;
        return QLITE_OK;
    }
    float fs = (float)s;
    /* zero point from the side with the smaller error, as TFLite's nudging */
    double zp_from_min = (double)qmin - (double)rmin / (double)fs;
    float zr = qlite_round_half_even((float)zp_from_min);
    int32_t zp = (int32_t)zr;
    if (zp < qmin) zp = qmin;
    if (zp > qmax) zp = qmax;
    *scale = fs;
    *zero_point = zp;
    return QLITE_OK;
}

qlite_status qlite_choose_symmetric(float absmax, qlite_dtype dtype, float *scale) {
    if (!isfinite(absmax) || absmax < 0.0f)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "bad weight range %g", (double)absmax);
    int32_t qmin, qmax;
    qlite_dtype_qrange(dtype, &qmin, &qmax);
    if (qmax <= 0 || dtype == QLITE_DTYPE_UINT8 || dtype == QLITE_DTYPE_INT32)
        return qlite_error(QLITE_ERR_DTYPE, "no symmetric quantization for %s",
                           qlite_dtype_name(dtype));
    float s = absmax / (float)qmax;
    *scale = s > FLT_MIN ? s : 1.0f;
    return QLITE_OK;
}

void qlite_activation_qrange(qlite_activation act, float scale, int32_t zero_point,
                             qlite_dtype dtype, int32_t *qmin, int32_t *qmax) {
    int32_t lo, hi;
    qlite_dtype_qrange(dtype, &lo, &hi);
    float rlo = -FLT_MAX, rhi = FLT_MAX;
    switch (act) {
    case QLITE_ACT_RELU: rlo = 0.0f; break;
    case QLITE_ACT_RELU6: rlo = 0.0f; rhi = 6.0f; break;
    case QLITE_ACT_RELU_N1_TO_1: rlo = -1.0f; rhi = 1.0f; break;
    default: break;
    }
    if (rlo > -FLT_MAX) {
        int32_t q = qlite_quantize_value(rlo, scale, zero_point, lo, hi);
        if (q > lo) lo = q;
    }
    if (rhi < FLT_MAX) {
        int32_t q = qlite_quantize_value(rhi, scale, zero_point, lo, hi);
        if (q < hi) hi = q;
    }
    *qmin = lo;
    *qmax = hi;
}
