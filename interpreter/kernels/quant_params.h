/*
 * quant_params.h — quantization parameters of a kernel's tensors, checked
 * once at prepare, and the small integer helpers every int8/uint8 kernel
 * shares (docs/quantization.md sections 3 and 4).
 *
 *   qlite_qparams    per-tensor or per-channel parameters (QUANTIZE,
 *                    DEQUANTIZE);
 *   qlite_q8         per-tensor parameters of an int8/uint8 activation plus
 *                    its dtype range;
 *   qlite_node_multiplier()   qlite_quantize_multiplier() with a message that
 *                    names the op and what the multiplier is for;
 *   qlite_q8_out()   the output stage clamp(zp + requantize(acc)) of §3.1;
 *   qlite_q8_table() the 256-entry code -> code table of §4.6.
 *
 * The integer kernels read int8 and uint8 tensors as raw bytes: every value
 * enters through a table indexed by its byte (which knows the signedness)
 * and leaves as (uint8_t)y, the same byte for int8 y in [-128, 127] and for
 * uint8 y in [0, 255]. One loop serves both dtypes.
 */
#ifndef QLITE_QUANT_PARAMS_H
#define QLITE_QUANT_PARAMS_H

#include "kernels/kernel_util.h"
#include "quant.h"

typedef struct qlite_qparams {
    size_t outer, channels, inner;  /* the tensor viewed as [outer, channels, inner] */
    const float *scale;             /* [channels] */
    const int32_t *zero_point;      /* [channels] */
} qlite_qparams;

/*
 * Reads t's quantization (per tensor, or per channel along quant->axis),
 * checks scales finite and > 0 and zero points inside [zp_lo, zp_hi].
 * `what` names the tensor in messages.
 */
qlite_status qlite_qparams_init(const qlite_node *node, const qlite_tensor *t, const char *what,
                                int64_t zp_lo, int64_t zp_hi, qlite_qparams *out);

/* True for the dtypes the integer element-wise kernels take. */
static inline bool qlite_is_q8(qlite_dtype d) {
    return d == QLITE_DTYPE_INT8 || d == QLITE_DTYPE_UINT8;
}

/* Per-tensor parameters of an int8 / uint8 tensor. */
typedef struct qlite_q8 {
    float scale;          /* finite, > 0 */
    int32_t zero_point;   /* within [qmin, qmax] */
    int32_t qmin, qmax;   /* dtype range: -128..127 or 0..255 */
    bool is_signed;       /* INT8 */
} qlite_q8;

/*
 * t must be INT8 or UINT8 (QLITE_ERR_UNSUPPORTED_OP otherwise) with
 * per-tensor quantization: one finite scale > 0 and a zero point in the
 * dtype's range (QLITE_ERR_INVALID_ARGUMENT otherwise, naming `what` and
 * the tensor).
 */
qlite_status qlite_q8_params(const qlite_node *node, const qlite_tensor *t, const char *what,
                             qlite_q8 *out);

/*
 * Checks that tensor b has tensor a's dtype: QLITE_ERR_DTYPE with a message
 * naming both otherwise ("output is float32 but input 0 is int8").
 */
qlite_status qlite_node_check_same_dtype(const qlite_node *node, const qlite_tensor *a,
                                         const char *what_a, const qlite_tensor *b,
                                         const char *what_b);

/*
 * The real multiplier m (computed by the caller in double from the float32
 * scales, as docs/quantization.md writes it) as M0, shift
 * (qlite_quantize_multiplier). A multiplier out of range is
 * QLITE_ERR_UNSUPPORTED_OP naming `what` (e.g. "input 0 / output").
 */
qlite_status qlite_node_multiplier(const qlite_node *node, double m, const char *what,
                                   int32_t *multiplier, int32_t *shift);

/* Value of raw byte b in a tensor of this signedness. */
static inline int32_t qlite_q8_decode(uint8_t b, bool is_signed) {
    return is_signed ? (int32_t)(int8_t)b : (int32_t)b;
}

/* clamp(v, lo, hi) for a 64-bit v (two selects: no data-dependent branch). */
static inline int32_t qlite_clamp_i64(int64_t v, int32_t lo, int32_t hi) {
    v = v > hi ? hi : v;
    v = v < lo ? lo : v;
    return (int32_t)v;
}

