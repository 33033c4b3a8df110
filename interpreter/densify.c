/*
 * densify.c — dense row-major copies of stored constants (see densify.h).
 *
 * The decode is organised around one question, "which stored value k lands
 * at dense index d, and which row of the 2-D view is it in?":
 *   - plain / clustered:  k = d;
 *   - sparse:             the CSR walk gives k for each non-zero block element;
 *   - O16I4 / O16:        k = qlite_packed_index() over the packed view
 *                         (packed_layout.h: rank 3 = one matrix per dim-0 entry).
 * emit() then fetches value k (from the stored bytes, or through its codebook
 * index and the row's codebook) and writes it at d, widening float16.
 */
#include "densify.h"

#include <string.h>

#include "packed_layout.h"
#include "qlite_internal.h"

#define TF "tensor %u '%s'"

bool qlite_constant_needs_dense(const qlite_tensor_info *info) {
    return info->buffer != 0 &&
           (info->dtype == QLITE_DTYPE_FLOAT16 || info->sparsity || info->clustering ||
            info->layout != QLITE_LAYOUT_DEFAULT);
}

/* Element count and 2-D view [rows, cols] of a constant's shape. */
static int view2d(const qlite_tensor_info *info, uint64_t *n, uint64_t *rows, uint64_t *cols) {
    uint64_t c = 1;
    for (uint32_t i = 1; i < info->rank; i++)
        if (info->shape[i] < 0 || qlite_mul_overflow_u64(c, (uint64_t)info->shape[i], &c))
            return -1;
    uint64_t r = 1;
    if (info->rank > 0) {
        if (info->shape[0] < 0) return -1;
        r = (uint64_t)info->shape[0];
    }
    if (qlite_mul_overflow_u64(r, c, n)) return -1;
    *rows = r;
    *cols = c;
    return 0;
}

qlite_status qlite_constant_dense_size(const qlite_tensor_info *info, qlite_dtype *dtype,
                                       size_t *bytes) {
    uint64_t n, rows, cols, b;
    if (view2d(info, &n, &rows, &cols) != 0)
        return qlite_error(QLITE_ERR_CORRUPT, "tensor '%s': bad constant shape", info->name);
    uint32_t bits = qlite_dtype_bits(info->dtype);
    if (bits < 8)
        return qlite_error(QLITE_ERR_UNSUPPORTED,
                           "tensor '%s': %s constants cannot be stored sparse, clustered or "
                           "packed",
                           info->name, qlite_dtype_name(info->dtype));
    *dtype = info->dtype == QLITE_DTYPE_FLOAT16 ? QLITE_DTYPE_FLOAT32 : info->dtype;
    if (qlite_mul_overflow_u64(n, qlite_dtype_bits(*dtype) / 8, &b) || b > SIZE_MAX / 2)
        return qlite_error(QLITE_ERR_CORRUPT, "tensor '%s': dense size overflows", info->name);
    *bytes = (size_t)b;
    return QLITE_OK;
}

typedef struct source {
    const uint8_t *data;      /* stored values or the index bitstream */
    uint64_t data_size;
    size_t es;                /* stored element size */
    bool widen;               /* float16 -> float32 */
    /* clustering */
    uint32_t bits;            /* 0 = not clustered */
    const uint8_t *codebook;
    uint64_t book;            /* entries per codebook (2^bits) */
    bool per_row;
    uint8_t *out;
} source;

/* Writes stored value k (row `row` of the 2-D view) at dense index d. */
static void emit(const source *s, uint64_t k, uint64_t row, uint64_t d) {
    const uint8_t *v;
    if (s->bits) {
        uint64_t p = k * s->bits, byte = p >> 3;
        unsigned shift = (unsigned)(p & 7);
        unsigned x = s->data[byte] >> shift;
        if (shift + s->bits > 8) x |= (unsigned)s->data[byte + 1] << (8 - shift);
        x &= (1u << s->bits) - 1;
        v = s->codebook + ((s->per_row ? row * s->book : 0) + x) * s->es;
    } else {
        v = s->data + k * s->es;
    }
    if (s->widen) {
        uint16_t h;
        memcpy(&h, v, 2);
        float f = qlite_fp16_to_fp32(h);
        memcpy(s->out + d * 4, &f, 4);
    } else {
        memcpy(s->out + d * s->es, v, s->es);
    }
}

static uint64_t read_index(const uint8_t *p, qlite_index_type t, uint64_t i) {
    switch (t) {
    case QLITE_INDEX_UINT8: return p[i];
    case QLITE_INDEX_UINT16: return (uint64_t)p[2 * i] | (uint64_t)p[2 * i + 1] << 8;
    default:
        return (uint64_t)p[4 * i] | (uint64_t)p[4 * i + 1] << 8 | (uint64_t)p[4 * i + 2] << 16 |
               (uint64_t)p[4 * i + 3] << 24;
    }
}

