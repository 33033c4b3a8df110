/*
 * test_convert_quant.c — the converter's quantization modes on small
 * fixtures (tests/data/onnx/make_quant_fixtures.py computes every expected
 * value with NumPy):
 *   - calibration estimators on synthetic distributions with hand-derived
 *     answers, and minmax ranges equal to the data's extremes;
 *   - int8: parameters (fixed ranges, shared parameters, calibrated ones by
 *     the formula of docs/quantization.md §2.1), float islands, --strict,
 *     --io int8/uint8, numerics against NumPy;
 *   - bad calibration data: a one-line error naming the file and the
 *     problem, no output file;
 *   - float16: halves equal NumPy's, saturation warned about by name;
 *   - dynamic: small weights kept float and listed;
 *   - the report (text and JSON).
 */
#include <unistd.h>

#include "quant.h" /* src/quant.h */
#include "quant/quantize.h"
#include "test_convert_util.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static const qlite_tensor_info *tensor(const qlite_model *m, const char *name) {
    int32_t i = qlite_model_find_tensor(m, name);
    if (i < 0) fail_msg("no tensor '%s' in the model", name);
    return qlite_model_tensor(m, (uint32_t)i);
}

/* The op writing tensor `name` (NULL when none). */
static const qlite_op_info *producer_of(const qlite_model *m, const char *name) {
    int32_t t = qlite_model_find_tensor(m, name);
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        for (uint32_t k = 0; k < op->num_outputs; k++)
            if (op->outputs[k] == t) return op;
    }
    return NULL;
}

static const qlite_op_info *op_of(const qlite_model *m, qlite_op_code code) {
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++)
        if (qlite_model_op(m, i)->code == code) return qlite_model_op(m, i);
    fail_msg("no %s op", qlite_op_name(code));
    return NULL;
}

static const qlite_tensor_info *in_of(const qlite_model *m, const qlite_op_info *op, uint32_t k) {
    return qlite_model_tensor(m, (uint32_t)op->inputs[k]);
}
static const qlite_tensor_info *out_of(const qlite_model *m, const qlite_op_info *op, uint32_t k) {
    return qlite_model_tensor(m, (uint32_t)op->outputs[k]);
}

static void assert_params(const qlite_tensor_info *t, qlite_dtype dt, float scale, int32_t zp) {
    if (t->dtype != dt) fail_msg("'%s' is %s, want %s", t->name, qlite_dtype_name(t->dtype),
                                 qlite_dtype_name(dt));
    assert_non_null(t->quant);
    assert_int_equal(t->quant->count, 1);
    if (t->quant->scale[0] != scale || t->quant->zero_point[0] != zp)
        fail_msg("'%s': scale %.9g zp %d, want %.9g %d", t->name, (double)t->quant->scale[0],
                 t->quant->zero_point[0], (double)scale, zp);
}

static void assert_same_params(const qlite_tensor_info *a, const qlite_tensor_info *b) {
    assert_non_null(a->quant);
    assert_non_null(b->quant);
    assert_int_equal(a->quant->count, 1);
    assert_int_equal(b->quant->count, 1);
    assert_true(a->quant->scale[0] == b->quant->scale[0]);
    assert_int_equal(a->quant->zero_point[0], b->quant->zero_point[0]);
}

static const char *calib_files[4];
static char calib_paths[4][1024]; /* ct_fixture's buffers rotate: keep copies */

static const char *keep(int slot, const char *path) {
    snprintf(calib_paths[slot], sizeof calib_paths[slot], "%s", path);
    return calib_paths[slot];
}

static qlite_convert_options int8_opts(const char *calib) {
    qlite_convert_options o = {0};
    o.mode = QLITE_CONVERT_INT8;
    calib_files[0] = keep(0, ct_fixture(calib, ""));
    o.calib_files = calib_files;
    o.num_calib_files = 1;
    return o;
}

/* Runs the model on <name>_x.npy (quantized when the input is int8/uint8,
 * as given otherwise); output `index` as float (dequantized). */
static float *run_output(const void *bytes, size_t size, const char *xname, uint32_t index,
                         size_t *count) {
    qlite_npy_array x;
    assert_qlite_ok(qlite_npy_read_file(ct_fixture(xname, ".npy"), &x));
    qlite_model *m = NULL;
    qlite_interpreter *it = NULL;
    assert_qlite_ok(qlite_model_open_memory(bytes, size, 0, &m));
    assert_qlite_ok(qlite_interpreter_create(m, NULL, &it));
    assert_qlite_ok(qlite_interpreter_resize_input(it, 0, x.rank, x.dims));
    assert_qlite_ok(qlite_interpreter_prepare(it));
    qlite_tensor_view in;
    assert_qlite_ok(qlite_interpreter_input(it, 0, &in));
    size_t n = x.bytes / 4;
    const float *xf = x.data;
    if (in.dtype != QLITE_DTYPE_INT8 && in.dtype != QLITE_DTYPE_UINT8) {
        assert_qlite_ok(qlite_interpreter_set_input(it, 0, x.data, x.bytes));
    } else {
        int32_t lo = in.dtype == QLITE_DTYPE_INT8 ? -128 : 0, hi = lo + 255;
        for (size_t i = 0; i < n; i++) {
            int32_t q = qlite_quantize_value(xf[i], in.scale, in.zero_point, lo, hi);
            if (in.dtype == QLITE_DTYPE_INT8) ((int8_t *)in.data)[i] = (int8_t)q;
            else ((uint8_t *)in.data)[i] = (uint8_t)q;
        }
    }
    assert_qlite_ok(qlite_interpreter_invoke(it));
    qlite_tensor_view v;
    assert_qlite_ok(qlite_interpreter_output(it, index, &v));
    size_t c = 1;
    for (uint32_t i = 0; i < v.rank; i++) c *= (size_t)v.dims[i];
    float *out = malloc(c * sizeof *out);
    assert_non_null(out);
    for (size_t i = 0; i < c; i++) {
        if (v.dtype == QLITE_DTYPE_FLOAT32) out[i] = ((const float *)v.data)[i];
        else if (v.dtype == QLITE_DTYPE_INT8)
            out[i] = v.scale * (float)(((const int8_t *)v.data)[i] - v.zero_point);
        else out[i] = v.scale * (float)(((const uint8_t *)v.data)[i] - v.zero_point);
    }
    *count = c;
    qlite_interpreter_destroy(it);
    qlite_model_close(m);
    qlite_npy_free(&x);
    return out;
}

