/*
 * elementwise_q8.h — optimized variants of the int8 / uint8 element-wise
 * kernels: byte table lookup (every unary op, requantization), the fused
 * ADD / SUB / MUL rows, QUANTIZE float32 -> int8/uint8, DEQUANTIZE
 * int8/uint8 -> float32, SOFTMAX and LAYER_NORM rows.
 *
 * The references stay in the op files (unary_q8.c, binary_q8.c,
 * quantize.c, dequantize.c, softmax_q8.c) and are what every variant must
 * equal bit for bit. The variants live in a table, one entry per ISA
 * (elementwise_q8.c), best last; a NULL member means "this ISA has no
 * variant of that kernel". qlite_q8_ew_select() walks the table once at
 * prepare for the kernel asked for and returns the best runnable function
 * within qlite_q8_set_feature_cap(), or NULL (the caller then runs its
 * reference). Adding an ISA (NEON, ...) = one file with its functions and
 * one row in the table.
 *
 * Contract of every function: any n (0 included), no alignment required,
 * input and output never overlap partially (in place y == x is allowed
 * for lut), no allocation, no float state other than the default rounding
 * mode.
 */
#ifndef QLITE_ELEMENTWISE_Q8_H
#define QLITE_ELEMENTWISE_Q8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Features the element-wise variants need (beyond gemm_q8.h's bits). */
#define QLITE_Q8_EW_F_AVX2 1u     /* AVX2 */
#define QLITE_Q8_EW_F_AVX512 2u   /* AVX-512 F, BW, VL, DQ (gemm_q8.h's level + DQ) */
#define QLITE_Q8_EW_F_VBMI 4u     /* AVX-512 VBMI (VPERMB / VPERMI2B) */
#define QLITE_Q8_EW_F_NEON 8u     /* ARM64 Advanced SIMD (gemm_q8.h's QLITE_Q8_F_NEON) */

/*
 * ADD / SUB / MUL with the requantization fused (binary_q8.c's formulas,
 * docs/quantization.md §4.3, §4.4), for the "fast" case binary_q8.c's
 * prepare proves (no left shift can saturate):
 *   ADD/SUB: acc = rq(((a - za) << 20), ma, ra) +- rq(((b - zb) << 20), mb, rb)
 *   MUL:     acc = (a - za) * (b - zb)
 *   y = clamp(zy + rdbpot(srdhm(acc << ol, om), orr), lo, hi)
 * rq(x, m, r) = rdbpot(srdhm(x, m), r) (src/quant.h), right shifts only.
 */
typedef struct qlite_q8_binary_params {
    bool is_signed;        /* bytes are int8 (true) or uint8 */
    bool mul;              /* MUL; otherwise ADD (SUB: sub) */
    bool sub;
    int32_t za, zb;        /* input zero points */
    int32_t ma, ra;        /* ADD input stage of a: M0, right shift 0..31 */
    int32_t mb, rb;        /* ... of b */
    int32_t om, ol, orr;   /* output multiplier: M0, left shift, right shift */
    int32_t zy, lo, hi;    /* output zero point and clamp (dtype range ∩ activation) */
    /* ADD/SUB: the input stages as tables, byte plane k of ta[q] (rows 0..3)
     * and of +-tb[q] (rows 4..7), indexed by the raw byte q; NULL if absent */
    const uint8_t (*planes)[256];
} qlite_q8_binary_params;

/* Row shapes of a broadcast binary op (qlite_bcast rows). */
typedef enum qlite_q8_bshape {
    QLITE_Q8_VV = 0,  /* a[i], b[i] */
    QLITE_Q8_VS,      /* a[i], b[0] */
    QLITE_Q8_SV,      /* a[0], b[i] */
} qlite_q8_bshape;

typedef void (*qlite_q8_lut_fn)(const uint8_t table[256], const uint8_t *x, uint8_t *y,
                                size_t n);
typedef void (*qlite_q8_binary_fn)(const qlite_q8_binary_params *p, const uint8_t *a,
                                   const uint8_t *b, uint8_t *y, size_t n, qlite_q8_bshape shape);
