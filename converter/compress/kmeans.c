/*
 * kmeans.c — k-means of scalar values (compress.h, qlc_kmeans_1d).
 *
 * In one dimension a cluster of the optimal assignment for given centroids
 * is a run of the sorted values between two midpoints, so with the values
 * sorted once and prefix sums of them, a Lloyd iteration is k binary searches
 * and k divisions instead of n x k distances.
 *
 *   1. sort the values (as doubles); with at most k distinct values, they are
 *      the centroids;
 *   2. per run (QLC_KMEANS_RUNS): k-means++ — the first centroid a uniformly
 *      drawn value, each next one a value drawn with probability proportional
 *      to its squared distance to the nearest centroid so far (splitmix64
 *      stream seeded with seed + run; a draw is a 53-bit fraction of the
 *      total, found by a linear scan of the running sum);
 *   3. Lloyd: centroids sorted; boundary j = the midpoint of centroids j and
 *      j+1, cluster j = the values in (boundary j-1, boundary j] (a value
 *      exactly on a midpoint joins the lower centroid); every centroid moves
 *      to the mean of its values; an emptied cluster takes the value farthest
 *      from its centroid (the first such value). Until no boundary index
 *      changes, at most QLC_KMEANS_MAX_ITER times;
 *   4. keep the run with the least inertia (the first on a tie).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 bits. */
static double uniform01(uint64_t *s) { return (double)(splitmix64(s) >> 11) * 0x1.0p-53; }

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* First index in x[0..n) with x[i] > v. */
static size_t upper_bound(const double *x, size_t n, double v) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid] > v) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

