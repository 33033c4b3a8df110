/*
 * qlite-dump_dot.c — `qlite-dump --dot`: the graph for Graphviz.
 *
 *   nodes: one box per op (index, op, name, options, its constant inputs
 *          summarized), one ellipse per graph input and per graph output, and
 *          a dashed ellipse per activation that is consumed but neither
 *          produced nor a graph input (a malformed graph, shown not hidden);
 *   edges: one per (activation, consumer) pair, from its producer (or input
 *          node) to the consuming op or output node, labelled with the
 *          tensor's name, shape and dtype.
 * Render with:  qlite-dump --dot model.qlite | dot -Tsvg -o model.svg
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qlite-dump.h"

/* A DOT double-quoted string: " and \ escaped, newlines as \n (a centered line break). */
static void dot_str_body(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            fputc('\\', f);
            fputc(*s, f);
        } else if (*s == '\n') {
            fputs("\\n", f);
        } else if ((unsigned char)*s < 0x20) {
            fputc(' ', f);
        } else {
            fputc(*s, f);
        }
    }
}

static void tensor_label(FILE *f, const qlite_tensor_info *t) {
    char shape[256];
    dot_str_body(f, t->name[0] ? t->name : "(unnamed)");
    fputs("\\n", f);
    dot_str_body(f, dump_shape_str(shape, sizeof shape, t->rank, t->shape));
    fputc(' ', f);
    fputs(qlite_dtype_name(t->dtype), f);
}

/* Source node of activation tensor ti as seen by a consumer. */
static void source_node(FILE *f, const int32_t *producer, const int32_t *input_pos, int32_t ti) {
    if (producer[ti] >= 0) fprintf(f, "op%d", producer[ti]);
    else if (input_pos[ti] >= 0) fprintf(f, "in%d", input_pos[ti]);
    else fprintf(f, "t%d", ti);
}

/* The ellipse of graph input or output i ("in"/"out" + i), labelled with its tensor. */
static void io_node(FILE *f, const qlite_model *m, const char *id, const char *what,
                    const char *fill, uint32_t i, int32_t ti) {
    const qlite_tensor_info *t = ti >= 0 ? qlite_model_tensor(m, (uint32_t)ti) : NULL;
    fprintf(f, "  %s%u [shape=ellipse, style=filled, fillcolor=\"%s\", label=\"%s %u\\n", id, i,
            fill, what, i);
    if (t) tensor_label(f, t);
    fputs("\"];\n", f);
}

/* The edge carrying activation t (index ti) to node <to><to_index>; an
 * activation nobody produces gets its dashed ellipse the first time. */
static void activation_edge(FILE *f, const qlite_tensor_info *t, int32_t ti,
                            const int32_t *producer, const int32_t *input_pos, bool *orphan_drawn,
                            const char *to, uint32_t to_index) {
    if (producer[ti] < 0 && input_pos[ti] < 0 && !orphan_drawn[ti]) {
        fprintf(f, "  t%d [shape=ellipse, style=dashed, label=\"", ti);
        tensor_label(f, t);
        fputs("\"];\n", f);
        orphan_drawn[ti] = true;
    }
    fputs("  ", f);
    source_node(f, producer, input_pos, ti);
    fprintf(f, " -> %s%u [label=\"", to, to_index);
    tensor_label(f, t);
    fputs("\"];\n", f);
}