static float max_abs_diff(const float *a, const char *golden, size_t count) {
    qlite_npy_array y;
    assert_qlite_ok(qlite_npy_read_file(ct_fixture(golden, ".npy"), &y));
    assert_int_equal(y.bytes / 4, count);
    float m = 0;
    for (size_t i = 0; i < count; i++) m = fmaxf(m, fabsf(a[i] - ((const float *)y.data)[i]));
    qlite_npy_free(&y);
    return m;
}

/* Converts fixture `model` with `o` and expects it to fail with `want`, an
 * error message holding `fragment`, and no bytes. */
static void expect_convert_fails(const char *model, const qlite_convert_options *o,
                                 qlite_status want, const char *fragment) {
    void *bytes = NULL;
    size_t size;
    assert_int_equal(qlite_convert_to_memory(ct_fixture(model, ".onnx"), o, &bytes, &size, NULL),
                     want);
    assert_null(bytes);
    assert_non_null(strstr(qlite_last_error(), fragment));
}

/* ---- estimators ------------------------------------------------------------------------- */

/* One value at the centre of every bin of [lo, hi]: |x| is then exactly
 * uniform where the bins are, so the quantiles are known in closed form. */
static void fill_centres(qlc_hist *h, double lo, double hi, int copies) {
    qlc_hist_init(h, lo, hi);
    float v[QLC_HIST_BINS];
    for (int b = 0; b < QLC_HIST_BINS; b++) v[b] = (float)(lo + (hi - lo) * (b + 0.5) / QLC_HIST_BINS);
    for (int k = 0; k < copies; k++) qlc_hist_add(h, v, QLC_HIST_BINS);
}

static void test_estimator_percentile(void **state) {
    (void)state;
    qlc_hist *h = malloc(sizeof *h);
    assert_non_null(h);
    float lo, hi;
    /* uniform on [-1, 1]: F(t) = t, so the 99th percentile of |x| is 0.99 */
    fill_centres(h, -1, 1, 1);
    assert_true(fabs(qlc_hist_abs_cdf(h, 0.25) - 0.25) < 1e-9);
    qlc_estimate_percentile(h, 99, &lo, &hi);
    assert_true(fabsf(hi - 0.99f) < 1e-6f && fabsf(lo + 0.99f) < 1e-6f);
    /* uniform on [-1, 3]: F(t) = t/2 for t <= 1, (1 + t)/4 above; P = 90 -> t = 2.6,
     * and the negative side keeps its own end (-1 > -2.6) */
    fill_centres(h, -1, 3, 1);
    qlc_estimate_percentile(h, 90, &lo, &hi);
    assert_true(fabsf(hi - 2.6f) < 1e-5f);
    assert_true(lo == -1.0f);
    /* P = 40 -> F = 0.4 < 0.5 -> t = 0.8: both sides clipped */
    qlc_estimate_percentile(h, 40, &lo, &hi);
    assert_true(fabsf(hi - 0.8f) < 1e-5f && fabsf(lo + 0.8f) < 1e-5f);
    /* never negative (a ReLU output) on [0, 4]: median of |x| is 2 -> [0, 2] */
    fill_centres(h, 0, 4, 3);
    qlc_estimate_percentile(h, 50, &lo, &hi);
    assert_true(lo == 0.0f && fabsf(hi - 2.0f) < 1e-5f);
    /* 100 keeps the whole range */
    qlc_estimate_percentile(h, 100, &lo, &hi);
    assert_true(lo == 0.0f && hi == 4.0f);
    free(h);
}

/*
 * MSE, by hand. Uniform density on [-1, 1] (N values). A symmetric range
 * [-t, t] gives s = 2t/255 and zero point round(-0.5) = 0, so the grid covers
 * [-128 s, 127 s] = [-1.0039 t, 0.9961 t]: even t = 1 clips the top 0.4%.
 * Per value: noise s²/12 plus (1 - 0.9961 t)³/6 clipped above (and
 * (1 - 1.0039 t)³/6 below once t < 0.9961). t = 1: 5.126e-6 + 1.0e-8;
 * the next candidate t = 0.5 + 0.5·126/127 = 0.99606: 5.086e-6 + 8.0e-8 +
 * 0. So the full range wins: clipping a flat distribution does not pay.
 */
