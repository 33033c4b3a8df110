/*
 * test_kernel_movement_int8.c — the int8/uint8 forms of QUANTIZE
 * (requantization), DEQUANTIZE per channel, CONCATENATION with rescaled
 * inputs, PAD with a quantized constant, and the parameter check of the
 * byte-moving ops RESHAPE TRANSPOSE SLICE SPLIT GATHER PAD
 * (docs/quantization.md §4.8, §4.9).
 *
 * QUANTIZE and CONCATENATION: (a) exact against the doc's formula written
 * here, (b) exact against NumPy golden vectors (make_golden_q8.py), (c) the
 * dequantized output within 0.5 + 2^-(r+1) + 255 m 2^-30 LSB of the
 * dequantized input (one requantization, §3.2). DEQUANTIZE: exact
 * (q - zp[c]) * scale[c] in float. PAD: hand-derived codes.
 */
#include "kernel_q8_check.h"

/* ---------------------------------------------------------------- */
/* QUANTIZE int -> int                                               */
/* ---------------------------------------------------------------- */

/* All 256 codes of dti through QUANTIZE to dto; (a) and (c). */
static void check_requant(qlite_dtype dti, qlite_dtype dto, const q8_params *px,
                          const q8_params *py) {
    uint8_t x[256];
    for (int b = 0; b < 256; b++) x[b] = (uint8_t)b;
    qlite_op_test_tensor in = q8_tensor(dti, 1, (int64_t[]){256}, x, px);
    qlite_op_test_tensor out = q8_tensor(dto, 1, (int64_t[]){256}, NULL, py);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &out, 1, 0));
    int32_t lo, hi;
    q8_range(dto, &lo, &hi);
    const double m = (double)px->scale / (double)py->scale;
    const q8_mult mm = q8_ref_mult(m);
    const double bound = 0.5 + (mm.shift < 0 ? ldexp(0.5, mm.shift) : 0.0) +
                         255.0 * m * ldexp(1.0, -30) + 1e-9;
    const double rlo = ((double)lo - py->zp) * py->scale, rhi = ((double)hi - py->zp) * py->scale;
    for (int b = 0; b < 256; b++) {
        const int32_t q = q8_get(x, (size_t)b, dti);
        const int64_t want = q8_clamp(py->zp + q8_ref_rq(q - px->zp, m), lo, hi);
        const int32_t got = q8_get(out.out, (size_t)b, dto);
        if (got != want)
            fail_msg("QUANTIZE %s -> %s (sx=%g zx=%d sy=%g zy=%d): %d -> %d, reference %d",
                     qlite_dtype_name(dti), qlite_dtype_name(dto), (double)px->scale, px->zp,
                     (double)py->scale, py->zp, q, got, (int)want);
        double real = (double)px->scale * (q - px->zp);
        real = real < rlo ? rlo : (real > rhi ? rhi : real);
        assert_true(q8_err_lsb(got, py->scale, py->zp, real) <= bound);
    }
    qlite_op_test_free(1, &out);
}

static void test_requantize(void **state) {
    (void)state;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0xEE);
    const qlite_dtype dts[2] = {QLITE_DTYPE_INT8, QLITE_DTYPE_UINT8};
    for (int i = 0; i < 2; i++)
        for (int o = 0; o < 2; o++) {
            int32_t ilo, ihi, olo, ohi;
            q8_range(dts[i], &ilo, &ihi);
            q8_range(dts[o], &olo, &ohi);
            q8_params px, py;
            for (int rep = 0; rep < 8; rep++) {
                q8_params_set(&px, q8_rand_scale(&rng, -8, 2), q8_rand_zp(&rng, dts[i]));
                q8_params_set(&py, q8_rand_scale(&rng, -8, 2), q8_rand_zp(&rng, dts[o]));
                check_requant(dts[i], dts[o], &px, &py);
            }
            /* scales 2^+-20 apart with zero points at the ends: everything saturates
             * but the zero point */
            q8_params_set(&px, 1.0f, ilo);
            q8_params_set(&py, 0x1p-20f, olo);
            check_requant(dts[i], dts[o], &px, &py);
            q8_params_set(&px, 0x1p-20f, ihi);
            q8_params_set(&py, 1.0f, ohi);
            check_requant(dts[i], dts[o], &px, &py);
        }
}

/* Equal scales, zero points 128 apart: the exact uint8 <-> int8 shift, i.e.
 * the same real values, each byte with its top bit flipped. */