int dump_dot(const dump_ctx *c, FILE *f) {
    const qlite_model *m = c->model;
    uint32_t nt = qlite_model_tensor_count(m), nops = qlite_model_op_count(m);
    uint32_t nin = qlite_model_input_count(m), nout = qlite_model_output_count(m);
    int32_t *producer = malloc((nt ? nt : 1) * sizeof *producer);
    int32_t *input_pos = malloc((nt ? nt : 1) * sizeof *input_pos);
    bool *orphan_drawn = calloc(nt ? nt : 1, sizeof *orphan_drawn);
    if (!producer || !input_pos || !orphan_drawn) {
        free(producer);
        free(input_pos);
        free(orphan_drawn);
        fprintf(stderr, "qlite-dump: out of memory\n");
        return 1;
    }
    for (uint32_t i = 0; i < nt; i++) producer[i] = input_pos[i] = -1;
    for (uint32_t i = 0; i < nops; i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        for (uint32_t k = 0; k < op->num_outputs; k++)
            if (op->outputs[k] >= 0 && (uint32_t)op->outputs[k] < nt) producer[op->outputs[k]] = (int32_t)i;
    }
    for (uint32_t i = 0; i < nin; i++) {
        int32_t ti = qlite_model_input(m, i);
        if (ti >= 0 && (uint32_t)ti < nt && input_pos[ti] < 0) input_pos[ti] = (int32_t)i;
    }

    fputs("digraph qlite {\n  rankdir=TB;\n  label=\"", f);
    dot_str_body(f, c->path);
    fputs("\";\n  node [fontname=\"Helvetica\", fontsize=10];\n"
          "  edge [fontname=\"Helvetica\", fontsize=9];\n", f);

    /* graph inputs */
    for (uint32_t i = 0; i < nin; i++)
        io_node(f, m, "in", "input", "#d8e8ff", i, qlite_model_input(m, i));

    /* ops */
    for (uint32_t i = 0; i < nops; i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        char opts[512];
        fprintf(f, "  op%u [shape=box, style=rounded, label=\"#%u %s", i, i, qlite_op_name(op->code));
        if (op->name && op->name[0]) {
            fputs("\\n", f);
            dot_str_body(f, op->name);
        }
        dump_op_options_text(&op->options, opts, sizeof opts);
        if (opts[0]) {
            fputs("\\n", f);
            dot_str_body(f, opts);
        }
        for (uint32_t k = 0; k < op->num_inputs; k++) {
            int32_t ti = op->inputs[k];
            const qlite_tensor_info *t = ti >= 0 ? qlite_model_tensor(m, (uint32_t)ti) : NULL;
            if (!t || !t->buffer) continue;
            char shape[256], hb[32];
            dump_tensor_sizes sz;
            dump_tensor_sizes_get(m, t, &sz);
            fputs("\\n", f);
            dot_str_body(f, t->name);
            fprintf(f, ": %s %s, %s", dump_shape_str(shape, sizeof shape, t->rank, t->shape),
                    qlite_dtype_name(t->dtype),
                    dump_human_bytes(hb, sizeof hb, sz.data_bytes + sz.aux_bytes));
            if (t->quant && t->quant->count > 1) fprintf(f, ", per-channel");
            if (t->sparsity) fprintf(f, ", %.0f%% sparse", 100.0 * sz.zero_fraction);
            if (t->clustering) fprintf(f, ", K=%u", t->clustering->num_clusters);
        }
        fputs("\"];\n", f);
    }

    /* graph outputs */
    for (uint32_t i = 0; i < nout; i++)
        io_node(f, m, "out", "output", "#ffe8c8", i, qlite_model_output(m, i));

    /* edges: op inputs */
    for (uint32_t i = 0; i < nops; i++) {
        const qlite_op_info *op = qlite_model_op(m, i);
        for (uint32_t k = 0; k < op->num_inputs; k++) {
            int32_t ti = op->inputs[k];
            const qlite_tensor_info *t = ti >= 0 ? qlite_model_tensor(m, (uint32_t)ti) : NULL;
            if (!t || t->buffer) continue;
            activation_edge(f, t, ti, producer, input_pos, orphan_drawn, "op", i);
        }
    }
    /* edges: graph outputs */
    for (uint32_t i = 0; i < nout; i++) {
        int32_t ti = qlite_model_output(m, i);
        const qlite_tensor_info *t = ti >= 0 ? qlite_model_tensor(m, (uint32_t)ti) : NULL;
        if (!t) continue;
        activation_edge(f, t, ti, producer, input_pos, orphan_drawn, "out", i);
    }
    fputs("}\n", f);
    free(producer);
    free(input_pos);
    free(orphan_drawn);
    return 0;
}
