/*
 * qlite-dump_values.c — decoding a constant tensor's values and --tensor.
 *
 * Storage forms handled (docs/format.md):
 *   dense          row-major elements of the dtype (int4: two per byte, the
 *                  even element in the low nibble, signed);
 *   O16I4 / O16    packed layouts: each matrix [O, I] of the packed view (the
 *                  2-D view, or one per dim-0 entry of a rank-3 tensor,
 *                  src/packed_layout.h) stored as [ceil(O/16)][ceil(I/4)][16][4]
 *                  (O16I4) or [ceil(O/16)][I][16] (O16), zero padded;
 *   sparse         block CSR over the 2-D view [rows, cols]: row_ptr per block
 *                  row, a block column index per non-zero block, the blocks'
 *                  values row-major inside each block;
 *   clustered      the stored values are index_bits-bit indices (one LSB-first
 *                  bitstream) into a codebook in the tensor's dtype (per row of
 *                  the 2-D view when per_row); combines with sparse.
 * Dequantization: real = scale[c] * (q - zero_point[c]), c = the element's
 * coordinate along quant->axis when per channel.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "packed_layout.h"
#include "qlite-dump.h"

typedef struct decoder {
    const qlite_tensor_info *t;
    uint32_t bits;               /* bits per stored element of the dtype */
    uint64_t elements;
    uint64_t rows, cols;         /* 2-D view */
    /* quantization */
    bool dequant;
    uint64_t q_inner;            /* elements per step along the quantized axis */
    uint64_t q_dim;              /* size of the quantized axis (1 = per tensor) */
    /* clustering */
    const qlite_clustering *k;
    uint64_t cb_entries;         /* entries per codebook (2^index_bits) */
    uint64_t cb_rows;            /* 1, or rows when per_row */
    const void *codebook;
} decoder;

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Element `pos` of an array of dtype `dt` as a double. */
static double load(const void *base, qlite_dtype dt, uint64_t pos) {
    const unsigned char *b = base;
    switch (dt) {
    case QLITE_DTYPE_FLOAT32: { float v; memcpy(&v, b + pos * 4, 4); return v; }
    case QLITE_DTYPE_FLOAT16: { uint16_t v; memcpy(&v, b + pos * 2, 2); return qlite_fp16_to_fp32(v); }
    case QLITE_DTYPE_INT8: return (int8_t)b[pos];
    case QLITE_DTYPE_UINT8: return b[pos];
    case QLITE_DTYPE_BOOL: return b[pos];
    case QLITE_DTYPE_INT16: { int16_t v; memcpy(&v, b + pos * 2, 2); return v; }
    case QLITE_DTYPE_INT32: { int32_t v; memcpy(&v, b + pos * 4, 4); return v; }
    case QLITE_DTYPE_INT64: { int64_t v; memcpy(&v, b + pos * 8, 8); return (double)v; }
    case QLITE_DTYPE_INT4: {
        unsigned nib = (pos & 1) ? (b[pos / 2] >> 4) : (b[pos / 2] & 0x0f);
        return (int)(nib ^ 8u) - 8; /* sign-extend 4 bits */
    }
    default: return 0.0;
    }
}

/* ceil(count * bits / 8) without overflow for count < 2^61. */
static uint64_t bits_bytes(uint64_t count, uint32_t bits) {
    return (count / 8) * bits + ((count % 8) * bits + 7) / 8;
}

/* The index_bits-bit code at position pos of an LSB-first bitstream. */
static uint32_t load_code(const unsigned char *b, uint64_t pos, uint32_t bits) {
    uint64_t bit = pos * bits;
    uint32_t v = 0;
    for (uint32_t i = 0; i < bits; i++, bit++)
        v |= (uint32_t)((b[bit >> 3] >> (bit & 7)) & 1u) << i;
    return v;
}

