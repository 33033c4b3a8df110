#include "golden.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

static bool parse_shape(const char *h, qlite_golden *g) {
    const char *p = strstr(h, "'shape':");
    if (!p) return false;
    p = strchr(p, '(');
    if (!p) return false;
    p++;
    g->rank = 0;
    g->count = 1;
    for (;;) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == ')') break;
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || g->rank >= QLITE_MAX_RANK) return false;
        g->dims[g->rank++] = d;
        g->count *= (size_t)d;
        p = end;
    }
    return true;
}

bool qlite_golden_load(const char *name, qlite_golden *g) {
    memset(g, 0, sizeof *g);
    char rel[256];
    snprintf(rel, sizeof rel, "tests/data/kernels/%s.npy", name);
    size_t size = 0;
    unsigned char *buf = qlite_test_read_file(qlite_test_source_path(rel), &size);
    if (!buf) {
        fprintf(stderr, "golden: cannot read %s\n", rel);
        return false;
    }
    bool ok = false;
    if (size < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) goto done;
    size_t hlen, hoff;
    if (buf[6] == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        hoff = 10;
    } else {
        if (size < 12) goto done;
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        hoff = 12;
    }
    if (hoff + hlen > size) goto done;
    char header[1024];
    if (hlen >= sizeof header) goto done;
    memcpy(header, buf + hoff, hlen);
    header[hlen] = '\0';
    if (strstr(header, "'fortran_order': True")) goto done;
    const char *d = strstr(header, "'descr':");
    if (!d || !parse_shape(header, g)) goto done;
    d = strchr(d + 8, '\'');
    if (!d) goto done;
    d++;
    static const struct { const char *descr; qlite_dtype dt; size_t size; } types[] = {
        {"<f4", QLITE_DTYPE_FLOAT32, 4}, {"<f8", QLITE_DTYPE_FLOAT32, 8},
        {"<f2", QLITE_DTYPE_FLOAT16, 2}, {"|i1", QLITE_DTYPE_INT8, 1},
        {"|u1", QLITE_DTYPE_UINT8, 1},   {"<i2", QLITE_DTYPE_INT16, 2},
        {"<i4", QLITE_DTYPE_INT32, 4},   {"<i8", QLITE_DTYPE_INT64, 8},
        {"|b1", QLITE_DTYPE_BOOL, 1},
    };
    size_t esize = 0;
    bool f64 = false;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strncmp(d, types[i].descr, 3) == 0) {
            g->dtype = types[i].dt;
            esize = types[i].size;
            f64 = strncmp(d, "<f8", 3) == 0;
        }
    }
    if (!esize) goto done;
    const unsigned char *src = buf + hoff + hlen;
    if ((size_t)(buf + size - src) < g->count * esize) goto done;
    size_t out_size = f64 ? 4 : esize;
    g->data = malloc(g->count * out_size + 1);
    if (!g->data) goto done;
    if (f64) {
        for (size_t i = 0; i < g->count; i++) {
            double v;
            memcpy(&v, src + 8 * i, 8);
            ((float *)g->data)[i] = (float)v;
        }
    } else {
        memcpy(g->data, src, g->count * esize);
    }
    ok = true;
done:
    if (!ok) fprintf(stderr, "golden: %s is not a .npy file this reader supports\n", rel);
    free(buf);
    return ok;
}

void qlite_golden_free(qlite_golden *g) {
    free(g->data);
    g->data = NULL;
}

size_t qlite_golden_mismatch_f32(const float *got, const float *want, size_t n, double atol,
                                 double rtol) {
    for (size_t i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        bool ok;
        if (isnan(w)) ok = isnan(g);
        else if (isinf(w)) ok = g == w;
        else ok = fabs(g - w) <= atol + rtol * fabs(w);
        if (!ok) {
            fprintf(stderr, "mismatch at %zu: got %.9g want %.9g (atol %g rtol %g)\n", i, g, w,
                    atol, rtol);
            return i;
        }
    }
    return n;
}