static size_t index_width(qlite_index_type t) {
    return t == QLITE_INDEX_UINT8 ? 1 : t == QLITE_INDEX_UINT16 ? 2 : 4;
}

/* Fills out with the representation of real zero: 0, or each element's
 * channel zero point for a quantized tensor. */
static qlite_status fill_zero(uint32_t ti, const qlite_tensor_info *info, size_t es, uint8_t *out,
                              uint64_t n) {
    memset(out, 0, (size_t)(n * es));
    const qlite_quant *q = info->quant;
    if (!q || q->count == 0 || info->dtype == QLITE_DTYPE_FLOAT32 ||
        info->dtype == QLITE_DTYPE_FLOAT16)
        return QLITE_OK;
    uint64_t inner = 1, channels = 1;
    if (q->count > 1) {
        if (q->axis < 0 || (uint32_t)q->axis >= info->rank ||
            (uint64_t)info->shape[q->axis] != q->count)
            return qlite_error(QLITE_ERR_CORRUPT, TF ": %u scales do not match axis %d", ti,
                               info->name, q->count, q->axis);
        for (uint32_t i = (uint32_t)q->axis + 1; i < info->rank; i++) inner *= (uint64_t)info->shape[i];
        channels = q->count;
    }
    bool any = false;
    for (uint32_t c = 0; c < q->count; c++) any |= q->zero_point[c] != 0;
    if (!any) return QLITE_OK;
    for (uint64_t d = 0; d < n; d++) {
        int64_t zp = q->zero_point[(d / inner) % channels];
        /* little-endian: the low es bytes of the two's complement value */
        memcpy(out + d * es, &zp, es);
    }
    return QLITE_OK;
}