static void test_estimator_mse_uniform(void **state) {
    (void)state;
    qlc_hist *h = malloc(sizeof *h);
    assert_non_null(h);
    fill_centres(h, -1, 1, 4);
    float lo, hi;
    double err;
    qlc_estimate_mse(h, &lo, &hi, &err);
    if (!(hi == 1.0f && lo == -1.0f)) fail_msg("mse range [%g, %g], want [-1, 1]", (double)lo, (double)hi);
    assert_true(err <= qlc_hist_quant_error(h, -0.99606f, 0.99606f));
    free(h);
}

/*
 * An outlier at 100 over N values uniform on [0, 1] (a ReLU output). A range
 * [0, t] has zero point -128 and covers exactly [0, t] (s = t/255), so the
 * error is N·t²/(12·255²) of rounding noise plus (v - t)² for the outlier,
 * whose bin centre is v = 100 - 100/4096 = 99.976; it is least where
 * N·t = 780300·(v - t): t* = 780300·v / (780300 + N), 88.62 for N = 10^5 and
 * 43.82 for N = 10^6. The candidates are 0.5 + 99.5·i/127 (0.78 apart), so the
 * chosen top is within a step of t*: more data, more clipping.
 */
static void test_estimator_mse_outlier(void **state) {
    (void)state;
    qlc_hist *h = malloc(sizeof *h);
    float *v = malloc(1000000 * sizeof *v);
    assert_non_null(h);
    assert_non_null(v);
    for (int n = 100000; n <= 1000000; n *= 10) {
        qlc_hist_init(h, 0, 100);
        for (int i = 0; i < n; i++) v[i] = ((float)i + 0.5f) / (float)n;
        qlc_hist_add(h, v, (size_t)n);
        float one = 100.0f;
        qlc_hist_add(h, &one, 1);
        float lo, hi;
        qlc_estimate_mse(h, &lo, &hi, NULL);
        double t = 780300.0 * (100.0 - 100.0 / 4096) / (780300.0 + n);
        if (!(fabs(hi - t) < 0.8)) fail_msg("N=%d: top %g, want %g +- 0.8", n, (double)hi, t);
        assert_true(lo == 0.0f);
    }
    free(v);
    free(h);
}

/* minmax: the input's stored range is the data's min and max, and its
 * parameters follow docs §2.1 (computed here in double from the formula). */
static void test_calibration_minmax(void **state) {
    (void)state;
    qlite_convert_options o = int8_opts("q_mix_calib.npz");
    size_t size;
    qlite_convert_report *r = NULL;
    void *b = ct_convert("q_mix", &o, &size, &r);
    qlite_convert_calibration cal;
    qlite_convert_report_calibration(r, &cal);
    assert_int_equal(cal.samples, 64);
    assert_int_equal(cal.method, QLITE_CALIBRATION_MINMAX);
    qlite_convert_report_free(r);
    qlite_npy_array mm;
    assert_qlite_ok(qlite_npy_read_file(ct_fixture("q_mix_calib_minmax", ".npy"), &mm));
    const float *ext = mm.data;
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    const qlite_tensor_info *xq = tensor(m, "x_quantized");
    assert_int_equal(xq->quant->range_count, 1);
    assert_true(xq->quant->min[0] == ext[0] && xq->quant->max[0] == ext[1]);
    double lo = fmin(ext[0], 0), hi = fmax(ext[1], 0);
    float scale = (float)((hi - lo) / 255.0);
    double zr = -128.0 - lo / (double)scale;
    double z = nearbyint(zr); /* default rounding mode: half to even */
    assert_params(xq, QLITE_DTYPE_INT8, scale, (int32_t)z);
    qlite_model_close(m);
    qlite_npy_free(&mm);
    qlite_convert_free_bytes(b);
}

/* ---- int8 ----------------------------------------------------------------------------- */

