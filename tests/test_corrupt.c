/*
 * test_corrupt.c — the corrupt-file corpus. Every damaged model must be
 * refused with the right status and a message naming the cause; none may
 * crash, hang or read out of bounds (each input is copied into an exactly
 * sized allocation, so ASan sees any overread).
 *
 *   - the small model truncated at every length;
 *   - 1000 seeded single-bit flips;
 *   - structural damage patched into the bytes: identifier, root offset,
 *     lying buffer offsets (past the end, overflowing, misaligned, inside the
 *     FlatBuffer), huge vector lengths, rank > 8, DAG-shared vectors;
 *   - semantic damage written with the unchecked writer: dims, dtypes, op
 *     codes, enums, scales, zero points, per-channel counts, sparse indices,
 *     clustering, packed layout sizes, graph order, options/op mismatch,
 *     versions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "support/test_models.h"

#include "fb_reader.h"
#include "fb_schema.h"
#include "model_internal.h"
#include "writer/fb_builder.h"
#include "writer/writer_internal.h"

/* Touches every byte every accessor hands out (ASan checks the pointers). */
static uint64_t walk(const qlite_model *m) {
    uint64_t sum = 0;
    for (uint32_t i = 0; i < qlite_model_tensor_count(m); i++) {
        const qlite_tensor_info *t = qlite_model_tensor(m, i);
        sum += strlen(t->name);
        for (uint32_t d = 0; d < t->rank; d++) sum += (uint64_t)t->shape[d];
        for (uint64_t k = 0; k < t->data_size; k++) sum += ((const uint8_t *)t->data)[k];
        if (t->quant)
            for (uint32_t c = 0; c < t->quant->count; c++) {
                uint32_t bits;
                memcpy(&bits, &t->quant->scale[c], 4);
                sum += (uint64_t)t->quant->zero_point[c] + bits;
            }
    }
    for (uint32_t i = 0; i < qlite_model_op_count(m); i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        sum += strlen(op->name);
        for (uint32_t k = 0; k < op->num_inputs; k++) sum += (uint64_t)op->inputs[k];
        for (uint32_t k = 0; k < op->num_outputs; k++) sum += (uint64_t)op->outputs[k];
    }
    for (uint32_t i = 0; i < qlite_model_metadata_count(m); i++) {
        const qlite_metadata *md = qlite_model_metadata(m, i);
        sum += strlen(md->key) + strlen(md->value);
        for (uint64_t k = 0; k < md->size; k++) sum += ((const uint8_t *)md->data)[k];
    }
    sum += strlen(qlite_model_producer(m)) + strlen(qlite_model_description(m));
    return sum;
}

/* Opens a private, exactly sized copy. */
static qlite_status open_copy(const void *bytes, size_t n, uint32_t flags) {
    void *copy = malloc(n ? n : 1);
    memcpy(copy, bytes, n);
    qlite_model *m = NULL;
    qlite_clear_error();
    qlite_status st = qlite_model_open_memory(copy, n, flags, &m);
    if (st == QLITE_OK) {
        assert_non_null(m);
        walk(m);
        qlite_model_close(m);
    } else {
        assert_null(m);
        assert_true(strlen(qlite_last_error()) > 0);
    }
    free(copy);
    return st;
}

static void expect_bytes(const void *bytes, size_t n, qlite_status want, const char *fragment) {
    qlite_status st = open_copy(bytes, n, 0);
    if (st != want || !strstr(qlite_last_error(), fragment))
        print_error("got %s: '%s'; wanted %s with '%s'\n", qlite_status_string(st),
                    qlite_last_error(), qlite_status_string(want), fragment);
    assert_int_equal(st, want);
    assert_non_null(strstr(qlite_last_error(), fragment));
}

/* Serializes s without validation, expects the reader to refuse it, and
 * the validating writer to refuse it the same way. */
static void expect_spec(const qlite_test_model *s, qlite_status want, const char *fragment) {
    void *bytes;
    size_t n;
    assert_qlite_ok(qlite_test_model_bytes(s, false, &bytes, &n));
    expect_bytes(bytes, n, want, fragment);
    qlite_writer_free_bytes(bytes);
    assert_int_equal(qlite_test_model_bytes(s, true, &bytes, &n), want);
    assert_non_null(strstr(qlite_last_error(), "refusing"));
}

static qlite_test_model *small(void) {
    qlite_test_model *s = qlite_test_model_new();
    qlite_test_model_small(s);
    return s;
}

static void small_bytes(void **bytes, size_t *n) {
    qlite_test_model *s = small();
    assert_qlite_ok(qlite_test_model_bytes(s, true, bytes, n));
    qlite_test_model_free(s);
}

/* Position of field `id` of buffers[index] / tensors[index] in valid bytes. */
static uint32_t buffer_field(const uint8_t *p, uint32_t index, unsigned id) {
    fb_table root = fb_root(p);
    fb_vector v;
    fb_get_vector(&root, FB_MODEL_BUFFERS, &v);
    fb_table b = fb_vector_table(&v, index);
    uint32_t pos = fb_field_pos(&b, id);
    assert_true(pos != 0);
    return pos;
}

