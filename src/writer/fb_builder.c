/*
 * fb_builder.c — back-to-front FlatBuffers builder (see fb_builder.h).
 */
#include "fb_builder.h"

#include <stdlib.h>
#include <string.h>

#define FBB_MAX_SIZE 0x7fffffffu

static void fail(fbb *b, const char *why) {
    if (!b->failed) b->error = why;
    b->failed = true;
}

void fbb_init(fbb *b) {
    memset(b, 0, sizeof *b);
    b->minalign = 1;
}

void fbb_free(fbb *b) {
    free(b->buf);
    free(b->fields);
    free(b->vtables);
    memset(b, 0, sizeof *b);
}

/* Room for n more bytes in front of the data. */
static bool reserve(fbb *b, size_t n) {
    if (b->failed) return false;
    if (n > FBB_MAX_SIZE - b->size) {
        fail(b, "FlatBuffer larger than 2 GiB");
        return false;
    }
    if (b->cap - b->size >= n) return true;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap - b->size < n) cap *= 2;
    uint8_t *nb = malloc(cap);
    if (!nb) {
        fail(b, "out of memory");
        return false;
    }
    if (b->size) memcpy(nb + cap - b->size, b->buf + b->cap - b->size, b->size);
    free(b->buf);
    b->buf = nb;
    b->cap = cap;
    return true;
}

static void push(fbb *b, const void *p, size_t n) {
    if (!reserve(b, n)) return;
    b->size += n;
    if (n) memcpy(b->buf + b->cap - b->size, p, n);
}

static void push_zeros(fbb *b, size_t n) {
    if (n == 0 || !reserve(b, n)) return;
    b->size += n;
    memset(b->buf + b->cap - b->size, 0, n);
}

/* Pads so that after `additional` more bytes the size is a multiple of align. */
static void prep(fbb *b, size_t align, size_t additional) {
    if (align > b->minalign) b->minalign = align;
    size_t pad = (size_t)(-(b->size + additional)) & (align - 1);
    push_zeros(b, pad);
}

static bool not_nested(fbb *b) {
    if (b->in_table) {
        fail(b, "object created inside an open table");
        return false;
    }
    return !b->failed;
}

fbb_ref fbb_string(fbb *b, const char *s, size_t len) {
    if (!not_nested(b)) return 0;
    if (len > FBB_MAX_SIZE) {
        fail(b, "string too long");
        return 0;
    }
    prep(b, 4, len + 1);
    uint8_t zero = 0;
    push(b, &zero, 1);
    push(b, s, len);
    uint32_t n = (uint32_t)len;
    push(b, &n, 4);
    return b->failed ? 0 : (fbb_ref)b->size;
}

fbb_ref fbb_cstring(fbb *b, const char *s) { return s ? fbb_string(b, s, strlen(s)) : 0; }

fbb_ref fbb_vector(fbb *b, const void *elems, uint32_t count, uint32_t elem_size) {
    if (!not_nested(b)) return 0;
    uint64_t bytes = (uint64_t)count * elem_size;
    if (bytes > FBB_MAX_SIZE) {
        fail(b, "vector too long");
        return 0;
    }
    prep(b, 4, (size_t)bytes);
    prep(b, elem_size, (size_t)bytes);
    push(b, elems, (size_t)bytes);
    push(b, &count, 4);
    return b->failed ? 0 : (fbb_ref)b->size;
}

fbb_ref fbb_vector_refs(fbb *b, const fbb_ref *refs, uint32_t count) {
    if (!not_nested(b)) return 0;
    if ((uint64_t)count * 4 > FBB_MAX_SIZE) {
        fail(b, "vector too long");
        return 0;
    }
    prep(b, 4, (size_t)count * 4);
    /* Back to front: the last element is written first. */
    for (uint32_t i = count; i-- > 0;) {
        if (!refs[i]) {
            fail(b, "null reference in a vector");
            return 0;
        }
        uint32_t off = (uint32_t)(b->size + 4 - refs[i]);
        push(b, &off, 4);
    }
    push(b, &count, 4);
    return b->failed ? 0 : (fbb_ref)b->size;
}

void fbb_table_begin(fbb *b) {
    if (!not_nested(b)) return;
    b->in_table = true;
    b->nfields = 0;
    b->table_start = (uint32_t)b->size;
}

static void record(fbb *b, uint16_t id) {
    if (b->failed) return;
    if (!b->in_table) {
        fail(b, "field added outside a table");
        return;
    }
    for (size_t i = 0; i < b->nfields; i++)
        if (b->fields[i].id == id) {
            fail(b, "field added twice");
            return;
        }
    if (b->nfields == b->fields_cap) {
        size_t cap = b->fields_cap ? 2 * b->fields_cap : 16;
        fbb_field *nf = realloc(b->fields, cap * sizeof *nf);
        if (!nf) {
            fail(b, "out of memory");
            return;
        }
        b->fields = nf;
        b->fields_cap = cap;
    }
    b->fields[b->nfields++] = (fbb_field){id, (uint32_t)b->size};
}

void fbb_add_scalar(fbb *b, uint16_t id, const void *value, uint32_t size) {
    if (b->failed) return;
    prep(b, size, 0);
    push(b, value, size);
    record(b, id);
}

