/*
 * probe.c — "does op X have a kernel for these dtypes?", answered by the
 * kernels themselves: the op is written as a one-op model with exactly the
 * tensors the converter means to emit (dtypes, quantization, constant data),
 * opened and prepared. A kernel's prepare checks every dtype combination and
 * parameter it supports (kernel.h), so a successful prepare is the precise
 * answer; on failure its message says why, and the report repeats it. No
 * table of supported combinations has to be kept in step with the kernels.
 */
#include <stdio.h>
#include <string.h>

#include "emit.h"
#include "qlite_writer.h"
#include "quant_internal.h"

#define PROBE_MAX_IO 32

/* Emits t under its original name: the int8 stand-ins the quantizer probes
 * with are called "<name>_probe[_<k>]", and the kernel's messages (which the
 * report repeats) should name the model's tensor. */
static qlite_status emit_named(qlite_writer *w, const qlc_tensor *t, int32_t *out) {
    const char *p = strstr(t->name, "_probe");
    if (!p) return qlc_emit_tensor(w, t, out);
    const char *e = p + 6;
    if (*e == '_') {
        e++;
        while (*e >= '0' && *e <= '9') e++;
    }
    if (*e) return qlc_emit_tensor(w, t, out);
    char name[512];
    snprintf(name, sizeof name, "%.*s", (int)(p - t->name), t->name);
    qlc_tensor copy = *t;
    copy.name = name;
    return qlc_emit_tensor(w, &copy, out);
}

bool qlc_probe_op(const qlc_graph *g, const qlc_node *n, const int32_t *ins, const int32_t *outs,
                  char *why, size_t why_size) {
    if (why_size) why[0] = 0;
    if (n->num_inputs > PROBE_MAX_IO || n->num_outputs > PROBE_MAX_IO) {
        snprintf(why, why_size, "more than %d inputs or outputs", PROBE_MAX_IO);
        return false;
    }
    qlite_writer *w = NULL;
    qlite_status st = qlite_writer_create(&w);
    int32_t src[2 * PROBE_MAX_IO], dst[2 * PROBE_MAX_IO];
    uint32_t nmap = 0;
    int32_t in_idx[PROBE_MAX_IO], out_idx[PROBE_MAX_IO], gin[PROBE_MAX_IO];
    uint32_t ngin = 0;
#define MAP(t, slot)                                                                 \
    do {                                                                             \
        (slot) = -1;                                                                 \
        if ((t) < 0 || st != QLITE_OK) break;                                        \
        for (uint32_t m_ = 0; m_ < nmap; m_++)                                       \
            if (src[m_] == (t)) (slot) = dst[m_];                                    \
        if ((slot) >= 0) break;                                                      \
        st = emit_named(w, g->tensors[t], &(slot));                                  \
        src[nmap] = (t);                                                             \
        dst[nmap++] = (slot);                                                        \
    } while (0)
    for (uint32_t k = 0; k < n->num_inputs && st == QLITE_OK; k++) {
        MAP(ins[k], in_idx[k]);
        if (ins[k] >= 0 && !g->tensors[ins[k]]->data) {
            bool dup = false;
            for (uint32_t j = 0; j < ngin; j++) dup |= gin[j] == in_idx[k];
            if (!dup) gin[ngin++] = in_idx[k];
        }
    }
    for (uint32_t k = 0; k < n->num_outputs && st == QLITE_OK; k++) MAP(outs[k], out_idx[k]);
#undef MAP
    qlite_op_info op = {.code = n->code, .name = n->name, .num_inputs = n->num_inputs,
                        .num_outputs = n->num_outputs, .inputs = in_idx, .outputs = out_idx,
                        .options = n->opts};
    if (st == QLITE_OK && qlite_writer_add_op(w, &op) < 0) st = QLITE_ERR_NO_MEMORY;
    if (st == QLITE_OK) st = qlite_writer_set_inputs(w, ngin, gin);
    if (st == QLITE_OK) st = qlite_writer_set_outputs(w, n->num_outputs, out_idx);
    void *bytes = NULL;
    size_t size = 0;
    if (st == QLITE_OK) st = qlite_writer_write_memory(w, &bytes, &size);
    qlite_writer_destroy(w);
    qlite_model *m = NULL;
    qlite_interpreter *it = NULL;
    if (st == QLITE_OK) st = qlite_model_open_memory(bytes, size, 0, &m);
    if (st == QLITE_OK) st = qlite_interpreter_create(m, NULL, &it);
    if (st == QLITE_OK) st = qlite_interpreter_prepare(it);
    if (st != QLITE_OK && why_size) {
        /* "op 0 CONV_2D 'name': msg" -> keep the kernel's part */
        const char *e = qlite_last_error();
        const char *colon = strstr(e, "': ");
        snprintf(why, why_size, "%s", colon ? colon + 3 : e);
    }
    qlite_interpreter_destroy(it);
    qlite_model_close(m);
    qlite_writer_free_bytes(bytes);
    return st == QLITE_OK;
}