static fb_table tensor_table(const uint8_t *p, uint32_t index) {
    fb_table root = fb_root(p);
    fb_vector graphs, tensors;
    fb_get_vector(&root, FB_MODEL_GRAPHS, &graphs);
    fb_table g = fb_vector_table(&graphs, 0);
    fb_get_vector(&g, FB_GRAPH_TENSORS, &tensors);
    return fb_vector_table(&tensors, index);
}

static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void put_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* ------------------------------------------------------------------------ */

static void test_truncated_at_every_length(void **state) {
    (void)state;
    void *bytes;
    size_t n;
    small_bytes(&bytes, &n);
    assert_int_equal(open_copy(bytes, n, QLITE_OPEN_VERIFY_CRC), QLITE_OK);
    unsigned not_qlite = 0, corrupt = 0;
    for (size_t len = 0; len < n; len++) {
        qlite_status st = open_copy(bytes, len, 0);
        if (len < 8) assert_int_equal(st, QLITE_ERR_NOT_QLITE);
        else assert_int_equal(st, QLITE_ERR_CORRUPT);
        not_qlite += st == QLITE_ERR_NOT_QLITE;
        corrupt += st == QLITE_ERR_CORRUPT;
    }
    print_message("%zu truncations: %u not qlite, %u corrupt\n", n, not_qlite, corrupt);
    qlite_writer_free_bytes(bytes);
}

static void test_random_bit_flips(void **state) {
    (void)state;
    void *bytes;
    size_t n;
    small_bytes(&bytes, &n);
    qlite_model *m;
    assert_qlite_ok(qlite_model_open_memory(bytes, n, 0, &m));
    qlite_buffer_info b1;
    qlite_model_buffer(m, 1, &b1);
    size_t fb_end = (size_t)b1.offset; /* FlatBuffer + padding */
    qlite_model_close(m);

    uint8_t *copy = malloc(n);
    qlite_test_rng rng;
    qlite_test_rng_seed(&rng, 20240611);
    unsigned counts[QLITE_STATUS_COUNT] = {0};
    for (int i = 0; i < 1000; i++) {
        memcpy(copy, bytes, n);
        /* 80% of the flips hit the FlatBuffer, the rest anywhere */
        size_t pos = (qlite_test_rng_u32(&rng) % 5 != 0) ? qlite_test_rng_u32(&rng) % fb_end
                                                          : qlite_test_rng_u32(&rng) % n;
        copy[pos] ^= (uint8_t)(1u << (qlite_test_rng_u32(&rng) % 8));
        qlite_status st = open_copy(copy, n, QLITE_OPEN_VERIFY_CRC);
        counts[st]++;
    }
    print_message("1000 bit flips: ok %u, not qlite %u, unsupported version %u, corrupt %u, "
                  "unsupported %u, checksum %u\n",
                  counts[QLITE_OK], counts[QLITE_ERR_NOT_QLITE],
                  counts[QLITE_ERR_UNSUPPORTED_VERSION], counts[QLITE_ERR_CORRUPT],
                  counts[QLITE_ERR_UNSUPPORTED], counts[QLITE_ERR_CHECKSUM]);
    /* Only these statuses are possible for damaged bytes. */
    assert_int_equal(counts[QLITE_OK] + counts[QLITE_ERR_NOT_QLITE] +
                         counts[QLITE_ERR_UNSUPPORTED_VERSION] + counts[QLITE_ERR_CORRUPT] +
                         counts[QLITE_ERR_UNSUPPORTED] + counts[QLITE_ERR_CHECKSUM],
                     1000);
    /* Data flips are caught by the crcs; most FlatBuffer flips by validation. */
    assert_true(counts[QLITE_ERR_CORRUPT] > 300);
    assert_true(counts[QLITE_ERR_CHECKSUM] > 20);
    free(copy);
    qlite_writer_free_bytes(bytes);
}

/* ------------------------------------------------------------------------ */
/* Structural damage                                                         */
/* ------------------------------------------------------------------------ */