static void test_uint8_int8_shift(void **state) {
    (void)state;
    uint8_t x[256];
    for (int b = 0; b < 256; b++) x[b] = (uint8_t)b;
    q8_params pu, ps;
    q8_params_set(&pu, 0.0173f, 128 + 17);
    q8_params_set(&ps, 0.0173f, 17);
    qlite_op_test_tensor in = q8_tensor(QLITE_DTYPE_UINT8, 1, (int64_t[]){256}, x, &pu);
    qlite_op_test_tensor out = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){256}, NULL, &ps);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &out, 1, 0));
    for (int b = 0; b < 256; b++) assert_int_equal(((uint8_t *)out.out)[b], b ^ 0x80);
    qlite_op_test_free(1, &out);
    in = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){256}, x, &ps);
    out = q8_tensor(QLITE_DTYPE_UINT8, 1, (int64_t[]){256}, NULL, &pu);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &out, 1, 0));
    for (int b = 0; b < 256; b++) assert_int_equal(((uint8_t *)out.out)[b], b ^ 0x80);
    qlite_op_test_free(1, &out);
    /* equal parameters: the identity */
    out = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){256}, NULL, &ps);
    assert_qlite_ok(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &out, 1, 0));
    assert_memory_equal(out.out, x, 256);
    qlite_op_test_free(1, &out);
}

static void test_requantize_golden(void **state) {
    (void)state;
    q8_golden g;
    q8_golden_load("requant", &g);
    for (size_t c = 0; c < g.n; c++) {
        const int32_t *row = q8_case(&g, c);
        const float *sc = q8_case_scales(&g, c);
        const qlite_dtype dti = q8_case_dtype(row[QG_DTYPE]), dto = q8_case_dtype(row[QG_PARAM]);
        const size_t n = (size_t)row[QG_DIMS_A];
        void *x = q8_golden_values(&g.a, (size_t)row[QG_OFF_A], n, dti);
        q8_params px, py;
        q8_params_set(&px, sc[0], row[QG_ZA]);
        q8_params_set(&py, sc[2], row[QG_ZY]);
        qlite_op_test_tensor in = q8_tensor(dti, 1, (int64_t[]){(int64_t)n}, x, &px);
        qlite_op_test_tensor out = q8_tensor(dto, 1, (int64_t[]){(int64_t)n}, NULL, &py);
        assert_qlite_ok(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &out, 1, 0));
        q8_expect_golden("requant", c, out.out, dto, &g, (size_t)row[QG_OFF_Y], n);
        qlite_op_test_free(1, &out);
        free(x);
    }
    q8_golden_free(&g);
}

/* ---------------------------------------------------------------- */
/* DEQUANTIZE per channel                                            */
/* ---------------------------------------------------------------- */

static void test_dequantize_per_channel(void **state) {
    (void)state;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 44);
    const int64_t dims[4] = {2, 3, 4, 5};
    uint8_t q[120];
    for (int d = 0; d < 2; d++) {
        const qlite_dtype dt = d ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8;
        q8_fill(&rng, q, 120, dt);
        for (int32_t axis = -4; axis < 4; axis++) {
            const uint32_t ax = (uint32_t)(axis < 0 ? axis + 4 : axis);
            float scales[5];
            int32_t zps[5];
            for (int64_t c = 0; c < dims[ax]; c++) {
                scales[c] = q8_rand_scale(&rng, -8, 2);
                zps[c] = q8_rand_zp(&rng, dt);
            }
            qlite_quant pc = {.count = (uint32_t)dims[ax], .axis = axis, .scale = scales,
                              .zero_point = zps};
            qlite_op_test_tensor in = qt(dt, 4, dims, q);
            in.quant = &pc;
            qlite_op_test_tensor out = qt_f32(4, dims, NULL);
            assert_qlite_ok(qlite_op_test_run(QLITE_OP_DEQUANTIZE, NULL, 1, &in, 1, &out, 1, 0));
            int64_t coord[4] = {0};
            for (size_t i = 0; i < 120; i++) {
                const int64_t c = coord[ax];
                const float want = (float)(q8_get(q, i, dt) - zps[c]) * scales[c];
                if (((float *)out.out)[i] != want)
                    fail_msg("DEQUANTIZE %s axis %d: element %zu is %g, want %g",
                             qlite_dtype_name(dt), axis, i, (double)((float *)out.out)[i],
                             (double)want);
                for (uint32_t k = 4; k-- > 0;) {
                    if (++coord[k] < dims[k]) break;
                    coord[k] = 0;
                }
            }
            qlite_op_test_free(1, &out);
        }
    }
}

