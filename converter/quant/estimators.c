/*
 * estimators.c — calibration range estimators (docs/quantization.md §2.4).
 *
 * The histogram covers [lo, hi] = the min / max a first pass found, in
 * QLC_HIST_BINS equal bins; values are taken as spread uniformly inside a
 * bin. From it:
 *   - |x| quantiles: F(t) = share of the values inside [-t, t];
 *   - percentile P: t = the P-th percentile of |x|; range [max(lo,-t), min(hi,t)];
 *   - mse: for 128 thresholds t_i = t50 + (tmax - t50)·i/127 (t50 the median
 *     of |x|, tmax = max |x|), range_i = [max(lo,-t_i), min(hi,t_i)],
 *     quantized as int8 (qlite_choose_asymmetric: [qlo, qhi] = the real
 *     values of codes -128 and 127), error_i = Σ_bins count · e(center) with
 *     e(v) = s²/12 inside [qlo, qhi] (uniform rounding noise) and
 *     (v − clamp(v, qlo, qhi))² outside (clipping). The least error wins
 *     (the first on ties, i.e. the narrower range).
 */
#include <math.h>
#include <string.h>

#include "quant_internal.h"

void qlc_hist_init(qlc_hist *h, double lo, double hi) {
    memset(h, 0, sizeof *h);
    h->lo = lo;
    h->hi = hi > lo ? hi : lo;
}

void qlc_hist_add(qlc_hist *h, const float *x, size_t n) {
    double w = h->hi - h->lo;
    double k = w > 0 ? QLC_HIST_BINS / w : 0;
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        if (!(v == v)) continue; /* NaN */
        double f = (v - h->lo) * k;
        int64_t b = f <= 0 ? 0 : f >= QLC_HIST_BINS ? QLC_HIST_BINS - 1 : (int64_t)f;
        h->counts[b]++;
    }
    h->total += n;
}

static double bin_lo(const qlc_hist *h, int b) {
    return h->lo + (h->hi - h->lo) * b / QLC_HIST_BINS;
}

double qlc_hist_abs_cdf(const qlc_hist *h, double t) {
    if (!h->total) return 1;
    if (t < 0) return 0;
    double w = (h->hi - h->lo) / QLC_HIST_BINS, inside = 0;
    for (int b = 0; b < QLC_HIST_BINS; b++) {
        if (!h->counts[b]) continue;
        double a = bin_lo(h, b), z = a + w;
        if (w <= 0) { /* every value equal */
            inside += fabs(a) <= t ? (double)h->counts[b] : 0;
            continue;
        }
        double l = a > -t ? a : -t, r = z < t ? z : t;
        if (r > l) inside += (double)h->counts[b] * (r - l) / w;
    }
    double f = inside / (double)h->total;
    return f > 1 ? 1 : f;
}

double qlc_hist_abs_quantile(const qlc_hist *h, double q) {
    double tmax = fmax(fabs(h->lo), fabs(h->hi));
    if (q >= 1) return tmax;
    double a = 0, b = tmax;
    if (qlc_hist_abs_cdf(h, 0) >= q) return 0;
    for (int it = 0; it < 64; it++) { /* bisection: F is monotone */
        double m = 0.5 * (a + b);
        if (qlc_hist_abs_cdf(h, m) >= q) b = m;
        else a = m;
    }
    return b;
}

void qlc_estimate_percentile(const qlc_hist *h, double p, float *rmin, float *rmax) {
    double t = qlc_hist_abs_quantile(h, p / 100.0);
    *rmin = (float)fmax(h->lo, -t);
    *rmax = (float)fmin(h->hi, t);
}

double qlc_hist_quant_error(const qlc_hist *h, float rmin, float rmax) {
    float s;
    int32_t zp;
    if (qlite_choose_asymmetric(rmin, rmax, QLITE_DTYPE_INT8, &s, &zp) != QLITE_OK) return INFINITY;
    double qlo = (double)s * (-128 - zp), qhi = (double)s * (127 - zp);
    double noise = (double)s * s / 12.0, w = (h->hi - h->lo) / QLC_HIST_BINS, err = 0;
    for (int b = 0; b < QLC_HIST_BINS; b++) {
        if (!h->counts[b]) continue;
        double v = bin_lo(h, b) + 0.5 * w;
        double e = v < qlo ? (qlo - v) * (qlo - v) : v > qhi ? (v - qhi) * (v - qhi) : noise;
        err += (double)h->counts[b] * e;
    }
    return err;
}

void qlc_estimate_mse(const qlc_hist *h, float *rmin, float *rmax, double *err_out) {
    double tmax = fmax(fabs(h->lo), fabs(h->hi));
    double t50 = qlc_hist_abs_quantile(h, 0.5);
    double best = INFINITY;
    *rmin = (float)h->lo;
    *rmax = (float)h->hi;
    for (int i = 0; i < 128; i++) {
        double t = t50 + (tmax - t50) * i / 127.0;
        float lo = (float)fmax(h->lo, -t), hi = (float)fmin(h->hi, t);
        double e = qlc_hist_quant_error(h, lo, hi);
        if (e < best) {
            best = e;
            *rmin = lo;
            *rmax = hi;
        }
    }
    if (err_out) *err_out = best;
}