/* Stored value of storage position pos, whose logical row is `row`. */
static double stored_at(const decoder *d, uint64_t pos, uint64_t row) {
    if (!d->k) return load(d->t->data, d->t->dtype, pos);
    uint32_t code = load_code(d->t->data, pos, d->k->index_bits);
    uint64_t cb_row = d->k->per_row ? row : 0;
    return load(d->codebook, d->t->dtype, cb_row * d->cb_entries + code);
}

static uint64_t channel_of(const decoder *d, uint64_t index) {
    return d->q_dim > 1 ? (index / d->q_inner) % d->q_dim : 0;
}

static double real_of(const decoder *d, uint64_t index, double stored) {
    if (!d->dequant) return stored;
    uint64_t c = channel_of(d, index);
    const qlite_quant *q = d->t->quant;
    return (double)q->scale[c] * (stored - (double)q->zero_point[c]);
}

/* The stored value that means real zero (a sparse tensor's implied zeros). */
static double zero_of(const decoder *d, uint64_t index) {
    return d->dequant ? (double)d->t->quant->zero_point[channel_of(d, index)] : 0.0;
}

static int setup(decoder *d, const qlite_model *m, const qlite_tensor_info *t, char *err,
                 size_t errlen) {
    memset(d, 0, sizeof *d);
    d->t = t;
    if (t->buffer == 0 || !t->data)
        return fail(err, errlen,
                    "tensor '%s' is not a constant: it has values only while the model runs",
                    t->name);
    d->bits = qlite_dtype_bits(t->dtype);
    if (d->bits == 0) return fail(err, errlen, "tensor '%s': unknown dtype %d", t->name, t->dtype);
    for (uint32_t i = 0; i < t->rank; i++)
        if (t->shape[i] < 0)
            return fail(err, errlen, "tensor '%s': constant with a dynamic dimension", t->name);
    d->elements = qlite_shape_elements(t->rank, t->shape);
    if (d->elements == 0 && t->rank > 0) {
        for (uint32_t i = 0; i < t->rank; i++)
            if (t->shape[i] == 0) return 0; /* empty tensor: nothing to decode */
        return fail(err, errlen, "tensor '%s': element count overflows", t->name);
    }
    if (d->elements > ((uint64_t)1 << 60))
        return fail(err, errlen, "tensor '%s': too many elements", t->name);
    d->rows = t->rank > 0 ? (uint64_t)t->shape[0] : 1;
    d->cols = d->rows ? d->elements / d->rows : 0;

    const qlite_quant *q = t->quant;
    bool int_dtype = t->dtype != QLITE_DTYPE_FLOAT32 && t->dtype != QLITE_DTYPE_FLOAT16 &&
                     t->dtype != QLITE_DTYPE_BOOL;
    if (q && q->count > 0 && q->scale && q->zero_point && int_dtype) {
        d->dequant = true;
        d->q_dim = 1;
        d->q_inner = 1;
        if (q->count > 1) {
            if (q->axis < 0 || (uint32_t)q->axis >= t->rank ||
                (uint64_t)t->shape[q->axis] != q->count)
                return fail(err, errlen, "tensor '%s': %u scales do not match axis %d",
                            t->name, q->count, q->axis);
            d->q_dim = q->count;
            for (uint32_t i = (uint32_t)q->axis + 1; i < t->rank; i++)
                d->q_inner *= (uint64_t)t->shape[i];
        }
    }

    if (t->clustering) {
        const qlite_clustering *k = t->clustering;
        if (k->index_bits < 1 || k->index_bits > 8 || !k->codebook)
            return fail(err, errlen, "tensor '%s': bad clustering (index_bits %u)", t->name,
                        k->index_bits);
        d->k = k;
        d->codebook = k->codebook;
        d->cb_entries = (uint64_t)1 << k->index_bits;
        d->cb_rows = k->per_row ? d->rows : 1;
        uint64_t need = bits_bytes(d->cb_entries * d->cb_rows, d->bits);
        qlite_buffer_info b;
        if (k->codebook_buffer == 0 || qlite_model_buffer(m, k->codebook_buffer, &b) != QLITE_OK)
            return fail(err, errlen, "tensor '%s': codebook buffer %u not found", t->name,
                        k->codebook_buffer);
        if (b.size < need)
            return fail(err, errlen,
                        "tensor '%s': codebook has %" PRIu64 " bytes, %" PRIu64 " needed",
                        t->name, b.size, need);
    }
    return 0;
}

