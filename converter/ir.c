/*
 * ir.c — the converter's mutable graph: tensors, nodes, name index, use
 * lists, topological sort (see ir.h).
 */
#include "ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dupstr(const char *s) {
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

static uint32_t hash_name(const char *s) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

qlite_status qlc_graph_create(qlc_graph **out) {
    if (!out) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "qlc_graph_create: out is NULL");
    *out = NULL;
    qlc_graph *g = calloc(1, sizeof *g);
    if (!g) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory creating the graph");
    g->hash_cap = 256;
    g->hash = malloc(g->hash_cap * sizeof *g->hash);
    if (!g->hash) {
        free(g);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory creating the graph");
    }
    memset(g->hash, 0xff, g->hash_cap * sizeof *g->hash);
    *out = g;
    return QLITE_OK;
}

static void free_tensor(qlc_tensor *t) {
    if (!t) return;
    free(t->name);
    free(t->data);
    free(t->quant.scale);
    free(t->quant.zero_point);
    free(t->range.min);
    free(t->range.max);
    if (t->sparse) {
        free(t->sparse->row_ptr);
        free(t->sparse->col_index);
        free(t->sparse);
    }
    if (t->cluster) {
        free(t->cluster->codebook);
        free(t->cluster);
    }
    free(t);
}

static void free_node(qlc_node *n) {
    if (!n) return;
    free(n->name);
    free(n->op_type);
    for (unsigned i = 0; i < QLC_MAX_OPT_ARRAYS; i++) free(n->own[i]);
    for (uint32_t i = 0; i < n->num_attrs; i++) {
        free(n->attrs[i].name);
        free(n->attrs[i].s);
        free(n->attrs[i].floats);
        free(n->attrs[i].ints);
    }
    free(n->attrs);
    free(n->inputs);
    free(n->outputs);
    free(n);
}

void qlc_graph_destroy(qlc_graph *g) {
    if (!g) return;
    for (uint32_t i = 0; i < g->num_tensors; i++) free_tensor(g->tensors[i]);
    for (uint32_t i = 0; i < g->num_nodes; i++) free_node(g->nodes[i]);
    free(g->tensors);
    free(g->nodes);
    free(g->inputs);
    free(g->outputs);
    free(g->name);
    free(g->hash);
    free(g->producer);
    free(g->use_start);
    free(g->uses);
    free(g);
}

/* ---- name index ---------------------------------------------------------------- */

static int hash_insert(int32_t *hash, uint32_t cap, qlc_tensor **tensors, int32_t index) {
    uint32_t m = cap - 1, h = hash_name(tensors[index]->name) & m;
    while (hash[h] >= 0) h = (h + 1) & m;
    hash[h] = index;
    return 0;
}

static qlite_status hash_grow(qlc_graph *g) {
    uint32_t cap = g->hash_cap * 2;
    int32_t *h = malloc(cap * sizeof *h);
    if (!h) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory growing the name index");
    memset(h, 0xff, cap * sizeof *h);
    for (uint32_t i = 0; i < g->num_tensors; i++) hash_insert(h, cap, g->tensors, (int32_t)i);
    free(g->hash);
    g->hash = h;
    g->hash_cap = cap;
    return QLITE_OK;
}

int32_t qlc_find_tensor(const qlc_graph *g, const char *name) {
    if (!g || !name) return -1;
    uint32_t m = g->hash_cap - 1, h = hash_name(name) & m;
    while (g->hash[h] >= 0) {
        if (strcmp(g->tensors[g->hash[h]]->name, name) == 0) return g->hash[h];
        h = (h + 1) & m;
    }
    return -1;
}

/* ---- tensors ------------------------------------------------------------------- */

static char *unique_name(qlc_graph *g, const char *base, const char *suffix) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s%s", base ? base : "", suffix ? suffix : "");
    if (buf[0] && qlc_find_tensor(g, buf) < 0) return dupstr(buf);
    for (;;) {
        char b2[560];
        snprintf(b2, sizeof b2, "%s%s_%u", base && base[0] ? base : "t", suffix ? suffix : "",
                 ++g->name_counter);
        if (qlc_find_tensor(g, b2) < 0) return dupstr(b2);
    }
}