/* ---------------------------------------------------------------- */
/* CONCATENATION                                                     */
/* ---------------------------------------------------------------- */

static void test_concat_rescale(void **state) {
    (void)state;
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 0xC0C);
    for (int d = 0; d < 2; d++)
        for (int rep = 0; rep < 12; rep++) {
            const qlite_dtype dt = d ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8;
            /* three inputs [2, k, 3] along axis 1 (or -2) */
            const int64_t ks[3] = {1, 4, 2};
            uint8_t xs[3][24];
            q8_params p[3], py;
            qlite_op_test_tensor in[3];
            for (int k = 0; k < 3; k++) {
                q8_fill(&rng, xs[k], (size_t)(2 * ks[k] * 3), dt);
                q8_params_set(&p[k], q8_rand_scale(&rng, -6, 1), q8_rand_zp(&rng, dt));
                in[k] = q8_tensor(dt, 3, (int64_t[]){2, ks[k], 3}, xs[k], &p[k]);
            }
            q8_params_set(&py, q8_rand_scale(&rng, -6, 1), q8_rand_zp(&rng, dt));
            if (rep % 3 == 0) q8_params_set(&p[1], py.scale, py.zp); /* one input copied */
            if (rep % 4 == 1) /* all equal: plain copies */
                for (int k = 0; k < 3; k++) q8_params_set(&p[k], py.scale, py.zp);
            const qlite_activation act = (qlite_activation)(rep % QLITE_ACT_COUNT);
            qlite_op_test_tensor out = q8_tensor(dt, 3, (int64_t[]){2, 7, 3}, NULL, &py);
            qlite_op_options o = qopts(QLITE_OPTIONS_CONCATENATION);
            o.u.concatenation.axis = rep % 2 ? -2 : 1;
            o.u.concatenation.activation = act;
            assert_qlite_ok(qlite_op_test_run(QLITE_OP_CONCATENATION, &o, 3, in, 1, &out, 1, 0));
            int32_t lo, hi;
            q8_ref_act(act, py.scale, py.zp, dt, &lo, &hi);
            const double rlo = ((double)lo - py.zp) * py.scale;
            const double rhi = ((double)hi - py.zp) * py.scale;
            for (int64_t o0 = 0; o0 < 2; o0++)
                for (int64_t j = 0; j < 7; j++)
                    for (int64_t c = 0; c < 3; c++) {
                        const int k = j < 1 ? 0 : (j < 5 ? 1 : 2);
                        const int64_t jk = j - (k == 0 ? 0 : (k == 1 ? 1 : 5));
                        const int32_t v = q8_get(xs[k], (size_t)((o0 * ks[k] + jk) * 3 + c), dt);
                        const double m = (double)p[k].scale / (double)py.scale;
                        const bool copy = act == QLITE_ACT_NONE && p[k].scale == py.scale &&
                                          p[k].zp == py.zp;
                        const int64_t want =
                            copy ? v : q8_clamp(py.zp + q8_ref_rq(v - p[k].zp, m), lo, hi);
                        const int32_t got = q8_get(out.out, (size_t)((o0 * 7 + j) * 3 + c), dt);
                        if (got != want)
                            fail_msg("CONCATENATION %s rep %d: [%lld,%lld,%lld] is %d, "
                                     "reference %d",
                                     qlite_dtype_name(dt), rep, (long long)o0, (long long)j,
                                     (long long)c, got, (int)want);
                        double real = (double)p[k].scale * (v - p[k].zp);
                        real = real < rlo ? rlo : (real > rhi ? rhi : real);
                        const q8_mult mm = q8_ref_mult(m);
                        const double bound = 0.5 + (mm.shift < 0 ? ldexp(0.5, mm.shift) : 0.0) +
                                             255.0 * m * ldexp(1.0, -30) + 1e-9;
                        assert_true(q8_err_lsb(got, py.scale, py.zp, real) <= bound);
                    }
            qlite_op_test_free(1, &out);
        }
}

