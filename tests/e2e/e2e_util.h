/*
 * e2e_util.h — helpers shared by the end-to-end programs (e2e.c,
 * e2e_quant.c, e2e_sparse.c): reading a models/<name>/meta.json, and the
 * "PASS/FAIL line per check, N passed, N failed" reporting. Each program is
 * one translation unit, so the counters below are per program.
 */
#ifndef QLITE_E2E_UTIL_H
#define QLITE_E2E_UTIL_H

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* checks passed / failed through result() (unused in e2e.c, which counts models) */
static int g_pass __attribute__((unused)), g_fail __attribute__((unused));

/* Prints "PASS <message>" or "FAIL <message>" and counts it. */
static inline void result(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void result(bool ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "PASS" : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    if (ok) g_pass++;
    else g_fail++;
}

/* The whole file as a NUL-terminated malloc'd string (NULL on any error). */
static inline char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

/* The number after "key": in a small JSON text (NAN when absent or json is NULL). */
static inline double json_num(const char *json, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = json ? strstr(json, pat) : NULL;
    if (!p || !(p = strchr(p + strlen(pat), ':'))) return NAN;
    return strtod(p + 1, NULL);
}

#endif