/* Checks that `count` stored values fit in the tensor's data. */
static int check_stored(const decoder *d, uint64_t count, char *err, size_t errlen) {
    uint64_t need = bits_bytes(count, d->k ? d->k->index_bits : d->bits);
    if (d->t->data_size < need)
        return fail(err, errlen, "tensor '%s': data has %" PRIu64 " bytes, %" PRIu64 " needed",
                    d->t->name, d->t->data_size, need);
    return 0;
}

static int decode_dense(const decoder *d, dump_value_fn fn, void *user, char *err,
                        size_t errlen) {
    if (check_stored(d, d->elements, err, errlen)) return -1;
    for (uint64_t i = 0; i < d->elements; i++) {
        double s = stored_at(d, i, d->cols ? i / d->cols : 0);
        if (!fn(user, i, s, real_of(d, i, s))) break;
    }
    return 0;
}

static int decode_packed(const decoder *d, dump_value_fn fn, void *user, char *err,
                         size_t errlen) {
    qlite_packed_view v;
    if (!qlite_packed_view_of(d->t->layout, d->t->rank, d->t->shape, &v))
        return fail(err, errlen, "tensor '%s': packed size overflows", d->t->name);
    if (check_stored(d, qlite_packed_elems(&v), err, errlen)) return -1;
    /* dense index i = (b * O + o) * I + i (row-major) */
    for (uint64_t i = 0; i < d->elements; i++) {
        const uint64_t b = v.O && v.I ? i / (v.O * v.I) : 0, r = v.I ? i % (v.O * v.I) : 0;
        const uint64_t o = v.I ? r / v.I : 0, c = v.I ? r % v.I : 0;
        double s = stored_at(d, qlite_packed_index(d->t->layout, &v, b, o, c), o);
        if (!fn(user, i, s, real_of(d, i, s))) break;
    }
    return 0;
}

static uint64_t load_index(const void *base, qlite_index_type t, uint64_t pos) {
    const unsigned char *b = base;
    switch (t) {
    case QLITE_INDEX_UINT8: return b[pos];
    case QLITE_INDEX_UINT16: { uint16_t v; memcpy(&v, b + pos * 2, 2); return v; }
    default: { uint32_t v; memcpy(&v, b + pos * 4, 4); return v; }
    }
}

