/*
 * qlite-dump_text.c — the default summary: header, metadata, inputs/outputs,
 * one line per op, one line per tensor, totals. Meant to be read at a glance;
 * programs should use --json, whose fields are documented and stable.
 */
#include <inttypes.h>
#include <string.h>

#include "qlite-dump.h"

/* Quantization / sparsity / clustering / layout notes of a tensor. */
static void tensor_notes(const qlite_model *m, const qlite_tensor_info *t, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = '\0';
#define APP(...)                                                           \
    do {                                                                   \
        if (n < len) {                                                     \
            int w_ = snprintf(buf + n, len - n, __VA_ARGS__);              \
            if (w_ > 0) n += (size_t)w_;                                   \
        }                                                                  \
    } while (0)
    const qlite_quant *q = t->quant;
    if (q && q->count == 1) {
        APP("q: scale=%.6g zp=%d", (double)q->scale[0], q->zero_point[0]);
    } else if (q && q->count > 1) {
        float lo, hi;
        int32_t zlo, zhi;
        dump_float_range(q->scale, q->count, &lo, &hi);
        dump_int_range(q->zero_point, q->count, &zlo, &zhi);
        APP("q: per-channel x%u axis=%d scale=[%.4g..%.4g]", q->count, q->axis, (double)lo,
            (double)hi);
        if (zlo == zhi) APP(" zp=%d", zlo);
        else APP(" zp=[%d..%d]", zlo, zhi);
    }
    if (q && q->range_count == 1) APP(" range=[%.4g,%.4g]", (double)q->min[0], (double)q->max[0]);
    dump_tensor_sizes sz;
    dump_tensor_sizes_get(m, t, &sz);
    if (t->sparsity)
        APP("%ssparse %.1f%% zeros, block %ux%u", n ? "; " : "", 100.0 * sz.zero_fraction,
            t->sparsity->block_rows, t->sparsity->block_cols);
    if (t->clustering)
        APP("%sclustered K=%u %u-bit%s", n ? "; " : "", t->clustering->num_clusters,
            t->clustering->index_bits, t->clustering->per_row ? " per-row" : "");
    if (t->layout != QLITE_LAYOUT_DEFAULT) APP("%slayout %s", n ? "; " : "", dump_layout_name(t->layout));
    if (t->buffer && sz.dense_bytes != sz.data_bytes + sz.aux_bytes)
        APP("%sdense %" PRIu64 " B", n ? "; " : "", sz.dense_bytes);
#undef APP
}

/*
 * A free-text value on one line: printed as is when it is plain text, as a
 * JSON string when it holds control characters (newlines would break the
 * layout), cut after TEXT_MAX bytes (at a UTF-8 character boundary).
 */
#define TEXT_MAX 160
static void print_text_value(FILE *f, const char *s) {
    size_t len = strlen(s), cut = len;
    if (cut > TEXT_MAX) {
        cut = TEXT_MAX;
        while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80) cut--;
    }
    char buf[TEXT_MAX + 1];
    memcpy(buf, s, cut);
    buf[cut] = '\0';
    bool plain = true;
    for (size_t i = 0; i < cut; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f) plain = false;
    if (plain) fputs(buf, f);
    else json_str(f, buf);
    if (cut < len) fprintf(f, " ... (%zu bytes)", len);
}

static void tensor_ref(const qlite_model *m, int32_t index, char *buf, size_t len) {
    char shape[160];
    const qlite_tensor_info *t = index >= 0 ? qlite_model_tensor(m, (uint32_t)index) : NULL;
    if (!t) {
        snprintf(buf, len, "-");
        return;
    }
    snprintf(buf, len, "%s %s %s", t->name[0] ? t->name : "(unnamed)",
             dump_shape_str(shape, sizeof shape, t->rank, t->shape), qlite_dtype_name(t->dtype));
}

