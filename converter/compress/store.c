/*
 * store.c — the stored form of each weight (compress.h, qlc_store_weights;
 * docs/converter.md "Sparse and palettized storage"; the forms are
 * docs/format.md §6.3 and §6.4).
 *
 * Per target, in its final dtype (float32, float16, int8, uint8, int16):
 *   1. one pass for the facts: which elements are real zero (0.0 / -0.0 for
 *      floats, the channel's zero point for integers), the distinct non-zero
 *      values of the tensor and of each row of the 2-D view (counted up to
 *      257);
 *   2. the candidate forms and their exact byte counts:
 *        dense                          n x es
 *        sparse, block br x bc          stored blocks x br x bc x es
 *          (every shape of k_shapes and the pruning block that divides the
 *          view; only when sparsity >= the threshold and not --dense)
 *                                       + (R + 1) row pointers + one column
 *                                       index per stored block, each in the
 *                                       smallest index type that fits
 *        either one palettized          ceil(stored values x b / 8) + 2^b x es
 *          per tensor or per row          (x rows per row), b = ceil(log2 D),
 *                                         D = distinct stored values (per row:
 *                                         the largest row's), D <= 256; only for
 *                                         clustered weights
 *      INT8 weights without --prune (and sparse_min >= 0): a sparse shape
 *      only at or above its measured break-even sparsity
 *      (qlc_int8_sparse_break_even), where the sparse kernel is faster;
 *   3. the smallest wins (ties: the earlier candidate, dense first); INT8
 *      weights with --prune: the smallest of the sparse forms at or above
 *      their break-even when there is one (a 16x4-pruned weight whose
 *      blocks also hold zeros stays 16x4, fast, rather than a smaller 1x4
 *      that runs slower than dense), else the smallest;
 *   4. encode it: row pointers, column indices, the stored values or their
 *      palette indices as one LSB-first bitstream, the codebook sorted by
 *      value and padded with zeros to 2^b entries.
 * A float -0.0 becomes +0.0 in a compressed form (sparse forms do not store
 * zeros; palettes hold one zero); everything else decodes bit for bit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"

static const uint32_t k_shapes[QLC_STORE_SHAPES][2] = {
    {1, 1}, {1, 2}, {1, 4}, {1, 8}, {1, 16}, {2, 1}, {4, 1}, {8, 1}, {16, 1}, {2, 2}, {4, 4},
    {16, 4},
};

#define MAXD 256                 /* palette entries at most */

/* ---- the weight as raw keys --------------------------------------------------------- */

typedef struct wview {
    const uint8_t *data;
    qlite_dtype dt;
    size_t es;                   /* bytes per element (1, 2, 4) */
    uint64_t rows, cols, n;
    /* integer zero: the zero point of the element's channel */
    const int32_t *zp;           /* NULL = 0 */
    uint32_t zp_count;
    uint64_t zp_inner;           /* elements per step of the quantized axis */
    bool all_zp_zero;
} wview;

static uint32_t key_at(const wview *v, uint64_t d) {
    const uint8_t *p = v->data + d * v->es;
    switch (v->es) {
    case 1: return p[0];
    case 2: return (uint32_t)p[0] | (uint32_t)p[1] << 8;
    default: return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                    (uint32_t)p[3] << 24;
    }
}

/* The key real zero is stored as at element d. */
static uint32_t zero_key(const wview *v, uint64_t d) {
    if (v->dt == QLITE_DTYPE_FLOAT32 || v->dt == QLITE_DTYPE_FLOAT16 || v->all_zp_zero) return 0;
    int32_t z = v->zp_count == 1 ? v->zp[0] : v->zp[(d / v->zp_inner) % v->zp_count];
    uint32_t mask = v->es == 1 ? 0xffu : v->es == 2 ? 0xffffu : 0xffffffffu;
    return (uint32_t)z & mask;
}

static bool is_zero(const wview *v, uint64_t d) {
    uint32_t k = key_at(v, d);
    switch (v->dt) {
    case QLITE_DTYPE_FLOAT32: return (k & 0x7fffffffu) == 0;
    case QLITE_DTYPE_FLOAT16: return (k & 0x7fffu) == 0;
    default: return k == zero_key(v, d);
    }
}