static int32_t add_tensor_named(qlc_graph *g, char *name, qlite_dtype dtype, int32_t rank,
                                const int64_t *shape) {
    if (!name) {
        qlite_error(QLITE_ERR_NO_MEMORY, "out of memory adding a tensor");
        return -1;
    }
    if (rank > QLITE_MAX_RANK) {
        qlite_error(QLITE_ERR_UNSUPPORTED, "tensor '%s' has rank %d; qlite supports up to %d",
                    name, rank, QLITE_MAX_RANK);
        free(name);
        return -1;
    }
    if (g->num_tensors >= INT32_MAX / 2) {
        free(name);
        qlite_error(QLITE_ERR_UNSUPPORTED, "too many tensors");
        return -1;
    }
    if ((g->num_tensors + 1) * 2 > g->hash_cap && hash_grow(g) != QLITE_OK) {
        free(name);
        return -1;
    }
    if (g->num_tensors == g->cap_tensors) {
        uint32_t cap = g->cap_tensors ? g->cap_tensors * 2 : 64;
        qlc_tensor **nt = realloc(g->tensors, cap * sizeof *nt);
        if (!nt) {
            free(name);
            qlite_error(QLITE_ERR_NO_MEMORY, "out of memory adding a tensor");
            return -1;
        }
        g->tensors = nt;
        g->cap_tensors = cap;
    }
    qlc_tensor *t = calloc(1, sizeof *t);
    if (!t) {
        free(name);
        qlite_error(QLITE_ERR_NO_MEMORY, "out of memory adding a tensor");
        return -1;
    }
    t->name = name;
    t->dtype = dtype;
    t->rank = rank;
    t->decl_rank = -1;
    t->origin = -1;
    t->float_src = -1;
    if (rank > 0 && shape) memcpy(t->shape, shape, (size_t)rank * sizeof *shape);
    int32_t idx = (int32_t)g->num_tensors;
    g->tensors[g->num_tensors++] = t;
    hash_insert(g->hash, g->hash_cap, g->tensors, idx);
    g->index_valid = false;
    return idx;
}

int32_t qlc_add_tensor(qlc_graph *g, const char *name, qlite_dtype dtype, int32_t rank,
                       const int64_t *shape) {
    if (name && name[0]) {
        if (qlc_find_tensor(g, name) >= 0) {
            qlite_error(QLITE_ERR_CORRUPT, "duplicate tensor name '%s'", name);
            return -1;
        }
        return add_tensor_named(g, dupstr(name), dtype, rank, shape);
    }
    return add_tensor_named(g, unique_name(g, "t", NULL), dtype, rank, shape);
}

int32_t qlc_add_tensor_like(qlc_graph *g, const char *base, const char *suffix, qlite_dtype dtype,
                            int32_t rank, const int64_t *shape) {
    return add_tensor_named(g, unique_name(g, base, suffix), dtype, rank, shape);
}

int32_t qlc_add_const_owned(qlc_graph *g, const char *name, qlite_dtype dtype, int32_t rank,
                            const int64_t *shape, void *data, size_t size) {
    int32_t t = (name && name[0] && qlc_find_tensor(g, name) < 0)
                    ? add_tensor_named(g, dupstr(name), dtype, rank, shape)
                    : add_tensor_named(g, unique_name(g, name && name[0] ? name : "const", NULL),
                                       dtype, rank, shape);
    if (t < 0) {
        free(data);
        return -1;
    }
    if (!data) { /* zero-size constants still need a non-NULL marker */
        data = malloc(1);
        if (!data) {
            qlite_error(QLITE_ERR_NO_MEMORY, "out of memory adding a constant");
            return -1;
        }
        size = 0;
    }
    g->tensors[t]->data = data;
    g->tensors[t]->data_size = size;
    return t;
}

int32_t qlc_add_const(qlc_graph *g, const char *name, qlite_dtype dtype, int32_t rank,
                      const int64_t *shape, const void *data, size_t size) {
    void *copy = malloc(size ? size : 1);
    if (!copy) {
        qlite_error(QLITE_ERR_NO_MEMORY, "out of memory adding a constant");
        return -1;
    }
    if (size) memcpy(copy, data, size);
    return qlc_add_const_owned(g, name, dtype, rank, shape, copy, size);
}

