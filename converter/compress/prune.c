/*
 * prune.c — magnitude pruning of float weights (compress.h; docs/converter.md
 * "Pruning").
 *
 * Steps:
 *   1. the float32 targets, minus those a --prune-skip pattern names;
 *   2. each weight's 2-D view [rows, cols] cut into blocks of
 *      block_rows x block_cols (an error when they do not divide it);
 *   3. block scores: sum of squares (L2, compared as its square root) or sum
 *      of absolute values (L1); a block holding NaN/Inf scores +inf (kept);
 *   4. layer scope: per weight, the k = floor(S x blocks + 0.5) blocks with the
 *      lowest (score, block index) become +0.0; global scope: the scores
 *      divided by the root-mean-square block score of their weight, one
 *      ranking by (normalized score, weight order, block index) over every
 *      weight, the lowest floor(S x all blocks + 0.5) pruned (all weights use
 *      the same block shape, so counting blocks counts elements);
 *   5. per weight: the error of the pruned elements (their Σw²) goes to the
 *      report entry.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"

typedef struct pitem {
    double score;                /* normalized in the global scope */
    uint32_t layer;
    uint64_t block;
} pitem;

static int cmp_pitem(const void *a, const void *b) {
    const pitem *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? -1 : 1;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    return x->block < y->block ? -1 : x->block > y->block;
}

typedef struct player {
    qlc_target t;
    float *w;                    /* the tensor's data */
    uint64_t nblocks;
    double *score;               /* [nblocks] raw scores (L2: sum of squares) */
    uint32_t entry;              /* its report entry (index: the array may move) */
    qlc_comp_entry *e;           /* set once every entry exists */
} player;

/* Norm of a block from its raw score (L2 keeps sums of squares). */
static double norm_of(double raw, qlite_prune_norm norm) {
    return norm == QLITE_PRUNE_L2 ? sqrt(raw) : raw;
}

static void score_blocks(player *L, uint32_t br, uint32_t bc, qlite_prune_norm norm) {
    uint64_t C = L->t.cols / bc, R = L->t.rows / br;
    for (uint64_t r = 0; r < R; r++)
        for (uint64_t cb = 0; cb < C; cb++) {
            double s = 0;
            bool finite = true;
            for (uint32_t i = 0; i < br; i++)
                for (uint32_t j = 0; j < bc; j++) {
                    float v = L->w[(r * br + i) * L->t.cols + cb * bc + j];
                    if (!isfinite(v)) finite = false;
                    s += norm == QLITE_PRUNE_L2 ? (double)v * v : fabs((double)v);
                }
            L->score[r * C + cb] = finite ? s : INFINITY;
        }
}

/* Zeroes block b of layer L and adds its energy to the entry's noise. */
static void zero_block(player *L, uint64_t b, uint32_t br, uint32_t bc) {
    uint64_t C = L->t.cols / bc, r = b / C, cb = b % C;
    for (uint32_t i = 0; i < br; i++)
        for (uint32_t j = 0; j < bc; j++) {
            float *p = &L->w[(r * br + i) * L->t.cols + cb * bc + j];
            L->e->noise += (double)*p * *p;
            *p = 0.0f;
        }
}

static qlite_status prune_layers(player *Ls, uint32_t nl, const qlite_convert_options *o,
                                 uint32_t br, uint32_t bc) {
    if (o->prune_scope == QLITE_PRUNE_LAYER) {
        for (uint32_t l = 0; l < nl; l++) {
            player *L = &Ls[l];
            pitem *it = malloc((L->nblocks ? L->nblocks : 1) * sizeof *it);
            if (!it) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            for (uint64_t b = 0; b < L->nblocks; b++)
                it[b] = (pitem){.score = L->score[b], .layer = l, .block = b};
            qsort(it, L->nblocks, sizeof *it, cmp_pitem);
            uint64_t k = (uint64_t)floor((double)o->prune * (double)L->nblocks + 0.5);
            for (uint64_t i = 0; i < k && i < L->nblocks; i++) zero_block(L, it[i].block, br, bc);
            free(it);
        }
        return QLITE_OK;
    }
    uint64_t total = 0;
    for (uint32_t l = 0; l < nl; l++) total += Ls[l].nblocks;
    pitem *it = malloc((total ? total : 1) * sizeof *it);
    if (!it) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    uint64_t m = 0;
    for (uint32_t l = 0; l < nl; l++) {
        player *L = &Ls[l];
        /* RMS of the block norms over the finite ones */
        double sum = 0;
        uint64_t cnt = 0;
        for (uint64_t b = 0; b < L->nblocks; b++) {
            if (isinf(L->score[b])) continue;
            double nb = norm_of(L->score[b], o->prune_norm);
            sum += nb * nb;
            cnt++;
        }
        double rms = cnt ? sqrt(sum / (double)cnt) : 0;
        for (uint64_t b = 0; b < L->nblocks; b++) {
            double s = L->score[b];
            double v = isinf(s) ? INFINITY : rms > 0 ? norm_of(s, o->prune_norm) / rms : 0;
            it[m++] = (pitem){.score = v, .layer = l, .block = b};
        }
    }
    qsort(it, total, sizeof *it, cmp_pitem);
    uint64_t k = (uint64_t)floor((double)o->prune * (double)total + 0.5);
    for (uint64_t i = 0; i < k && i < total; i++) zero_block(&Ls[it[i].layer], it[i].block, br, bc);
    free(it);
    return QLITE_OK;
}