static void print_io(FILE *f, const qlite_model *m, bool inputs) {
    uint32_t n = inputs ? qlite_model_input_count(m) : qlite_model_output_count(m);
    fprintf(f, "\n%s (%u)\n", inputs ? "inputs" : "outputs", n);
    for (uint32_t i = 0; i < n; i++) {
        int32_t ti = inputs ? qlite_model_input(m, i) : qlite_model_output(m, i);
        char ref[512], notes[512] = "";
        tensor_ref(m, ti, ref, sizeof ref);
        const qlite_tensor_info *t = ti >= 0 ? qlite_model_tensor(m, (uint32_t)ti) : NULL;
        if (t) tensor_notes(m, t, notes, sizeof notes);
        fprintf(f, "  %u: tensor %d  %s%s%s\n", i, ti, ref, notes[0] ? "  " : "", notes);
    }
}

int dump_text(const dump_ctx *c, FILE *f) {
    const qlite_model *m = c->model;
    size_t model_size = 0;
    const void *bytes = qlite_model_bytes(m, &model_size);
    uint32_t major = 0, minor = 0;
    qlite_model_version(m, &major, &minor);
    char hb[32], hb2[32];
    uint32_t nt = qlite_model_tensor_count(m), nops = qlite_model_op_count(m);
    uint32_t nb = qlite_model_buffer_count(m), nmeta = qlite_model_metadata_count(m);

    /* ---- header ---- */
    fprintf(f, "file         %s\n", c->path);
    fprintf(f, "size         %" PRIu64 " bytes (%s)", c->file_size,
            dump_human_bytes(hb, sizeof hb, c->file_size));
    if (qlite_model_was_compressed(m))
        fprintf(f, ", gzip-compressed; %zu bytes (%s) inflated\n", model_size,
                dump_human_bytes(hb2, sizeof hb2, model_size));
    else
        fprintf(f, ", not compressed\n");
    fprintf(f, "format       %u.%u\n", major, minor);
    fputs("producer     ", f);
    print_text_value(f, qlite_model_producer(m)[0] ? qlite_model_producer(m) : "-");
    fputs("\ndescription  ", f);
    print_text_value(f, qlite_model_description(m)[0] ? qlite_model_description(m) : "-");
    fputc('\n', f);
    uint32_t nconst_t = 0;
    for (uint32_t i = 0; i < nt; i++)
        if (qlite_model_tensor(m, i)->buffer) nconst_t++;
    fprintf(f, "graph        %u ops, %u tensors (%u constant), %u buffers\n", nops, nt, nconst_t,
            nb);

    /* ---- metadata ---- */
    fprintf(f, "\nmetadata (%u)\n", nmeta);
    size_t kw = 0;
    for (uint32_t i = 0; i < nmeta; i++) {
        size_t l = strlen(qlite_model_metadata(m, i)->key);
        if (l > kw) kw = l;
    }
    if (kw > 32) kw = 32;
    for (uint32_t i = 0; i < nmeta; i++) {
        const qlite_metadata *md = qlite_model_metadata(m, i);
        if (md->buffer)
            fprintf(f, "  %-*s  <blob: %" PRIu64 " bytes in buffer %u>\n", (int)kw, md->key,
                    md->size, md->buffer);
        else
        {
            fprintf(f, "  %-*s  ", (int)kw, md->key);
            print_text_value(f, md->value);
            fputc('\n', f);
        }
    }

    print_io(f, m, true);
    print_io(f, m, false);

    /* ---- operators ---- */
    fprintf(f, "\nops (%u)\n", nops);
    for (uint32_t i = 0; i < nops; i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        char ref[512], opts[512];
        fprintf(f, "  %3u  %-18s", i, qlite_op_name(op->code));
        if (op->name && op->name[0]) fprintf(f, " \"%s\"", op->name);
        fputs("  ", f);
        for (uint32_t k = 0; k < op->num_inputs; k++) {
            tensor_ref(m, op->inputs[k], ref, sizeof ref);
            fprintf(f, "%s%s", k ? ", " : "", ref);
        }
        fputs(" -> ", f);
        for (uint32_t k = 0; k < op->num_outputs; k++) {
            tensor_ref(m, op->outputs[k], ref, sizeof ref);
            fprintf(f, "%s%s", k ? ", " : "", ref);
        }
        dump_op_options_text(&op->options, opts, sizeof opts);
        if (opts[0]) fprintf(f, "  {%s}", opts);
        fputc('\n', f);
    }

    /* ---- tensors ---- */
    fprintf(f, "\ntensors (%u)\n", nt);
    int nw = 4, sw = 5;
    char shape[256];
    for (uint32_t i = 0; i < nt; i++) {
        const qlite_tensor_info *t = qlite_model_tensor(m, i);
        int l = (int)strlen(t->name);
        if (l > nw) nw = l;
        l = (int)strlen(dump_shape_str(shape, sizeof shape, t->rank, t->shape));
        if (l > sw) sw = l;
    }
    if (nw > 40) nw = 40;
    if (sw > 32) sw = 32;
    fprintf(f, "  %4s  %-*s  %-*s  %-7s  %10s  %4s  %s\n", "#", nw, "name", sw, "shape", "dtype",
            "bytes", "buf", "notes");
    uint64_t by_dtype[QLITE_DTYPE_COUNT] = {0};
    uint64_t weights = 0, dense = 0;
    for (uint32_t i = 0; i < nt; i++) {
        const qlite_tensor_info *t = qlite_model_tensor(m, i);
        dump_tensor_sizes sz;
        dump_tensor_sizes_get(m, t, &sz);
        char notes[512], bytes_s[32] = "-", buf_s[16] = "-";
        tensor_notes(m, t, notes, sizeof notes);
        if (t->buffer) {
            uint64_t b = sz.data_bytes + sz.aux_bytes;
            snprintf(bytes_s, sizeof bytes_s, "%" PRIu64, b);
            snprintf(buf_s, sizeof buf_s, "%u", t->buffer);
            weights += b;
            dense += sz.dense_bytes;
            if ((unsigned)t->dtype < QLITE_DTYPE_COUNT) by_dtype[t->dtype] += b;
        }
        fprintf(f, "  %4u  %-*s  %-*s  %-7s  %10s  %4s%s%s\n", i, nw, t->name, sw,
                dump_shape_str(shape, sizeof shape, t->rank, t->shape), qlite_dtype_name(t->dtype),
                bytes_s, buf_s, notes[0] ? "  " : "", notes);
    }

    /* ---- totals ---- */
    uint64_t data_off = dump_data_section_offset(m, model_size);
    uint64_t buffers_bytes = 0;
    for (uint32_t i = 1; i < nb; i++) buffers_bytes += dump_buffer_size(m, i);
    fprintf(f, "\ntotals\n");
    fprintf(f, "  weights           %" PRIu64 " bytes (%s)", weights,
            dump_human_bytes(hb, sizeof hb, weights));
    const char *sep = ": ";
    for (int d = 0; d < QLITE_DTYPE_COUNT; d++) {
        if (!by_dtype[d]) continue;
        fprintf(f, "%s%s %" PRIu64, sep, qlite_dtype_name((qlite_dtype)d), by_dtype[d]);
        sep = ", ";
    }
    fputc('\n', f);
    fprintf(f, "  dense equivalent  %" PRIu64 " bytes (%s)", dense,
            dump_human_bytes(hb, sizeof hb, dense));
    if (dense && weights != dense)
        fprintf(f, ", weights are %.1f%% of it", 100.0 * (double)weights / (double)dense);
    fputc('\n', f);
    fprintf(f, "  data section      %" PRIu64 " bytes (%s) from offset %" PRIu64
               ", %" PRIu64 " of them in buffers\n",
            (uint64_t)model_size - data_off,
            dump_human_bytes(hb, sizeof hb, (uint64_t)model_size - data_off), data_off,
            buffers_bytes);
    fprintf(f, "  flatbuffer        %" PRIu64 " bytes (%s)\n", data_off,
            dump_human_bytes(hb, sizeof hb, data_off));
    fprintf(f, "  file              %" PRIu64 " bytes (%s)\n", c->file_size,
            dump_human_bytes(hb, sizeof hb, c->file_size));
    if (c->want_gzip) {
        int64_t gz = dump_gzip_size(bytes, model_size);
        if (gz >= 0)
            fprintf(f, "  gzip -6           %" PRId64 " bytes (%s), %.1f%% of the model\n", gz,
                    dump_human_bytes(hb, sizeof hb, (uint64_t)gz),
                    model_size ? 100.0 * (double)gz / (double)model_size : 0.0);
        else
            fprintf(f, "  gzip -6           (zlib failed)\n");
    }
    return 0;
}