int32_t qlc_add_const_f32(qlc_graph *g, const char *name, int32_t rank, const int64_t *shape,
                          const float *values) {
    uint64_t n = 1;
    for (int32_t i = 0; i < rank; i++) n *= (uint64_t)shape[i];
    return qlc_add_const(g, name, QLITE_DTYPE_FLOAT32, rank, shape, values, n * sizeof(float));
}

int32_t qlc_add_const_i64(qlc_graph *g, const char *name, int32_t rank, const int64_t *shape,
                          const int64_t *values) {
    uint64_t n = 1;
    for (int32_t i = 0; i < rank; i++) n *= (uint64_t)shape[i];
    return qlc_add_const(g, name, QLITE_DTYPE_INT64, rank, shape, values, n * sizeof(int64_t));
}

uint64_t qlc_elements(const qlc_tensor *t) {
    if (t->rank < 0) return 0;
    uint64_t n = 1;
    for (int32_t i = 0; i < t->rank; i++) n *= (uint64_t)(t->shape[i] < 0 ? 1 : t->shape[i]);
    return n;
}

size_t qlc_dtype_size(qlite_dtype dt) {
    switch (dt) {
    case QLITE_DTYPE_FLOAT32: case QLITE_DTYPE_INT32: return 4;
    case QLITE_DTYPE_FLOAT16: case QLITE_DTYPE_INT16: return 2;
    case QLITE_DTYPE_INT64: return 8;
    default: return 1;
    }
}

void qlc_tensor_set_data(qlc_tensor *t, void *data, size_t size) {
    free(t->data);
    t->data = data;
    t->data_size = size;
}

void qlc_tensor_set_shape(qlc_tensor *t, int32_t rank, const int64_t *shape) {
    t->rank = rank;
    if (rank > 0) memmove(t->shape, shape, (size_t)rank * sizeof *shape);
}