static void test_int8_mix(void **state) {
    (void)state;
    qlite_convert_options o = int8_opts("q_mix_calib.npz");
    size_t size;
    qlite_convert_report *r = NULL;
    void *b = ct_convert("q_mix", &o, &size, &r);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    /* fixed ranges */
    assert_params(tensor(m, "s"), QLITE_DTYPE_INT8, 1.0f / 256, -128);
    assert_params(tensor(m, "t"), QLITE_DTYPE_INT8, 1.0f / 128, 0);
    assert_params(tensor(m, "y_int8"), QLITE_DTYPE_INT8, 1.0f / 256, -128);
    /* the flatten keeps its input's parameters; the ADD reads an int8 constant */
    const qlite_op_info *rs = op_of(m, QLITE_OP_RESHAPE);
    assert_same_params(in_of(m, rs, 0), out_of(m, rs, 0));
    const qlite_op_info *add = op_of(m, QLITE_OP_ADD);
    assert_int_equal(in_of(m, add, 1)->dtype, QLITE_DTYPE_INT8);
    assert_int_equal(in_of(m, add, 0)->dtype, QLITE_DTYPE_INT8);
    /* LOG_SOFTMAX is a float island: a DEQUANTIZE feeds it, its output stays float */
    const qlite_op_info *ls = op_of(m, QLITE_OP_LOG_SOFTMAX);
    assert_int_equal(in_of(m, ls, 0)->dtype, QLITE_DTYPE_FLOAT32);
    const qlite_op_info *dq = producer_of(m, in_of(m, ls, 0)->name);
    assert_non_null(dq);
    assert_int_equal(dq->code, QLITE_OP_DEQUANTIZE);
    assert_int_equal(out_of(m, ls, 0)->dtype, QLITE_DTYPE_FLOAT32);
    /* model I/O float (default --io) under their ONNX names */
    assert_int_equal(tensor(m, "x")->dtype, QLITE_DTYPE_FLOAT32);
    assert_int_equal(tensor(m, "y")->dtype, QLITE_DTYPE_FLOAT32);
    assert_int_equal(producer_of(m, "y")->code, QLITE_OP_DEQUANTIZE);
    qlite_model_close(m);
    /* the report: one float op, with the kernel's reason */
    assert_int_equal(qlite_convert_report_float_op_count(r), 1);
    qlite_convert_float_op f;
    assert_qlite_ok(qlite_convert_report_float_op(r, 0, &f));
    assert_int_equal(f.code, QLITE_OP_LOG_SOFTMAX);
    assert_string_equal(f.op, "logsoftmax");
    assert_non_null(strstr(f.reason, "no int8 kernel"));
    /* every activation measured on the calibration data */
    uint32_t na = qlite_convert_report_activation_count(r);
    assert_true(na >= 7);
    for (uint32_t i = 0; i < na; i++) {
        qlite_convert_activation_info a;
        assert_qlite_ok(qlite_convert_report_activation(r, i, &a));
        if (!(a.sqnr_db > 20)) fail_msg("activation '%s' SQNR %g dB", a.tensor, a.sqnr_db);
    }
    qlite_convert_report_free(r);
    /* numerics against NumPy: softmax to about an LSB (1/256) */
    size_t n;
    float *y = run_output(b, size, "q_mix_x", 0, &n);
    float dy = max_abs_diff(y, "q_mix_y", n);
    if (!(dy <= 1.5f / 256)) fail_msg("softmax output off by %g", (double)dy);
    free(y);
    float *z = run_output(b, size, "q_mix_x", 1, &n);
    float dz = max_abs_diff(z, "q_mix_z", n);
    if (!(dz <= 0.03f)) fail_msg("log-softmax output off by %g", (double)dz);
    free(z);
    qlite_convert_free_bytes(b);
}

static void test_int8_strict(void **state) {
    (void)state;
    qlite_convert_options o = int8_opts("q_mix_calib.npz");
    o.strict = true;
    expect_convert_fails("q_mix", &o, QLITE_ERR_UNSUPPORTED_OP, "'logsoftmax'");
    assert_non_null(strstr(qlite_last_error(), "--strict"));
}

static void test_int8_io(void **state) {
    (void)state;
    for (int io = QLITE_CONVERT_IO_INT8; io <= QLITE_CONVERT_IO_UINT8; io++) {
        qlite_convert_options o = int8_opts("q_mix_calib.npz");
        o.io = (qlite_convert_io)io;
        size_t size;
        void *b = ct_convert("q_mix", &o, &size, NULL);
        qlite_model *m;
        assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
        qlite_dtype want = io == QLITE_CONVERT_IO_INT8 ? QLITE_DTYPE_INT8 : QLITE_DTYPE_UINT8;
        const qlite_tensor_info *x = qlite_model_tensor(m, (uint32_t)qlite_model_input(m, 0));
        const qlite_tensor_info *y = qlite_model_tensor(m, (uint32_t)qlite_model_output(m, 0));
        const qlite_tensor_info *z = qlite_model_tensor(m, (uint32_t)qlite_model_output(m, 1));
        assert_string_equal(x->name, "x");
        assert_string_equal(y->name, "y");
        assert_string_equal(z->name, "z");
        assert_int_equal(x->dtype, want);
        assert_int_equal(y->dtype, want);
        assert_int_equal(z->dtype, want); /* the float island's output quantized */
        int32_t shift = io == QLITE_CONVERT_IO_UINT8 ? 128 : 0;
        assert_params(y, want, 1.0f / 256, -128 + shift);
        if (io == QLITE_CONVERT_IO_UINT8) {
            /* the exact uint8 -> int8 shift right after the input */
            const qlite_op_info *q = NULL;
            for (uint32_t i = 0; i < qlite_model_op_count(m); i++)
                if (qlite_model_op(m, i)->inputs[0] == qlite_model_input(m, 0)) q = qlite_model_op(m, i);
            assert_non_null(q);
            assert_int_equal(q->code, QLITE_OP_QUANTIZE);
            const qlite_tensor_info *xi = out_of(m, q, 0);
            assert_int_equal(xi->dtype, QLITE_DTYPE_INT8);
            assert_true(xi->quant->scale[0] == x->quant->scale[0]);
            assert_int_equal(xi->quant->zero_point[0] + 128, x->quant->zero_point[0]);
        }
        qlite_model_close(m);
        size_t n;
        float *yv = run_output(b, size, "q_mix_x", 0, &n);
        float dy = max_abs_diff(yv, "q_mix_y", n);
        if (!(dy <= 1.5f / 256)) fail_msg("--io %d: softmax output off by %g", io, (double)dy);
        free(yv);
        qlite_convert_free_bytes(b);
    }
}