void fbb_add_u8(fbb *b, uint16_t id, uint8_t v) { fbb_add_scalar(b, id, &v, 1); }
void fbb_add_i8(fbb *b, uint16_t id, int8_t v) { fbb_add_scalar(b, id, &v, 1); }
void fbb_add_u32(fbb *b, uint16_t id, uint32_t v) { fbb_add_scalar(b, id, &v, 4); }
void fbb_add_i32(fbb *b, uint16_t id, int32_t v) { fbb_add_scalar(b, id, &v, 4); }
void fbb_add_u64(fbb *b, uint16_t id, uint64_t v) { fbb_add_scalar(b, id, &v, 8); }
void fbb_add_i64(fbb *b, uint16_t id, int64_t v) { fbb_add_scalar(b, id, &v, 8); }
void fbb_add_f32(fbb *b, uint16_t id, float v) { fbb_add_scalar(b, id, &v, 4); }

void fbb_add_i8_d(fbb *b, uint16_t id, int8_t v, int8_t dflt) {
    if (v != dflt) fbb_add_i8(b, id, v);
}
void fbb_add_bool_d(fbb *b, uint16_t id, bool v, bool dflt) {
    if (v != dflt) fbb_add_u8(b, id, v ? 1 : 0);
}
void fbb_add_u32_d(fbb *b, uint16_t id, uint32_t v, uint32_t dflt) {
    if (v != dflt) fbb_add_u32(b, id, v);
}
void fbb_add_i32_d(fbb *b, uint16_t id, int32_t v, int32_t dflt) {
    if (v != dflt) fbb_add_i32(b, id, v);
}
void fbb_add_u64_d(fbb *b, uint16_t id, uint64_t v, uint64_t dflt) {
    if (v != dflt) fbb_add_u64(b, id, v);
}
void fbb_add_f32_d(fbb *b, uint16_t id, float v, float dflt) {
    if (memcmp(&v, &dflt, sizeof v) != 0) fbb_add_f32(b, id, v);
}

void fbb_add_ref(fbb *b, uint16_t id, fbb_ref ref) {
    if (!ref || b->failed) return;
    prep(b, 4, 0);
    uint32_t off = (uint32_t)(b->size + 4 - ref);
    push(b, &off, 4);
    record(b, id);
}

fbb_ref fbb_table_end(fbb *b) {
    if (b->failed) return 0;
    if (!b->in_table) {
        fail(b, "fbb_table_end without fbb_table_begin");
        return 0;
    }
    /* The soffset to the vtable, patched below. */
    prep(b, 4, 0);
    int32_t placeholder = 0;
    push(b, &placeholder, 4);
    if (b->failed) return 0;
    uint32_t table = (uint32_t)b->size;
    uint32_t nslots = 0;
    for (size_t i = 0; i < b->nfields; i++)
        if ((uint32_t)b->fields[i].id + 1 > nslots) nslots = b->fields[i].id + 1u;
    uint32_t vt_bytes = 4 + 2 * nslots, tbl_bytes = table - b->table_start;
    if (vt_bytes > 0xffff || tbl_bytes > 0xffff) {
        fail(b, "table too large for a vtable");
        return 0;
    }
    uint16_t *v = calloc(nslots + 2, sizeof *v);
    if (!v) {
        fail(b, "out of memory");
        return 0;
    }
    v[0] = (uint16_t)vt_bytes;
    v[1] = (uint16_t)tbl_bytes;
    for (size_t i = 0; i < b->nfields; i++)
        v[2 + b->fields[i].id] = (uint16_t)(table - b->fields[i].ref);
    b->in_table = false;

    /* Reuse an identical vtable written before, if any. */
    uint32_t vt_ref = 0;
    for (size_t i = 0; i < b->nvtables && !vt_ref; i++) {
        const uint8_t *p = b->buf + b->cap - b->vtables[i];
        uint16_t len;
        memcpy(&len, p, 2);
        if (len == vt_bytes && memcmp(p, v, vt_bytes) == 0) vt_ref = b->vtables[i];
    }
    if (!vt_ref) {
        push(b, v, vt_bytes); /* 2-aligned: we are 4-aligned after the soffset */
        vt_ref = (uint32_t)b->size;
        if (b->nvtables == b->vtables_cap) {
            size_t cap = b->vtables_cap ? 2 * b->vtables_cap : 16;
            uint32_t *nv = realloc(b->vtables, cap * sizeof *nv);
            if (!nv) {
                free(v);
                fail(b, "out of memory");
                return 0;
            }
            b->vtables = nv;
            b->vtables_cap = cap;
        }
        b->vtables[b->nvtables++] = vt_ref;
    }
    free(v);
    if (b->failed) return 0;
    /* table - soffset = vtable, in absolute positions. */
    int32_t soff = (int32_t)((int64_t)vt_ref - (int64_t)table);
    memcpy(b->buf + b->cap - table, &soff, 4);
    return table;
}

bool fbb_finish(fbb *b, fbb_ref root, const char *identifier) {
    if (!not_nested(b)) return false;
    if (!root) {
        fail(b, "no root table");
        return false;
    }
    size_t align = b->minalign > 4 ? b->minalign : 4;
    prep(b, align, 4 + (identifier ? 4u : 0u));
    if (identifier) push(b, identifier, 4);
    uint32_t off = (uint32_t)(b->size + 4 - root);
    push(b, &off, 4);
    return !b->failed;
}

const uint8_t *fbb_data(const fbb *b, size_t *size) {
    if (size) *size = b->failed ? 0 : b->size;
    return b->failed || !b->buf ? NULL : b->buf + b->cap - b->size;
}