static int decode_sparse(const qlite_model *m, const decoder *d, dump_value_fn fn, void *user,
                         char *err, size_t errlen) {
    const qlite_sparsity *s = d->t->sparsity;
    const char *name = d->t->name;
    uint64_t br = s->block_rows, bc = s->block_cols;
    if (br == 0 || bc == 0 || d->rows % br || d->cols % bc)
        return fail(err, errlen, "tensor '%s': block %" PRIu64 "x%" PRIu64
                    " does not divide [%" PRIu64 ", %" PRIu64 "]", name, br, bc, d->rows, d->cols);
    uint64_t nbr = d->rows / br, nbc = d->cols / bc;
    uint32_t rpb = dump_index_bytes(s->row_ptr_type), cib = dump_index_bytes(s->col_index_type);
    qlite_buffer_info rb, cb;
    if (!rpb || !cib || !s->row_ptr || !s->col_index ||
        qlite_model_buffer(m, s->row_ptr_buffer, &rb) != QLITE_OK ||
        qlite_model_buffer(m, s->col_index_buffer, &cb) != QLITE_OK)
        return fail(err, errlen, "tensor '%s': sparse index buffers missing", name);
    if (rb.size / rpb < nbr + 1 || cb.size / cib < s->nnz_blocks)
        return fail(err, errlen, "tensor '%s': sparse index buffers too small", name);
    if (s->nnz_blocks > nbr * nbc)
        return fail(err, errlen, "tensor '%s': %" PRIu64 " non-zero blocks in %" PRIu64, name,
                    s->nnz_blocks, nbr * nbc);
    if (check_stored(d, s->nnz_blocks * br * bc, err, errlen)) return -1;
    if (load_index(s->row_ptr, s->row_ptr_type, 0) != 0 ||
        load_index(s->row_ptr, s->row_ptr_type, nbr) != s->nnz_blocks)
        return fail(err, errlen, "tensor '%s': row_ptr must run from 0 to nnz_blocks", name);

    /* Decode one block row at a time into br x cols (stored, filled) cells. */
    double *rowbuf = malloc(br * d->cols * sizeof *rowbuf);
    if (!rowbuf) return fail(err, errlen, "out of memory");
    uint64_t index = 0;
    int rc = 0;
    bool go = true;
    for (uint64_t r = 0; r < nbr && go; r++) {
        uint64_t first_row = r * br;
        for (uint64_t e = 0; e < br * d->cols; e++)
            rowbuf[e] = zero_of(d, first_row * d->cols + e);
        uint64_t b0 = load_index(s->row_ptr, s->row_ptr_type, r);
        uint64_t b1 = load_index(s->row_ptr, s->row_ptr_type, r + 1);
        if (b1 < b0 || b1 > s->nnz_blocks) {
            rc = fail(err, errlen, "tensor '%s': row_ptr[%" PRIu64 "] decreases", name, r + 1);
            break;
        }
        for (uint64_t b = b0; b < b1; b++) {
            uint64_t col = load_index(s->col_index, s->col_index_type, b);
            if (col >= nbc) {
                rc = fail(err, errlen, "tensor '%s': column index %" PRIu64 " >= %" PRIu64,
                          name, col, nbc);
                go = false;
                break;
            }
            for (uint64_t i = 0; i < br; i++)
                for (uint64_t j = 0; j < bc; j++)
                    rowbuf[i * d->cols + col * bc + j] =
                        stored_at(d, (b * br + i) * bc + j, first_row + i);
        }
        for (uint64_t e = 0; e < br * d->cols && go; e++, index++)
            go = fn(user, index, rowbuf[e], real_of(d, index, rowbuf[e]));
    }
    free(rowbuf);
    return rc;
}

int dump_decode_tensor(const qlite_model *m, const qlite_tensor_info *t, dump_value_fn fn,
                       void *user, char *err, size_t errlen) {
    decoder d;
    if (setup(&d, m, t, err, errlen)) return -1;
    if (d.elements == 0) return 0;
    if (t->sparsity) {
        if (t->layout != QLITE_LAYOUT_DEFAULT)
            return fail(err, errlen, "tensor '%s': sparse storage with layout %s", t->name,
                        dump_layout_name(t->layout));
        return decode_sparse(m, &d, fn, user, err, errlen);
    }
    if (qlite_layout_is_packed(t->layout)) return decode_packed(&d, fn, user, err, errlen);
    if (t->layout != QLITE_LAYOUT_DEFAULT)
        return fail(err, errlen, "tensor '%s': unknown layout %d", t->name, t->layout);
    return decode_dense(&d, fn, user, err, errlen);
}

/* ---- --tensor -------------------------------------------------------------- */

#define HEAD_TAIL 16        /* elements shown at each end without --all */
#define SHOW_ALL_UP_TO 64   /* tensors this small are always shown whole */

typedef struct value_rec {
    uint64_t index;
    double stored, real;
} value_rec;

typedef struct collect {
    FILE *f;
    bool stream;             /* print every value as it comes (text --all) */
    bool json_stream;        /* JSON --all: print into the arrays directly */
    bool quantized;
    const qlite_tensor_info *t;
    uint64_t elements;
    value_rec head[HEAD_TAIL], tail[HEAD_TAIL];
    uint64_t nhead, ntail_seen;
    /* statistics of the real values (Welford) */
    uint64_t n, zeros, nonfinite;
    double sum, mean, m2, min, max;   /* mean/m2: Welford, for the deviation */
    /* JSON --all: the stored values go to a temporary file, then appended */
    FILE *stored_tmp;
} collect;