static void test_structural_damage(void **state) {
    (void)state;
    void *orig;
    size_t n;
    small_bytes(&orig, &n);
    uint8_t *p = malloc(n);
#define RESET() memcpy(p, orig, n)

    RESET();
    memcpy(p + 4, "TFL3", 4);
    expect_bytes(p, n, QLITE_ERR_NOT_QLITE, "file identifier is 'TFL3'");

    RESET();
    put_u32(p, (uint32_t)n + 4);
    expect_bytes(p, n, QLITE_ERR_CORRUPT, "past the end");

    /* lying buffer offsets */
    uint32_t off1 = buffer_field(orig, 1, FB_BUFFER_OFFSET), size1 = buffer_field(orig, 1, FB_BUFFER_SIZE);
    uint64_t o1;
    memcpy(&o1, p + off1, 8);
    RESET();
    put_u64(p + off1, ((uint64_t)n + 63) / 64 * 64 + 64 * 100);
    expect_bytes(p, n, QLITE_ERR_CORRUPT, "buffer 1: bytes");
    expect_bytes(p, n, QLITE_ERR_CORRUPT, "past the end of the file");
    RESET();
    put_u64(p + off1, UINT64_MAX - 63);
    put_u64(p + size1, 128);
    expect_bytes(p, n, QLITE_ERR_CORRUPT, "buffer 1: offset 18446744073709551552 + size 128 overflows");
    RESET();
    put_u64(p + size1, UINT64_MAX);
    expect_bytes(p, n, QLITE_ERR_CORRUPT, "overflows");
    RESET();
    put_u64(p + off1, o1 + 8);
    expect_bytes(p, n, QLITE_ERR_CORRUPT, "is not a multiple of 64");
    RESET();
    put_u64(p + off1, 64);
    expect_bytes(p, n, QLITE_ERR_CORRUPT, "lies inside the FlatBuffer");
    RESET();
    put_u64(p + buffer_field(p, 0, FB_BUFFER_SIZE), 8);
    expect_bytes(p, n, QLITE_ERR_CORRUPT, "buffer 0 must be empty");

    /* huge vector length: tensor 1's shape */
    RESET();
    fb_table t1 = tensor_table(p, 1);
    fb_vector shape;
    fb_get_vector(&t1, FB_TENSOR_SHAPE, &shape);
    put_u32(p + shape.pos - 4, 0x7fffffffu);
    expect_bytes(p, n, QLITE_ERR_CORRUPT, "Model.graphs[0].tensors[1].shape");
    expect_bytes(p, n, QLITE_ERR_CORRUPT, "vector of 2147483647 elements");
    /* a vector length that fits the file but exceeds QLITE_MAX_RANK */
    RESET();
    put_u32(p + shape.pos - 4, 9);
    expect_bytes(p, n, QLITE_ERR_CORRUPT, "rank 9 exceeds the maximum of 8");
    /* a table's vtable pointing outside */
    RESET();
    put_u32(p + t1.pos, 0x40000000u);
    expect_bytes(p, n, QLITE_ERR_CORRUPT, "Tensor vtable at");
    free(p);
    qlite_writer_free_bytes(orig);
#undef RESET
}

/* A model whose many tensors share one big quantization table: the verifier
 * accepts the DAG, the decoding budget stops the blow-up. */
static void test_shared_vector_budget(void **state) {
    (void)state;
    fbb b;
    fbb_init(&b);
    static float scales[8192];
    for (int i = 0; i < 8192; i++) scales[i] = 1.0f;
    fbb_ref sv = fbb_vector(&b, scales, 8192, 4);
    fbb_table_begin(&b);
    fbb_add_ref(&b, FB_QUANT_SCALE, sv);
    fbb_ref q = fbb_table_end(&b);
    int64_t dims[1] = {8192};
    fbb_ref shape = fbb_vector(&b, dims, 1, 8);
    fbb_table_begin(&b);
    fbb_add_ref(&b, FB_TENSOR_SHAPE, shape);
    fbb_add_i8(&b, FB_TENSOR_DTYPE, QLITE_DTYPE_INT8);
    fbb_add_ref(&b, FB_TENSOR_QUANTIZATION, q);
    fbb_ref t = fbb_table_end(&b);
    fbb_ref *refs = malloc(20000 * sizeof *refs);
    for (int i = 0; i < 20000; i++) refs[i] = t;
    fbb_ref tensors = fbb_vector_refs(&b, refs, 20000);
    free(refs);
    fbb_table_begin(&b);
    fbb_add_ref(&b, FB_GRAPH_TENSORS, tensors);
    fbb_ref g = fbb_table_end(&b);
    fbb_ref graphs = fbb_vector_refs(&b, &g, 1);
    fbb_table_begin(&b);
    fbb_add_u32(&b, FB_MODEL_VERSION_MAJOR, 1);
    fbb_add_ref(&b, FB_MODEL_GRAPHS, graphs);
    assert_true(fbb_finish(&b, fbb_table_end(&b), "QLTE"));
    size_t n;
    const uint8_t *p = fbb_data(&b, &n);
    /* 20000 x 64 KiB would be 1.3 GB of copies from a 112 KB file */
    expect_bytes(p, n, QLITE_ERR_CORRUPT, "decoding budget");
    fbb_free(&b);
}