bool qlc_same_shape(const qlc_tensor *a, const qlc_tensor *b) {
    if (a->rank != b->rank) return false;
    for (int32_t i = 0; i < a->rank; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

const char *qlc_shape_str(int32_t rank, const int64_t *shape, char *buf, size_t size) {
    size_t o = 0;
    if (rank < 0) {
        snprintf(buf, size, "[?]");
        return buf;
    }
    o += (size_t)snprintf(buf + o, size - o, "[");
    for (int32_t i = 0; i < rank && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%lld", i ? "," : "", (long long)shape[i]);
    if (o < size) snprintf(buf + o, size - o, "]");
    return buf;
}

float *qlc_const_as_f32(const qlc_tensor *t) {
    if (!t->data) return NULL;
    uint64_t n = qlc_elements(t);
    if (n * qlc_dtype_size(t->dtype) > t->data_size) return NULL;
    float *o = malloc((n ? n : 1) * sizeof(float));
    if (!o) return NULL;
    for (uint64_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case QLITE_DTYPE_FLOAT32: o[i] = ((const float *)t->data)[i]; break;
        case QLITE_DTYPE_FLOAT16: o[i] = qlite_fp16_to_fp32(((const uint16_t *)t->data)[i]); break;
        case QLITE_DTYPE_INT64: o[i] = (float)((const int64_t *)t->data)[i]; break;
        case QLITE_DTYPE_INT32: o[i] = (float)((const int32_t *)t->data)[i]; break;
        case QLITE_DTYPE_INT16: o[i] = (float)((const int16_t *)t->data)[i]; break;
        case QLITE_DTYPE_INT8: o[i] = (float)((const int8_t *)t->data)[i]; break;
        case QLITE_DTYPE_UINT8: case QLITE_DTYPE_BOOL: o[i] = (float)((const uint8_t *)t->data)[i]; break;
        default: free(o); return NULL;
        }
    }
    return o;
}

int64_t *qlc_const_as_i64(const qlc_tensor *t) {
    if (!t->data) return NULL;
    uint64_t n = qlc_elements(t);
    if (n * qlc_dtype_size(t->dtype) > t->data_size) return NULL;
    int64_t *o = malloc((n ? n : 1) * sizeof(int64_t));
    if (!o) return NULL;
    for (uint64_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case QLITE_DTYPE_INT64: o[i] = ((const int64_t *)t->data)[i]; break;
        case QLITE_DTYPE_INT32: o[i] = ((const int32_t *)t->data)[i]; break;
        case QLITE_DTYPE_INT16: o[i] = ((const int16_t *)t->data)[i]; break;
        case QLITE_DTYPE_INT8: o[i] = ((const int8_t *)t->data)[i]; break;
        case QLITE_DTYPE_UINT8: case QLITE_DTYPE_BOOL: o[i] = ((const uint8_t *)t->data)[i]; break;
        case QLITE_DTYPE_FLOAT32: o[i] = (int64_t)((const float *)t->data)[i]; break;
        default: free(o); return NULL;
        }
    }
    return o;
}

/* ---- nodes --------------------------------------------------------------------- */

static qlc_node *add_node(qlc_graph *g, const char *name, const char *op_type, uint32_t ni,
                          const int32_t *in, uint32_t no, const int32_t *out) {
    if (g->num_nodes == g->cap_nodes) {
        uint32_t cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
        qlc_node **nn = realloc(g->nodes, cap * sizeof *nn);
        if (!nn) goto oom;
        g->nodes = nn;
        g->cap_nodes = cap;
    }
    qlc_node *n = calloc(1, sizeof *n);
    if (!n) goto oom;
    char made[64];
    if (!name || !name[0]) {
        snprintf(made, sizeof made, "%s_%u", op_type ? op_type : "node", ++g->name_counter);
        name = made;
    }
    n->name = dupstr(name);
    n->op_type = dupstr(op_type ? op_type : "");
    n->inputs = malloc((ni ? ni : 1) * sizeof *n->inputs);
    n->outputs = malloc((no ? no : 1) * sizeof *n->outputs);
    if (!n->name || !n->op_type || !n->inputs || !n->outputs) {
        free_node(n);
        goto oom;
    }
    if (ni) memcpy(n->inputs, in, ni * sizeof *in);
    if (no) memcpy(n->outputs, out, no * sizeof *out);
    n->num_inputs = ni;
    n->num_outputs = no;
    g->nodes[g->num_nodes++] = n;
    g->index_valid = false;
    return n;
oom:
    qlite_error(QLITE_ERR_NO_MEMORY, "out of memory adding a node");
    return NULL;
}

qlc_node *qlc_add_onnx_node(qlc_graph *g, const char *name, const char *op_type,
                            uint32_t num_inputs, const int32_t *inputs, uint32_t num_outputs,
                            const int32_t *outputs) {
    return add_node(g, name, op_type, num_inputs, inputs, num_outputs, outputs);
}

static qlite_options_type options_type_of(qlite_op_code code) {
    switch (code) {
    case QLITE_OP_CONV_2D: case QLITE_OP_DEPTHWISE_CONV_2D: case QLITE_OP_TRANSPOSE_CONV_2D:
        return QLITE_OPTIONS_CONV_2D;
    case QLITE_OP_FULLY_CONNECTED: return QLITE_OPTIONS_FULLY_CONNECTED;
    case QLITE_OP_BATCH_MATMUL: return QLITE_OPTIONS_BATCH_MATMUL;
    case QLITE_OP_ADD: case QLITE_OP_SUB: case QLITE_OP_MUL: case QLITE_OP_DIV:
    case QLITE_OP_POW: case QLITE_OP_MINIMUM: case QLITE_OP_MAXIMUM:
        return QLITE_OPTIONS_BINARY;
    case QLITE_OP_LEAKY_RELU: case QLITE_OP_CLIP: case QLITE_OP_HARD_SIGMOID:
    case QLITE_OP_GELU: case QLITE_OP_ELU:
        return QLITE_OPTIONS_ACTIVATION;
    case QLITE_OP_SOFTMAX: case QLITE_OP_LOG_SOFTMAX: return QLITE_OPTIONS_SOFTMAX;
    case QLITE_OP_MAX_POOL_2D: case QLITE_OP_AVERAGE_POOL_2D: return QLITE_OPTIONS_POOL_2D;
    case QLITE_OP_RESHAPE: return QLITE_OPTIONS_RESHAPE;
    case QLITE_OP_TRANSPOSE: return QLITE_OPTIONS_TRANSPOSE;
    case QLITE_OP_CONCATENATION: return QLITE_OPTIONS_CONCATENATION;
    case QLITE_OP_SPLIT: return QLITE_OPTIONS_SPLIT;
    case QLITE_OP_SLICE: return QLITE_OPTIONS_SLICE;
    case QLITE_OP_PAD: return QLITE_OPTIONS_PAD;
    case QLITE_OP_GATHER: return QLITE_OPTIONS_GATHER;
    case QLITE_OP_REDUCE_MEAN: case QLITE_OP_REDUCE_SUM: case QLITE_OP_REDUCE_MAX:
    case QLITE_OP_REDUCE_MIN:
        return QLITE_OPTIONS_REDUCE;
    case QLITE_OP_BATCH_NORM: case QLITE_OP_LAYER_NORM: return QLITE_OPTIONS_NORM;
    case QLITE_OP_RESIZE: return QLITE_OPTIONS_RESIZE;
    case QLITE_OP_LSTM: case QLITE_OP_GRU: return QLITE_OPTIONS_RNN;
    case QLITE_OP_CAST: return QLITE_OPTIONS_CAST;
    default: return QLITE_OPTIONS_NONE;
    }
}

qlc_node *qlc_add_op(qlc_graph *g, const char *name, const char *op_type, qlite_op_code code,
                     const qlite_op_options *opts, uint32_t num_inputs, const int32_t *inputs,
                     uint32_t num_outputs, const int32_t *outputs) {
    qlc_node *n = add_node(g, name, op_type ? op_type : qlite_op_name(code), num_inputs, inputs,
                           num_outputs, outputs);
    if (!n) return NULL;
    n->lowered = true;
    n->code = code;
    if (opts) n->opts = *opts;
    else qlite_op_options_default(options_type_of(code), &n->opts);
    return n;
}

void *qlc_node_own(qlc_node *n, unsigned slot, const void *data, size_t bytes) {
    if (slot >= QLC_MAX_OPT_ARRAYS) return NULL;
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        qlite_error(QLITE_ERR_NO_MEMORY, "out of memory for op options");
        return NULL;
    }
    if (bytes) memcpy(p, data, bytes);
    free(n->own[slot]);
    n->own[slot] = p;
    return p;
}

