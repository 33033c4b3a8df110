/*
 * onnx_import.c — ONNX ModelProto (protobuf-c, generated from Debian's
 * onnx.proto at build time) -> qlc_graph.
 *
 * Steps:
 *   1. read the file, hash it, unpack (a truncated or corrupt protobuf fails here);
 *   2. check the default-domain opset (7..17) and that no node uses another domain;
 *   3. initializers -> constant tensors (raw / typed / external data);
 *   4. graph inputs that are not initializers -> activation inputs; the batch
 *      dim may be symbolic (dim_param, 0 or missing -> -1), no other dim;
 *   5. value_info and graph outputs -> declared shapes (checked by shape inference);
 *   6. nodes: Constant -> constant tensor; others -> ONNX-level nodes with
 *      their attributes (a TENSOR attribute becomes a constant tensor);
 *   7. graph outputs.
 */
#include "onnx_import.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "onnx.pb-c.h"
#include "onnx_tensor.h"
#include "util/sha256.h"
#include "util/gzip_size.h"

#define QLC_MIN_OPSET 7
#define QLC_MAX_OPSET 17
/* Largest .onnx file read into memory (protobuf's own limit is 2 GiB). */
#define QLC_MAX_ONNX_BYTES ((size_t)2 << 30)

static char *dupstr(const char *s) {
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

static bool is_default_domain(const char *d) {
    return !d || !d[0] || strcmp(d, "ai.onnx") == 0;
}

/* Adds a decoded tensor as a constant named `name`. */
static int32_t add_decoded(qlc_graph *g, const char *name, qlc_onnx_tensor *t) {
    int32_t i = qlc_add_const_owned(g, name, t->dtype, t->rank, t->shape, t->data, t->size);
    t->data = NULL;
    return i;
}

/* Declared type of a ValueInfo: dtype (if known) and shape into decl_*. */
static qlite_status read_value_info(qlc_graph *g, const Onnx__ValueInfoProto *vi, bool is_input,
                                    int32_t *out) {
    const char *name = vi->name ? vi->name : "";
    qlite_dtype dt = QLITE_DTYPE_FLOAT32;
    int32_t rank = -1;
    int64_t shape[QLITE_MAX_RANK];
    const Onnx__TypeProto *tp = vi->type;
    if (tp && tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && is_input)
        return qlite_error(QLITE_ERR_UNSUPPORTED,
                           "graph input '%s' is not a tensor (sequence/map/optional types are "
                           "not supported)", name);
    if (tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && tp->tensor_type) {
        const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
        if (tt->has_elem_type) {
            qlite_status st = qlc_onnx_dtype(tt->elem_type, &dt);
            if (st != QLITE_OK && is_input)
                return qlite_error(QLITE_ERR_UNSUPPORTED,
                                   "graph input '%s' has element type %s, which qlite does not "
                                   "support", name, qlc_onnx_type_name(tt->elem_type));
            if (st != QLITE_OK) dt = QLITE_DTYPE_FLOAT32;
        }
        if (tt->shape) {
            if (tt->shape->n_dim > QLITE_MAX_RANK)
                return qlite_error(QLITE_ERR_UNSUPPORTED, "tensor '%s' has rank %zu (max %d)",
                                   name, tt->shape->n_dim, QLITE_MAX_RANK);
            rank = (int32_t)tt->shape->n_dim;
            for (int32_t d = 0; d < rank; d++) {
                const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
                int64_t v = -1;
                if (dim && dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                    dim->dim_value > 0)
                    v = dim->dim_value;
                else if (dim && dim->value_case ==
                                    ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                         dim->dim_value == 0 && !is_input)
                    v = 0;
                if (v < 0 && is_input && d > 0)
                    return qlite_error(QLITE_ERR_UNSUPPORTED,
                                       "graph input '%s': dimension %d is dynamic; only the batch "
                                       "dimension (0) may be", name, (int)d);
                shape[d] = v;
            }
        }
    }
    int32_t t = qlc_find_tensor(g, name);
    if (t < 0) {
        t = qlc_add_tensor(g, name, dt, is_input ? rank : -1, shape);
        if (t < 0) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory importing '%s'", name);
    } else if (!g->tensors[t]->data) {
        g->tensors[t]->dtype = dt;
        if (is_input) qlc_tensor_set_shape(g->tensors[t], rank, shape);
    }
    qlc_tensor *tt = g->tensors[t];
    tt->decl_rank = rank;
    if (rank > 0) memcpy(tt->decl_shape, shape, (size_t)rank * sizeof *shape);
    if (out) *out = t;
    return QLITE_OK;
}

/* Tensor for a node input/output name, created on first sight. */
static int32_t tensor_for(qlc_graph *g, const char *name) {
    int32_t t = qlc_find_tensor(g, name);
    if (t >= 0) return t;
    return qlc_add_tensor(g, name, QLITE_DTYPE_FLOAT32, -1, NULL);
}

static qlite_status import_constant_node(qlc_graph *g, const Onnx__NodeProto *np,
                                         const char *base_dir) {
    const char *nm = np->name && np->name[0] ? np->name : (np->n_output ? np->output[0] : "?");
    if (np->n_output != 1 || !np->output[0] || !np->output[0][0])
        return qlite_error(QLITE_ERR_CORRUPT, "node '%s' (Constant): needs exactly one output",
                           nm);
    const char *out = np->output[0];
    if (qlc_find_tensor(g, out) >= 0) {
        int32_t t = qlc_find_tensor(g, out);
        if (g->tensors[t]->data || g->tensors[t]->is_input)
            return qlite_error(QLITE_ERR_CORRUPT,
                               "node '%s' (Constant): output '%s' is defined twice", nm, out);
    }
    for (size_t i = 0; i < np->n_attribute; i++) {
        const Onnx__AttributeProto *a = np->attribute[i];
        if (!a->name) continue;
        qlc_onnx_tensor dec = {0};
        char what[300];
        snprintf(what, sizeof what, "node '%s' (Constant)", nm);
        if (strcmp(a->name, "value") == 0 && a->t) {
            qlite_status st = qlc_onnx_tensor_decode(a->t, base_dir, what, &dec);
            if (st != QLITE_OK) return st;
        } else if (strcmp(a->name, "value_float") == 0 || strcmp(a->name, "value_int") == 0) {
            bool isf = a->name[6] == 'f';
            dec.dtype = isf ? QLITE_DTYPE_FLOAT32 : QLITE_DTYPE_INT64;
            dec.rank = 0;
            dec.size = isf ? 4 : 8;
            dec.data = malloc(8);
            if (!dec.data) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            if (isf) *(float *)dec.data = a->f;
            else *(int64_t *)dec.data = a->i;
        } else if (strcmp(a->name, "value_floats") == 0 || strcmp(a->name, "value_ints") == 0) {
            bool isf = a->name[6] == 'f';
            size_t n = isf ? a->n_floats : a->n_ints;
            dec.dtype = isf ? QLITE_DTYPE_FLOAT32 : QLITE_DTYPE_INT64;
            dec.rank = 1;
            dec.shape[0] = (int64_t)n;
            dec.size = n * (isf ? 4 : 8);
            dec.data = malloc(dec.size ? dec.size : 1);
            if (!dec.data) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            if (n) memcpy(dec.data, isf ? (void *)a->floats : (void *)a->ints, dec.size);
        } else {
            continue;
        }
        int32_t t = qlc_find_tensor(g, out);
        if (t >= 0) { /* seen as an input of an earlier (unsorted) node */
            qlc_tensor *tt = g->tensors[t];
            tt->dtype = dec.dtype;
            qlc_tensor_set_shape(tt, dec.rank, dec.shape);
            qlc_tensor_set_data(tt, dec.data, dec.size);
            if (!tt->data) tt->data = malloc(1);
            return QLITE_OK;
        }
        return add_decoded(g, out, &dec) < 0 ? QLITE_ERR_NO_MEMORY : QLITE_OK;
    }
    return qlite_error(QLITE_ERR_UNSUPPORTED_OP,
                       "node '%s' (Constant): no supported value attribute (value, value_float(s), "
                       "value_int(s))", nm);
}

static qlite_status import_attr(qlc_graph *g, qlc_node *n, const Onnx__AttributeProto *a,
                                qlc_attr *dst, const char *base_dir) {
    memset(dst, 0, sizeof *dst);
    dst->tensor = -1;
    dst->name = dupstr(a->name ? a->name : "");
    if (!dst->name) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    Onnx__AttributeProto__AttributeType ty =
        a->has_type ? a->type : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
    if (ty == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) { /* IR < 3: infer */
        if (a->has_f) ty = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
        else if (a->has_i) ty = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        else if (a->has_s) ty = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
        else if (a->t) ty = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
        else if (a->n_floats) ty = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
        else if (a->n_ints) ty = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
        else if (a->n_strings) ty = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
    }
    switch (ty) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        dst->type = QLC_ATTR_FLOAT;
        dst->f = a->f;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        dst->type = QLC_ATTR_INT;
        dst->i = a->i;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        dst->type = QLC_ATTR_STRING;
        dst->s = malloc(a->s.len + 1);
        if (!dst->s) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        if (a->s.len) memcpy(dst->s, a->s.data, a->s.len);
        dst->s[a->s.len] = 0;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        dst->type = QLC_ATTR_FLOATS;
        dst->n = a->n_floats;
        dst->floats = malloc((a->n_floats ? a->n_floats : 1) * sizeof(float));
        if (!dst->floats) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        if (a->n_floats) memcpy(dst->floats, a->floats, a->n_floats * sizeof(float));
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        dst->type = QLC_ATTR_INTS;
        dst->n = a->n_ints;
        dst->ints = malloc((a->n_ints ? a->n_ints : 1) * sizeof(int64_t));
        if (!dst->ints) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        if (a->n_ints) memcpy(dst->ints, a->ints, a->n_ints * sizeof(int64_t));
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        dst->type = QLC_ATTR_TENSOR;
        if (!a->t) return qlc_node_error(n, QLITE_ERR_CORRUPT, "attribute '%s' has no tensor",
                                         dst->name);
        char what[300];
        snprintf(what, sizeof what, "node '%s' (%s) attribute '%s'", n->name, n->op_type,
                 dst->name);
        qlc_onnx_tensor dec;
        qlite_status st = qlc_onnx_tensor_decode(a->t, base_dir, what, &dec);
        if (st != QLITE_OK) return st;
        char nm[300];
        snprintf(nm, sizeof nm, "%s.%s", n->name, dst->name);
        dst->tensor = qlc_add_const_owned(g, nm, dec.dtype, dec.rank, dec.shape, dec.data,
                                          dec.size);
        if (dst->tensor < 0) return QLITE_ERR_NO_MEMORY;
        break;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
        dst->type = QLC_ATTR_STRINGS;
        dst->n = a->n_strings;
        break;
    default:
        dst->type = QLC_ATTR_OTHER; /* graphs, sparse tensors, type protos */
        break;
    }
    return QLITE_OK;
}