/* Tensors sharing one large row_ptr buffer: index validation is budgeted. */
static void test_shared_sparse_index_budget(void **state) {
    (void)state;
    qlite_test_model *s = qlite_test_model_new();
    static uint8_t zeros[100001];
    uint32_t rp = qt_buffer_ref(s, zeros, sizeof zeros); /* 100000 block rows, nnz 0 */
    uint32_t empty = qt_buffer(s, NULL, 0);
    for (int i = 0; i < 100; i++) {
        int32_t t = qt_tensor(s, "w", QLITE_DTYPE_INT8, 2, (int64_t[]){100000, 4}, empty);
        s->tensors[t].sparsity = &s->sparsity_pool[0];
    }
    s->sparsity_pool[0] = (qlite_sparsity){1, 1, QLITE_INDEX_UINT8, QLITE_INDEX_UINT8, rp, 0, 0,
                                           NULL, NULL};
    s->n_sparsity = 1;
    /* a few tensors are fine ... */
    s->num_tensors = 3;
    void *bytes;
    size_t n;
    assert_qlite_ok(qlite_test_model_bytes(s, true, &bytes, &n));
    qlite_writer_free_bytes(bytes);
    /* ... 100 scans of 100 KB in a 100 KB file are not */
    s->num_tensors = 100;
    expect_spec(s, QLITE_ERR_CORRUPT, "validation budget");
    qlite_test_model_free(s);
}

/* ------------------------------------------------------------------------ */
/* Semantic damage (unchecked writer)                                        */
/* ------------------------------------------------------------------------ */

/* Tensor indices in the small model. */
enum { T_X, T_W, T_B, T_H, T_K, T_HF, T_Y };
/* Buffer indices: 1 w values, 2 row_ptr, 3 col_index, 4 bias, 5 k indices, 6 codebook. */

static void test_shapes_and_dtypes(void **state) {
    (void)state;
    qlite_test_model *s = small();
    int64_t *dims = (int64_t *)(uintptr_t)s->tensors[T_H].shape;
    dims[0] = 1ll << 40;
    dims[1] = 1ll << 40;
    expect_spec(s, QLITE_ERR_CORRUPT, "tensor 3 'h': element count of shape [1099511627776, 1099511627776] overflows");
    dims[0] = -5;
    dims[1] = 4;
    expect_spec(s, QLITE_ERR_CORRUPT, "dim 0 of shape [-5, 4] is -5");
    dims[0] = 1;
    dims[1] = -1;
    expect_spec(s, QLITE_ERR_CORRUPT, "only dim 0 of a non-constant may be -1");
    dims[0] = -1;
    dims[1] = 4;
    int64_t *wd = (int64_t *)(uintptr_t)s->tensors[T_W].shape;
    wd[0] = -1;
    expect_spec(s, QLITE_ERR_CORRUPT, "tensor 1 'w': dim 0 of shape [-1, 8] is -1");
    wd[0] = 4;

    s->tensors[T_HF].dtype = (qlite_dtype)42;
    expect_spec(s, QLITE_ERR_CORRUPT, "tensor 5 'hf': unknown dtype 42");
    s->tensors[T_HF].dtype = (qlite_dtype)-3;
    expect_spec(s, QLITE_ERR_CORRUPT, "unknown dtype -3");
    s->tensors[T_HF].dtype = QLITE_DTYPE_FLOAT32;
    s->tensors[T_K].layout = (qlite_layout)7;
    expect_spec(s, QLITE_ERR_CORRUPT, "unknown weight layout 7");
    s->tensors[T_K].layout = QLITE_LAYOUT_DEFAULT;

    /* a dense constant whose bytes do not match its shape */
    int64_t *bd = (int64_t *)(uintptr_t)s->tensors[T_B].shape;
    const qlite_quant *bq = s->tensors[T_B].quant;
    s->tensors[T_B].quant = NULL; /* its 4 per-channel scales would be reported first */
    bd[0] = 5;
    expect_spec(s, QLITE_ERR_CORRUPT, "tensor 2 'b': data (buffer 4) has 16 bytes, but int32 [5] needs 20");
    bd[0] = 4;
    s->tensors[T_B].quant = bq;
    s->tensors[T_B].buffer = 99;
    expect_spec(s, QLITE_ERR_CORRUPT, "tensor 2 'b': buffer 99 out of range (7 buffers)");
    s->tensors[T_B].buffer = 4;
    /* storage forms on a tensor without data */
    s->tensors[T_H].layout = QLITE_LAYOUT_O16I4;
    expect_spec(s, QLITE_ERR_CORRUPT, "tensor 3 'h': has a packed layout but no buffer");
    s->tensors[T_H].layout = QLITE_LAYOUT_DEFAULT;
    s->tensors[T_H].sparsity = s->tensors[T_W].sparsity;
    expect_spec(s, QLITE_ERR_CORRUPT, "tensor 3 'h': has sparsity but no buffer");
    qlite_test_model_free(s);
}