static void test_concat_golden(void **state) {
    (void)state;
    q8_golden g;
    q8_golden_load("concat", &g);
    for (size_t c = 0; c < g.n; c++) {
        const int32_t *row = q8_case(&g, c);
        const float *sc = q8_case_scales(&g, c);
        const qlite_dtype dt = q8_case_dtype(row[QG_DTYPE]);
        const uint32_t ra = (uint32_t)row[QG_RANK_A], rb = (uint32_t)row[QG_RANK_B];
        int64_t da[QLITE_MAX_RANK], db[QLITE_MAX_RANK], dy[QLITE_MAX_RANK];
        for (uint32_t i = 0; i < ra; i++) da[i] = dy[i] = row[QG_DIMS_A + i];
        for (uint32_t i = 0; i < rb; i++) db[i] = row[QG_DIMS_B + i];
        const int32_t axis = row[QG_PARAM];
        const uint32_t ax = (uint32_t)(axis < 0 ? axis + (int32_t)ra : axis);
        dy[ax] = da[ax] + db[ax];
        const size_t na = q8_elems(ra, da), nb = q8_elems(rb, db), ny = q8_elems(ra, dy);
        assert_int_equal(ny, (size_t)row[QG_COUNT_Y]);
        void *a = q8_golden_values(&g.a, (size_t)row[QG_OFF_A], na, dt);
        void *b = q8_golden_values(&g.b, (size_t)row[QG_OFF_B], nb, dt);
        q8_params pa, pb, py;
        q8_params_set(&pa, sc[0], row[QG_ZA]);
        q8_params_set(&pb, sc[1], row[QG_ZB]);
        q8_params_set(&py, sc[2], row[QG_ZY]);
        qlite_op_test_tensor in[2] = {q8_tensor(dt, ra, da, a, &pa), q8_tensor(dt, rb, db, b, &pb)};
        qlite_op_test_tensor out = q8_tensor(dt, ra, dy, NULL, &py);
        qlite_op_options o = qopts(QLITE_OPTIONS_CONCATENATION);
        o.u.concatenation.axis = axis;
        o.u.concatenation.activation = (qlite_activation)row[QG_X0];
        assert_qlite_ok(qlite_op_test_run(QLITE_OP_CONCATENATION, &o, 2, in, 1, &out, 1, 0));
        q8_expect_golden("concat", c, out.out, dt, &g, (size_t)row[QG_OFF_Y], ny);
        qlite_op_test_free(1, &out);
        free(a);
        free(b);
    }
    q8_golden_free(&g);
}

/* ---------------------------------------------------------------- */
/* PAD                                                               */
/* ---------------------------------------------------------------- */

