/*
 * qlite-dump_json.c — `qlite-dump --json`: everything the text summary shows,
 * for programs. The format is specified field by field in docs/dump-json.md;
 * change it only together with that page (adding a field is compatible;
 * renaming, removing or changing the meaning of one bumps DUMP_JSON_VERSION).
 */
#include <inttypes.h>
#include <string.h>

#include "qlite-dump.h"

static void json_shape(FILE *f, uint32_t rank, const int64_t *shape) {
    fputc('[', f);
    for (uint32_t i = 0; i < rank; i++) fprintf(f, "%s%" PRId64, i ? ", " : "", shape[i]);
    fputc(']', f);
}

static void json_f32_array(FILE *f, const float *v, uint32_t n) {
    fputc('[', f);
    for (uint32_t i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        json_f32(f, v[i]);
    }
    fputc(']', f);
}

static void json_opt_value(FILE *f, const dump_opt *it) {
    switch (it->kind) {
    case DUMP_OPT_INT: fprintf(f, "%" PRId64, it->i); break;
    case DUMP_OPT_FLOAT: json_f32(f, (float)it->f); break;
    case DUMP_OPT_BOOL: fputs(it->b ? "true" : "false", f); break;
    case DUMP_OPT_ENUM: json_str(f, it->s); break;
    case DUMP_OPT_INTS:
        fputc('[', f);
        for (uint32_t k = 0; k < it->n; k++)
            fprintf(f, "%s%" PRId64, k ? ", " : "", it->i64s ? it->i64s[k] : (int64_t)it->i32s[k]);
        fputc(']', f);
        break;
    }
}

static void json_quant(FILE *f, const qlite_quant *q) {
    if (!q || q->count == 0) {
        fputs("null", f);
        return;
    }
    float lo, hi;
    int32_t zlo, zhi;
    dump_float_range(q->scale, q->count, &lo, &hi);
    dump_int_range(q->zero_point, q->count, &zlo, &zhi);
    fprintf(f, "{\"per_channel\": %s, \"count\": %u, \"axis\": %d, \"scale\": ",
            q->count > 1 ? "true" : "false", q->count, q->axis);
    json_f32_array(f, q->scale, q->count);
    fputs(", \"zero_point\": [", f);
    for (uint32_t i = 0; i < q->count; i++) fprintf(f, "%s%d", i ? ", " : "", q->zero_point[i]);
    fputs("], \"scale_min\": ", f);
    json_f32(f, lo);
    fputs(", \"scale_max\": ", f);
    json_f32(f, hi);
    fprintf(f, ", \"zero_point_min\": %d, \"zero_point_max\": %d, \"min\": ", zlo, zhi);
    if (q->range_count) json_f32_array(f, q->min, q->range_count); else fputs("null", f);
    fputs(", \"max\": ", f);
    if (q->range_count) json_f32_array(f, q->max, q->range_count); else fputs("null", f);
    fputc('}', f);
}

void dump_json_tensor(const dump_ctx *c, FILE *f, uint32_t index, const char *ind) {
    const qlite_tensor_info *t = qlite_model_tensor(c->model, index);
    if (!t) {
        fputs("null", f);
        return;
    }
    dump_tensor_sizes sz;
    dump_tensor_sizes_get(c->model, t, &sz);
    fprintf(f, "{\n%s  \"index\": %u,\n%s  \"name\": ", ind, index, ind);
    json_str(f, t->name);
    fprintf(f, ",\n%s  \"shape\": ", ind);
    json_shape(f, t->rank, t->shape);
    fprintf(f, ",\n%s  \"dtype\": ", ind);
    json_str(f, qlite_dtype_name(t->dtype));
    fprintf(f, ",\n%s  \"constant\": %s,\n%s  \"buffer\": %u,\n", ind,
            t->buffer ? "true" : "false", ind, t->buffer);
    fprintf(f, "%s  \"elements\": %" PRIu64 ",\n", ind, sz.elements);
    fprintf(f, "%s  \"bytes\": %" PRIu64 ",\n", ind, sz.data_bytes + sz.aux_bytes);
    fprintf(f, "%s  \"data_bytes\": %" PRIu64 ",\n", ind, sz.data_bytes);
    fprintf(f, "%s  \"aux_bytes\": %" PRIu64 ",\n", ind, sz.aux_bytes);
    fprintf(f, "%s  \"dense_bytes\": %" PRIu64 ",\n", ind, sz.dense_bytes);
    fprintf(f, "%s  \"layout\": ", ind);
    json_str(f, dump_layout_name(t->layout));
    fprintf(f, ",\n%s  \"quantization\": ", ind);
    json_quant(f, t->quant);
    fprintf(f, ",\n%s  \"sparsity\": ", ind);
    if (t->sparsity) {
        const qlite_sparsity *s = t->sparsity;
        fprintf(f, "{\"block\": [%u, %u], \"nnz_blocks\": %" PRIu64 ", \"stored_values\": %" PRIu64
                   ", \"zero_fraction\": ",
                s->block_rows, s->block_cols, s->nnz_blocks, sz.stored_values);
        json_num(f, sz.zero_fraction);
        fputs(", \"row_ptr_type\": ", f);
        json_str(f, dump_index_type_name(s->row_ptr_type));
        fputs(", \"col_index_type\": ", f);
        json_str(f, dump_index_type_name(s->col_index_type));
        fprintf(f, ", \"row_ptr_buffer\": %u, \"col_index_buffer\": %u}", s->row_ptr_buffer,
                s->col_index_buffer);
    } else {
        fputs("null", f);
    }
    fprintf(f, ",\n%s  \"clustering\": ", ind);
    if (t->clustering) {
        const qlite_clustering *k = t->clustering;
        fprintf(f, "{\"num_clusters\": %u, \"index_bits\": %u, \"per_row\": %s, "
                   "\"codebook_buffer\": %u}",
                k->num_clusters, k->index_bits, k->per_row ? "true" : "false", k->codebook_buffer);
    } else {
        fputs("null", f);
    }
    fprintf(f, "\n%s}", ind);
}