static void test_packed_layout(void **state) {
    (void)state;
    qlite_test_model *s = qlite_test_model_new();
    static uint8_t bytes256[256];
    int32_t t = qt_tensor(s, "packed", QLITE_DTYPE_INT8, 2, (int64_t[]){20, 6}, qt_buffer(s, bytes256, 256));
    s->tensors[t].layout = QLITE_LAYOUT_O16I4;
    void *b;
    size_t n;
    assert_qlite_ok(qlite_test_model_bytes(s, true, &b, &n));
    qlite_writer_free_bytes(b);
    int64_t *d = (int64_t *)(uintptr_t)s->tensors[t].shape;
    d[0] = 33; /* 3 tiles of 16 rows: 384 bytes */
    expect_spec(s, QLITE_ERR_CORRUPT, "O16I4 data (buffer 1) has 256 bytes, but int8 [33, 6] needs 384");
    d[0] = 20;
    s->tensors[t].dtype = QLITE_DTYPE_INT4; /* 128 bytes */
    expect_spec(s, QLITE_ERR_CORRUPT, "needs 128");
    qlite_test_model_free(s);
}

static void test_quantization(void **state) {
    (void)state;
    qlite_test_model *s = small();
    qlite_quant *qw = (qlite_quant *)(uintptr_t)s->tensors[T_W].quant;
    float *sc = (float *)(uintptr_t)qw->scale;
    sc[2] = NAN;
    expect_spec(s, QLITE_ERR_CORRUPT, "tensor 1 'w': quantization scale[2] = nan");
    sc[2] = 0.0f;
    expect_spec(s, QLITE_ERR_CORRUPT, "scale[2] = 0 (must be finite and > 0)");
    sc[2] = -0.5f;
    expect_spec(s, QLITE_ERR_CORRUPT, "scale[2] = -0.5");
    sc[2] = INFINITY;
    expect_spec(s, QLITE_ERR_CORRUPT, "scale[2] = inf");
    sc[2] = 0.5f;
    qw->count = 3; /* per-channel scales for a dim of 4 */
    expect_spec(s, QLITE_ERR_CORRUPT, "3 per-channel scales but dim 0 of shape [4, 8] is 4");
    qw->count = 4;
    qw->axis = 2;
    expect_spec(s, QLITE_ERR_CORRUPT, "per-channel quantization axis 2 is outside rank 2");
    qw->axis = -1;
    expect_spec(s, QLITE_ERR_CORRUPT, "axis -1 is outside rank 2");
    qw->axis = 0;
    int32_t *zp = (int32_t *)(uintptr_t)qw->zero_point;
    zp[1] = 200;
    expect_spec(s, QLITE_ERR_CORRUPT, "zero_point[1] = 200 is outside the int8 range -128..127");
    zp[1] = 0;
    qlite_quant *qx = (qlite_quant *)(uintptr_t)s->tensors[T_X].quant;
    s->tensors[T_X].dtype = QLITE_DTYPE_UINT8;
    expect_spec(s, QLITE_ERR_CORRUPT, "zero_point[0] = -3 is outside the uint8 range 0..255");
    s->tensors[T_X].dtype = QLITE_DTYPE_FLOAT32;
    expect_spec(s, QLITE_ERR_CORRUPT, "tensor 0 'x': quantization on a float32 tensor");
    s->tensors[T_X].dtype = QLITE_DTYPE_INT8;
    qx->range_count = 1;
    qx->min = qt_f32(s, 1, (float[]){2.0f});
    qx->max = qt_f32(s, 1, (float[]){1.0f});
    expect_spec(s, QLITE_ERR_CORRUPT, "calibration range[0] = [2, 1]");
    qw->range_count = 2;
    qw->min = qt_f32(s, 2, (float[]){0, 0});
    qw->max = qt_f32(s, 2, (float[]){1, 1});
    qx->range_count = 0;
    expect_spec(s, QLITE_ERR_CORRUPT, "calibration range has 2 entries, expected 0 or 4");
    qw->range_count = 0;
    qw->count = 0;
    expect_spec(s, QLITE_ERR_CORRUPT, "no scale");
    qlite_test_model_free(s);
}

