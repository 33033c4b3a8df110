/*
 * conformance.c — runs the ONNX project's backend test cases (Debian's
 * libonnx-testdata: node/, pytorch-converted/, pytorch-operator/, simple/)
 * through qlite-convert (float32) and the qlite interpreter, and compares
 * with the expected outputs the ONNX project computed.
 *
 *   qlite-conformance [--data DIR] [--exclusions FILE] [--filter SUBSTR] [-v]
 *
 * Per case:
 *   1. model.onnx is parsed; graph inputs that feed a slot the converter
 *      needs as a constant (Reshape's shape, Slice's starts, ...) are turned
 *      into initializers with their test values (they are parameters, not
 *      data); the model is written to a temporary file;
 *   2. conversion: an unsupported op/attribute/type/opset -> "unsupported"
 *      (with the reason); any other conversion error -> "fail";
 *   3. the model is opened and prepared (an op with no kernel ->
 *      "unsupported"), test_data_set_0's inputs are set (batch resized when
 *      it differs), the graph is invoked;
 *   4. every output is compared: float32 with |got - want| <= 1e-5 + 1e-3 *
 *      |want| (the ONNX backend's own rtol is 1e-3), integers and bools
 *      exactly, shapes exactly.
 * A case whose model uses a quantized ONNX op (QuantizeLinear,
 * DequantizeLinear, QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger,
 * DynamicQuantizeLinear) runs a second time converted to int8 with the
 * parameters it carries (no calibration data: a graph that needs some counts
 * as unsupported for int8), compared the same way; its results have their
 * own row ("quantized ops, int8").
 * Cases listed in the exclusions file are skipped (each line: name, then a
 * '#' reason). The summary line is "N passed, N failed"; the exit status is
 * 1 if any supported case failed.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx.pb-c.h"
#include "onnx/onnx_tensor.h"
#include "onnx/ops.h"
#include "qlite/qlite.h"
#include "qlite/qlite_convert.h"

#define RTOL 1e-3
#define ATOL 1e-5

typedef enum { R_PASS, R_FAIL, R_UNSUPPORTED, R_EXCLUDED } result;

static char **g_excl;
static size_t g_nexcl;
static int g_verbose;

static void load_exclusions(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *h = strchr(line, '#');
        if (h) *h = 0;
        char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        char *e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) *--e = 0;
        if (!*s) continue;
        char **n = realloc(g_excl, (g_nexcl + 1) * sizeof *n);
        if (!n) break;
        g_excl = n;
        g_excl[g_nexcl++] = strdup(s);
    }
    fclose(f);
}

static bool excluded(const char *name) {
    for (size_t i = 0; i < g_nexcl; i++)
        if (!strcmp(g_excl[i], name)) return true;
    return false;
}

static void *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) *size = (size_t)n;
    return b;
}

static bool is_initializer(const Onnx__GraphProto *g, const char *name) {
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name && !strcmp(g->initializer[i]->name, name)) return true;
    return false;
}

/* Does some node read `name` in a slot the converter needs constant? */
static bool needs_const(const Onnx__GraphProto *g, const char *name) {
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        const qlc_onnx_op *def = qlc_onnx_op_find(n->op_type);
        uint32_t mask = def ? def->const_inputs : 0;
        /* ops with no kernel of their own (folded only) need every input */
        if (def && !def->lower) mask = 0xffffffffu;
        for (size_t k = 0; k < n->n_input && k < 32; k++)
            if ((mask >> k & 1) && n->input[k] && !strcmp(n->input[k], name)) return true;
    }
    return false;
}

typedef struct tcase {
    char dir[1024];
    char name[256];
    uint32_t n_in, n_out;
    qlc_onnx_tensor in[16], out[16];
    char in_name[16][256], out_name[16][256];
    bool frozen[16];
    bool quantized;            /* the model uses a quantized ONNX op */
    result int8;               /* the int8 conversion's result (quantized models) */
    char int8_why[700];
} tcase;