/* percentile:90 clips the input's range inside the data's extremes. */
static void test_calibration_percentile(void **state) {
    (void)state;
    qlite_convert_options o = int8_opts("q_mix_calib.npz");
    o.calibration = QLITE_CALIBRATION_PERCENTILE;
    o.percentile = 90;
    size_t size;
    void *b = ct_convert("q_mix", &o, &size, NULL);
    qlite_npy_array mm;
    assert_qlite_ok(qlite_npy_read_file(ct_fixture("q_mix_calib_minmax", ".npy"), &mm));
    const float *ext = mm.data;
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    const qlite_tensor_info *xq = tensor(m, "x_quantized");
    /* N(0, 1.5): the 90th percentile of |x| is 1.645 * 1.5 = 2.47 */
    assert_true(xq->quant->max[0] < ext[1] && xq->quant->min[0] > ext[0]);
    assert_true(fabsf(xq->quant->max[0] - 2.47f) < 0.3f);
    qlite_model_close(m);
    qlite_npy_free(&mm);
    qlite_convert_free_bytes(b);
}

/* Several files are concatenated. */
static void test_calibration_files(void **state) {
    (void)state;
    qlite_convert_options o = int8_opts("q_mix_calib.npz");
    calib_files[1] = keep(1, ct_fixture("q_mix_calib_part", ".npy"));
    o.num_calib_files = 2;
    size_t size;
    qlite_convert_report *r = NULL;
    void *b = ct_convert("q_mix", &o, &size, &r);
    qlite_convert_calibration cal;
    qlite_convert_report_calibration(r, &cal);
    assert_int_equal(cal.samples, 74);
    o.calib_samples = 20;
    qlite_convert_report_free(r);
    qlite_convert_free_bytes(b);
    b = ct_convert("q_mix", &o, &size, &r);
    qlite_convert_report_calibration(r, &cal);
    assert_int_equal(cal.samples, 20);
    qlite_convert_report_free(r);
    qlite_convert_free_bytes(b);
}

/* --nhwc-io: the model's input is channels last, the calibration data may be
 * given channels first as the ONNX model declares it (bn_fold: [N,3,8,8]). */
static void test_calibration_nhwc_io(void **state) {
    (void)state;
    qlite_convert_options o = int8_opts("bn_fold_x.npy");
    o.nhwc_io = true;
    size_t size;
    qlite_convert_report *r = NULL;
    void *b = ct_convert("bn_fold", &o, &size, &r);
    qlite_convert_calibration cal;
    qlite_convert_report_calibration(r, &cal);
    assert_int_equal(cal.samples, 2);
    qlite_convert_report_free(r);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    const qlite_tensor_info *x = qlite_model_tensor(m, (uint32_t)qlite_model_input(m, 0));
    assert_int_equal(x->shape[3], 3); /* NHWC */
    qlite_model_close(m);
    qlite_convert_free_bytes(b);
}

/* Two inputs: an .npz feeds them by array name (in any order; other arrays
 * are ignored); a .npy cannot, and unequal sample counts are refused. */
static void test_calibration_two_inputs(void **state) {
    (void)state;
    qlite_convert_options o = int8_opts("q_two_calib.npz");
    size_t size;
    void *b = ct_convert("q_two", &o, &size, NULL);
    qlite_npy_array rg;
    assert_qlite_ok(qlite_npy_read_file(ct_fixture("q_two_a_range", ".npy"), &rg));
    const float *v = rg.data;
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    const qlite_tensor_info *aq = tensor(m, "a_quantized"), *bq = tensor(m, "b_quantized");
    assert_true(aq->quant->min[0] == v[0] && aq->quant->max[0] == v[1]);
    assert_true(bq->quant->min[0] == v[2] && bq->quant->max[0] == v[3]);
    qlite_model_close(m);
    qlite_npy_free(&rg);
    qlite_convert_free_bytes(b);
    o = int8_opts("q_mix_calib_part.npy");
    expect_convert_fails("q_two", &o, QLITE_ERR_INVALID_ARGUMENT,
                         "is a .npy (one array) but the model has 2 inputs");
    o = int8_opts("q_two_bad_count.npz");
    expect_convert_fails("q_two", &o, QLITE_ERR_INVALID_ARGUMENT,
                         "input 'b' has 7 samples but input 'a' has 12");
}

/* ---- bad calibration data -------------------------------------------------------------- */

static void expect_bad(const char *data, const char *labels, qlite_status want, const char *w1,
                       const char *w2) {
    qlite_convert_options o = int8_opts(data);
    if (labels) {
        o.eval_file = keep(2, ct_fixture("q_mix_calib.npz", ""));
        o.eval_labels = keep(3, ct_fixture(labels, ".npy"));
    }
    char out[1024];
    snprintf(out, sizeof out, "%s", qlite_test_tmp_path("quant_bad.qlite"));
    unlink(out);
    qlite_status st = qlite_convert_file(ct_fixture("q_mix", ".onnx"), out, &o, NULL);
    const char *e = qlite_last_error();
    if (st != want) fail_msg("%s: %s, want %s (%s)", data, qlite_status_string(st),
                             qlite_status_string(want), e);
    assert_null(strchr(e, '\n'));
    if (w1 && !strstr(e, w1)) fail_msg("'%s' lacks '%s'", e, w1);
    if (w2 && !strstr(e, w2)) fail_msg("'%s' lacks '%s'", e, w2);
    assert_int_not_equal(access(out, F_OK), 0);
}