static void test_sparsity(void **state) {
    (void)state;
    qlite_test_model *s = small();
    qlite_sparsity *sp = (qlite_sparsity *)(uintptr_t)s->tensors[T_W].sparsity;
    uint8_t *rp = (uint8_t *)(uintptr_t)s->buffer_data[2];
    uint8_t *ci = (uint8_t *)(uintptr_t)s->buffer_data[3];

    sp->block_cols = 3;
    expect_spec(s, QLITE_ERR_CORRUPT, "sparse block 1x3 does not divide the 2-D view [4, 8]");
    sp->block_cols = 0;
    expect_spec(s, QLITE_ERR_CORRUPT, "sparse block 1x0");
    sp->block_cols = 4;
    sp->row_ptr_type = (qlite_index_type)5;
    expect_spec(s, QLITE_ERR_CORRUPT, "unknown row_ptr_type 5");
    sp->row_ptr_type = QLITE_INDEX_UINT16;
    expect_spec(s, QLITE_ERR_CORRUPT, "row_ptr (buffer 2) has 5 bytes, expected 10");
    sp->row_ptr_type = QLITE_INDEX_UINT8;
    sp->col_index_type = QLITE_INDEX_UINT32;
    expect_spec(s, QLITE_ERR_CORRUPT, "col_index (buffer 3) has 3 bytes, expected 12");
    sp->col_index_type = QLITE_INDEX_UINT8;
    sp->nnz_blocks = 9;
    expect_spec(s, QLITE_ERR_CORRUPT, "nnz_blocks 9 exceeds the 4 x 2 blocks");
    sp->nnz_blocks = 2;
    expect_spec(s, QLITE_ERR_CORRUPT, "col_index (buffer 3) has 3 bytes, expected 2");
    sp->nnz_blocks = 3;
    sp->row_ptr_buffer = 0;
    expect_spec(s, QLITE_ERR_CORRUPT, "sparse but row_ptr_buffer is 0");
    sp->row_ptr_buffer = 40;
    expect_spec(s, QLITE_ERR_CORRUPT, "row_ptr_buffer 40 out of range");
    sp->row_ptr_buffer = 2;

    /* the index contents: rp = {0,1,1,2,3}, ci = {1,0,1} */
    rp[0] = 1;
    expect_spec(s, QLITE_ERR_CORRUPT, "row_ptr[0] = 1");
    rp[0] = 0;
    rp[2] = 0;
    expect_spec(s, QLITE_ERR_CORRUPT, "row_ptr[2] = 0");
    expect_spec(s, QLITE_ERR_CORRUPT, "must rise monotonically");
    rp[2] = 1;
    rp[4] = 2;
    expect_spec(s, QLITE_ERR_CORRUPT, "row_ptr ends at 2 but nnz_blocks is 3");
    rp[4] = 7;
    expect_spec(s, QLITE_ERR_CORRUPT, "row_ptr[4] = 7");
    rp[4] = 3;
    ci[2] = 2;
    expect_spec(s, QLITE_ERR_CORRUPT, "col_index[2] = 2");
    expect_spec(s, QLITE_ERR_CORRUPT, "is not below the 2 block columns");
    ci[2] = 1;
    /* two blocks in one row must be strictly increasing: row 0 holds 0..2 */
    rp[1] = 2;
    rp[2] = 2;
    rp[3] = 3;
    ci[0] = 1;
    ci[1] = 1;
    expect_spec(s, QLITE_ERR_CORRUPT, "col_index[1] = 1");
    expect_spec(s, QLITE_ERR_CORRUPT, "does not increase strictly");
    ci[1] = 0;
    expect_spec(s, QLITE_ERR_CORRUPT, "does not increase strictly");
    ci[0] = 0;
    ci[1] = 1;
    void *b;
    size_t n;
    assert_qlite_ok(qlite_test_model_bytes(s, true, &b, &n)); /* repaired: valid again */
    qlite_writer_free_bytes(b);
    /* values size against nnz */
    s->buffer_size[1] = 8;
    expect_spec(s, QLITE_ERR_CORRUPT, "sparse values (buffer 1) have 8 bytes, expected 12");
    s->buffer_size[1] = 12;
    s->tensors[T_W].quant = NULL;
    s->tensors[T_W].rank = 0;
    expect_spec(s, QLITE_ERR_CORRUPT, "a sparse tensor needs rank >= 1");
    qlite_test_model_free(s);
}

static void test_clustering(void **state) {
    (void)state;
    qlite_test_model *s = small();
    qlite_clustering *c = (qlite_clustering *)(uintptr_t)s->tensors[T_K].clustering;
    c->num_clusters = 1;
    expect_spec(s, QLITE_ERR_CORRUPT, "tensor 4 'k': clustering with 1 clusters (must be 2..256)");
    c->num_clusters = 300;
    expect_spec(s, QLITE_ERR_CORRUPT, "clustering with 300 clusters");
    c->num_clusters = 3;
    c->index_bits = 9;
    expect_spec(s, QLITE_ERR_CORRUPT, "index_bits 9 (must be 1..8)");
    c->index_bits = 3;
    expect_spec(s, QLITE_ERR_CORRUPT, "index_bits is 3 but 3 clusters need exactly 2");
    c->index_bits = 2;
    c->num_clusters = 5; /* 3 bits: codebook of 8 */
    expect_spec(s, QLITE_ERR_CORRUPT, "index_bits is 2 but 5 clusters need exactly 3");
    c->num_clusters = 3;
    c->codebook_buffer = 0;
    expect_spec(s, QLITE_ERR_CORRUPT, "clustered but codebook_buffer is 0");
    c->codebook_buffer = 6;
    c->per_row = true; /* 4 rows x 4 entries x 4 bytes = 64 */
    expect_spec(s, QLITE_ERR_CORRUPT, "codebook (buffer 6) has 16 bytes, expected 64");
    c->per_row = false;
    int64_t *d = (int64_t *)(uintptr_t)s->tensors[T_K].shape;
    d[0] = 5; /* 5 x 2 bits = 2 bytes */
    expect_spec(s, QLITE_ERR_CORRUPT, "index bitstream (buffer 5) has 1 bytes, expected 2");
    d[0] = 4;
    s->tensors[T_K].layout = QLITE_LAYOUT_O16I4;
    expect_spec(s, QLITE_ERR_CORRUPT, "the O16I4 layout cannot be combined with clustering");
    qlite_test_model_free(s);
}