/* Key of element d as stored in a compressed form (-0.0 -> +0.0). */
static uint32_t stored_key(const wview *v, uint64_t d) {
    return is_zero(v, d) ? zero_key(v, d) : key_at(v, d);
}

/* Sort order of keys: numeric order of the values they encode. */
static uint32_t order_of(const wview *v, uint32_t k) {
    switch (v->dt) {
    case QLITE_DTYPE_FLOAT32: return k & 0x80000000u ? ~k : k | 0x80000000u;
    case QLITE_DTYPE_FLOAT16: return k & 0x8000u ? (~k & 0xffffu) : k | 0x8000u;
    case QLITE_DTYPE_INT8: return k ^ 0x80u;
    case QLITE_DTYPE_INT16: return k ^ 0x8000u;
    default: return k;
    }
}

static bool view_init(const qlc_tensor *t, uint64_t rows, uint64_t cols, wview *v) {
    memset(v, 0, sizeof *v);
    switch (t->dtype) {
    case QLITE_DTYPE_FLOAT32: v->es = 4; break;
    case QLITE_DTYPE_FLOAT16: case QLITE_DTYPE_INT16: v->es = 2; break;
    case QLITE_DTYPE_INT8: case QLITE_DTYPE_UINT8: v->es = 1; break;
    default: return false; /* other dtypes are not weights qlite compresses */
    }
    if (t->weight_layout != QLITE_LAYOUT_DEFAULT || t->sparse || t->cluster) return false;
    v->data = t->data;
    v->dt = t->dtype;
    v->rows = rows;
    v->cols = cols;
    v->n = rows * cols;
    if (t->data_size != v->n * v->es || !v->n) return false;
    v->all_zp_zero = true;
    bool integer = t->dtype != QLITE_DTYPE_FLOAT32 && t->dtype != QLITE_DTYPE_FLOAT16;
    if (integer && t->quant.count) {
        v->zp = t->quant.zero_point;
        v->zp_count = t->quant.count;
        v->zp_inner = 1;
        if (t->quant.count > 1) {
            if (t->quant.axis < 0 || t->quant.axis >= t->rank) return false;
            for (int32_t d = t->quant.axis + 1; d < t->rank; d++)
                v->zp_inner *= (uint64_t)t->shape[d];
        }
        for (uint32_t c = 0; c < t->quant.count; c++) v->all_zp_zero &= v->zp[c] == 0;
    }
    return true;
}

/* ---- capped distinct sets ----------------------------------------------------------- */

#define SET_SLOTS 1024

typedef struct kset {
    uint32_t key[SET_SLOTS];
    bool used[SET_SLOTS];
    uint32_t slot_of[MAXD + 1];  /* slots in use, to clear them */
    uint32_t count;              /* up to MAXD + 1 (= too many) */
} kset;

static void kset_clear(kset *s) {
    for (uint32_t i = 0; i < s->count && i <= MAXD; i++) s->used[s->slot_of[i]] = false;
    s->count = 0;
}

static void kset_add(kset *s, uint32_t k) {
    if (s->count > MAXD) return;
    uint32_t h = (k * 0x9E3779B1u) >> 22; /* 10 bits */
    while (s->used[h]) {
        if (s->key[h] == k) return;
        h = (h + 1) & (SET_SLOTS - 1);
    }
    if (s->count == MAXD) {
        s->count = MAXD + 1;
        return;
    }
    s->used[h] = true;
    s->key[h] = k;
    s->slot_of[s->count++] = h;
}

/* ---- candidate forms ---------------------------------------------------------------- */

typedef struct form {
    uint32_t br, bc;             /* 0 = dense */
    uint64_t nnzb;
    uint64_t values;             /* stored values */
    qlite_index_type rpt, cit;
    uint64_t index_bytes;        /* row_ptr + col_index */
    int pal;                     /* 0 none, 1 per tensor, 2 per row */
    uint32_t entries, bits;
    uint64_t bytes;              /* total */
} form;