/* QUANTIZE one run: y = saturate(round_half_even(x / scale) + zp), NaN -> zp. */
typedef void (*qlite_q8_quantize_fn)(const float *x, uint8_t *y, size_t n, float scale,
                                     int32_t zp, bool is_unsigned);
/* DEQUANTIZE one run: y = (float)(q - zp) * scale. */
typedef void (*qlite_q8_dequantize_fn)(const uint8_t *x, float *y, size_t n, float scale,
                                       int32_t zp, bool is_signed);
/*
 * SOFTMAX of one contiguous row (softmax_q8.c's scheme, docs/quantization.md
 * §4.7): m = max (min when use_min) of the decoded row, d = |m - x|,
 * S = sum e[d], y = clamp(zy + floor((e[d] * r + S * 2^15) / (S * 2^16))).
 */
typedef struct qlite_q8_softmax_params {
    const uint32_t *e;     /* [256] round(2^23 exp(-sb d)) */
    uint64_t r;            /* round(2^16 / sy), 1..2^32 */
    int32_t zy, qmin, qmax;
    bool is_signed, use_min;
} qlite_q8_softmax_params;
typedef void (*qlite_q8_softmax_fn)(const qlite_q8_softmax_params *p, const uint8_t *x,
                                    uint8_t *y, size_t n);

/*
 * LAYER_NORM of one row (layer_norm_q8.c's scheme, docs/quantization.md
 * §4.14): the integer row statistics, the row multiplier from
 * qlite_q8_ln_row_multiplier() (one function, so every variant gets the
 * same double arithmetic), then the integer output step per element.
 */
typedef struct qlite_q8_ln_params {
    size_t n;              /* row length, 1..4096 */
    bool is_signed;
    int32_t zy, qmin, qmax;
    const int32_t *g;      /* [n] q(gamma) - zg */
    const int64_t *b;      /* [n] round(beta / sy * 2^16) */
    const int32_t *b32;    /* [n] the same as int32 (|B| < 2^29), or NULL */
    double c, sx2, eps;    /* sx sg / (n sy), sx^2, epsilon */
} qlite_q8_ln_params;
typedef void (*qlite_q8_ln_fn)(const qlite_q8_ln_params *p, const uint8_t *x, uint8_t *y);
/* layer_norm_q8.c: Ma in [2^30, 2^31) and sh = Ea - 16 >= 0 for a row with
 * V = sum d^2 > 0 (step 3). */
void qlite_q8_ln_row_multiplier(const qlite_q8_ln_params *p, uint64_t v, int64_t *ma, int *sh);

typedef struct qlite_q8_ew_ukernels {
    const char *name;                 /* ISA, e.g. "avx512" */
    unsigned needs;                   /* QLITE_Q8_EW_F_* bits, all required */
    qlite_q8_lut_fn lut;
    qlite_q8_binary_fn binary;
    qlite_q8_quantize_fn quantize;
    qlite_q8_dequantize_fn dequantize;
    qlite_q8_softmax_fn softmax;      /* rows of n <= 2^24 */
    qlite_q8_ln_fn layer_norm;
} qlite_q8_ew_ukernels;

typedef enum qlite_q8_ew_kind {
    QLITE_Q8_EW_LUT = 0,
    QLITE_Q8_EW_BINARY,
    QLITE_Q8_EW_QUANTIZE,
    QLITE_Q8_EW_DEQUANTIZE,
    QLITE_Q8_EW_SOFTMAX,
    QLITE_Q8_EW_LAYER_NORM,
    QLITE_Q8_EW_KIND_COUNT
} qlite_q8_ew_kind;

/* This CPU's QLITE_Q8_EW_F_* features within qlite_q8_set_feature_cap(). */
unsigned qlite_q8_ew_features(void);

/* Every variant row this build has (tests list them; runnable or not). */
const qlite_q8_ew_ukernels *qlite_q8_ew_all(size_t *count);

/*
 * The best row that is runnable here and has a non-NULL member for `kind`,
 * or NULL when none has (the caller runs its reference). Callers pass NULL
 * themselves under QLITE_INTERP_REFERENCE_ONLY.
 */
const qlite_q8_ew_ukernels *qlite_q8_ew_select(qlite_q8_ew_kind kind);

#endif /* QLITE_ELEMENTWISE_Q8_H */