static void test_graph_order(void **state) {
    (void)state;
    qlite_test_model *s = small();
    int32_t *in0 = (int32_t *)(uintptr_t)s->ops[0].inputs;
    int32_t *in2 = (int32_t *)(uintptr_t)s->ops[2].inputs;
    int32_t *out1 = (int32_t *)(uintptr_t)s->ops[1].outputs;

    in0[1] = 5000;
    expect_spec(s, QLITE_ERR_CORRUPT, "op 0 FULLY_CONNECTED 'fc': input 1 is tensor 5000, out of range");
    in0[1] = -2;
    expect_spec(s, QLITE_ERR_CORRUPT, "input 1 is tensor -2, out of range");
    in0[1] = T_W;
    /* use before definition: MUL reads hf before DEQUANTIZE makes it */
    qlite_op_info tmp = s->ops[1];
    s->ops[1] = s->ops[2];
    s->ops[2] = tmp;
    expect_spec(s, QLITE_ERR_CORRUPT, "op 1 MUL 'scale': input 0 is tensor 5 'hf', produced by op 2");
    expect_spec(s, QLITE_ERR_CORRUPT, "cycle or use before definition");
    s->ops[2] = s->ops[1];
    s->ops[1] = tmp;
    /* a cycle: fc reads y, which MUL produces from fc's own output */
    in0[0] = T_Y;
    expect_spec(s, QLITE_ERR_CORRUPT, "op 0 FULLY_CONNECTED 'fc': input 0 is tensor 6 'y', produced by op 2");
    in0[0] = T_X;
    /* an input nobody produces */
    in2[0] = T_H;
    out1[0] = T_K; /* and DEQUANTIZE now writes a constant */
    expect_spec(s, QLITE_ERR_CORRUPT, "op 1 DEQUANTIZE 'deq': output 0 writes tensor 4 'k', which is a constant");
    out1[0] = T_X;
    expect_spec(s, QLITE_ERR_CORRUPT, "which is a graph input");
    out1[0] = T_H;
    expect_spec(s, QLITE_ERR_CORRUPT, "tensor 3 'h' is produced twice: by op 0 and by op 1");
    out1[0] = T_HF;
    in2[0] = T_HF;
    /* graph inputs/outputs */
    s->outputs[0] = T_HF + 100;
    expect_spec(s, QLITE_ERR_CORRUPT, "graph output 0 is tensor 105, out of range");
    s->outputs[0] = T_Y;
    s->outputs[1] = T_Y;
    s->num_outputs = 2;
    expect_spec(s, QLITE_ERR_CORRUPT, "graph output 1: tensor 6 'y' is listed twice");
    s->num_outputs = 1;
    int32_t lone = qt_tensor(s, "lone", QLITE_DTYPE_FLOAT32, 1, (int64_t[]){2}, 0);
    s->outputs[0] = lone;
    expect_spec(s, QLITE_ERR_CORRUPT, "graph output 0: tensor 7 'lone' is neither produced by an op nor a graph input");
    in2[1] = lone;
    s->outputs[0] = T_Y;
    expect_spec(s, QLITE_ERR_CORRUPT, "input 1 is tensor 7 'lone', which is not a graph input, not a constant and produced by no op");
    in2[1] = T_K;
    s->inputs[1] = T_X;
    s->num_inputs = 2;
    expect_spec(s, QLITE_ERR_CORRUPT, "graph input 1: tensor 0 'x' is listed twice");
    s->inputs[1] = T_B;
    expect_spec(s, QLITE_ERR_CORRUPT, "graph input 1: tensor 2 'b' is a constant");
    s->inputs[1] = -1;
    expect_spec(s, QLITE_ERR_CORRUPT, "graph input 1 is tensor -1, out of range");
    s->num_inputs = 1;
    s->ops[1].outputs = qt_i32(s, 1, (int32_t[]){-1});
    expect_spec(s, QLITE_ERR_CORRUPT, "op 1 DEQUANTIZE 'deq': output 0 is tensor -1");
    qlite_test_model_free(s);
}