void qlc_remove_node(qlc_graph *g, qlc_node *n) {
    n->dead = true;
    g->index_valid = false;
}

int32_t qlc_node_index(const qlc_graph *g, const qlc_node *n) {
    for (uint32_t i = 0; i < g->num_nodes; i++)
        if (g->nodes[i] == n) return (int32_t)i;
    return -1;
}

const qlc_attr *qlc_attr_get(const qlc_node *n, const char *name) {
    for (uint32_t i = 0; i < n->num_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    return NULL;
}

int64_t qlc_attr_int(const qlc_node *n, const char *name, int64_t dflt) {
    const qlc_attr *a = qlc_attr_get(n, name);
    return a && a->type == QLC_ATTR_INT ? a->i : dflt;
}

float qlc_attr_float(const qlc_node *n, const char *name, float dflt) {
    const qlc_attr *a = qlc_attr_get(n, name);
    if (!a) return dflt;
    if (a->type == QLC_ATTR_FLOAT) return a->f;
    if (a->type == QLC_ATTR_INT) return (float)a->i;
    return dflt;
}

const char *qlc_attr_str(const qlc_node *n, const char *name, const char *dflt) {
    const qlc_attr *a = qlc_attr_get(n, name);
    return a && a->type == QLC_ATTR_STRING ? a->s : dflt;
}

const int64_t *qlc_attr_ints(const qlc_node *n, const char *name, size_t *count) {
    const qlc_attr *a = qlc_attr_get(n, name);
    if (a && a->type == QLC_ATTR_INTS) {
        *count = a->n;
        return a->ints;
    }
    if (a && a->type == QLC_ATTR_INT) { /* a single int where ints are expected */
        *count = 1;
        return &a->i;
    }
    *count = 0;
    return NULL;
}

/* ---- whole graph ---------------------------------------------------------------- */

qlite_status qlc_graph_reindex(qlc_graph *g) {
    uint32_t nt = g->num_tensors;
    free(g->producer);
    free(g->use_start);
    free(g->uses);
    g->producer = malloc((nt ? nt : 1) * sizeof *g->producer);
    g->use_start = calloc(nt + 2, sizeof *g->use_start);
    g->uses = NULL;
    g->index_valid = false;
    if (!g->producer || !g->use_start)
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory indexing the graph");
    for (uint32_t i = 0; i < nt; i++) g->producer[i] = -1;
    uint64_t total = 0;
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead) continue;
        for (uint32_t o = 0; o < n->num_outputs; o++)
            if (n->outputs[o] >= 0) g->producer[n->outputs[o]] = (int32_t)i;
        for (uint32_t k = 0; k < n->num_inputs; k++)
            if (n->inputs[k] >= 0) {
                g->use_start[n->inputs[k] + 1]++;
                total++;
            }
    }
    for (uint32_t i = 0; i < nt; i++) g->use_start[i + 1] += g->use_start[i];
    g->uses = malloc((total ? total : 1) * sizeof *g->uses);
    uint32_t *fill = calloc(nt + 1, sizeof *fill);
    if (!g->uses || !fill) {
        free(fill);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory indexing the graph");
    }
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead) continue;
        for (uint32_t k = 0; k < n->num_inputs; k++) {
            int32_t t = n->inputs[k];
            if (t < 0) continue;
            g->uses[g->use_start[t] + fill[t]++] = (qlc_use){(int32_t)i, k};
        }
    }
    free(fill);
    for (uint32_t i = 0; i < nt; i++) g->tensors[i]->is_output = false;
    for (uint32_t i = 0; i < g->num_outputs; i++) g->tensors[g->outputs[i]]->is_output = true;
    g->index_valid = true;
    return QLITE_OK;
}