static qlite_index_type index_type_for(uint64_t max_value) {
    return max_value <= 0xff ? QLITE_INDEX_UINT8
           : max_value <= 0xffff ? QLITE_INDEX_UINT16 : QLITE_INDEX_UINT32;
}

static size_t index_width(qlite_index_type t) {
    return t == QLITE_INDEX_UINT8 ? 1 : t == QLITE_INDEX_UINT16 ? 2 : 4;
}

static uint32_t bits_for(uint32_t entries) {
    uint32_t b = 1;
    while ((1u << b) < entries) b++;
    return b;
}

/* Facts shared by every candidate. */
typedef struct facts {
    uint64_t zeros;
    uint32_t dnz_tensor;         /* distinct non-zero keys (MAXD + 1 = too many) */
    uint32_t *dnz_row;           /* [rows] */
    uint8_t *row_zero;           /* [rows] scratch: the row stores a zero */
} facts;

static qlite_status gather_facts(const wview *v, facts *f, kset *ts, kset *rs) {
    f->dnz_row = malloc(v->rows * sizeof *f->dnz_row);
    f->row_zero = malloc(v->rows);
    if (!f->dnz_row || !f->row_zero) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    f->zeros = 0;
    memset(ts, 0, sizeof *ts);
    memset(rs, 0, sizeof *rs);
    for (uint64_t r = 0; r < v->rows; r++) {
        kset_clear(rs);
        for (uint64_t c = 0; c < v->cols; c++) {
            uint64_t d = r * v->cols + c;
            if (is_zero(v, d)) {
                f->zeros++;
                continue;
            }
            uint32_t k = key_at(v, d);
            kset_add(rs, k);
            kset_add(ts, k);
        }
        f->dnz_row[r] = rs->count;
    }
    f->dnz_tensor = ts->count;
    return QLITE_OK;
}

/* Fills the sparse part of form fm (br x bc dividing the view); false when
 * the form cannot be stored (no stored block, or counts beyond uint32). */
static bool measure_sparse(const wview *v, form *fm, facts *f, bool *stored_zero) {
    uint64_t R = v->rows / fm->br, C = v->cols / fm->bc;
    memset(f->row_zero, 0, v->rows);
    *stored_zero = false;
    fm->nnzb = 0;
    for (uint64_t rb = 0; rb < R; rb++)
        for (uint64_t cb = 0; cb < C; cb++) {
            uint32_t nz = 0;
            for (uint32_t i = 0; i < fm->br; i++)
                for (uint32_t j = 0; j < fm->bc; j++)
                    nz += !is_zero(v, (rb * fm->br + i) * v->cols + cb * fm->bc + j);
            if (!nz) continue;
            fm->nnzb++;
            if (nz == fm->br * fm->bc) continue;
            *stored_zero = true;
            for (uint32_t i = 0; i < fm->br; i++)
                for (uint32_t j = 0; j < fm->bc; j++)
                    if (is_zero(v, (rb * fm->br + i) * v->cols + cb * fm->bc + j))
                        f->row_zero[rb * fm->br + i] = 1;
        }
    if (!fm->nnzb || fm->nnzb > 0xffffffffu || C > 0x100000000ull) return false;
    fm->values = fm->nnzb * fm->br * fm->bc;
    fm->rpt = index_type_for(fm->nnzb);
    fm->cit = index_type_for(C - 1);
    fm->index_bytes = (R + 1) * index_width(fm->rpt) + fm->nnzb * index_width(fm->cit);
    return true;
}

/* Best palette variant of a form whose stored values are known; returns false
 * when none fits (more than MAXD entries). */