static qlite_status import_model(const Onnx__ModelProto *mp, const char *base_dir, qlc_graph *g,
                                 qlc_import_info *info) {
    /* 2. opset */
    int64_t opset = -1;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
        if (is_default_domain(o->domain) && o->has_version) opset = o->version;
    }
    if (opset < 0 && mp->n_opset_import == 0 && mp->has_ir_version && mp->ir_version <= 2)
        opset = 1;
    if (opset < 0 && mp->n_opset_import)
        return qlite_error(QLITE_ERR_UNSUPPORTED,
                           "the model imports only opsets of other domains (e.g. '%s'); qlite "
                           "reads ai.onnx", mp->opset_import[0]->domain ? mp->opset_import[0]->domain : "");
    if (opset < 0)
        return qlite_error(QLITE_ERR_CORRUPT, "the model imports no default-domain (ai.onnx) opset");
    if (opset < QLC_MIN_OPSET || opset > QLC_MAX_OPSET)
        return qlite_error(QLITE_ERR_UNSUPPORTED,
                           "ONNX opset %lld is not supported (qlite-convert reads opsets %d..%d; "
                           "re-export the model with a supported opset_version)",
                           (long long)opset, QLC_MIN_OPSET, QLC_MAX_OPSET);
    g->opset = opset;
    if (info) {
        info->ir_version = mp->has_ir_version ? mp->ir_version : 0;
        snprintf(info->producer, sizeof info->producer, "%s%s%s",
                 mp->producer_name ? mp->producer_name : "",
                 mp->producer_version && mp->producer_version[0] ? " " : "",
                 mp->producer_version ? mp->producer_version : "");
    }
    const Onnx__GraphProto *gp = mp->graph;
    if (!gp) return qlite_error(QLITE_ERR_CORRUPT, "the model has no graph");
    if (gp->name && !(g->name = dupstr(gp->name)))
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    if (gp->n_sparse_initializer)
        return qlite_error(QLITE_ERR_UNSUPPORTED, "sparse initializers are not supported");

    /* 3. initializers */
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        const char *name = tp->name ? tp->name : "";
        if (!name[0]) return qlite_error(QLITE_ERR_CORRUPT, "initializer %zu has no name", i);
        if (qlc_find_tensor(g, name) >= 0)
            return qlite_error(QLITE_ERR_CORRUPT, "initializer '%s' is defined twice", name);
        char what[300];
        snprintf(what, sizeof what, "initializer '%s'", name);
        qlc_onnx_tensor dec;
        qlite_status st = qlc_onnx_tensor_decode(tp, base_dir, what, &dec);
        if (st != QLITE_OK) return st;
        if (info && tp->has_data_location &&
            tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
            info->file_bytes += dec.size;
            info->gzip_bytes += qlc_gzip_size(dec.data, dec.size);
        }
        if (add_decoded(g, name, &dec) < 0) return QLITE_ERR_NO_MEMORY;
    }

    /* 4. inputs */
    int32_t *ins = malloc((gp->n_input ? gp->n_input : 1) * sizeof *ins);
    if (!ins) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    uint32_t nin = 0;
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (!vi->name || !vi->name[0]) {
            free(ins);
            return qlite_error(QLITE_ERR_CORRUPT, "graph input %zu has no name", i);
        }
        int32_t t = qlc_find_tensor(g, vi->name);
        if (t >= 0 && g->tensors[t]->data) continue; /* initializer with a default */
        if (t >= 0) {
            free(ins);
            return qlite_error(QLITE_ERR_CORRUPT, "graph input '%s' is listed twice", vi->name);
        }
        qlite_status st = read_value_info(g, vi, true, &t);
        if (st != QLITE_OK) {
            free(ins);
            return st;
        }
        if (g->tensors[t]->rank < 0) {
            free(ins);
            return qlite_error(QLITE_ERR_UNSUPPORTED, "graph input '%s' has no shape", vi->name);
        }
        g->tensors[t]->is_input = true;
        ins[nin++] = t;
    }
    g->inputs = ins;
    g->num_inputs = nin;

    /* 5. declared shapes of intermediate values and outputs */
    for (size_t i = 0; i < gp->n_value_info; i++) {
        const Onnx__ValueInfoProto *vi = gp->value_info[i];
        if (!vi->name || !vi->name[0]) continue;
        int32_t t = qlc_find_tensor(g, vi->name);
        if (t >= 0 && (g->tensors[t]->data || g->tensors[t]->is_input)) continue;
        qlite_status st = read_value_info(g, vi, false, NULL);
        if (st != QLITE_OK) return st;
    }
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        if (!vi->name || !vi->name[0])
            return qlite_error(QLITE_ERR_CORRUPT, "graph output %zu has no name", i);
        int32_t t = qlc_find_tensor(g, vi->name);
        if (t >= 0 && (g->tensors[t]->data || g->tensors[t]->is_input)) continue;
        qlite_status st = read_value_info(g, vi, false, NULL);
        if (st != QLITE_OK) return st;
    }

    /* 6. nodes */
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        const char *op = np->op_type ? np->op_type : "";
        if (!op[0]) return qlite_error(QLITE_ERR_CORRUPT, "node %zu has no op_type", i);
        if (!is_default_domain(np->domain))
            return qlite_error(QLITE_ERR_UNSUPPORTED_OP,
                               "node '%s' (%s): domain '%s' is not supported (only ai.onnx)",
                               np->name ? np->name : "", op, np->domain);
        if (strcmp(op, "Constant") == 0) {
            qlite_status st = import_constant_node(g, np, base_dir);
            if (st != QLITE_OK) return st;
            if (info) info->constant_nodes++;
            continue;
        }
        int32_t in[64], out[64];
        if (np->n_input > 64 || np->n_output > 64)
            return qlite_error(QLITE_ERR_UNSUPPORTED_OP, "node '%s' (%s): more than 64 inputs",
                               np->name ? np->name : "", op);
        for (size_t k = 0; k < np->n_input; k++) {
            const char *nm = np->input[k];
            in[k] = nm && nm[0] ? tensor_for(g, nm) : -1;
            if (nm && nm[0] && in[k] < 0) return QLITE_ERR_NO_MEMORY;
        }
        for (size_t k = 0; k < np->n_output; k++) {
            const char *nm = np->output[k];
            out[k] = nm && nm[0] ? tensor_for(g, nm) : -1;
            if (nm && nm[0] && out[k] < 0) return QLITE_ERR_NO_MEMORY;
            if (out[k] >= 0 && (g->tensors[out[k]]->data || g->tensors[out[k]]->is_input))
                return qlite_error(QLITE_ERR_CORRUPT,
                                   "node '%s' (%s): output '%s' is also an initializer or graph "
                                   "input", np->name ? np->name : "", op, nm);
        }
        char made[64];
        const char *name = np->name;
        if (!name || !name[0]) {
            snprintf(made, sizeof made, "%s_%zu", op, i);
            name = made;
        }
        qlc_node *n = qlc_add_onnx_node(g, name, op, (uint32_t)np->n_input, in,
                                        (uint32_t)np->n_output, out);
        if (!n) return QLITE_ERR_NO_MEMORY;
        if (np->n_attribute) {
            n->attrs = calloc(np->n_attribute, sizeof *n->attrs);
            if (!n->attrs) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
            for (size_t k = 0; k < np->n_attribute; k++) {
                n->num_attrs = (uint32_t)k + 1;
                qlite_status st = import_attr(g, n, np->attribute[k], &n->attrs[k], base_dir);
                if (st != QLITE_OK) return st;
            }
        }
    }

    /* 7. outputs */
    g->outputs = malloc((gp->n_output ? gp->n_output : 1) * sizeof *g->outputs);
    if (!g->outputs) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
    for (size_t i = 0; i < gp->n_output; i++) {
        int32_t t = qlc_find_tensor(g, gp->output[i]->name);
        if (t < 0) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory");
        g->outputs[g->num_outputs++] = t;
        g->tensors[t]->is_output = true;
    }
    if (!g->num_outputs) return qlite_error(QLITE_ERR_CORRUPT, "the graph has no outputs");
    return QLITE_OK;
}