static void test_bad_calibration_data(void **state) {
    (void)state;
    expect_bad("q_bad_nan.npz", NULL, QLITE_ERR_INVALID_ARGUMENT, "NaN", "sample 5");
    expect_bad("q_bad_inf.npy", NULL, QLITE_ERR_INVALID_ARGUMENT, "+Inf", "sample 7");
    expect_bad("q_bad_shape.npy", NULL, QLITE_ERR_INVALID_ARGUMENT, "[8,4,7]", "[N,4,6]");
    expect_bad("q_bad_dtype.npy", NULL, QLITE_ERR_INVALID_ARGUMENT, "int32", "float32");
    expect_bad("q_bad_empty.npy", NULL, QLITE_ERR_INVALID_ARGUMENT, "empty", NULL);
    expect_bad("q_bad_names.npz", NULL, QLITE_ERR_INVALID_ARGUMENT, "no array for model input 'x'",
               "'a', 'b'");
    expect_bad("does_not_exist.npz", NULL, QLITE_ERR_IO, "does_not_exist.npz", NULL);
    expect_bad("q_mix_calib.npz", "q_labels_short", QLITE_ERR_INVALID_ARGUMENT, "5 labels",
               "64 samples");
}

/* ---- float16 ----------------------------------------------------------------------------- */

static void test_float16(void **state) {
    (void)state;
    qlite_convert_options o = {0};
    o.mode = QLITE_CONVERT_FLOAT16;
    o.no_pack = true; /* the weights' values are checked row-major (packing: test_convert_pack) */
    size_t size;
    qlite_convert_report *r = NULL;
    void *b = ct_convert("q_f16", &o, &size, &r);
    /* one warning naming the bias, counting the two values that overflow (65519 rounds
     * to 65504 and is not one of them) */
    assert_int_equal(qlite_convert_report_warning_count(r), 1);
    const char *w = qlite_convert_report_warning(r, 0);
    assert_non_null(strstr(w, "'bf"));
    assert_non_null(strstr(w, "2 values"));
    qlite_convert_report_free(r);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    const qlite_op_info *fc = op_of(m, QLITE_OP_FULLY_CONNECTED);
    const qlite_tensor_info *wt = in_of(m, fc, 1);
    assert_int_equal(wt->dtype, QLITE_DTYPE_FLOAT16);
    /* the halves are NumPy's (the FC weight is W transposed: [4, 8]) */
    qlite_npy_array h;
    assert_qlite_ok(qlite_npy_read_file(ct_fixture("q_f16_w16", ".npy"), &h));
    const uint16_t *hv = h.data, *mv = wt->data;
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++) assert_int_equal(mv[j * 8 + i], hv[i * 4 + j]);
    qlite_npy_free(&h);
    /* activations stay float32 */
    assert_int_equal(tensor(m, "x")->dtype, QLITE_DTYPE_FLOAT32);
    assert_int_equal(tensor(m, "y")->dtype, QLITE_DTYPE_FLOAT32);
    qlite_model_close(m);
    ct_check_numeric(b, size, "q_f16", 1e-6f);
    qlite_convert_free_bytes(b);
}

/* ---- dynamic ---------------------------------------------------------------------------- */

static void test_dynamic_small_tensors(void **state) {
    (void)state;
    qlite_convert_options o = {0};
    o.mode = QLITE_CONVERT_DYNAMIC;
    o.no_pack = true; /* the weights' values are checked row-major (packing: test_convert_pack) */
    size_t size;
    qlite_convert_report *r = NULL;
    void *b = ct_convert("q_dyn", &o, &size, &r);
    /* w2 (256 elements) and the bias stay float and are listed */
    bool w2 = false;
    for (uint32_t i = 0; i < qlite_convert_report_kept_count(r); i++) {
        qlite_convert_kept_tensor k;
        assert_qlite_ok(qlite_convert_report_kept(r, i, &k));
        if (!strncmp(k.tensor, "w2", 2)) {
            w2 = true;
            assert_int_equal(k.elements, 256);
            assert_string_equal(k.reason, "under 1024 elements");
        }
    }
    assert_true(w2);
    qlite_convert_report_free(r);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        if (op->code != QLITE_OP_FULLY_CONNECTED) continue;
        const qlite_tensor_info *wt = in_of(m, op, 1);
        if (wt->shape[0] == 8) {
            assert_int_equal(wt->dtype, QLITE_DTYPE_FLOAT32);
        } else {
            /* w1 [64,32] as the FC weight [32,64]: int8, one scale per output row,
             * symmetric: max |w| of each row is 127 steps */
            assert_int_equal(wt->dtype, QLITE_DTYPE_INT8);
            assert_int_equal(wt->quant->count, 32);
            assert_int_equal(wt->quant->axis, 0);
            const int8_t *q = wt->data;
            for (int row = 0; row < 32; row++) {
                int amax = 0;
                for (int k = 0; k < 64; k++)
                    amax = abs(q[row * 64 + k]) > amax ? abs(q[row * 64 + k]) : amax;
                assert_int_equal(amax, 127);
                assert_int_equal(wt->quant->zero_point[row], 0);
            }
            assert_int_equal(in_of(m, op, 2)->dtype, QLITE_DTYPE_FLOAT32); /* bias */
        }
        /* activations stay float */
        assert_int_equal(in_of(m, op, 0)->dtype, QLITE_DTYPE_FLOAT32);
        assert_int_equal(out_of(m, op, 0)->dtype, QLITE_DTYPE_FLOAT32);
    }
    qlite_model_close(m);
    /* against NumPy's float result: the 64 inputs of a row quantized at run
     * time (step ~6/255) and int8 weights give an output error of std ~0.01
     * (measured max 0.031 over the 256 outputs); 0.06 is twice that and still
     * far below a wrong weight, scale or axis (errors of O(1)) */
    ct_check_numeric(b, size, "q_dyn", 0.06f);
    qlite_convert_free_bytes(b);
}