bool qlc_has_other_uses(const qlc_graph *g, int32_t t, uint32_t allowed) {
    return g->tensors[t]->is_output || qlc_use_count(g, t) > allowed;
}

void qlc_replace_uses(qlc_graph *g, int32_t from, int32_t to) {
    for (uint32_t i = 0; i < g->num_nodes; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead) continue;
        for (uint32_t k = 0; k < n->num_inputs; k++)
            if (n->inputs[k] == from) n->inputs[k] = to;
    }
    for (uint32_t i = 0; i < g->num_outputs; i++)
        if (g->outputs[i] == from) g->outputs[i] = to;
    g->index_valid = false;
}

uint32_t qlc_remove_dead_nodes(qlc_graph *g) {
    uint32_t removed = 0;
    bool changed = true;
    while (changed) {
        changed = false;
        if (qlc_graph_reindex(g) != QLITE_OK) return removed;
        for (uint32_t i = 0; i < g->num_nodes; i++) {
            qlc_node *n = g->nodes[i];
            if (n->dead) continue;
            bool used = false;
            for (uint32_t o = 0; o < n->num_outputs && !used; o++) {
                int32_t t = n->outputs[o];
                used = t >= 0 && (g->tensors[t]->is_output || qlc_use_count(g, t) > 0);
            }
            if (!used) {
                n->dead = true;
                removed++;
                changed = true;
            }
        }
    }
    g->index_valid = false;
    return removed;
}

bool qlc_bypass(qlc_graph *g, qlc_node *n, int32_t in, int32_t out) {
    qlc_tensor *to = g->tensors[out], *ti = g->tensors[in];
    if (!to->is_output) {
        qlc_replace_uses(g, out, in);
        qlc_remove_node(g, n);
        return true;
    }
    int32_t p = g->index_valid ? g->producer[in] : -1;
    if (p < 0 || ti->is_output || ti->is_input || ti->data) return false;
    qlc_node *pn = g->nodes[p];
    for (uint32_t k = 0; k < pn->num_outputs; k++)
        if (pn->outputs[k] == in) pn->outputs[k] = out;
    qlc_remove_node(g, n);
    qlc_replace_uses(g, in, out);
    to->dtype = ti->dtype;
    qlc_tensor_set_shape(to, ti->rank, ti->shape);
    to->layout = ti->layout;
    if (ti->quant.count && !to->quant.count) { /* the values keep their parameters */
        to->quant = ti->quant;
        to->qdq = ti->qdq;
        memset(&ti->quant, 0, sizeof ti->quant);
    }
    return true;
}