qlite_status qlc_onnx_import_memory(const void *data, size_t size, const char *base_dir,
                                    qlc_graph **out, qlc_import_info *info) {
    if (!data || !out) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "import: NULL argument");
    *out = NULL;
    if (info) {
        memset(info, 0, sizeof *info);
        info->file_bytes = size;
        info->gzip_bytes = qlc_gzip_size(data, size);
        qlc_sha256 s;
        qlc_sha256_init(&s);
        qlc_sha256_update(&s, data, size);
        qlc_sha256_final(&s, info->sha256);
    }
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, size, data);
    if (!mp)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "not a valid ONNX model: the protobuf could not be parsed (truncated "
                           "or corrupt file)");
    qlc_graph *g = NULL;
    qlite_status st = qlc_graph_create(&g);
    if (st == QLITE_OK) st = import_model(mp, base_dir, g, info);
    onnx__model_proto__free_unpacked(mp, NULL);
    if (st != QLITE_OK) {
        qlc_graph_destroy(g);
        return st;
    }
    *out = g;
    return QLITE_OK;
}

qlite_status qlc_onnx_import_file(const char *path, qlc_graph **out, qlc_import_info *info) {
    if (!path || !out) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "import: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return qlite_error(QLITE_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return qlite_error(QLITE_ERR_IO, "'%s' is not a regular file", path);
    }
    if ((uint64_t)sb.st_size > QLC_MAX_ONNX_BYTES) {
        fclose(f);
        return qlite_error(QLITE_ERR_UNSUPPORTED,
                           "'%s' is %lld bytes; ONNX protobufs are limited to 2 GiB (store large "
                           "weights as external data)", path, (long long)sb.st_size);
    }
    size_t size = (size_t)sb.st_size;
    void *buf = malloc(size ? size : 1);
    if (!buf) {
        fclose(f);
        return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory reading '%s'", path);
    }
    if (size && fread(buf, 1, size, f) != size) {
        fclose(f);
        free(buf);
        return qlite_error(QLITE_ERR_IO, "reading '%s' failed", path);
    }
    fclose(f);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        if (slash == dir) slash[1] = 0;
        else *slash = 0;
    } else {
        snprintf(dir, sizeof dir, ".");
    }
    qlite_status st = qlc_onnx_import_memory(buf, size, dir, out, info);
    free(buf);
    return st;
}