uint32_t qlc_kmeans_assign(const qlc_kmeans_result *km, double v) {
    uint32_t lo = 0, hi = km->k ? km->k - 1 : 0;
    /* the first j whose upper midpoint is >= v */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        double m = 0.5 * (km->centroids[mid] + km->centroids[mid + 1]);
        if (v <= m) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

typedef struct run_state {
    const double *x;             /* sorted values */
    size_t n;
    const double *s1;            /* [n + 1] prefix sums */
    uint32_t k;
    double c[256];
    size_t end[256];             /* cluster j = [end[j-1], end[j]) */
} run_state;

static void kpp_init(run_state *R, uint64_t seed, double *d2) {
    uint64_t s = seed;
    size_t first = (size_t)(uniform01(&s) * (double)R->n);
    if (first >= R->n) first = R->n - 1;
    R->c[0] = R->x[first];
    double total = 0;
    for (size_t i = 0; i < R->n; i++) {
        double d = R->x[i] - R->c[0];
        d2[i] = d * d;
        total += d2[i];
    }
    for (uint32_t j = 1; j < R->k; j++) {
        double target = uniform01(&s) * total, acc = 0;
        size_t pick = R->n;
        for (size_t i = 0; i < R->n; i++) {
            acc += d2[i];
            if (d2[i] > 0 && acc > target) {
                pick = i;
                break;
            }
        }
        if (pick == R->n) /* rounding left the draw past the end: the last value not chosen */
            for (size_t i = R->n; i-- > 0;)
                if (d2[i] > 0) {
                    pick = i;
                    break;
                }
        R->c[j] = R->x[pick];
        total = 0;
        for (size_t i = 0; i < R->n; i++) {
            double d = R->x[i] - R->c[j];
            if (d * d < d2[i]) d2[i] = d * d;
            total += d2[i];
        }
    }
    qsort(R->c, R->k, sizeof R->c[0], cmp_double);
}

/* Cluster boundaries for the current (sorted) centroids; true when changed. */
static bool assign(run_state *R) {
    bool changed = false;
    for (uint32_t j = 0; j < R->k; j++) {
        size_t e = j + 1 == R->k ? R->n : upper_bound(R->x, R->n, 0.5 * (R->c[j] + R->c[j + 1]));
        if (j > 0 && e < R->end[j - 1]) e = R->end[j - 1];
        if (e != R->end[j]) changed = true;
        R->end[j] = e;
    }
    return changed;
}

static double inertia(const run_state *R) {
    double sum = 0;
    size_t b = 0;
    for (uint32_t j = 0; j < R->k; j++) {
        for (size_t i = b; i < R->end[j]; i++) {
            double d = R->x[i] - R->c[j];
            sum += d * d;
        }
        b = R->end[j];
    }
    return sum;
}

/* Lloyd iterations; returns the iteration count, *conv when stable. */
static uint32_t lloyd(run_state *R, bool *conv) {
    for (uint32_t j = 0; j < R->k; j++) R->end[j] = (size_t)-1;
    *conv = false;
    uint32_t it = 0;
    while (it < QLC_KMEANS_MAX_ITER) {
        if (!assign(R)) {
            *conv = true;
            break;
        }
        it++;
        size_t b = 0;
        bool empty = false;
        for (uint32_t j = 0; j < R->k; j++) {
            size_t e = R->end[j];
            if (e > b) R->c[j] = (R->s1[e] - R->s1[b]) / (double)(e - b);
            else empty = true;
            b = e;
        }
        if (empty) {
            for (uint32_t j = 0; j < R->k; j++) {
                size_t lo = j ? R->end[j - 1] : 0;
                if (R->end[j] > lo) continue;
                /* the value farthest from its own centroid */
                double worst = -1;
                size_t wi = 0, bb = 0;
                for (uint32_t q = 0; q < R->k; q++) {
                    for (size_t i = bb; i < R->end[q]; i++) {
                        double d = fabs(R->x[i] - R->c[q]);
                        if (d > worst) {
                            worst = d;
                            wi = i;
                        }
                    }
                    bb = R->end[q];
                }
                R->c[j] = R->x[wi];
            }
            qsort(R->c, R->k, sizeof R->c[0], cmp_double);
        }
    }
    return it;
}

qlite_status qlc_kmeans_1d(const float *values, size_t n, uint32_t k, uint64_t seed,
                           qlc_kmeans_result *out) {
    memset(out, 0, sizeof *out);
    if (k < 1 || k > 256)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "k-means: k = %u is outside 1..256", k);
    if (!n) {
        out->converged = true;
        return QLITE_OK;
    }
    double *x = malloc(n * sizeof *x), *s1 = malloc((n + 1) * sizeof *s1),
           *d2 = malloc(n * sizeof *d2);
    if (!x || !s1 || !d2) {
        free(x), free(s1), free(d2);
        return qlite_error(QLITE_ERR_NO_MEMORY, "k-means: out of memory (%zu values)", n);
    }
    for (size_t i = 0; i < n; i++) x[i] = values[i];
    qsort(x, n, sizeof *x, cmp_double);
    size_t distinct = 1;
    for (size_t i = 1; i < n; i++) distinct += x[i] != x[i - 1];
    if (distinct <= k) {
        out->k = 0;
        for (size_t i = 0; i < n; i++)
            if (!i || x[i] != x[i - 1]) out->centroids[out->k++] = x[i];
        out->converged = true;
        free(x), free(s1), free(d2);
        return QLITE_OK;
    }
    s1[0] = 0;
    for (size_t i = 0; i < n; i++) s1[i + 1] = s1[i] + x[i];
    run_state R = {.x = x, .n = n, .s1 = s1, .k = k};
    double best = INFINITY;
    for (uint32_t run = 0; run < QLC_KMEANS_RUNS; run++) {
        kpp_init(&R, seed + run, d2);
        bool conv;
        uint32_t it = lloyd(&R, &conv);
        double in = inertia(&R);
        if (in < best) {
            best = in;
            out->k = k;
            memcpy(out->centroids, R.c, k * sizeof R.c[0]);
            out->inertia = in;
            out->iterations = it;
            out->converged = conv;
        }
    }
    free(x), free(s1), free(d2);
    return QLITE_OK;
}
