/*
 * quant.h — quantization arithmetic shared by the integer kernels and the
 * converter. docs/quantization.md is the prose version of this file.
 *
 * real = scale * (q - zero_point)
 *
 * One rounding rule everywhere (the TFLite reference / gemmlowp rule, which
 * is also what ARM's SQRDMULH + rounding shift compute):
 *
 *   requantize(x, M0, shift) =
 *       rounding_divide_by_pot(srdhm(x * 2^max(shift,0), M0), max(-shift,0))
 *
 *   srdhm(a, b)  = saturate(round((a * b) / 2^31)), ties toward +infinity
 *                  (the doubled high half of the 64-bit product, VQRDMULH)
 *   rdbpot(x, e) = round(x / 2^e), ties away from zero     (arithmetic, e in 0..31)
 *
 * where the real multiplier m > 0 is represented as M0 * 2^(shift - 31),
 * M0 in [2^30, 2^31). Float values are rounded to integers half-to-even
 * (qlite_round_half_even), as ONNX QuantizeLinear and NumPy do.
 */
#ifndef QLITE_QUANT_H
#define QLITE_QUANT_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "qlite/qlite.h"

/* Saturating rounding doubling high multiply (gemmlowp / NEON VQRDMULH). */
static inline int32_t qlite_srdhm(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    return (int32_t)((ab + nudge) / (1ll << 31));
}

/* Rounding (half away from zero) arithmetic right shift by 0..31. */
static inline int32_t qlite_rdbpot(int32_t x, int exponent) {
    int32_t mask = (int32_t)((1ll << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * m where m = multiplier * 2^(shift - 31); shift in [-31, 30]. The left
 * shift x * 2^shift saturates to int32 before the multiply (kernels keep
 * their operands small enough that this never happens in practice). */
static inline int32_t qlite_requantize(int32_t x, int32_t multiplier, int32_t shift) {
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int64_t shifted = (int64_t)x * ((int64_t)1 << left);
    if (shifted > INT32_MAX) shifted = INT32_MAX;
    if (shifted < INT32_MIN) shifted = INT32_MIN;
    return qlite_rdbpot(qlite_srdhm((int32_t)shifted, multiplier), right);
}

/*
 * Splits a real multiplier m (finite, >= 0) into multiplier M0 in [2^30, 2^31)
 * and shift such that m ~= M0 * 2^(shift - 31). m < 2^-31 (or 0) gives
 * M0 = 0, shift = 0 (the product is then 0). Returns QLITE_ERR_INVALID_ARGUMENT
 * when m is negative, not finite, or >= 2^30 (no int32 result could use it).
 */
qlite_status qlite_quantize_multiplier(double m, int32_t *multiplier, int32_t *shift);

/* Round to nearest, ties to even (independent of the FP rounding mode). */
static inline float qlite_round_half_even(float x) {
    float r = roundf(x); /* half away from zero */
    if (fabsf(x - truncf(x)) == 0.5f) r = 2.0f * roundf(x * 0.5f);
    return r;
}

/* Range of a quantized dtype (INT8 -128..127, UINT8 0..255, INT16, INT32, INT4 -8..7). */
void qlite_dtype_qrange(qlite_dtype dtype, int32_t *qmin, int32_t *qmax);

/*
 * Asymmetric per-tensor parameters for a calibrated range [rmin, rmax]
 * (widened to include 0): scale = (rmax - rmin) / (qmax - qmin), zero point
 * = round_half_even(qmin - rmin / scale) clamped to [qmin, qmax], so that real
 * 0 is exactly representable. A degenerate range (rmin == rmax == 0) gives
 * scale 1, zero point at 0's position. Non-finite inputs -> INVALID_ARGUMENT.
 */
qlite_status qlite_choose_asymmetric(float rmin, float rmax, qlite_dtype dtype, float *scale,
                                     int32_t *zero_point);

/* Symmetric parameters (zero point 0) for max |x| = absmax: scale = absmax /
 * qmax_sym where qmax_sym = 127 for INT8 (range -127..127), 7 for INT4, ... */
qlite_status qlite_choose_symmetric(float absmax, qlite_dtype dtype, float *scale);

/* Quantize one value: clamp(round_half_even(x / scale) + zero_point). */
static inline int32_t qlite_quantize_value(float x, float scale, int32_t zero_point, int32_t qmin,
                                           int32_t qmax) {
    float q = qlite_round_half_even(x / scale) + (float)zero_point;
    if (!(q >= (float)qmin)) return qmin; /* NaN -> qmin */
    if (q > (float)qmax) return qmax;
    return (int32_t)q;
}

/* Integer clamp range for a fused activation on an output with (scale, zp). */
void qlite_activation_qrange(qlite_activation act, float scale, int32_t zero_point,
                             qlite_dtype dtype, int32_t *qmin, int32_t *qmax);

#endif /* QLITE_QUANT_H */