static void test_ops_and_options(void **state) {
    (void)state;
    qlite_test_model *s = small();
    s->ops[0].code = (qlite_op_code)QLITE_OP_COUNT;
    expect_spec(s, QLITE_ERR_CORRUPT, "op 0 'fc': unknown op code 55");
    s->ops[0].code = (qlite_op_code)-7;
    expect_spec(s, QLITE_ERR_CORRUPT, "unknown op code -7");
    s->ops[0].code = QLITE_OP_FULLY_CONNECTED;
    qlite_op_options conv;
    qlite_op_options_default(QLITE_OPTIONS_CONV_2D, &conv);
    s->ops[0].options = conv;
    expect_spec(s, QLITE_ERR_CORRUPT, "op 0 FULLY_CONNECTED 'fc': options are Conv2DOptions, expected FullyConnectedOptions");
    s->ops[0].options.u.conv2d.activation = (qlite_activation)9;
    expect_spec(s, QLITE_ERR_CORRUPT, "unknown fused activation 9");
    qlite_op_options_default(QLITE_OPTIONS_FULLY_CONNECTED, &s->ops[0].options);
    qlite_op_options_default(QLITE_OPTIONS_BINARY, &s->ops[1].options);
    expect_spec(s, QLITE_ERR_CORRUPT, "op 1 DEQUANTIZE 'deq': options are BinaryOptions, expected none");
    qlite_op_options_default(QLITE_OPTIONS_NONE, &s->ops[1].options);
    /* enum fields of other option tables */
    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_PAD, &o);
    o.u.pad.mode = (qlite_pad_mode)3;
    int32_t extra = qt_tensor(s, "p", QLITE_DTYPE_FLOAT32, 2, (int64_t[]){-1, 4}, 0);
    qt_op(s, QLITE_OP_PAD, "pad", 1, (int32_t[]){T_Y}, 1, &extra, &o);
    expect_spec(s, QLITE_ERR_CORRUPT, "op 3 PAD 'pad' options: unknown pad mode 3");
    qlite_op_options *po = &s->ops[3].options;
    po->u.pad.mode = QLITE_PAD_EDGE;
    po->u.pad.count = 3;
    po->u.pad.pads = qt_i64(s, 3, (int64_t[]){1, 2, 3});
    expect_spec(s, QLITE_ERR_CORRUPT, "pads has 3 entries (must be 2 x rank)");
    qlite_op_options_default(QLITE_OPTIONS_CAST, po);
    s->ops[3].code = QLITE_OP_CAST;
    po->u.cast.to = (qlite_dtype)11;
    expect_spec(s, QLITE_ERR_CORRUPT, "unknown cast target dtype 11");
    qlite_op_options_default(QLITE_OPTIONS_RESIZE, po);
    s->ops[3].code = QLITE_OP_RESIZE;
    po->u.resize.coordinate_transform = (qlite_coord_transform)5;
    expect_spec(s, QLITE_ERR_CORRUPT, "unknown coordinate transform 5");
    po->u.resize.coordinate_transform = QLITE_COORD_ASYMMETRIC;
    po->u.resize.nearest_mode = (qlite_nearest_mode)4;
    expect_spec(s, QLITE_ERR_CORRUPT, "unknown nearest mode 4");
    po->u.resize.nearest_mode = QLITE_NEAREST_FLOOR;
    po->u.resize.mode = (qlite_resize_mode)2;
    expect_spec(s, QLITE_ERR_CORRUPT, "unknown resize mode 2");
    qlite_op_options_default(QLITE_OPTIONS_RNN, po);
    s->ops[3].code = QLITE_OP_GRU;
    po->u.rnn.direction = (qlite_rnn_direction)3;
    expect_spec(s, QLITE_ERR_CORRUPT, "unknown RNN direction 3");
    qlite_op_options_default(QLITE_OPTIONS_RESHAPE, po);
    s->ops[3].code = QLITE_OP_RESHAPE;
    po->u.reshape.rank = 9;
    po->u.reshape.new_shape = qt_i64(s, 9, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1});
    expect_spec(s, QLITE_ERR_CORRUPT, "options.new_shape has 9 entries (at most 8)");
    qlite_test_model_free(s);
}

static void test_versions(void **state) {
    (void)state;
    qlite_test_model *s = small();
    s->version_major = QLITE_FORMAT_VERSION_MAJOR + 1;
    expect_spec(s, QLITE_ERR_UNSUPPORTED_VERSION, "upgrade qlite");
    /* a newer major with a layout the verifier would reject still gets the version error */
    void *bytes;
    size_t n;
    assert_qlite_ok(qlite_test_model_bytes(s, false, &bytes, &n));
    uint8_t *p = bytes;
    fb_table t1 = tensor_table(p, 1);
    put_u32(p + t1.pos, 0x40000000u);
    expect_bytes(p, n, QLITE_ERR_UNSUPPORTED_VERSION, "format version 2.0");
    qlite_writer_free_bytes(bytes);
    qlite_test_model_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_at_every_length),
        cmocka_unit_test(test_random_bit_flips),
        cmocka_unit_test(test_structural_damage),
        cmocka_unit_test(test_shared_vector_budget),
        cmocka_unit_test(test_shared_sparse_index_budget),
        cmocka_unit_test(test_shapes_and_dtypes),
        cmocka_unit_test(test_packed_layout),
        cmocka_unit_test(test_quantization),
        cmocka_unit_test(test_sparsity),
        cmocka_unit_test(test_clustering),
        cmocka_unit_test(test_graph_order),
        cmocka_unit_test(test_ops_and_options),
        cmocka_unit_test(test_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