static void free_case(tcase *c) {
    for (uint32_t i = 0; i < c->n_in; i++) free(c->in[i].data);
    for (uint32_t i = 0; i < c->n_out; i++) free(c->out[i].data);
}

static result check_converted(tcase *c, const char *tmp, const qlite_convert_options *o, char *why,
                              size_t why_size);

static result run_case(tcase *c, const char *tmpdir, char *why, size_t why_size) {
    char path[1300];
    snprintf(path, sizeof path, "%s/model.onnx", c->dir);
    size_t msize;
    void *mbytes = read_all(path, &msize);
    if (!mbytes) {
        snprintf(why, why_size, "cannot read model.onnx");
        return R_FAIL;
    }
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, msize, mbytes);
    free(mbytes);
    if (!mp || !mp->graph) {
        snprintf(why, why_size, "model.onnx does not parse");
        if (mp) onnx__model_proto__free_unpacked(mp, NULL);
        return R_FAIL;
    }
    Onnx__GraphProto *g = mp->graph;
    static const char *const qops[] = {"QuantizeLinear", "DequantizeLinear", "QLinearConv",
                                       "QLinearMatMul", "ConvInteger", "MatMulInteger",
                                       "DynamicQuantizeLinear"};
    for (size_t i = 0; i < g->n_node; i++)
        for (size_t k = 0; k < sizeof qops / sizeof qops[0]; k++)
            if (g->node[i]->op_type && !strcmp(g->node[i]->op_type, qops[k])) c->quantized = true;
    /* test data */
    for (;;) {
        char p[1400];
        snprintf(p, sizeof p, "%s/test_data_set_0/input_%u.pb", c->dir, c->n_in);
        if (access(p, R_OK) != 0 || c->n_in >= 16) break;
        if (qlc_onnx_tensor_load_file(p, &c->in[c->n_in], c->in_name[c->n_in], 256) != QLITE_OK) {
            snprintf(why, why_size, "input %u: %s", c->n_in, qlite_last_error());
            onnx__model_proto__free_unpacked(mp, NULL);
            return R_UNSUPPORTED;
        }
        c->n_in++;
    }
    for (;;) {
        char p[1400];
        snprintf(p, sizeof p, "%s/test_data_set_0/output_%u.pb", c->dir, c->n_out);
        if (access(p, R_OK) != 0 || c->n_out >= 16) break;
        if (qlc_onnx_tensor_load_file(p, &c->out[c->n_out], c->out_name[c->n_out], 256) != QLITE_OK) {
            snprintf(why, why_size, "output %u: %s", c->n_out, qlite_last_error());
            onnx__model_proto__free_unpacked(mp, NULL);
            return R_UNSUPPORTED;
        }
        c->n_out++;
    }
    /* graph inputs (non-initializers) in order, matched to input_i.pb */
    uint32_t gi = 0;
    size_t keep = 0;
    Onnx__ValueInfoProto **kept = calloc(g->n_input + 1, sizeof *kept);
    Onnx__TensorProto **extra = calloc(g->n_input + 1, sizeof *extra);
    size_t n_extra = 0;
    for (size_t i = 0; i < g->n_input; i++) {
        Onnx__ValueInfoProto *vi = g->input[i];
        if (is_initializer(g, vi->name)) {
            kept[keep++] = vi;
            continue;
        }
        if (gi < c->n_in && needs_const(g, vi->name)) {
            char p[1400];
            snprintf(p, sizeof p, "%s/test_data_set_0/input_%u.pb", c->dir, gi);
            size_t ts;
            void *tb = read_all(p, &ts);
            Onnx__TensorProto *tp = tb ? onnx__tensor_proto__unpack(NULL, ts, tb) : NULL;
            free(tb);
            if (tp) {
                free(tp->name);
                tp->name = strdup(vi->name);
                extra[n_extra++] = tp;
                c->frozen[gi] = true;
                gi++;
                continue; /* dropped from the inputs: now an initializer */
            }
        }
        snprintf(c->in_name[gi < 16 ? gi : 15], 256, "%s", vi->name);
        gi++;
        kept[keep++] = vi;
    }
    size_t n_input_orig = g->n_input;
    Onnx__ValueInfoProto **orig_in = g->input;
    g->input = kept;
    g->n_input = keep;
    Onnx__TensorProto **orig_init = g->initializer;
    size_t n_init_orig = g->n_initializer;
    Onnx__TensorProto **all = calloc(n_init_orig + n_extra + 1, sizeof *all);
    if (n_init_orig) memcpy(all, orig_init, n_init_orig * sizeof *all);
    if (n_extra) memcpy(all + n_init_orig, extra, n_extra * sizeof *all);
    g->initializer = all;
    g->n_initializer = n_init_orig + n_extra;
    size_t plen = onnx__model_proto__get_packed_size(mp);
    uint8_t *packed = malloc(plen ? plen : 1);
    onnx__model_proto__pack(mp, packed);
    g->initializer = orig_init;
    g->n_initializer = n_init_orig;
    g->input = orig_in;
    g->n_input = n_input_orig;
    free(kept);
    free(all);
    for (size_t i = 0; i < n_extra; i++) onnx__tensor_proto__free_unpacked(extra[i], NULL);
    free(extra);
    onnx__model_proto__free_unpacked(mp, NULL);
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s/%s.onnx", tmpdir, c->name);
    FILE *f = fopen(tmp, "wb");
    if (!f || fwrite(packed, 1, plen, f) != plen) {
        if (f) fclose(f);
        free(packed);
        snprintf(why, why_size, "cannot write the temporary model");
        return R_FAIL;
    }
    fclose(f);
    free(packed);

    qlite_convert_options o = {0};
    result res = check_converted(c, tmp, &o, why, why_size);
    if (c->quantized) {
        /* the same model as full integer, with the parameters it carries */
        o.mode = QLITE_CONVERT_INT8;
        c->int8 = check_converted(c, tmp, &o, c->int8_why, sizeof c->int8_why);
    }
    unlink(tmp);
    return res;
}