static void test_pad_constant(void **state) {
    (void)state;
    const int64_t pads[2] = {1, 1};
    qlite_op_options o = qopts(QLITE_OPTIONS_PAD);
    o.u.pad.count = 2;
    o.u.pad.pads = pads;
    o.u.pad.mode = QLITE_PAD_CONSTANT;
    const uint8_t x[2] = {7, 9};
    static const struct {
        qlite_dtype dt;
        float scale;
        int32_t zp;
        float value;
        int32_t want;
    } cases[] = {
        {QLITE_DTYPE_INT8, 0.5f, -3, 0.0f, -3},      /* real 0 is the zero point */
        {QLITE_DTYPE_UINT8, 0.5f, 200, 0.0f, 200},
        {QLITE_DTYPE_INT8, 0.5f, 0, 0.25f, 0},       /* 0.5 -> 0 (half to even) */
        {QLITE_DTYPE_INT8, 0.5f, 0, 0.75f, 2},       /* 1.5 -> 2 */
        {QLITE_DTYPE_INT8, 0.5f, 0, -0.75f, -2},
        {QLITE_DTYPE_INT8, 0.1f, 120, 1000.0f, 127}, /* saturates */
        {QLITE_DTYPE_UINT8, 0.1f, 5, -1000.0f, 0},
        {QLITE_DTYPE_UINT8, 0.1f, 5, INFINITY, 255},
    };
    for (size_t k = 0; k < Q8_COUNT(cases); k++) {
        q8_params p;
        q8_params_set(&p, cases[k].scale, cases[k].zp);
        o.u.pad.value = cases[k].value;
        qlite_op_test_tensor in = q8_tensor(cases[k].dt, 1, (int64_t[]){2}, x, &p);
        qlite_op_test_tensor out = q8_tensor(cases[k].dt, 1, (int64_t[]){4}, NULL, &p);
        assert_qlite_ok(qlite_op_test_run(QLITE_OP_PAD, &o, 1, &in, 1, &out, 1, 0));
        const int32_t got0 = q8_get(out.out, 0, cases[k].dt);
        const int32_t got3 = q8_get(out.out, 3, cases[k].dt);
        if (got0 != cases[k].want || got3 != cases[k].want)
            fail_msg("PAD case %zu: constant %g became %d, want %d", k, (double)cases[k].value,
                     got0, cases[k].want);
        assert_int_equal(((uint8_t *)out.out)[1], 7);
        assert_int_equal(((uint8_t *)out.out)[2], 9);
        qlite_op_test_free(1, &out);
    }
    /* a NaN constant has no quantized value; different parameters in and out */
    q8_params p, p2;
    q8_params_set(&p, 0.5f, 0);
    q8_params_set(&p2, 0.25f, 0);
    qlite_op_test_tensor in = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){2}, x, &p);
    qlite_op_test_tensor out = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){4}, NULL, &p);
    o.u.pad.value = NAN;
    assert_int_equal(qlite_op_test_run(QLITE_OP_PAD, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    o.u.pad.value = 0.0f;
    out.quant = &p2.q;
    assert_int_equal(qlite_op_test_run(QLITE_OP_PAD, &o, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
}

/* ---------------------------------------------------------------- */
/* Byte-moving ops: equal parameters required                        */
/* ---------------------------------------------------------------- */

typedef struct move_op {
    qlite_op_code code;
    qlite_op_options o;
    uint32_t nin, nout;
    int64_t out_dims[2][2];
} move_op;

static void test_byte_moving_ops(void **state) {
    (void)state;
    static const int64_t new_shape[2] = {3, 2};
    static const int32_t perm[2] = {1, 0};
    static const int64_t starts[1] = {1}, ends[1] = {3};
    static const int32_t axes[1] = {1};
    static const int64_t steps[1] = {1};
    static const int32_t idx[2] = {1, 0};
    move_op ops[5];
    memset(ops, 0, sizeof ops);
    ops[0] = (move_op){QLITE_OP_RESHAPE, qopts(QLITE_OPTIONS_RESHAPE), 1, 1, {{3, 2}}};
    ops[0].o.u.reshape.rank = 2;
    ops[0].o.u.reshape.new_shape = new_shape;
    ops[1] = (move_op){QLITE_OP_TRANSPOSE, qopts(QLITE_OPTIONS_TRANSPOSE), 1, 1, {{3, 2}}};
    ops[1].o.u.transpose.rank = 2;
    ops[1].o.u.transpose.perm = perm;
    ops[2] = (move_op){QLITE_OP_SLICE, qopts(QLITE_OPTIONS_SLICE), 1, 1, {{2, 2}}};
    ops[2].o.u.slice = (qlite_slice_options){1, starts, ends, axes, steps};
    ops[3] = (move_op){QLITE_OP_SPLIT, qopts(QLITE_OPTIONS_SPLIT), 1, 2, {{2, 1}, {2, 2}}};
    ops[3].o.u.split.axis = 1;
    ops[3].o.u.split.count = 2;
    ops[3].o.u.split.sizes = (const int64_t[]){1, 2};
    ops[4] = (move_op){QLITE_OP_GATHER, qopts(QLITE_OPTIONS_GATHER), 2, 1, {{2, 2}}};
    ops[4].o.u.gather.axis = 0;
    static const int8_t x[6] = {-128, -1, 0, 1, 2, 127};
    static const int8_t want[5][6] = {{-128, -1, 0, 1, 2, 127},
                                      {-128, 1, -1, 2, 0, 127},
                                      {-1, 0, 2, 127, 0, 0},
                                      {-128, 1, -1, 0, 2, 127},
                                      {0, 1, -128, -1, 0, 0}};
    q8_params p, p2, pu;
    q8_params_set(&p, 0.5f, -3);
    q8_params_set(&p2, 0.5f, -2);
    q8_params_set(&pu, 0.5f, 125);
    for (int k = 0; k < 5; k++) {
        const move_op *m = &ops[k];
        qlite_op_test_tensor in[2] = {q8_tensor(QLITE_DTYPE_INT8, 2, (int64_t[]){2, 3}, x, &p),
                                      qt(QLITE_DTYPE_INT32, 1, (int64_t[]){2}, idx)};
        if (k == 4) in[0] = q8_tensor(QLITE_DTYPE_INT8, 2, (int64_t[]){3, 2}, x, &p);
        qlite_op_test_tensor out[2];
        for (uint32_t j = 0; j < m->nout; j++)
            out[j] = q8_tensor(QLITE_DTYPE_INT8, 2, m->out_dims[j], NULL, &p);
        /* equal parameters: the bytes move unchanged */
        assert_qlite_ok(qlite_op_test_run(m->code, &m->o, m->nin, in, m->nout, out, 1, 0));
        size_t at = 0;
        for (uint32_t j = 0; j < m->nout; j++) {
            assert_memory_equal(out[j].out, want[k] + at, out[j].out_bytes);
            at += out[j].out_bytes;
        }
        qlite_op_test_free(m->nout, out);
        /* a different zero point, no parameters, uint8 out: refused at prepare */
        out[m->nout - 1].quant = &p2.q;
        assert_int_equal(qlite_op_test_run(m->code, &m->o, m->nin, in, m->nout, out, 1, 0),
                         QLITE_ERR_UNSUPPORTED_OP);
        if (k == 0) print_message("%s\n", qlite_last_error());
        assert_non_null(strstr(qlite_last_error(), "zero point -2"));
        assert_non_null(strstr(qlite_last_error(), "needs equal quantization"));
        out[m->nout - 1].quant = NULL;
        assert_int_equal(qlite_op_test_run(m->code, &m->o, m->nin, in, m->nout, out, 1, 0),
                         QLITE_ERR_UNSUPPORTED_OP);
        out[m->nout - 1] = q8_tensor(QLITE_DTYPE_UINT8, 2, m->out_dims[m->nout - 1], NULL, &pu);
        const qlite_status st = qlite_op_test_run(m->code, &m->o, m->nin, in, m->nout, out, 1, 0);
        assert_true(st == QLITE_ERR_DTYPE || st == QLITE_ERR_UNSUPPORTED_OP);
    }
}

static void test_errors(void **state) {
    (void)state;
    q8_params p;
    q8_params_set(&p, 0.1f, 0);
    const int8_t x[4] = {1, 2, 3, 4};
    const int64_t sh[1] = {4};
    /* requantization: per-channel parameters, a multiplier beyond 2^30 */
    float s4[4] = {0.1f, 0.1f, 0.1f, 0.1f};
    int32_t z4[4] = {0, 0, 0, 0};
    qlite_quant pc = {.count = 4, .axis = 0, .scale = s4, .zero_point = z4};
    qlite_op_test_tensor in = q8_tensor(QLITE_DTYPE_INT8, 1, sh, x, &p);
    qlite_op_test_tensor out = qt(QLITE_DTYPE_INT8, 1, sh, NULL);
    out.quant = &pc;
    assert_int_equal(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    q8_params big, tiny;
    q8_params_set(&big, 1e10f, 0);
    q8_params_set(&tiny, 1.0f, 0);
    in.quant = &big.q;
    out.quant = &tiny.q;
    assert_int_equal(qlite_op_test_run(QLITE_OP_QUANTIZE, NULL, 1, &in, 1, &out, 1, 0),
                     QLITE_ERR_UNSUPPORTED_OP);
    /* concatenation: an input without parameters, a dtype mismatch */
    q8_params py;
    q8_params_set(&py, 0.2f, 1);
    qlite_op_test_tensor cin[2] = {q8_tensor(QLITE_DTYPE_INT8, 1, sh, x, &p),
                                   q8_tensor(QLITE_DTYPE_INT8, 1, sh, x, NULL)};
    qlite_op_test_tensor cout = q8_tensor(QLITE_DTYPE_INT8, 1, (int64_t[]){8}, NULL, &py);
    qlite_op_options o = qopts(QLITE_OPTIONS_CONCATENATION);
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONCATENATION, &o, 2, cin, 1, &cout, 1, 0),
                     QLITE_ERR_INVALID_ARGUMENT);
    cin[1] = q8_tensor(QLITE_DTYPE_UINT8, 1, sh, x, &p);
    assert_int_equal(qlite_op_test_run(QLITE_OP_CONCATENATION, &o, 2, cin, 1, &cout, 1, 0),
                     QLITE_ERR_DTYPE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requantize),
        cmocka_unit_test(test_uint8_int8_shift),
        cmocka_unit_test(test_requantize_golden),
        cmocka_unit_test(test_dequantize_per_channel),
        cmocka_unit_test(test_concat_rescale),
        cmocka_unit_test(test_concat_golden),
        cmocka_unit_test(test_pad_constant),
        cmocka_unit_test(test_byte_moving_ops),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