qlite_status qlc_prune_weights(qlc_ctx *c, qlite_convert_report *r) {
    qlc_graph *g = c->g;
    const qlite_convert_options *o = &c->opts;
    uint32_t br = o->prune_block_rows ? o->prune_block_rows : 1;
    uint32_t bc = o->prune_block_cols ? o->prune_block_cols : 1;
    qlite_status st = qlc_graph_reindex(g);
    if (st != QLITE_OK) return st;
    qlc_target *tg = NULL;
    uint32_t nt = 0;
    if ((st = qlc_targets(g, true, &tg, &nt)) != QLITE_OK) return st;
    player *Ls = calloc(nt ? nt : 1, sizeof *Ls);
    bool *used = calloc(o->num_prune_skip ? o->num_prune_skip : 1, sizeof *used);
    if (!Ls || !used) {
        free(tg), free(Ls), free(used);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    uint32_t nl = 0;
    uint64_t pruned_before = 0, elements = 0;
    for (uint32_t i = 0; i < nt && st == QLITE_OK; i++) {
        qlc_target *t = &tg[i];
        qlc_tensor *tt = g->tensors[t->tensor];
        bool skip = false;
        for (uint32_t p = 0; p < o->num_prune_skip; p++)
            if (qlc_target_matches(g, t, o->prune_skip[p])) skip = used[p] = true;
        qlc_comp_entry *e = qlc_report_compress(r, tt->name, t->op->name, t->op->code, t->rows,
                                                t->cols);
        if (!e) {
            st = QLITE_ERR_NO_MEMORY;
            break;
        }
        const float *w = tt->data;
        uint64_t n = qlc_elements(tt);
        e->signal = 0;
        for (uint64_t k = 0; k < n; k++) e->signal += (double)w[k] * w[k];
        e->noise = 0;
        if (skip) {
            e->info.skipped = true;
            continue;
        }
        if (t->rows % br || t->cols % bc) {
            char sh[128];
            qlc_shape_str(tt->rank, tt->shape, sh, sizeof sh);
            st = qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                             "pruning block %ux%u does not divide weight '%s' of op '%s' (%s): "
                             "shape %s, 2-D view [%llu, %llu]; choose another --prune-block or "
                             "leave it out with --prune-skip '%s'",
                             br, bc, tt->name, t->op->name, qlite_op_name(t->op->code), sh,
                             (unsigned long long)t->rows, (unsigned long long)t->cols,
                             tt->name);
            break;
        }
        player *L = &Ls[nl++];
        L->t = *t;
        L->w = tt->data;
        L->entry = (uint32_t)(e - r->comp);
        L->nblocks = (t->rows / br) * (t->cols / bc);
        L->score = malloc((L->nblocks ? L->nblocks : 1) * sizeof *L->score);
        if (!L->score) {
            st = qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            break;
        }
        score_blocks(L, br, bc, o->prune_norm);
        e->info.pruned = true;
        elements += n;
        for (uint64_t k = 0; k < n; k++) pruned_before += w[k] == 0.0f;
    }
    for (uint32_t l = 0; l < nl; l++) Ls[l].e = &r->comp[Ls[l].entry];
    if (st == QLITE_OK) st = prune_layers(Ls, nl, o, br, bc);
    uint64_t zeros = 0;
    for (uint32_t l = 0; l < nl; l++) {
        if (st == QLITE_OK) {
            /* a -0.0 left in a kept block stays; pruned elements are +0.0 */
            uint64_t n = Ls[l].t.rows * Ls[l].t.cols;
            for (uint64_t k = 0; k < n; k++) zeros += Ls[l].w[k] == 0.0f;
            qlc_comp_entry *e = Ls[l].e;
            e->info.sqnr_db = qlc_sqnr_db(e->signal, e->noise);
        }
        free(Ls[l].score);
    }
    for (uint32_t p = 0; p < o->num_prune_skip && st == QLITE_OK; p++)
        if (!used[p])
            st = qlc_report_add_warning(r, "--prune-skip '%s' names no prunable weight or op",
                                        o->prune_skip[p]);
    free(Ls);
    free(used);
    free(tg);
    if (st != QLITE_OK) return st;
    if (nl) qlc_count(c, "weights pruned", nl);
    qlc_log(c, 1, "prune: %u weights, %llu of %llu elements zero (%llu before)", nl,
            (unsigned long long)zeros, (unsigned long long)elements,
            (unsigned long long)pruned_before);
    return QLITE_OK;
}