void qlc_carry_qdq(qlc_graph *g, int32_t dst, int32_t src, int32_t new_axis) {
    if (dst < 0 || src < 0 || dst == src) return;
    const qlc_tensor *s = g->tensors[src];
    qlc_tensor *d = g->tensors[dst];
    if (!s->qdq || !s->quant.count || d->quant.count) return;
    if (s->quant.count > 1 && (new_axis < 0 || new_axis >= d->rank ||
                               d->shape[new_axis] != (int64_t)s->quant.count))
        return; /* the channels did not survive the rewrite: parameters are recomputed */
    float *sc = malloc(s->quant.count * sizeof *sc);
    int32_t *zp = malloc(s->quant.count * sizeof *zp);
    if (!sc || !zp) {
        free(sc);
        free(zp);
        return; /* best effort: without them the weight is quantized from its values */
    }
    memcpy(sc, s->quant.scale, s->quant.count * sizeof *sc);
    memcpy(zp, s->quant.zero_point, s->quant.count * sizeof *zp);
    d->quant = (qlc_quant){.count = s->quant.count, .axis = s->quant.count > 1 ? new_axis : 0,
                           .scale = sc, .zero_point = zp};
    d->qdq = true;
    d->origin = s->origin;
}

static void rebuild_hash(qlc_graph *g) {
    memset(g->hash, 0xff, g->hash_cap * sizeof *g->hash);
    for (uint32_t i = 0; i < g->num_tensors; i++) hash_insert(g->hash, g->hash_cap, g->tensors, (int32_t)i);
}

qlite_status qlc_rename(qlc_graph *g, int32_t t, const char *name) {
    if (qlc_find_tensor(g, name) >= 0)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "tensor name '%s' is taken", name);
    char *d = dupstr(name);
    if (!d) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    free(g->tensors[t]->name);
    g->tensors[t]->name = d;
    rebuild_hash(g);
    return QLITE_OK;
}

void qlc_swap_names(qlc_graph *g, int32_t a, int32_t b) {
    char *t = g->tensors[a]->name;
    g->tensors[a]->name = g->tensors[b]->name;
    g->tensors[b]->name = t;
    rebuild_hash(g);
}

static qlc_attr *attr_slot(qlc_node *n, const char *name) {
    for (uint32_t i = 0; i < n->num_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0) return &n->attrs[i];
    qlc_attr *na = realloc(n->attrs, (n->num_attrs + 1) * sizeof *na);
    if (!na) return NULL;
    n->attrs = na;
    qlc_attr *a = &na[n->num_attrs];
    memset(a, 0, sizeof *a);
    a->tensor = -1;
    a->name = dupstr(name);
    if (!a->name) return NULL;
    n->num_attrs++;
    return a;
}

qlite_status qlc_attr_set_float(qlc_node *n, const char *name, float v) {
    qlc_attr *a = attr_slot(n, name);
    if (!a) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    a->type = QLC_ATTR_FLOAT;
    a->f = v;
    return QLITE_OK;
}

qlite_status qlc_attr_set_int(qlc_node *n, const char *name, int64_t v) {
    qlc_attr *a = attr_slot(n, name);
    if (!a) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    a->type = QLC_ATTR_INT;
    a->i = v;
    return QLITE_OK;
}

uint32_t qlc_live_nodes(const qlc_graph *g) {
    uint32_t c = 0;
    for (uint32_t i = 0; i < g->num_nodes; i++) c += !g->nodes[i]->dead;
    return c;
}

