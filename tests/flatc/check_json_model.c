/*
 * check_json_model.c — the flatc -> qlite direction of the cross-check.
 *
 * usage: check_json_model FLATBUFFER OUT.qlite
 *
 * FLATBUFFER is what `flatc -b schema/qlite.fbs tests/flatc/model.json`
 * built. This program appends the data section at the offsets model.json
 * names (4096 + 64 * (i - 1) for buffer i), writes OUT.qlite, opens it with
 * qlite (crc32s verified) and checks every value against model.json, whose
 * contents are mirrored by hand below. Exit status 0 = all equal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qlite/qlite.h"

static int failures;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "check_json_model: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                             \
        }                                                                           \
    } while (0)

#define DATA_START 4096

/* The data section (crc32s in model.json were computed from these bytes with
 * Python's zlib.crc32). */
static const int8_t w_data[8] = {1, -2, 3, -4, 5, -6, 7, -8};
static const int32_t b_data[2] = {100, -200};
static const float s_values[4] = {1.5f, -2.5f, 3.25f, 4.0f};
static const uint8_t s_row_ptr[3] = {0, 1, 2};
static const uint16_t s_col_index[2] = {1, 0};
static const uint8_t k_bits[1] = {0x02};
static const float k_codebook[2] = {-1.0f, 2.0f};
static const char blob[5] = {'h', 'e', 'l', 'l', 'o'};
static uint8_t packed[64];

static const struct {
    const void *data;
    size_t size;
} buffers[] = {
    {NULL, 0},           {w_data, 8},      {b_data, 8},        {s_values, 16}, {s_row_ptr, 3},
    {s_col_index, 4},    {k_bits, 1},      {k_codebook, 8},    {blob, 5},      {packed, 64},
};
#define NBUF (sizeof buffers / sizeof buffers[0])

static void *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc((size_t)len);
    if (p && fread(p, 1, (size_t)len, f) != (size_t)len) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return p;
}