qlite_status qlite_constant_densify(const qlite_model *model, uint32_t ti, void *out_v,
                                    size_t out_bytes) {
    const qlite_tensor_info *info = qlite_model_tensor(model, ti);
    if (!info || !out_v) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "densify: bad argument");
    qlite_dtype dt;
    size_t want;
    qlite_status st = qlite_constant_dense_size(info, &dt, &want);
    if (st != QLITE_OK) return st;
    if (want != out_bytes)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "densify: %zu bytes given, %zu needed",
                           out_bytes, want);
    uint64_t n = 0, rows = 0, cols = 0;
    if (view2d(info, &n, &rows, &cols) != 0) /* dense_size checked it; never taken */
        return qlite_error(QLITE_ERR_CORRUPT, TF ": bad constant shape", ti, info->name);
    const qlite_sparsity *sp = info->sparsity;
    const qlite_clustering *cl = info->clustering;
    source s = {.data = info->data, .data_size = info->data ? info->data_size : 0,
                .es = qlite_dtype_bits(info->dtype) / 8,
                .widen = info->dtype == QLITE_DTYPE_FLOAT16, .out = out_v};
    if (sp && info->layout != QLITE_LAYOUT_DEFAULT)
        return qlite_error(QLITE_ERR_UNSUPPORTED, TF ": sparse and packed layout together", ti,
                           info->name);
    if ((unsigned)info->layout >= QLITE_LAYOUT_COUNT)
        return qlite_error(QLITE_ERR_UNSUPPORTED, TF ": unknown layout %d", ti, info->name,
                           (int)info->layout);

    /* how many values are stored */
    uint64_t stored = n, blocks_r = 0, blocks_c = 0;
    qlite_packed_view pv = {0};
    if (sp) {
        if (sp->block_rows == 0 || sp->block_cols == 0 || rows % sp->block_rows ||
            cols % sp->block_cols)
            return qlite_error(QLITE_ERR_CORRUPT, TF ": block %ux%u does not divide [%llu, %llu]",
                               ti, info->name, sp->block_rows, sp->block_cols,
                               (unsigned long long)rows, (unsigned long long)cols);
        blocks_r = rows / sp->block_rows;
        blocks_c = cols / sp->block_cols;
        if (sp->nnz_blocks > blocks_r * blocks_c ||
            qlite_mul_overflow_u64(sp->nnz_blocks, (uint64_t)sp->block_rows * sp->block_cols,
                                   &stored))
            return qlite_error(QLITE_ERR_CORRUPT, TF ": %llu non-zero blocks is too many", ti,
                               info->name, (unsigned long long)sp->nnz_blocks);
    } else if (qlite_layout_is_packed(info->layout)) {
        if (!qlite_packed_view_of(info->layout, info->rank, info->shape, &pv))
            return qlite_error(QLITE_ERR_CORRUPT, TF ": packed size overflows", ti, info->name);
        stored = qlite_packed_elems(&pv);
    }

    /* the stored bytes: values, or a bitstream of codebook indices */
    uint64_t need;
    if (cl) {
        if (cl->index_bits < 1 || cl->index_bits > 8 || cl->num_clusters < 2 ||
            cl->num_clusters > (1u << cl->index_bits))
            return qlite_error(QLITE_ERR_CORRUPT, TF ": %u clusters with %u-bit indices", ti,
                               info->name, cl->num_clusters, cl->index_bits);
        s.bits = cl->index_bits;
        s.book = 1ull << cl->index_bits;
        s.per_row = cl->per_row;
        qlite_buffer_info cb;
        uint64_t entries = s.per_row ? rows * s.book : s.book;
        if (qlite_model_buffer(model, cl->codebook_buffer, &cb) != QLITE_OK || !cl->codebook ||
            cb.size / s.es < entries)
            return qlite_error(QLITE_ERR_CORRUPT,
                               TF ": codebook (buffer %u) is smaller than %llu entries", ti,
                               info->name, cl->codebook_buffer, (unsigned long long)entries);
        s.codebook = cl->codebook;
        need = (stored / 8) * s.bits + ((stored % 8) * s.bits + 7) / 8;
    } else if (qlite_mul_overflow_u64(stored, s.es, &need)) {
        need = UINT64_MAX;
    }
    if (s.data_size < need || (need && !s.data))
        return qlite_error(QLITE_ERR_CORRUPT, TF ": %llu data bytes, its stored form needs %llu",
                           ti, info->name, (unsigned long long)s.data_size,
                           (unsigned long long)need);

    if (sp) {
        /* check the CSR arrays against their buffers, then scatter block by block */
        qlite_buffer_info rb, cb = {0};
        size_t rw = index_width(sp->row_ptr_type), cw = index_width(sp->col_index_type);
        if ((unsigned)sp->row_ptr_type >= QLITE_INDEX_COUNT ||
            (unsigned)sp->col_index_type >= QLITE_INDEX_COUNT ||
            qlite_model_buffer(model, sp->row_ptr_buffer, &rb) != QLITE_OK || !sp->row_ptr ||
            rb.size / rw < blocks_r + 1 ||
            (sp->nnz_blocks &&
             (qlite_model_buffer(model, sp->col_index_buffer, &cb) != QLITE_OK ||
              !sp->col_index || cb.size / cw < sp->nnz_blocks)))
            return qlite_error(QLITE_ERR_CORRUPT, TF ": sparse index buffers are too small", ti,
                               info->name);
        const size_t oes = s.widen ? 4 : s.es;
        if ((st = fill_zero(ti, info, oes, out_v, n)) != QLITE_OK) return st;
        const uint8_t *rp = sp->row_ptr, *ci = sp->col_index;
        uint64_t br = sp->block_rows, bc = sp->block_cols;
        if (read_index(rp, sp->row_ptr_type, 0) != 0)
            return qlite_error(QLITE_ERR_CORRUPT, TF ": row_ptr[0] is not 0", ti, info->name);
        for (uint64_t r = 0; r < blocks_r; r++) {
            uint64_t b0 = read_index(rp, sp->row_ptr_type, r);
            uint64_t b1 = read_index(rp, sp->row_ptr_type, r + 1);
            if (b1 < b0 || b1 > sp->nnz_blocks)
                return qlite_error(QLITE_ERR_CORRUPT, TF ": row_ptr[%llu] = %llu is out of order",
                                   ti, info->name, (unsigned long long)(r + 1),
                                   (unsigned long long)b1);
            for (uint64_t b = b0; b < b1; b++) {
                uint64_t c = read_index(ci, sp->col_index_type, b);
                if (c >= blocks_c || (b > b0 && c <= read_index(ci, sp->col_index_type, b - 1)))
                    return qlite_error(QLITE_ERR_CORRUPT,
                                       TF ": col_index[%llu] = %llu is out of range or order", ti,
                                       info->name, (unsigned long long)b, (unsigned long long)c);
                for (uint64_t i = 0; i < br; i++)
                    for (uint64_t j = 0; j < bc; j++)
                        emit(&s, (b * br + i) * bc + j, r * br + i,
                             (r * br + i) * cols + c * bc + j);
            }
        }
        if (blocks_r && read_index(rp, sp->row_ptr_type, blocks_r) != sp->nnz_blocks)
            return qlite_error(QLITE_ERR_CORRUPT, TF ": row_ptr does not end at nnz_blocks", ti,
                               info->name);
    } else if (qlite_layout_is_packed(info->layout)) {
        /* matrix b, element (o, i) of the packed view is dense index
         * (b * O + o) * I + i (row-major either way) */
        for (uint64_t b = 0, d = 0; b < pv.nmat; b++)
            for (uint64_t o = 0; o < pv.O; o++)
                for (uint64_t i = 0; i < pv.I; i++, d++)
                    emit(&s, qlite_packed_index(info->layout, &pv, b, o, i), d / (cols ? cols : 1),
                         d);
    } else {
        for (uint64_t d = 0; d < n; d++) emit(&s, d, cols ? d / cols : 0, d);
    }
    return QLITE_OK;
}