/* ---- QDQ ----------------------------------------------------------------------------------- */

/* A QDQ MLP (fixture q_qdq): int8 without calibration, every activation's
 * parameters are the model's (uint8 moved to int8), the pairs are gone, the
 * weights are the model's integers, and the output is the integer pipeline
 * NumPy computes from the same parameters (within one output LSB). */
static void test_qdq(void **state) {
    (void)state;
    qlite_convert_options o = {0};
    o.mode = QLITE_CONVERT_INT8;
    o.no_pack = true; /* the weights' values are checked row-major (packing: test_convert_pack) */
    size_t size;
    qlite_convert_report *r = NULL;
    void *b = ct_convert("q_qdq", &o, &size, &r);
    assert_int_equal(ct_rewrites(r, "QuantizeLinear/DequantizeLinear pairs absorbed"), 3);
    qlite_convert_calibration cal;
    qlite_convert_report_calibration(r, &cal);
    assert_int_equal(cal.samples, 0);
    /* the hidden activation: scale 0.02, uint8 zero point 0 -> int8 -128 */
    int32_t h = qlc_report_find_activation(r, "h");
    assert_true(h >= 0);
    qlite_convert_activation_info a;
    assert_qlite_ok(qlite_convert_report_activation(r, (uint32_t)h, &a));
    assert_true(a.scale == 0.02f);
    assert_int_equal(a.zero_point, -128);
    assert_string_equal(a.source, "qdq");
    qlite_convert_report_free(r);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
    /* no QUANTIZE -> DEQUANTIZE pair is left inside the graph */
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        if (op->code != QLITE_OP_DEQUANTIZE) continue;
        const qlite_op_info *p = producer_of(m, in_of(m, op, 0)->name);
        assert_true(!p || p->code != QLITE_OP_QUANTIZE);
    }
    /* FULLY_CONNECTED weights: exactly the model's integers and scales */
    static const char *const wq[2] = {"q_qdq_w1_int8", "q_qdq_w1_scale"};
    static const char *const wq2[2] = {"q_qdq_w2_int8", "q_qdq_w2_scale"};
    uint32_t fcs = 0;
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        if (op->code != QLITE_OP_FULLY_CONNECTED) continue;
        const qlite_tensor_info *w = in_of(m, op, 1);
        const char *const *gold = fcs == 0 ? wq : wq2;
        fcs++;
        assert_int_equal(w->dtype, QLITE_DTYPE_INT8);
        qlite_npy_array q, sc;
        assert_qlite_ok(qlite_npy_read_file(ct_fixture(gold[0], ".npy"), &q));
        assert_qlite_ok(qlite_npy_read_file(ct_fixture(gold[1], ".npy"), &sc));
        assert_int_equal(w->data_size, q.bytes);
        assert_memory_equal(w->data, q.data, q.bytes);
        assert_int_equal(w->quant->count, sc.bytes / 4);
        assert_memory_equal(w->quant->scale, sc.data, sc.bytes);
        for (uint32_t c = 0; c < w->quant->count; c++) assert_int_equal(w->quant->zero_point[c], 0);
        qlite_npy_free(&q);
        qlite_npy_free(&sc);
    }
    assert_int_equal(fcs, 2);
    qlite_model_close(m);
    size_t n;
    float *y = run_output(b, size, "q_qdq_x", 0, &n);
    qlite_npy_array want;
    assert_qlite_ok(qlite_npy_read_file(ct_fixture("q_qdq_y", ".npy"), &want));
    assert_int_equal(want.bytes / 4, n);
    const float ys = 0.05f;
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        long lsb = lround(fabsf(y[i] - ((const float *)want.data)[i]) / ys);
        if (lsb > 1) fail_msg("output %zu: %g vs NumPy %g (%ld LSB)", i, (double)y[i],
                              (double)((const float *)want.data)[i], lsb);
        off += lsb != 0;
    }
    assert_true(off * 20 <= n); /* at most 5% off by one (rounding ties, requantization) */
    free(y);
    qlite_npy_free(&want);
    qlite_convert_free_bytes(b);
}

/* ---- embeddings ------------------------------------------------------------------------------ */