static bool palette_for(const wview *v, const facts *f, bool stored_zero, form *fm) {
    bool ok = false;
    uint64_t best = UINT64_MAX;
    /* per tensor */
    if (f->dnz_tensor <= MAXD) {
        uint32_t D = f->dnz_tensor + (stored_zero ? 1 : 0);
        if (D <= MAXD) {
            uint32_t e = D < 2 ? 2 : D, b = bits_for(e);
            uint64_t bytes = (fm->values / 8) * b + ((fm->values % 8) * b + 7) / 8 +
                             ((uint64_t)1 << b) * v->es + fm->index_bytes;
            if (bytes < best) {
                best = bytes;
                fm->pal = 1, fm->entries = e, fm->bits = b;
                ok = true;
            }
        }
    }
    /* per row */
    uint32_t D = 0;
    for (uint64_t r = 0; r < v->rows && D <= MAXD; r++) {
        uint32_t d = f->dnz_row[r] + (f->row_zero[r] ? 1 : 0);
        if (d > D) D = d;
    }
    if (D <= MAXD) {
        uint32_t e = D < 2 ? 2 : D, b = bits_for(e);
        uint64_t bytes = (fm->values / 8) * b + ((fm->values % 8) * b + 7) / 8 +
                         v->rows * ((uint64_t)1 << b) * v->es + fm->index_bytes;
        if (bytes < best) {
            best = bytes;
            fm->pal = 2, fm->entries = e, fm->bits = b;
            ok = true;
        }
    }
    if (ok) fm->bytes = best;
    return ok;
}

/* ---- encoding ----------------------------------------------------------------------- */

typedef struct encoded {
    void *values; size_t values_bytes;
    void *row_ptr; size_t row_ptr_bytes;
    void *col_index; size_t col_index_bytes;
    void *codebook; size_t codebook_bytes;
} encoded;

static void put_index(uint8_t *p, qlite_index_type t, uint64_t i, uint64_t v) {
    size_t w = index_width(t);
    for (size_t b = 0; b < w; b++) p[i * w + b] = (uint8_t)(v >> (8 * b));
}

static void put_key(uint8_t *p, size_t es, uint64_t i, uint32_t k) {
    for (size_t b = 0; b < es; b++) p[i * es + b] = (uint8_t)(k >> (8 * b));
}