/*
 * Output stage (§3.1): clamp(zp + requantize(acc, M0, shift), lo, hi). The
 * addition is exact (64-bit): a requantized value near INT32_MAX plus a
 * positive zero point saturates instead of wrapping.
 */
static inline int32_t qlite_q8_out(int32_t acc, int32_t multiplier, int32_t shift, int32_t zp,
                                   int32_t lo, int32_t hi) {
    return qlite_clamp_i64((int64_t)zp + qlite_requantize(acc, multiplier, shift), lo, hi);
}

/*
 * requantize() of src/quant.h for operands the caller has proven small at
 * prepare (|x| * 2^left <= INT32_MAX, so the left shift never saturates),
 * in the branch-free form
 *   h = floor((x 2^left M0 + 2^30) / 2^31)          (= srdhm: ties toward +inf)
 *   y = floor((h + 2^(right-1) - [h < 0]) / 2^right)  (= rdbpot: ties away from 0)
 * Bit-identical to qlite_requantize on that domain (tests/test_kernel_*_int8.c
 * check every kernel that uses it against an independent implementation).
 */
typedef struct qlite_rq_fast {
    int64_t m0;        /* M0 */
    int left, right;   /* max(shift, 0), max(-shift, 0) */
    int64_t nudge;     /* 2^(right-1), or 0 when right == 0 */
} qlite_rq_fast;

static inline qlite_rq_fast qlite_rq_fast_init(int32_t multiplier, int32_t shift) {
    qlite_rq_fast f;
    f.m0 = multiplier;
    f.left = shift > 0 ? shift : 0;
    f.right = shift > 0 ? 0 : -shift;
    f.nudge = ((int64_t)1 << f.right) >> 1;
    return f;
}

static inline int32_t qlite_rq_fast_apply(int32_t x, const qlite_rq_fast *f) {
    const int64_t h = ((int64_t)x * ((int64_t)1 << f->left) * f->m0 + ((int64_t)1 << 30)) >> 31;
    const int64_t r = (h + f->nudge - (f->nudge != 0 && h < 0)) >> f->right;
    return (int32_t)r;
}

/* True when every |x| <= max_abs can use qlite_rq_fast_apply with this shift. */
static inline bool qlite_rq_fast_ok(int64_t max_abs, int32_t shift) {
    return max_abs * ((int64_t)1 << (shift > 0 ? shift : 0)) <= INT32_MAX;
}

/*
 * §4.6: table[b] for every byte b of the input dtype:
 *   y = f(sx * (q(b) - zx))             (double; f may return +-inf or NaN)
 *   table[b] = clamp(round_half_even(y / sy) + zy, lo, hi),
 * with +inf -> hi, -inf -> lo and NaN -> the zero point clamped to [lo, hi]
 * (as QUANTIZE maps a float NaN). `ctx` is passed to f.
 */
typedef double (*qlite_real_fn)(double x, const void *ctx);
void qlite_q8_table(uint8_t table[256], const qlite_q8 *in, const qlite_q8 *out, int32_t lo,
                    int32_t hi, qlite_real_fn f, const void *ctx);

/* Round half to even in double (independent of the FP rounding mode). */
double qlite_round_half_even_f64(double x);

/*
 * The rescale table of §4.8/§4.9: table[b] = clamp(zy + requantize(q(b) -
 * zx, sx / sy), lo, hi). Fails like qlite_node_multiplier.
 */
qlite_status qlite_q8_rescale_table(const qlite_node *node, uint8_t table[256], const qlite_q8 *in,
                                    const qlite_q8 *out, int32_t lo, int32_t hi, const char *what);

/*
 * Requires equal quantization on a byte-moving op's input and output (same
 * count, scales bitwise equal, zero points equal); tensors of float dtypes
 * are not checked. QLITE_ERR_INVALID_ARGUMENT with both parameter sets in
 * the message otherwise.
 */
qlite_status qlite_node_check_same_qparams(const qlite_node *node, const qlite_tensor *in,
                                           const char *what_in, const qlite_tensor *out,
                                           const char *what_out);

/*
 * Kernels with float and integer variants store, as the first member of
 * their state, the eval function prepare chose; the kernel's eval calls it.
 */
typedef qlite_status (*qlite_eval_fn)(qlite_node *node);
static inline qlite_status qlite_eval_dispatch(qlite_node *node) {
    return (*(const qlite_eval_fn *)node->state)(node);
}

#endif /* QLITE_QUANT_PARAMS_H */
