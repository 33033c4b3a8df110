/*
 * compress.h — pruning, clustering and the compressed storage of weights
 * (issue #5; docs/converter.md "Pruning, clustering and sparse storage").
 *
 * Three passes over the lowered graph, in this order:
 *
 *   qlc_prune_weights    float weights: magnitude pruning to a target sparsity,
 *                        per layer or global, in blocks over the 2-D view (prune.c)
 *   qlc_cluster_weights  float weights: k-means per weight, zero kept as its own
 *                        exact centroid; weights that already hold few distinct
 *                        values are marked clustered (cluster.c, kmeans.c)
 *        ... quantization (float16 / dynamic / int8) runs in between ...
 *   qlc_store_weights    final weights (any dtype): the smallest of dense, block-
 *                        sparse (CSR) and palettized forms, each lossless (store.c)
 *
 * The weights these passes look at ("targets", targets.c): the weight input
 * of FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV_2D, a
 * constant operand of BATCH_MATMUL, W and R of LSTM / GRU, and a constant
 * GATHER table. A tensor read by several ops is one target (first reader in
 * execution order names it).
 *
 * The 2-D view of a weight (docs/format.md §4): rows = shape[0], cols = the
 * product of the other dims.
 */
#ifndef QLITE_CONVERTER_COMPRESS_H
#define QLITE_CONVERTER_COMPRESS_H

#include "ir.h"
#include "passes/passes.h"
#include "report.h"

/* ---- targets (targets.c) ------------------------------------------------------------- */

typedef struct qlc_target {
    int32_t tensor;              /* the weight */
    const qlc_node *op;          /* first op reading it (execution order) */
    uint32_t slot;               /* its input slot there */
    uint64_t rows, cols;         /* 2-D view */
} qlc_target;

/*
 * Lists the weights of the graph (every live op, execution order), unique
 * per tensor. Only constants with data are listed; `float_only` keeps FLOAT32
 * ones only. *out is malloc'd (free it), *count entries (may be 0).
 */
qlite_status qlc_targets(qlc_graph *g, bool float_only, qlc_target **out, uint32_t *count);

/* True when glob `pattern` (fnmatch) names the target: its tensor, or any
 * live op reading it. */
bool qlc_target_matches(const qlc_graph *g, const qlc_target *t, const char *pattern);

/* ---- pruning (prune.c) ----------------------------------------------------------------- */

/*
 * Magnitude pruning of the float32 targets to options.prune (docs §"Pruning"):
 * blocks of prune_block_rows x prune_block_cols over the 2-D view scored by
 * their L2 (default) or L1 norm; per layer the round(S x blocks) lowest-scored
 * blocks become +0.0; with the global scope one ranking over every target of
 * the scores divided by their layer's root-mean-square block score. Ties go
 * to the earlier block (row-major), then the earlier layer. Targets matching
 * a prune_skip pattern are left alone; a pattern matching nothing is a
 * warning. Errors: QLITE_ERR_INVALID_ARGUMENT when the block does not divide
 * a weight's 2-D view (naming the weight, its op and shapes).
 * Records one report entry per target (qlc_report_compress).
 */
qlite_status qlc_prune_weights(qlc_ctx *c, qlite_convert_report *r);

/* ---- clustering (cluster.c, kmeans.c) -------------------------------------------------- */

/* Result of 1-D k-means. */
typedef struct qlc_kmeans_result {
    uint32_t k;                  /* centroids found (< requested when fewer distinct values) */
    double centroids[256];       /* ascending */
    double inertia;              /* sum of squared distances to the assigned centroid */
    uint32_t iterations;         /* Lloyd iterations of the kept run */
    bool converged;              /* assignments stopped changing before the cap */
} qlc_kmeans_result;

#define QLC_KMEANS_MAX_ITER 300
#define QLC_KMEANS_RUNS 4
#define QLC_KMEANS_SEED 0x5eed5eed2024ull

/*
 * k-means of n values into k <= 256 clusters (kmeans.c): the values sorted,
 * QLC_KMEANS_RUNS runs, each k-means++ seeded from a splitmix64 stream
 * (seed + run), then Lloyd iterations until no value changes cluster or
 * QLC_KMEANS_MAX_ITER; the run with the least inertia is kept (the first on a
 * tie). With at most k distinct values they are the centroids (inertia 0).
 * Deterministic: the same values give the same centroids on every machine
 * with IEEE doubles. n = 0 gives k = 0.
 */
qlite_status qlc_kmeans_1d(const float *values, size_t n, uint32_t k, uint64_t seed,
                           qlc_kmeans_result *out);

/* Index of the centroid nearest to v (ascending centroids; a value exactly
 * half-way goes to the lower one). */
uint32_t qlc_kmeans_assign(const qlc_kmeans_result *km, double v);

/*
 * --cluster K on the float32 targets: exact zeros (pruned or not) keep the
 * value 0 and the other values are clustered into K - 1 centroids (K when the
 * weight has no zero); each value becomes its centroid (rounded to float).
 * Sets cluster_k. Without --cluster, a target with at most 16 distinct
 * values (and at least 64 elements) is marked clustered as it is (a model
 * clustered during training). Records report entries.
 */
qlite_status qlc_cluster_weights(qlc_ctx *c, qlite_convert_report *r);

/* ---- storage (store.c) ----------------------------------------------------------------- */

/* The block shapes the storage pass tries (besides the prune block). */
#define QLC_STORE_SHAPES 12

/* Minimum sparsity for sparse storage when options.sparse_min is 0. */
#define QLC_SPARSE_MIN_DEFAULT 0.5f

/* INT8 weights (int8 / dynamic modes) are stored sparse automatically (no
 * options.prune, options.sparse_min >= 0) only when the block sparsity of the
 * br x bc form is at least this: 0.60 for 16x4, 0.95 for 1x16, 0.98 for 1x4, 0.99 for 1x1,
 * more than 1 (never) for shapes without a vector int8 kernel. */
double qlc_int8_sparse_break_even(uint32_t br, uint32_t bc);

/*
 * Chooses the stored form of every target in its final dtype and encodes it
 * (t->sparse, t->cluster, t->data replaced), the smallest in bytes of:
 *   dense; block-sparse for each block shape that divides the 2-D view (when
 *   the weight's sparsity is >= the threshold and not options.dense); a
 *   palette (per tensor or per row, 2^b entries) of either, when the values
 *   fit in <= 256 entries and the weight is clustered (cluster_k), or needs
 *   <= 16 entries and not options.dense.
 * Every form decodes to exactly the same bytes (a -0.0 outside the stored
 * blocks decodes as +0.0). Fills the storage columns of the report entries.
 * Returns the number of targets stored in a compressed form in *compressed.
 */
qlite_status qlc_store_weights(qlc_ctx *c, qlite_convert_report *r, uint32_t *compressed);

/* Would qlc_store_weights compress anything (a quick look, no encoding)? */
bool qlc_store_candidates(qlc_ctx *c);

#endif /* QLITE_CONVERTER_COMPRESS_H */