/* GATHER of a constant table (64 x 32): dynamic mode stores it int8 with
 * one scale per row (axis 0) and gathers float rows; int8 mode stores it
 * int8 per tensor and the gathered values keep the table's parameters. */
static void test_embeddings(void **state) {
    (void)state;
    for (int mode = QLITE_CONVERT_DYNAMIC; mode <= QLITE_CONVERT_INT8; mode++) {
        qlite_convert_options o = int8_opts("q_emb_calib.npz");
        o.mode = (qlite_convert_mode)mode;
        size_t size;
        void *b = ct_convert("q_emb", &o, &size, NULL);
        qlite_model *m;
        assert_qlite_ok(qlite_model_open_memory(b, size, 0, &m));
        const qlite_op_info *g = op_of(m, QLITE_OP_GATHER);
        const qlite_tensor_info *t = in_of(m, g, 0), *e = out_of(m, g, 0);
        assert_int_equal(t->dtype, QLITE_DTYPE_INT8);
        float tol;
        if (mode == QLITE_CONVERT_DYNAMIC) {
            assert_int_equal(t->quant->count, 64);
            assert_int_equal(t->quant->axis, 0);
            assert_int_equal(e->dtype, QLITE_DTYPE_FLOAT32);
            /* each value within half a step of its row (max |row| / 127 <= 4 / 127) */
            tol = 0.5f * 4.0f / 127;
        } else {
            assert_int_equal(t->quant->count, 1);
            assert_same_params(t, e);
            const qlite_tensor_info *y = tensor(m, "y_int8");
            /* the table's step plus the mean's output rounding (1 LSB) */
            tol = 0.5f * t->quant->scale[0] + y->quant->scale[0];
        }
        qlite_model_close(m);
        size_t n;
        float *y = run_output(b, size, "q_emb_x", 0, &n);
        float d = max_abs_diff(y, "q_emb_y", n);
        if (!(d <= tol)) fail_msg("%s: off by %g (tolerance %g)", qlite_convert_mode_name(o.mode),
                                  (double)d, (double)tol);
        free(y);
        qlite_convert_free_bytes(b);
    }
}

/* ---- report ------------------------------------------------------------------------------- */

static void test_report_text_json(void **state) {
    (void)state;
    qlite_convert_options o = int8_opts("q_mix_calib.npz");
    o.eval_file = keep(2, ct_fixture("q_dyn_calib.npz", "")); /* wrong model input: refused */
    o.eval_labels = keep(3, ct_fixture("q_dyn_labels", ".npy"));
    expect_convert_fails("q_mix", &o, QLITE_ERR_INVALID_ARGUMENT, "evaluation data");
    o.eval_file = NULL;
    o.eval_labels = NULL;
    size_t size;
    qlite_convert_report *r = NULL;
    void *bytes = ct_convert("q_mix", &o, &size, &r);
    size_t n = qlite_convert_report_format(r, NULL, 0);
    char *text = malloc(n + 1);
    assert_non_null(text);
    assert_int_equal(qlite_convert_report_format(r, text, n + 1), n);
    assert_non_null(strstr(text, "calibration: 64 samples, minmax"));
    assert_non_null(strstr(text, "ops left in float:"));
    assert_non_null(strstr(text, "LOG_SOFTMAX"));
    assert_non_null(strstr(text, "activations (SQNR dB on the calibration data)"));
    free(text);
    n = qlite_convert_report_json(r, NULL, 0);
    char *json = malloc(n + 1);
    assert_non_null(json);
    assert_int_equal(qlite_convert_report_json(r, json, n + 1), n);
    assert_non_null(strstr(json, "\"mode\": \"int8\""));
    assert_non_null(strstr(json, "\"float_ops\": ["));
    assert_non_null(strstr(json, "\"code\": \"LOG_SOFTMAX\""));
    assert_non_null(strstr(json, "\"calibration\": {\"samples\": 64"));
    /* a too small buffer is still terminated and the length is the full one */
    char small[16];
    assert_int_equal(qlite_convert_report_json(r, small, sizeof small), n);
    assert_int_equal(strlen(small), sizeof small - 1);
    free(json);
    qlite_convert_sizes s;
    qlite_convert_report_sizes(r, &s);
    assert_int_equal(s.output_bytes, size);
    assert_true(s.output_gzip_bytes > 0 && s.onnx_gzip_bytes > 0 && s.float_bytes > 0);
    qlite_convert_report_free(r);
    qlite_convert_free_bytes(bytes);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_estimator_percentile),
        cmocka_unit_test(test_estimator_mse_uniform),
        cmocka_unit_test(test_estimator_mse_outlier),
        cmocka_unit_test(test_calibration_minmax),
        cmocka_unit_test(test_calibration_percentile),
        cmocka_unit_test(test_calibration_files),
        cmocka_unit_test(test_calibration_nhwc_io),
        cmocka_unit_test(test_calibration_two_inputs),
        cmocka_unit_test(test_int8_mix),
        cmocka_unit_test(test_int8_strict),
        cmocka_unit_test(test_int8_io),
        cmocka_unit_test(test_bad_calibration_data),
        cmocka_unit_test(test_float16),
        cmocka_unit_test(test_dynamic_small_tensors),
        cmocka_unit_test(test_qdq),
        cmocka_unit_test(test_embeddings),
        cmocka_unit_test(test_report_text_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