typedef struct book {
    uint32_t ord[MAXD];          /* order keys, ascending */
    uint32_t key[MAXD];
    uint32_t n;
} book;

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Lookup of a key's index in a book (present by construction). */
static uint32_t book_find(const book *bk, uint32_t ord) {
    uint32_t lo = 0, hi = bk->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (bk->ord[mid] < ord) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Does block (rb, cb) of form fm hold a non-zero element? */
static bool block_nonzero(const wview *v, const form *fm, uint64_t rb, uint64_t cb) {
    for (uint32_t i = 0; i < fm->br; i++)
        for (uint32_t j = 0; j < fm->bc; j++)
            if (!is_zero(v, (rb * fm->br + i) * v->cols + cb * fm->bc + j)) return true;
    return false;
}

/* FOR_STORED runs BODY with `d` (dense index) and `row` (2-D view row) of
 * every stored element, in stored order (docs/format.md §6.3). */
#define FOR_STORED(v, fm, BODY)                                                              \
    do {                                                                                     \
        if (!(fm)->br) {                                                                     \
            for (uint64_t d_ = 0; d_ < (v)->n; d_++) {                                       \
                uint64_t d = d_, row = d_ / (v)->cols;                                       \
                (void)row;                                                                   \
                BODY;                                                                        \
            }                                                                                \
        } else {                                                                             \
            uint64_t R_ = (v)->rows / (fm)->br, C_ = (v)->cols / (fm)->bc;                   \
            for (uint64_t rb_ = 0; rb_ < R_; rb_++)                                          \
                for (uint64_t cb_ = 0; cb_ < C_; cb_++) {                                    \
                    if (!block_nonzero(v, fm, rb_, cb_)) continue;                           \
                    for (uint32_t bi_ = 0; bi_ < (fm)->br; bi_++)                            \
                        for (uint32_t bj_ = 0; bj_ < (fm)->bc; bj_++) {                      \
                            uint64_t row = rb_ * (fm)->br + bi_;                             \
                            uint64_t d = row * (v)->cols + cb_ * (fm)->bc + bj_;             \
                            (void)row;                                                       \
                            BODY;                                                            \
                        }                                                                    \
                }                                                                            \
        }                                                                                    \
    } while (0)

/* Builds the sorted codebook(s) of the stored keys: one per row when
 * nbooks > 1, else one for the tensor. */
static qlite_status build_books(const wview *v, const form *fm, book *books, uint64_t nbooks) {
    /* collect (book, order key, key) of every stored value, sort, unique */
    uint64_t *items = malloc((fm->values ? fm->values : 1) * sizeof *items);
    if (!items) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    uint64_t m = 0;
    bool per_row = nbooks > 1;
    FOR_STORED(v, fm, {
        uint32_t k = stored_key(v, d);
        items[m++] = ((per_row ? row : 0) << 32) | order_of(v, k);
    });
    qsort(items, m, sizeof *items, cmp_u64);
    for (uint64_t b = 0; b < nbooks; b++) books[b].n = 0;
    for (uint64_t i = 0; i < m; i++) {
        if (i && items[i] == items[i - 1]) continue;
        book *bk = &books[items[i] >> 32];
        uint32_t ord = (uint32_t)items[i];
        if (bk->n >= MAXD) { /* cannot happen: the candidate counted at most MAXD */
            free(items);
            return qlite_error(QLITE_ERR_CORRUPT, "palette overflow");
        }
        bk->ord[bk->n] = ord;
        bk->n++;
    }
    free(items);
    /* keys back from order keys */
    for (uint64_t b = 0; b < nbooks; b++)
        for (uint32_t i = 0; i < books[b].n; i++) {
            uint32_t o = books[b].ord[i], k;
            switch (v->dt) {
            case QLITE_DTYPE_FLOAT32: k = o & 0x80000000u ? o & 0x7fffffffu : ~o; break;
            case QLITE_DTYPE_FLOAT16: k = o & 0x8000u ? o & 0x7fffu : (~o & 0xffffu); break;
            case QLITE_DTYPE_INT8: k = o ^ 0x80u; break;
            case QLITE_DTYPE_INT16: k = o ^ 0x8000u; break;
            default: k = o; break;
            }
            books[b].key[i] = k;
        }
    return QLITE_OK;
}

static qlite_status encode(const wview *v, const form *fm, encoded *out) {
    memset(out, 0, sizeof *out);
    qlite_status st = QLITE_OK;
    if (fm->br) {
        uint64_t R = v->rows / fm->br, C = v->cols / fm->bc;
        out->row_ptr_bytes = (R + 1) * index_width(fm->rpt);
        out->col_index_bytes = fm->nnzb * index_width(fm->cit);
        out->row_ptr = calloc(1, out->row_ptr_bytes);
        out->col_index = calloc(1, out->col_index_bytes ? out->col_index_bytes : 1);
        if (!out->row_ptr || !out->col_index) return qlite_error(QLITE_ERR_NO_MEMORY, "oom");
        uint64_t k = 0;
        for (uint64_t rb = 0; rb < R; rb++) {
            put_index(out->row_ptr, fm->rpt, rb, k);
            for (uint64_t cb = 0; cb < C; cb++)
                if (block_nonzero(v, fm, rb, cb)) put_index(out->col_index, fm->cit, k++, cb);
        }
        put_index(out->row_ptr, fm->rpt, R, k);
    }
    if (!fm->pal) {
        out->values_bytes = fm->values * v->es;
        out->values = malloc(out->values_bytes);
        if (!out->values) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        uint64_t i = 0;
        FOR_STORED(v, fm, put_key(out->values, v->es, i++, stored_key(v, d)));
        return QLITE_OK;
    }
    uint64_t nbooks = fm->pal == 2 ? v->rows : 1;
    book *books = malloc(nbooks * sizeof *books);
    if (!books) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    if ((st = build_books(v, fm, books, nbooks)) != QLITE_OK) {
        free(books);
        return st;
    }
    uint64_t entries = (uint64_t)1 << fm->bits;
    out->codebook_bytes = nbooks * entries * v->es;
    out->codebook = calloc(1, out->codebook_bytes);
    out->values_bytes = (fm->values / 8) * fm->bits + ((fm->values % 8) * fm->bits + 7) / 8;
    out->values = calloc(1, out->values_bytes);
    if (!out->codebook || !out->values) {
        free(books);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    for (uint64_t b = 0; b < nbooks; b++)
        for (uint32_t i = 0; i < books[b].n; i++)
            put_key(out->codebook, v->es, b * entries + i, books[b].key[i]);
    uint8_t *bs = out->values;
    uint64_t j = 0;
    FOR_STORED(v, fm, {
        const book *bk = &books[fm->pal == 2 ? row : 0];
        uint32_t x = book_find(bk, order_of(v, stored_key(v, d)));
        uint64_t p = j++ * fm->bits;
        unsigned sh = (unsigned)(p & 7);
        bs[p >> 3] |= (uint8_t)(x << sh);
        if (sh + fm->bits > 8) bs[(p >> 3) + 1] |= (uint8_t)(x >> (8 - sh));
    });
    free(books);
    return QLITE_OK;
}

static void encoded_free(encoded *e) {
    free(e->values);
    free(e->row_ptr);
    free(e->col_index);
    free(e->codebook);
}

/* ---- the pass ----------------------------------------------------------------------- */

static float threshold(const qlite_convert_options *o) {
    if (o->sparse_min == 0) return QLC_SPARSE_MIN_DEFAULT;
    return o->sparse_min < 0 ? 0.0f : o->sparse_min;
}

/* The source name of a (possibly quantized) weight. */
static const char *source_name(const qlc_graph *g, int32_t t) {
    for (int guard = 0; guard < 8 && g->tensors[t]->float_src >= 0; guard++)
        t = g->tensors[t]->float_src;
    return g->tensors[t]->name;
}

/*
 * Automatic sparse storage of INT8 weights (int8 and dynamic modes) only
 * where the sparse kernel is faster than the dense one: the break-even
 * sparsity of each block shape, measured with tests/bench/bench_sparse
 * (FULLY_CONNECTED 1024 x 1024, AVX-512 VNNI, batch 1 and 8; the value is the
 * lowest sparsity where both batches were faster, docs/converter.md). Block
 * shapes without a vector int8 kernel never qualify. An explicit prune
 * (the user asked for size) or sparse_min < 0 (size alone decides) lifts the
 * rule. Float weights keep the size rule alone.
 */
double qlc_int8_sparse_break_even(uint32_t br, uint32_t bc) {
    if (br == 16 && bc == 4) return 0.60;
    if (br == 1 && bc == 16) return 0.95;
    if (br == 1 && bc == 4) return 0.98;
    if (br == 1 && bc == 1) return 0.99;
    return 2.0; /* never */
}

/* Picks the form of one weight; *fm.bytes == dense bytes means dense. */
static qlite_status choose(const qlc_ctx *c, const qlc_tensor *t, const wview *v, facts *f,
                           form *best) {
    const qlite_convert_options *o = &c->opts;
    bool palettes = (o->cluster && t->cluster_k) || (!o->dense && t->cluster_k);
    bool sparse = !o->dense && f->zeros > 0 &&
                  (double)f->zeros >= (double)threshold(o) * (double)v->n;
    const bool speed_rule = v->dt == QLITE_DTYPE_INT8 && !(o->prune > 0) && !(o->sparse_min < 0);
    *best = (form){.values = v->n, .bytes = v->n * v->es};
    /* dense palettes */
    if (palettes) {
        form fm = {.values = v->n};
        for (uint64_t r = 0; r < v->rows; r++) {
            f->row_zero[r] = 0;
            for (uint64_t cc = 0; cc < v->cols && !f->row_zero[r]; cc++)
                f->row_zero[r] = is_zero(v, r * v->cols + cc);
        }
        if (palette_for(v, f, f->zeros > 0, &fm) && fm.bytes < best->bytes) *best = fm;
    }
    if (!sparse) return QLITE_OK;
    uint32_t shapes[QLC_STORE_SHAPES + 1][2];
    uint32_t ns = 0;
    for (uint32_t s = 0; s < QLC_STORE_SHAPES; s++) {
        /* 16x4 has a fast kernel for INT8 only (float: the generic block
         * kernel, slower than dense below ~80%); float takes it only as the
         * prune block, below */
        if (k_shapes[s][0] == 16 && k_shapes[s][1] == 4 && v->dt != QLITE_DTYPE_INT8) continue;
        shapes[ns][0] = k_shapes[s][0];
        shapes[ns++][1] = k_shapes[s][1];
    }
    uint32_t pr = o->prune_block_rows ? o->prune_block_rows : 1;
    uint32_t pc = o->prune_block_cols ? o->prune_block_cols : 1;
    bool listed = false;
    for (uint32_t s = 0; s < ns; s++) listed |= shapes[s][0] == pr && shapes[s][1] == pc;
    if (!listed) {
        shapes[ns][0] = pr;
        shapes[ns++][1] = pc;
    }
    /* INT8 with --prune: the smallest form faster than dense when there is one */
    const bool prefer_fast = v->dt == QLITE_DTYPE_INT8 && o->prune > 0;
    form fast = {.bytes = UINT64_MAX};
    for (uint32_t s = 0; s < ns; s++) {
        form fm = {.br = shapes[s][0], .bc = shapes[s][1]};
        if (v->rows % fm.br || v->cols % fm.bc) continue;
        bool stored_zero;
        if (!measure_sparse(v, &fm, f, &stored_zero)) continue;
        const bool faster = 1.0 - (double)fm.values / (double)v->n >=
                            qlc_int8_sparse_break_even(fm.br, fm.bc);
        if (speed_rule && !faster) continue;
        fm.bytes = fm.values * v->es + fm.index_bytes;
        form fp = fm;
        const bool pal = palettes && palette_for(v, f, stored_zero, &fp) && fp.bytes < fm.bytes;
        const form *c1 = pal ? &fp : &fm;
        if (c1->bytes < best->bytes) *best = *c1;
        if (prefer_fast && faster && c1->bytes < fast.bytes) fast = *c1;
    }
    if (fast.bytes != UINT64_MAX) *best = fast;
    return QLITE_OK;
}

static qlite_status store_one(qlc_ctx *c, qlite_convert_report *r, const qlc_target *tg,
                              kset *ts, kset *rs, bool *compressed) {
    qlc_graph *g = c->g;
    qlc_tensor *t = g->tensors[tg->tensor];
    *compressed = false;
    wview v;
    if (!view_init(t, tg->rows, tg->cols, &v)) return QLITE_OK;
    facts f = {0};
    qlite_status st = gather_facts(&v, &f, ts, rs);
    form fm = {0}; /* aarch64 gcc 12 -O3 sees a path where it is read unset */
    if (st == QLITE_OK) st = choose(c, t, &v, &f, &fm);
    bool dense = st != QLITE_OK || (!fm.br && !fm.pal);
    encoded enc = {0};
    if (st == QLITE_OK && !dense) st = encode(&v, &fm, &enc);
    if (st != QLITE_OK) {
        free(f.dnz_row), free(f.row_zero);
        encoded_free(&enc);
        return st;
    }
    const char *src = source_name(g, tg->tensor);
    qlc_comp_entry *e = qlc_report_find_compress(r, src);
    if (!e && !dense) {
        e = qlc_report_compress(r, src, tg->op->name, tg->op->code, tg->rows, tg->cols);
        if (!e) st = QLITE_ERR_NO_MEMORY;
    }
    if (e) {
        e->info.dtype = t->dtype;
        e->info.zeros = f.zeros;
        e->info.dense_bytes = v.n * v.es;
        e->info.stored_bytes = fm.bytes;
        e->info.block_rows = fm.br;
        e->info.block_cols = fm.bc;
        e->info.palette = fm.pal ? fm.entries : 0;
        e->info.index_bits = fm.pal ? fm.bits : 0;
        e->info.per_row = fm.pal == 2;
    }
    free(f.dnz_row), free(f.row_zero);
    if (st != QLITE_OK || dense) {
        encoded_free(&enc);
        return st;
    }
    if (fm.br) {
        qlc_sparse *sp = calloc(1, sizeof *sp);
        if (!sp) {
            encoded_free(&enc);
            return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        }
        *sp = (qlc_sparse){.block_rows = fm.br, .block_cols = fm.bc, .row_ptr_type = fm.rpt,
                           .col_index_type = fm.cit, .row_ptr = enc.row_ptr,
                           .row_ptr_bytes = enc.row_ptr_bytes, .col_index = enc.col_index,
                           .col_index_bytes = enc.col_index_bytes, .nnz_blocks = fm.nnzb};
        enc.row_ptr = enc.col_index = NULL;
        t->sparse = sp;
    }
    if (fm.pal) {
        qlc_cluster *cl = calloc(1, sizeof *cl);
        if (!cl) {
            encoded_free(&enc);
            return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        }
        *cl = (qlc_cluster){.num_clusters = fm.entries, .index_bits = fm.bits,
                            .per_row = fm.pal == 2, .codebook = enc.codebook,
                            .codebook_bytes = enc.codebook_bytes};
        enc.codebook = NULL;
        t->cluster = cl;
    }
    qlc_tensor_set_data(t, enc.values, enc.values_bytes);
    enc.values = NULL;
    encoded_free(&enc);
    *compressed = true;
    qlc_log(c, 2, "store '%s': %s%s, %llu -> %llu bytes", t->name,
            fm.br ? "sparse" : "dense", fm.pal ? (fm.pal == 2 ? " + palette per row"
                                                               : " + palette") : "",
            (unsigned long long)(v.n * v.es), (unsigned long long)fm.bytes);
    return QLITE_OK;
}

qlite_status qlc_store_weights(qlc_ctx *c, qlite_convert_report *r, uint32_t *compressed) {
    qlc_graph *g = c->g;
    *compressed = 0;
    qlite_status st = qlc_graph_reindex(g);
    if (st != QLITE_OK) return st;
    qlc_target *tg = NULL;
    uint32_t nt = 0, sparse = 0, pal = 0;
    if ((st = qlc_targets(g, false, &tg, &nt)) != QLITE_OK) return st;
    kset *sets = malloc(2 * sizeof *sets);
    if (!sets) {
        free(tg);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    for (uint32_t i = 0; i < nt && st == QLITE_OK; i++) {
        bool done;
        st = store_one(c, r, &tg[i], &sets[0], &sets[1], &done);
        if (done) {
            (*compressed)++;
            const qlc_tensor *t = g->tensors[tg[i].tensor];
            sparse += t->sparse != NULL;
            pal += t->cluster != NULL;
        }
    }
    free(sets);
    free(tg);
    if (st != QLITE_OK) return st;
    if (sparse) qlc_count(c, "weights stored sparse", sparse);
    if (pal) qlc_count(c, "weights stored palettized", pal);
    qlc_log(c, 1, "storage: %u weights sparse, %u palettized", sparse, pal);
    return QLITE_OK;
}

bool qlc_store_candidates(qlc_ctx *c) {
    qlc_graph *g = c->g;
    const qlite_convert_options *o = &c->opts;
    if (qlc_graph_reindex(g) != QLITE_OK) return true;
    qlc_target *tg = NULL;
    uint32_t nt = 0;
    if (qlc_targets(g, false, &tg, &nt) != QLITE_OK) return true;
    bool any = false;
    for (uint32_t i = 0; i < nt && !any; i++) {
        const qlc_tensor *t = g->tensors[tg[i].tensor];
        wview v;
        if (!view_init(t, tg[i].rows, tg[i].cols, &v)) continue;
        if (t->cluster_k && (o->cluster || !o->dense)) {
            any = true;
            break;
        }
        if (o->dense) continue;
        uint64_t z = 0;
        for (uint64_t d = 0; d < v.n; d++) z += is_zero(&v, d);
        any = z > 0 && (double)z >= (double)threshold(o) * (double)v.n;
    }
    free(tg);
    return any;
}