static void print_index(FILE *f, const qlite_tensor_info *t, uint64_t index) {
    uint64_t coord[QLITE_MAX_RANK];
    uint32_t rank = t->rank <= QLITE_MAX_RANK ? t->rank : 0;
    for (uint32_t i = rank; i-- > 0;) {
        uint64_t dim = (uint64_t)t->shape[i];
        coord[i] = dim ? index % dim : 0;
        index = dim ? index / dim : 0;
    }
    fputc('[', f);
    for (uint32_t i = 0; i < rank; i++) fprintf(f, "%s%" PRIu64, i ? "," : "", coord[i]);
    fputc(']', f);
}

static void print_double(FILE *f, double v, bool is_int) {
    if (is_int && isfinite(v)) fprintf(f, "%.0f", v);
    else fprintf(f, "%.9g", v);
}

static bool stored_is_int(const qlite_tensor_info *t) {
    return t->dtype != QLITE_DTYPE_FLOAT32 && t->dtype != QLITE_DTYPE_FLOAT16;
}

static void print_value_line(const collect *c, const value_rec *v) {
    fputs("  ", c->f);
    print_index(c->f, c->t, v->index);
    fputs("  ", c->f);
    print_double(c->f, v->stored, stored_is_int(c->t));
    if (c->quantized) {
        fputs("  -> ", c->f);
        print_double(c->f, v->real, false);
    }
    fputc('\n', c->f);
}

static bool on_value(void *user, uint64_t index, double stored, double real) {
    collect *c = user;
    c->n++;
    if (!isfinite(real)) {
        c->nonfinite++;
    } else {
        if (real == 0.0) c->zeros++;
        uint64_t k = c->n - c->nonfinite;
        if (k == 1) {
            c->min = c->max = real;
        } else {
            if (real < c->min) c->min = real;
            if (real > c->max) c->max = real;
        }
        c->sum += real;
        double delta = real - c->mean;
        c->mean += delta / (double)k;
        c->m2 += delta * (real - c->mean);
    }
    value_rec v = {index, stored, real};
    if (c->stream) {
        print_value_line(c, &v);
    } else if (c->json_stream) {
        if (index) fputc(',', c->f);
        json_num(c->f, real);
        if (c->stored_tmp) {
            if (index) fputc(',', c->stored_tmp);
            json_num(c->stored_tmp, stored);
        }
    } else if (c->nhead < HEAD_TAIL) {
        c->head[c->nhead++] = v;
    } else {
        c->tail[c->ntail_seen % HEAD_TAIL] = v;
        c->ntail_seen++;
    }
    return true;
}

static void print_quant_text(FILE *f, const qlite_tensor_info *t) {
    const qlite_quant *q = t->quant;
    if (!q || q->count == 0) {
        fprintf(f, "  quantization  none\n");
        return;
    }
    if (q->count == 1) {
        fprintf(f, "  quantization  per-tensor scale=%.9g zero_point=%d\n", (double)q->scale[0],
                q->zero_point[0]);
    } else {
        float lo, hi;
        int32_t zlo, zhi;
        dump_float_range(q->scale, q->count, &lo, &hi);
        dump_int_range(q->zero_point, q->count, &zlo, &zhi);
        fprintf(f, "  quantization  per-channel x%u axis=%d scale=[%.9g .. %.9g] zero_point=",
                q->count, q->axis, (double)lo, (double)hi);
        if (zlo == zhi) fprintf(f, "%d\n", zlo);
        else fprintf(f, "[%d .. %d]\n", zlo, zhi);
    }
    if (q->range_count)
        fprintf(f, "  calibration   min=%.9g max=%.9g%s\n", (double)q->min[0], (double)q->max[0],
                q->range_count > 1 ? " (first channel)" : "");
}

