/*
 * cluster.c — weight clustering (compress.h, qlc_cluster_weights; docs/converter.md
 * "Clustering").
 *
 * Per float32 target (execution order):
 *   1. split the values into exact zeros (0.0 or -0.0: pruned, or zero in the
 *      model) and the rest;
 *   2. the rest into K - 1 clusters when there are zeros (zero is the K-th,
 *      exact centroid), K otherwise, by qlc_kmeans_1d (fixed seed);
 *   3. every non-zero value becomes its centroid (the double mean rounded to
 *      float); zeros become +0.0; so pruned weights stay zero and the sparsity
 *      pattern does not change;
 *   4. cluster_k = the number of distinct values left; the error goes to the
 *      report entry (it adds to pruning's: disjoint elements).
 * Without --cluster, a weight of at least 64 elements with at most 16
 * distinct values (a model clustered during training) gets cluster_k = that
 * count and keeps its values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"

#define DETECT_MAX 16
#define DETECT_MIN_ELEMENTS 64

/* Distinct float values of w (bit patterns, -0.0 counted as 0.0), up to
 * cap + 1 (then it stops). */
static uint32_t distinct_capped(const float *w, uint64_t n, uint32_t cap) {
    uint32_t seen[257];
    uint32_t m = 0;
    for (uint64_t i = 0; i < n; i++) {
        float v = w[i] == 0.0f ? 0.0f : w[i];
        uint32_t b;
        memcpy(&b, &v, 4);
        uint32_t j = 0;
        while (j < m && seen[j] != b) j++;
        if (j < m) continue;
        if (m == cap) return cap + 1;
        seen[m++] = b;
    }
    return m;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static qlite_status cluster_one(qlc_ctx *c, qlc_tensor *tt, qlc_comp_entry *e, uint32_t K) {
    float *w = tt->data;
    uint64_t n = qlc_elements(tt), zeros = 0;
    for (uint64_t i = 0; i < n; i++) zeros += w[i] == 0.0f;
    float *nz = malloc((n - zeros ? n - zeros : 1) * sizeof *nz);
    if (!nz) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    uint64_t m = 0;
    for (uint64_t i = 0; i < n; i++)
        if (w[i] != 0.0f) nz[m++] = w[i];
    uint32_t k = zeros ? K - 1 : K;
    qlc_kmeans_result km;
    qlite_status st = qlc_kmeans_1d(nz, m, k, QLC_KMEANS_SEED, &km);
    free(nz);
    if (st != QLITE_OK) return st;
    float cf[256];
    for (uint32_t j = 0; j < km.k; j++) cf[j] = (float)km.centroids[j];
    double noise = 0;
    bool used[256] = {false};
    for (uint64_t i = 0; i < n; i++) {
        float v = w[i];
        if (v == 0.0f) {
            w[i] = 0.0f;
            continue;
        }
        uint32_t j = qlc_kmeans_assign(&km, v);
        used[j] = true;
        double d = (double)cf[j] - v;
        noise += d * d;
        w[i] = cf[j];
    }
    e->noise += noise;
    e->info.sqnr_db = qlc_sqnr_db(e->signal, e->noise);
    /* distinct values left: the centroids in use (two may round to one float) and zero */
    float vals[257];
    uint32_t nv = 0, d = 0;
    if (zeros) vals[nv++] = 0.0f;
    for (uint32_t j = 0; j < km.k; j++)
        if (used[j]) vals[nv++] = cf[j] == 0.0f ? 0.0f : cf[j];
    qsort(vals, nv, sizeof vals[0], cmp_float);
    for (uint32_t j = 0; j < nv; j++) d += j == 0 || vals[j] != vals[j - 1];
    tt->cluster_k = d < 2 ? 2 : d;
    e->info.clusters = d;
    qlc_log(c, 2, "cluster '%s': %u centroids%s, %u Lloyd iterations%s, inertia %.6g", tt->name,
            km.k, zeros ? " + zero" : "", km.iterations, km.converged ? "" : " (cap reached)",
            km.inertia);
    return QLITE_OK;
}

qlite_status qlc_cluster_weights(qlc_ctx *c, qlite_convert_report *r) {
    qlc_graph *g = c->g;
    uint32_t K = c->opts.cluster;
    qlite_status st = qlc_graph_reindex(g);
    if (st != QLITE_OK) return st;
    qlc_target *tg = NULL;
    uint32_t nt = 0, done = 0;
    if ((st = qlc_targets(g, true, &tg, &nt)) != QLITE_OK) return st;
    for (uint32_t i = 0; i < nt && st == QLITE_OK; i++) {
        qlc_tensor *tt = g->tensors[tg[i].tensor];
        uint64_t n = qlc_elements(tt);
        if (!K) {
            /* detection only: few distinct values as they are */
            if (n < DETECT_MIN_ELEMENTS) continue;
            uint32_t d = distinct_capped(tt->data, n, DETECT_MAX);
            if (d > DETECT_MAX) continue;
            tt->cluster_k = d < 2 ? 2 : d;
            qlc_comp_entry *e = qlc_report_compress(r, tt->name, tg[i].op->name, tg[i].op->code,
                                                    tg[i].rows, tg[i].cols);
            if (!e) st = QLITE_ERR_NO_MEMORY;
            else e->info.clusters = d;
            done++;
            continue;
        }
        qlc_comp_entry *e = qlc_report_find_compress(r, tt->name);
        if (!e) {
            /* not seen by pruning: the signal of the original */
            e = qlc_report_compress(r, tt->name, tg[i].op->name, tg[i].op->code, tg[i].rows,
                                    tg[i].cols);
            if (!e) {
                st = QLITE_ERR_NO_MEMORY;
                break;
            }
            const float *w = tt->data;
            e->signal = e->noise = 0;
            for (uint64_t k = 0; k < n; k++) e->signal += (double)w[k] * w[k];
        }
        st = cluster_one(c, tt, e, K);
        done++;
    }
    free(tg);
    if (st != QLITE_OK) return st;
    if (K) {
        if (done) qlc_count(c, "weights clustered", done);
        qlc_log(c, 1, "cluster: %u weights to at most %u values", done, K);
    } else if (done) {
        qlc_count(c, "weights found clustered", done);
        qlc_log(c, 1, "cluster: %u weights hold at most %d distinct values", done, DETECT_MAX);
    }
    return QLITE_OK;
}
