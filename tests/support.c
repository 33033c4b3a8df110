#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void qlite_test_rng_seed(qlite_test_rng *r, uint64_t seed) {
    r->s = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint32_t qlite_test_rng_u32(qlite_test_rng *r) {
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (uint32_t)((r->s * 0x2545f4914f6cdd1dull) >> 32);
}

float qlite_test_rng_float(qlite_test_rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)(qlite_test_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

const char *qlite_test_source_path(const char *relative) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", QLITE_SOURCE_DIR, relative);
    return buf;
}

const char *qlite_test_tmp_path(const char *name) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", QLITE_TEST_TMPDIR, name);
    return buf;
}

void *qlite_test_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return NULL; }
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return NULL; }
    void *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
    fclose(f);
    if (p && size) *size = (size_t)n;
    return p;
}

static bool env_set(const char *name) {
    const char *v = getenv(name);
    return v && v[0] && strcmp(v, "0") != 0;
}

bool qlite_test_reduced(void) {
    return env_set("QLITE_TEST_SANITIZED") || env_set("QLITE_TEST_EMULATED");
}