int dump_tensor_values(const dump_ctx *c, uint32_t index, bool all, bool json, FILE *f) {
    const qlite_tensor_info *t = qlite_model_tensor(c->model, index);
    if (!t) {
        fprintf(stderr, "qlite-dump: %s: no tensor %u\n", c->path, index);
        return 1;
    }
    collect col;
    memset(&col, 0, sizeof col);
    col.f = f;
    col.t = t;
    col.quantized = t->quant && t->quant->count > 0 && stored_is_int(t) &&
                    t->dtype != QLITE_DTYPE_BOOL;
    col.elements = qlite_shape_elements(t->rank, t->shape);
    bool whole = all || col.elements <= SHOW_ALL_UP_TO || t->buffer == 0;
    char err[512] = "";
    char shape[256], hb[32];
    dump_tensor_sizes sz;
    dump_tensor_sizes_get(c->model, t, &sz);

    if (json) {
        fprintf(f, "{\n  \"dump_version\": %d,\n  \"file\": ", DUMP_JSON_VERSION);
        json_str(f, c->path);
        fprintf(f, ",\n  \"tensor\": ");
        dump_json_tensor(c, f, index, "  ");
        fprintf(f, ",\n  \"complete\": %s,\n  \"values\": [", whole ? "true" : "false");
        if (whole) {
            col.json_stream = true;
            if (col.quantized && t->buffer) {
                col.stored_tmp = tmpfile();
                if (!col.stored_tmp) {
                    fprintf(stderr, "qlite-dump: cannot create a temporary file\n");
                    return 1;
                }
            }
        }
    } else {
        fprintf(f, "tensor %u ", index);
        json_str(f, t->name);
        fprintf(f, "\n  shape         %s\n  dtype         %s\n  elements      %" PRIu64 "\n",
                dump_shape_str(shape, sizeof shape, t->rank, t->shape), qlite_dtype_name(t->dtype),
                sz.elements);
        if (t->buffer)
            fprintf(f, "  buffer        %u (%" PRIu64 " bytes, %s)\n", t->buffer,
                    sz.data_bytes + sz.aux_bytes,
                    dump_human_bytes(hb, sizeof hb, sz.data_bytes + sz.aux_bytes));
        print_quant_text(f, t);
        if (t->sparsity)
            fprintf(f, "  sparsity      %.1f%% zeros, block %ux%u, %" PRIu64 " non-zero blocks\n",
                    100.0 * sz.zero_fraction, t->sparsity->block_rows, t->sparsity->block_cols,
                    t->sparsity->nnz_blocks);
        if (t->clustering)
            fprintf(f, "  clustering    K=%u, %u-bit indices%s\n", t->clustering->num_clusters,
                    t->clustering->index_bits, t->clustering->per_row ? ", per row" : "");
        if (t->layout != QLITE_LAYOUT_DEFAULT)
            fprintf(f, "  layout        %s\n", dump_layout_name(t->layout));
        if (t->buffer && whole) {
            fprintf(f, "values (index  %s):\n", col.quantized ? "stored -> real" : "value");
            col.stream = true;
        }
    }

    if (t->buffer == 0) {
        /* An activation: no values in the file. Not an error. */
        if (json)
            fputs("],\n  \"stats\": {\"count\": 0, \"nonfinite\": 0, \"zeros\": 0, \"min\": null, "
                  "\"max\": null, \"mean\": null, \"std\": null}\n}\n", f);
        else
            fputs("values: none (not a constant: it has values only while the model runs)\n", f);
        return 0;
    }

    int rc = 0;
    if (dump_decode_tensor(c->model, t, on_value, &col, err, sizeof err) != 0) rc = 1;

    if (json) {
        for (uint64_t i = 0; !whole && i < col.nhead; i++) {
            if (i) fputc(',', f);
            json_num(f, col.head[i].real);
        }
        fputs("]", f);
        if (col.quantized) {
            fputs(",\n  \"stored\": [", f);
            if (col.stored_tmp) {
                rewind(col.stored_tmp);
                char buf[8192];
                size_t got;
                while ((got = fread(buf, 1, sizeof buf, col.stored_tmp)) > 0) fwrite(buf, 1, got, f);
                fclose(col.stored_tmp);
            } else {
                for (uint64_t i = 0; i < col.nhead; i++) {
                    if (i) fputc(',', f);
                    json_num(f, col.head[i].stored);
                }
            }
            fputs("]", f);
        }
    }
    if (rc) {
        if (json) fputs("\n}\n", f);
        fflush(f);
        fprintf(stderr, "qlite-dump: %s: %s\n", c->path, err);
        return 1;
    }

    uint64_t ntail = col.ntail_seen < HEAD_TAIL ? col.ntail_seen : HEAD_TAIL;
    uint64_t tail_first = col.ntail_seen - ntail; /* ring position of the oldest */
    uint64_t finite = col.n - col.nonfinite;
    double stdev = finite ? sqrt(col.m2 / (double)finite) : 0.0;

    if (json) {
        if (!whole) {
            fputs(",\n  \"tail_start\": ", f);
            json_num(f, ntail ? (double)col.tail[tail_first % HEAD_TAIL].index : (double)col.n);
            fputs(",\n  \"tail_values\": [", f);
            for (uint64_t i = 0; i < ntail; i++) {
                if (i) fputc(',', f);
                json_num(f, col.tail[(tail_first + i) % HEAD_TAIL].real);
            }
            fputs("]", f);
            if (col.quantized) {
                fputs(",\n  \"tail_stored\": [", f);
                for (uint64_t i = 0; i < ntail; i++) {
                    if (i) fputc(',', f);
                    json_num(f, col.tail[(tail_first + i) % HEAD_TAIL].stored);
                }
                fputs("]", f);
            }
        }
        fprintf(f, ",\n  \"stats\": {\"count\": %" PRIu64 ", \"nonfinite\": %" PRIu64
                   ", \"zeros\": %" PRIu64 ", \"min\": ",
                col.n, col.nonfinite, col.zeros);
        if (finite) json_num(f, col.min); else fputs("null", f);
        fputs(", \"max\": ", f);
        if (finite) json_num(f, col.max); else fputs("null", f);
        fputs(", \"mean\": ", f);
        if (finite) json_num(f, col.sum / (double)finite); else fputs("null", f);
        fputs(", \"std\": ", f);
        if (finite) json_num(f, stdev); else fputs("null", f);
        fputs("}\n}\n", f);
        return 0;
    }

    if (t->buffer && !whole) {
        fprintf(f, "values (first %d and last %" PRIu64 " of %" PRIu64 "; --all prints every one; "
                   "index  %s):\n",
                HEAD_TAIL, ntail, col.n, col.quantized ? "stored -> real" : "value");
        for (uint64_t i = 0; i < col.nhead; i++) print_value_line(&col, &col.head[i]);
        if (col.nhead + ntail < col.n)
            fprintf(f, "  ... %" PRIu64 " more ...\n", col.n - col.nhead - ntail);
        for (uint64_t i = 0; i < ntail; i++)
            print_value_line(&col, &col.tail[(tail_first + i) % HEAD_TAIL]);
    }
    if (col.n) {
        fprintf(f, "summary%s: min %.9g  max %.9g  mean %.9g  std %.9g  zeros %" PRIu64
                   " (%.1f%%)",
                col.quantized ? " (real values)" : "", finite ? col.min : NAN,
                finite ? col.max : NAN, finite ? col.sum / (double)finite : NAN, stdev, col.zeros,
                100.0 * (double)col.zeros / (double)col.n);
        if (col.nonfinite) fprintf(f, "  non-finite %" PRIu64, col.nonfinite);
        fputc('\n', f);
    }
    return 0;
}