static void check_shape(const qlite_tensor_info *t, uint32_t rank, const int64_t *dims) {
    CHECK(t->rank == rank);
    for (uint32_t i = 0; i < rank && i < t->rank; i++) CHECK(t->shape[i] == dims[i]);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: check_json_model FLATBUFFER OUT.qlite\n");
        return 2;
    }
    for (int i = 0; i < 64; i++) packed[i] = (uint8_t)i;
    size_t fb_n;
    uint8_t *fb = read_file(argv[1], &fb_n);
    if (!fb) {
        fprintf(stderr, "check_json_model: cannot read %s\n", argv[1]);
        return 1;
    }
    if (fb_n > DATA_START) {
        fprintf(stderr, "check_json_model: the FlatBuffer (%zu bytes) overlaps the data at %d\n",
                fb_n, DATA_START);
        return 1;
    }
    size_t total = DATA_START + 64 * (NBUF - 2) + buffers[NBUF - 1].size;
    uint8_t *file = calloc(1, total);
    memcpy(file, fb, fb_n);
    for (size_t i = 1; i < NBUF; i++)
        memcpy(file + DATA_START + 64 * (i - 1), buffers[i].data, buffers[i].size);
    FILE *out = fopen(argv[2], "wb");
    if (!out || fwrite(file, 1, total, out) != total || fclose(out) != 0) {
        fprintf(stderr, "check_json_model: cannot write %s\n", argv[2]);
        return 1;
    }
    free(file);
    free(fb);

    qlite_model *m;
    qlite_status st = qlite_model_open(argv[2], QLITE_OPEN_VERIFY_CRC, &m);
    if (st != QLITE_OK) {
        fprintf(stderr, "check_json_model: qlite refused the flatc-built model: %s: %s\n",
                qlite_status_string(st), qlite_last_error());
        return 1;
    }
    uint32_t major, minor;
    qlite_model_version(m, &major, &minor);
    CHECK(major == 1 && minor == 0);
    CHECK(strcmp(qlite_model_producer(m), "hand-written JSON, built by flatc -b") == 0);
    CHECK(strncmp(qlite_model_description(m), "flatc -> qlite cross-check", 26) == 0);
    CHECK(qlite_model_buffer_count(m) == NBUF);
    for (uint32_t i = 1; i < NBUF && i < qlite_model_buffer_count(m); i++) {
        qlite_buffer_info b;
        CHECK(qlite_model_buffer(m, i, &b) == QLITE_OK);
        CHECK(b.offset == DATA_START + 64u * (i - 1));
        CHECK(b.size == buffers[i].size);
        CHECK(memcmp(b.data, buffers[i].data, buffers[i].size) == 0);
    }

    CHECK(qlite_model_tensor_count(m) == 9);
    if (qlite_model_tensor_count(m) == 9) {
        const qlite_tensor_info *x = qlite_model_tensor(m, 0), *w = qlite_model_tensor(m, 1),
                                *b = qlite_model_tensor(m, 2), *h = qlite_model_tensor(m, 3),
                                *hf = qlite_model_tensor(m, 4), *s = qlite_model_tensor(m, 5),
                                *k = qlite_model_tensor(m, 6), *y = qlite_model_tensor(m, 7),
                                *p = qlite_model_tensor(m, 8);
        CHECK(strcmp(x->name, "x") == 0 && x->dtype == QLITE_DTYPE_INT8 && x->buffer == 0);
        check_shape(x, 2, (int64_t[]){-1, 4});
        CHECK(x->quant && x->quant->count == 1 && x->quant->scale[0] == 0.5f &&
              x->quant->zero_point[0] == -3 && x->quant->range_count == 0);
        CHECK(strcmp(w->name, "w") == 0 && w->dtype == QLITE_DTYPE_INT8 && w->buffer == 1);
        check_shape(w, 2, (int64_t[]){2, 4});
        CHECK(w->data_size == 8 && memcmp(w->data, w_data, 8) == 0);
        CHECK(w->quant && w->quant->count == 2 && w->quant->axis == 0 &&
              w->quant->scale[0] == 0.25f && w->quant->scale[1] == 0.125f &&
              w->quant->zero_point[1] == 0 && w->quant->range_count == 2 &&
              w->quant->min[1] == -2.0f && w->quant->max[0] == 1.0f);
        CHECK(b->dtype == QLITE_DTYPE_INT32 && b->quant && b->quant->count == 2 &&
              b->quant->scale[1] == 0.0625f && b->quant->zero_point[0] == 0 &&
              b->quant->zero_point[1] == 0); /* zero_point absent: zeros */
        CHECK(((const int32_t *)b->data)[1] == -200);
        CHECK(h->quant && h->quant->scale[0] == 0.75f && h->quant->zero_point[0] == 5);
        CHECK(hf->dtype == QLITE_DTYPE_FLOAT32 && !hf->quant && !hf->sparsity);
        CHECK(s->sparsity && s->sparsity->block_rows == 1 && s->sparsity->block_cols == 2 &&
              s->sparsity->row_ptr_type == QLITE_INDEX_UINT8 &&
              s->sparsity->col_index_type == QLITE_INDEX_UINT16 &&
              s->sparsity->row_ptr_buffer == 4 && s->sparsity->col_index_buffer == 5 &&
              s->sparsity->nnz_blocks == 2);
        CHECK(s->sparsity && memcmp(s->sparsity->row_ptr, s_row_ptr, 3) == 0 &&
              memcmp(s->sparsity->col_index, s_col_index, 4) == 0);
        CHECK(s->data_size == 16 && ((const float *)s->data)[2] == 3.25f);
        CHECK(k->clustering && k->clustering->num_clusters == 2 &&
              k->clustering->index_bits == 1 && !k->clustering->per_row &&
              k->clustering->codebook_buffer == 7 &&
              ((const float *)k->clustering->codebook)[1] == 2.0f);
        CHECK(y->dtype == QLITE_DTYPE_FLOAT32);
        check_shape(y, 2, (int64_t[]){-1, 2});
        CHECK(p->layout == QLITE_LAYOUT_O16I4 && p->data_size == 64 &&
              ((const uint8_t *)p->data)[63] == 63);
        CHECK(qlite_model_find_tensor(m, "k") == 6);
    }
    CHECK(qlite_model_input_count(m) == 1 && qlite_model_input(m, 0) == 0);
    CHECK(qlite_model_output_count(m) == 1 && qlite_model_output(m, 0) == 7);
    CHECK(qlite_model_op_count(m) == 3);
    if (qlite_model_op_count(m) == 3) {
        const qlite_op_info *fc = qlite_model_op(m, 0), *deq = qlite_model_op(m, 1),
                            *mul = qlite_model_op(m, 2);
        CHECK(fc->code == QLITE_OP_FULLY_CONNECTED && strcmp(fc->name, "fc") == 0);
        CHECK(fc->num_inputs == 3 && fc->inputs[2] == 2 && fc->num_outputs == 1 &&
              fc->outputs[0] == 3);
        CHECK(fc->options.type == QLITE_OPTIONS_FULLY_CONNECTED &&
              fc->options.u.fully_connected.activation == QLITE_ACT_RELU &&
              !fc->options.u.fully_connected.keep_num_dims);
        CHECK(deq->code == QLITE_OP_DEQUANTIZE && deq->options.type == QLITE_OPTIONS_NONE &&
              strcmp(deq->name, "deq") == 0);
        CHECK(mul->code == QLITE_OP_MUL && mul->options.type == QLITE_OPTIONS_BINARY &&
              mul->options.u.binary.activation == QLITE_ACT_RELU6 &&
              strcmp(mul->name, "") == 0 && mul->inputs[1] == 6);
    }
    CHECK(qlite_model_metadata_count(m) == 2);
    CHECK(qlite_model_metadata_get(m, "source") &&
          strcmp(qlite_model_metadata_get(m, "source"), "tests/flatc/model.json") == 0);
    const qlite_metadata *md = qlite_model_metadata(m, 1);
    CHECK(md && strcmp(md->key, "blob") == 0 && md->buffer == 8 && md->size == 5 &&
          memcmp(md->data, "hello", 5) == 0);
    qlite_model_close(m);
    if (failures) {
        fprintf(stderr, "check_json_model: %d check(s) failed\n", failures);
        return 1;
    }
    printf("check_json_model: flatc-built %s opens in qlite with the expected contents\n",
           argv[2]);
    return 0;
}