qlite_status qlc_graph_toposort(qlc_graph *g) {
    qlite_status st = qlc_graph_reindex(g);
    if (st != QLITE_OK) return st;
    uint32_t nn = g->num_nodes;
    uint32_t *pending = calloc(nn ? nn : 1, sizeof *pending);
    int32_t *queue = malloc((nn ? nn : 1) * sizeof *queue);
    qlc_node **sorted = malloc((nn ? nn : 1) * sizeof *sorted);
    bool *ready = calloc(g->num_tensors ? g->num_tensors : 1, sizeof *ready);
    if (!pending || !queue || !sorted || !ready) {
        free(pending); free(queue); free(sorted); free(ready);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory sorting the graph");
    }
    for (uint32_t t = 0; t < g->num_tensors; t++)
        ready[t] = g->tensors[t]->data != NULL || g->producer[t] < 0;
    for (uint32_t t = 0; t < g->num_tensors; t++) {
        /* a tensor that is used but neither produced, constant nor an input */
        if (g->producer[t] < 0 && !g->tensors[t]->data && qlc_use_count(g, t) > 0) {
            bool is_in = false;
            for (uint32_t k = 0; k < g->num_inputs; k++) is_in |= g->inputs[k] == (int32_t)t;
            if (!is_in) {
                qlc_node *user = g->nodes[g->uses[g->use_start[t]].node];
                free(pending); free(queue); free(sorted); free(ready);
                return qlc_node_error(user, QLITE_ERR_CORRUPT,
                                      "input '%s' is not produced by any node, not an "
                                      "initializer and not a graph input",
                                      g->tensors[t]->name);
            }
        }
    }
    uint32_t head = 0, tail = 0, live = 0;
    for (uint32_t i = 0; i < nn; i++) {
        qlc_node *n = g->nodes[i];
        if (n->dead) continue;
        live++;
        for (uint32_t k = 0; k < n->num_inputs; k++) {
            int32_t t = n->inputs[k];
            if (t >= 0 && !ready[t]) pending[i]++;
        }
        if (!pending[i]) queue[tail++] = (int32_t)i;
    }
    uint32_t out = 0;
    while (head < tail) {
        int32_t i = queue[head++];
        qlc_node *n = g->nodes[i];
        sorted[out++] = n;
        for (uint32_t o = 0; o < n->num_outputs; o++) {
            int32_t t = n->outputs[o];
            if (t < 0) continue;
            for (uint32_t u = g->use_start[t]; u < g->use_start[t + 1]; u++) {
                int32_t c = g->uses[u].node;
                if (--pending[c] == 0) queue[tail++] = c;
            }
        }
    }
    if (out != live) {
        qlc_node *bad = NULL;
        for (uint32_t i = 0; i < nn && !bad; i++)
            if (!g->nodes[i]->dead && pending[i]) bad = g->nodes[i];
        free(pending); free(queue); free(sorted); free(ready);
        return qlc_node_error(bad, QLITE_ERR_CORRUPT,
                              "the graph has a cycle through this node");
    }
    /* free dead nodes; keep the sorted live ones */
    for (uint32_t i = 0; i < nn; i++)
        if (g->nodes[i]->dead) free_node(g->nodes[i]);
    if (out) memcpy(g->nodes, sorted, out * sizeof *sorted);
    g->num_nodes = out;
    free(pending); free(queue); free(sorted); free(ready);
    return qlc_graph_reindex(g);
}

qlite_status qlc_node_error(const qlc_node *n, qlite_status st, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!n) return qlite_error(st, "%s", msg);
    return qlite_error(st, "node '%s' (%s): %s", n->name, n->op_type, msg);
}

/* ---- quantization parameters ---------------------------------------------------- */

qlite_status qlc_quant_set(qlc_quant *q, uint32_t count, int32_t axis, const float *scale,
                           const int32_t *zero_point) {
    float *s = malloc((count ? count : 1) * sizeof *s);
    int32_t *z = malloc((count ? count : 1) * sizeof *z);
    if (!s || !z) {
        free(s);
        free(z);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    }
    for (uint32_t i = 0; i < count; i++) {
        s[i] = scale[i];
        z[i] = zero_point ? zero_point[i] : 0;
    }
    free(q->scale);
    free(q->zero_point);
    q->scale = s;
    q->zero_point = z;
    q->count = count;
    q->axis = axis;
    return QLITE_OK;
}

qlite_status qlc_quant_copy(qlc_quant *dst, const qlc_quant *src) {
    if (dst == src) return QLITE_OK;
    if (!src->count) {
        qlc_quant_clear(dst);
        return QLITE_OK;
    }
    return qlc_quant_set(dst, src->count, src->axis, src->scale, src->zero_point);
}

void qlc_quant_clear(qlc_quant *q) {
    free(q->scale);
    free(q->zero_point);
    memset(q, 0, sizeof *q);
}

bool qlc_quant_equal(const qlc_quant *a, const qlc_quant *b) {
    if (a->count != b->count) return false;
    if (a->count > 1 && a->axis != b->axis) return false;
    for (uint32_t i = 0; i < a->count; i++)
        if (memcmp(&a->scale[i], &b->scale[i], sizeof(float)) || a->zero_point[i] != b->zero_point[i])
            return false;
    return true;
}