static void json_io(FILE *f, const qlite_model *m, bool inputs) {
    uint32_t n = inputs ? qlite_model_input_count(m) : qlite_model_output_count(m);
    fputc('[', f);
    for (uint32_t i = 0; i < n; i++) {
        int32_t ti = inputs ? qlite_model_input(m, i) : qlite_model_output(m, i);
        const qlite_tensor_info *t = ti >= 0 ? qlite_model_tensor(m, (uint32_t)ti) : NULL;
        fprintf(f, "%s\n    {\"tensor\": %d, \"name\": ", i ? "," : "", ti);
        json_str(f, t ? t->name : NULL);
        fputs(", \"shape\": ", f);
        if (t) json_shape(f, t->rank, t->shape); else fputs("null", f);
        fputs(", \"dtype\": ", f);
        json_str(f, t ? qlite_dtype_name(t->dtype) : NULL);
        fputs(", \"quantization\": ", f);
        json_quant(f, t ? t->quant : NULL);
        fputc('}', f);
    }
    fputs(n ? "\n  ]" : "]", f);
}

int dump_json(const dump_ctx *c, FILE *f) {
    const qlite_model *m = c->model;
    size_t model_size = 0;
    const void *bytes = qlite_model_bytes(m, &model_size);
    uint32_t major = 0, minor = 0;
    qlite_model_version(m, &major, &minor);

    fprintf(f, "{\n  \"dump_version\": %d,\n  \"file\": {\"path\": ", DUMP_JSON_VERSION);
    json_str(f, c->path);
    fprintf(f, ", \"size\": %" PRIu64 ", \"compressed\": %s, \"model_bytes\": %zu},\n",
            c->file_size, qlite_model_was_compressed(m) ? "true" : "false", model_size);
    fprintf(f, "  \"format_version\": {\"major\": %u, \"minor\": %u},\n", major, minor);
    fputs("  \"producer\": ", f);
    json_str(f, qlite_model_producer(m));
    fputs(",\n  \"description\": ", f);
    json_str(f, qlite_model_description(m));
    fprintf(f, ",\n  \"counts\": {\"tensors\": %u, \"operators\": %u, \"buffers\": %u, "
               "\"metadata\": %u, \"inputs\": %u, \"outputs\": %u},\n",
            qlite_model_tensor_count(m), qlite_model_op_count(m), qlite_model_buffer_count(m),
            qlite_model_metadata_count(m), qlite_model_input_count(m), qlite_model_output_count(m));

    /* metadata */
    uint32_t nmeta = qlite_model_metadata_count(m);
    fputs("  \"metadata\": [", f);
    for (uint32_t i = 0; i < nmeta; i++) {
        const qlite_metadata *md = qlite_model_metadata(m, i);
        fprintf(f, "%s\n    {\"key\": ", i ? "," : "");
        json_str(f, md->key);
        fputs(", \"value\": ", f);
        json_str(f, md->buffer ? NULL : md->value);
        if (md->buffer)
            fprintf(f, ", \"blob\": {\"buffer\": %u, \"size\": %" PRIu64 "}}", md->buffer, md->size);
        else
            fputs(", \"blob\": null}", f);
    }
    fputs(nmeta ? "\n  ],\n" : "],\n", f);

    fputs("  \"inputs\": ", f);
    json_io(f, m, true);
    fputs(",\n  \"outputs\": ", f);
    json_io(f, m, false);

    /* operators */
    uint32_t nops = qlite_model_op_count(m);
    fputs(",\n  \"operators\": [", f);
    for (uint32_t i = 0; i < nops; i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        fprintf(f, "%s\n    {\"index\": %u, \"op\": ", i ? "," : "", i);
        json_str(f, qlite_op_name(op->code));
        fprintf(f, ", \"opcode\": %d, \"name\": ", (int)op->code);
        json_str(f, op->name);
        fputs(", \"inputs\": [", f);
        for (uint32_t k = 0; k < op->num_inputs; k++) fprintf(f, "%s%d", k ? ", " : "", op->inputs[k]);
        fputs("], \"outputs\": [", f);
        for (uint32_t k = 0; k < op->num_outputs; k++)
            fprintf(f, "%s%d", k ? ", " : "", op->outputs[k]);
        fputs("], \"options_type\": ", f);
        json_str(f, dump_options_type_name(op->options.type));
        fputs(", \"options\": {", f);
        dump_opt items[DUMP_MAX_OPTS];
        uint32_t n = dump_op_options(&op->options, items);
        for (uint32_t k = 0; k < n; k++) {
            fprintf(f, "%s\"%s\": ", k ? ", " : "", items[k].key);
            json_opt_value(f, &items[k]);
        }
        fputs("}}", f);
    }
    fputs(nops ? "\n  ],\n" : "],\n", f);

    /* tensors, and totals gathered on the way */
    uint32_t nt = qlite_model_tensor_count(m);
    uint64_t by_dtype[QLITE_DTYPE_COUNT] = {0};
    uint64_t weights = 0, dense = 0, nconst = 0;
    fputs("  \"tensors\": [", f);
    for (uint32_t i = 0; i < nt; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        dump_json_tensor(c, f, i, "    ");
        const qlite_tensor_info *t = qlite_model_tensor(m, i);
        if (t->buffer) {
            dump_tensor_sizes sz;
            dump_tensor_sizes_get(m, t, &sz);
            nconst++;
            weights += sz.data_bytes + sz.aux_bytes;
            dense += sz.dense_bytes;
            if ((unsigned)t->dtype < QLITE_DTYPE_COUNT) by_dtype[t->dtype] += sz.data_bytes + sz.aux_bytes;
        }
    }
    fputs(nt ? "\n  ],\n" : "],\n", f);

    /* buffers */
    uint32_t nb = qlite_model_buffer_count(m);
    uint64_t buffers_bytes = 0;
    fputs("  \"buffers\": [", f);
    for (uint32_t i = 0; i < nb; i++) {
        qlite_buffer_info b;
        memset(&b, 0, sizeof b);
        qlite_model_buffer(m, i, &b);
        buffers_bytes += b.size;
        fprintf(f, "%s\n    {\"index\": %u, \"offset\": %" PRIu64 ", \"size\": %" PRIu64
                   ", \"crc32\": %u}",
                i ? "," : "", i, b.offset, b.size, b.crc32);
    }
    fputs(nb ? "\n  ],\n" : "],\n", f);

    uint64_t data_off = dump_data_section_offset(m, model_size);
    fputs("  \"totals\": {\n    \"constant_tensors\": ", f);
    fprintf(f, "%" PRIu64 ",\n    \"weights_bytes\": %" PRIu64 ",\n", nconst, weights);
    fputs("    \"weights_bytes_by_dtype\": {", f);
    bool first = true;
    for (int d = 0; d < QLITE_DTYPE_COUNT; d++) {
        if (!by_dtype[d]) continue;
        fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", qlite_dtype_name((qlite_dtype)d),
                by_dtype[d]);
        first = false;
    }
    fprintf(f, "},\n    \"dense_equivalent_bytes\": %" PRIu64 ",\n", dense);
    fprintf(f, "    \"buffers_bytes\": %" PRIu64 ",\n", buffers_bytes);
    fprintf(f, "    \"flatbuffer_bytes\": %" PRIu64 ",\n", data_off);
    fprintf(f, "    \"data_section_offset\": %" PRIu64 ",\n", data_off);
    fprintf(f, "    \"data_section_bytes\": %" PRIu64 ",\n", (uint64_t)model_size - data_off);
    fprintf(f, "    \"model_bytes\": %zu,\n", model_size);
    fprintf(f, "    \"file_bytes\": %" PRIu64 ",\n", c->file_size);
    fputs("    \"gzip_bytes\": ", f);
    int64_t gz = c->want_gzip ? dump_gzip_size(bytes, model_size) : -1;
    if (gz >= 0) fprintf(f, "%" PRId64, gz); else fputs("null", f);
    fputs("\n  }\n}\n", f);
    return 0;
}