/* Converts the temporary model with options o, runs test_data_set_0, compares. */
static result check_converted(tcase *c, const char *tmp, const qlite_convert_options *o, char *why,
                              size_t why_size) {
    void *bytes = NULL;
    size_t size = 0;
    qlite_status st = qlite_convert_to_memory(tmp, o, &bytes, &size, NULL);
    if (st != QLITE_OK) {
        snprintf(why, why_size, "convert: %s", qlite_last_error());
        /* an int8 conversion of a graph whose float tensors carry no
         * parameters needs calibration data the test does not have */
        bool needs_calib = o->mode == QLITE_CONVERT_INT8 && st == QLITE_ERR_INVALID_ARGUMENT &&
                           strstr(qlite_last_error(), "representative dataset");
        return st == QLITE_ERR_UNSUPPORTED_OP || st == QLITE_ERR_UNSUPPORTED || needs_calib
                   ? R_UNSUPPORTED : R_FAIL;
    }
    qlite_model *m = NULL;
    qlite_interpreter *it = NULL;
    result res = R_FAIL;
    st = qlite_model_open_memory(bytes, size, 0, &m);
    if (st != QLITE_OK) {
        snprintf(why, why_size, "open: %s", qlite_last_error());
        goto out;
    }
    st = qlite_interpreter_create(m, NULL, &it);
    if (st != QLITE_OK) {
        snprintf(why, why_size, "create: %s", qlite_last_error());
        res = st == QLITE_ERR_UNSUPPORTED_OP ? R_UNSUPPORTED : R_FAIL;
        goto out;
    }
    /* model inputs by name */
    uint32_t nmi = qlite_interpreter_input_count(it);
    int32_t which[16];
    for (uint32_t i = 0; i < nmi && i < 16; i++) {
        const qlite_tensor_info *ti = qlite_model_tensor(m, (uint32_t)qlite_model_input(m, i));
        which[i] = -1;
        for (uint32_t k = 0; k < c->n_in; k++)
            if (!c->frozen[k] && !strcmp(c->in_name[k], ti->name)) which[i] = (int32_t)k;
        if (which[i] < 0) {
            snprintf(why, why_size, "no test data for input '%s'", ti->name);
            goto out;
        }
        qlc_onnx_tensor *d = &c->in[which[i]];
        bool differ = ti->rank != (uint32_t)d->rank;
        for (uint32_t k = 0; !differ && k < ti->rank; k++) differ = ti->shape[k] != d->shape[k];
        if (differ && (st = qlite_interpreter_resize_input(it, i, (uint32_t)d->rank, d->shape)) != QLITE_OK) {
            snprintf(why, why_size, "resize input '%s': %s", ti->name, qlite_last_error());
            goto out;
        }
    }
    if ((st = qlite_interpreter_prepare(it)) != QLITE_OK) {
        snprintf(why, why_size, "prepare: %s", qlite_last_error());
        res = st == QLITE_ERR_UNSUPPORTED_OP ? R_UNSUPPORTED : R_FAIL;
        goto out;
    }
    for (uint32_t i = 0; i < nmi && i < 16; i++) {
        qlc_onnx_tensor *d = &c->in[which[i]];
        if ((st = qlite_interpreter_set_input(it, i, d->data, d->size)) != QLITE_OK) {
            snprintf(why, why_size, "set input %u: %s", i, qlite_last_error());
            goto out;
        }
    }
    if ((st = qlite_interpreter_invoke(it)) != QLITE_OK) {
        snprintf(why, why_size, "invoke: %s", qlite_last_error());
        goto out;
    }
    uint32_t nmo = qlite_interpreter_output_count(it);
    if (nmo != c->n_out) {
        snprintf(why, why_size, "%u outputs, expected %u", nmo, c->n_out);
        goto out;
    }
    for (uint32_t i = 0; i < nmo; i++) {
        qlite_tensor_view v;
        qlc_onnx_tensor *e = &c->out[i];
        if ((st = qlite_interpreter_output(it, i, &v)) != QLITE_OK) {
            snprintf(why, why_size, "output %u: %s", i, qlite_last_error());
            goto out;
        }
        bool shape_ok = v.rank == (uint32_t)e->rank;
        for (uint32_t k = 0; shape_ok && k < v.rank; k++) shape_ok = v.dims[k] == e->shape[k];
        if (!shape_ok || v.dtype != e->dtype || v.bytes != e->size) {
            snprintf(why, why_size, "output %u: got %s rank %u (%zu bytes), expected %s rank %d (%zu bytes)",
                     i, qlite_dtype_name(v.dtype), v.rank, v.bytes, qlite_dtype_name(e->dtype),
                     (int)e->rank, e->size);
            goto out;
        }
        if (v.dtype == QLITE_DTYPE_FLOAT32) {
            const float *a = v.data, *b = e->data;
            size_t n = v.bytes / 4;
            for (size_t k = 0; k < n; k++) {
                double d = fabs((double)a[k] - (double)b[k]);
                bool both_nan = isnan(a[k]) && isnan(b[k]);
                bool same_inf = isinf(a[k]) && isinf(b[k]) && (a[k] > 0) == (b[k] > 0);
                if (!both_nan && !same_inf && !(d <= ATOL + RTOL * fabs((double)b[k]))) {
                    snprintf(why, why_size, "output %u element %zu: got %.7g, expected %.7g", i, k,
                             (double)a[k], (double)b[k]);
                    goto out;
                }
            }
        } else if (memcmp(v.data, e->data, v.bytes) != 0) {
            snprintf(why, why_size, "output %u (%s) differs", i, qlite_dtype_name(v.dtype));
            goto out;
        }
    }
    res = R_PASS;
out:
    qlite_interpreter_destroy(it);
    qlite_model_close(m);
    qlite_convert_free_bytes(bytes);
    return res;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
    const char *data = "/usr/share/libonnx-testdata/data", *excl = NULL, *filter = NULL;
    const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--exclusions") && i + 1 < argc) excl = argv[++i];
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else if (!strcmp(argv[i], "--tmp") && i + 1 < argc) tmpdir = argv[++i];
        else if (!strcmp(argv[i], "-v")) g_verbose++;
        else {
            fprintf(stderr, "usage: %s [--data DIR] [--exclusions FILE] [--filter S] [--tmp DIR] [-v]\n",
                    argv[0]);
            return 2;
        }
    }
    if (excl) load_exclusions(excl);
    const char *suites[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};
    unsigned counts[4][4] = {{0}}, int8_counts[4] = {0};
    int found = 0;
    for (size_t s = 0; s < 4; s++) {
        char sd[512];
        snprintf(sd, sizeof sd, "%s/%s", data, suites[s]);
        DIR *d = opendir(sd);
        if (!d) continue;
        found = 1;
        char **names = NULL;
        size_t nn = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            char **nw = realloc(names, (nn + 1) * sizeof *nw);
            if (!nw) break;
            names = nw;
            names[nn++] = strdup(de->d_name);
        }
        closedir(d);
        qsort(names, nn, sizeof *names, cmp_str);
        for (size_t i = 0; i < nn; i++) {
            tcase *c = calloc(1, sizeof *c);
            if ((size_t)snprintf(c->dir, sizeof c->dir, "%.500s/%.255s", sd, names[i]) >= sizeof c->dir) c->dir[0] = 0;
            snprintf(c->name, sizeof c->name, "%s", names[i]);
            char full[300];
            snprintf(full, sizeof full, "%s/%s", suites[s], names[i]);
            if (filter && !strstr(full, filter)) {
                free(c);
                free(names[i]);
                continue;
            }
            char why[700] = "";
            result r = excluded(full) ? R_EXCLUDED : run_case(c, tmpdir, why, sizeof why);
            counts[s][r]++;
            static const char *const tag[] = {"PASS", "FAIL", "UNSUPPORTED", "EXCLUDED"};
            if (r == R_FAIL || g_verbose > (r == R_PASS ? 1 : 0))
                printf("%-11s %s%s%s\n", tag[r], full, why[0] ? ": " : "", why);
            if (r != R_EXCLUDED && c->quantized) {
                int8_counts[c->int8]++;
                if (c->int8 == R_FAIL || g_verbose > (c->int8 == R_PASS ? 1 : 0))
                    printf("%-11s %s (int8)%s%s\n", tag[c->int8], full, c->int8_why[0] ? ": " : "",
                           c->int8_why);
            }
            free_case(c);
            free(c);
            free(names[i]);
        }
        free(names);
    }
    if (!found) {
        printf("conformance: no test data under %s (install libonnx-testdata)\n", data);
        return 1;
    }
    unsigned tot[4] = {0};
    printf("\n%-20s %7s %7s %12s %9s\n", "suite", "passed", "failed", "unsupported", "excluded");
    for (size_t s = 0; s < 4; s++) {
        printf("%-20s %7u %7u %12u %9u\n", suites[s], counts[s][R_PASS], counts[s][R_FAIL],
               counts[s][R_UNSUPPORTED], counts[s][R_EXCLUDED]);
        for (int k = 0; k < 4; k++) tot[k] += counts[s][k];
    }
    printf("%-20s %7u %7u %12u %9u\n", "quantized ops, int8", int8_counts[R_PASS],
           int8_counts[R_FAIL], int8_counts[R_UNSUPPORTED], int8_counts[R_EXCLUDED]);
    for (int k = 0; k < 4; k++) tot[k] += int8_counts[k];
    printf("%-20s %7u %7u %12u %9u\n", "total", tot[R_PASS], tot[R_FAIL], tot[R_UNSUPPORTED],
           tot[R_EXCLUDED]);
    printf("%u passed, %u failed, %u skipped\n", tot[R_PASS], tot[R_FAIL],
           tot[R_UNSUPPORTED] + tot[R_EXCLUDED]);
    for (size_t i = 0; i < g_nexcl; i++) free(g_excl[i]);
    free(g_excl);
    return tot[R_FAIL] ? 1 : 0;
}
