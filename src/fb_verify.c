/*
 * fb_verify.c — the schema-driven FlatBuffers verifier (see fb_verify.h).
 *
 * One recursive walk: verify_table() checks a table's header and vtable, then
 * each field the descriptor knows, descending into strings, vectors, tables,
 * vectors of tables and unions. Every position is a uint64_t computed from
 * 32-bit file values, so no sum can overflow; every comparison is against
 * `limit` (the buffer size capped at the FlatBuffers maximum of 2^31 - 1).
 */
#include "fb_verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fb_reader.h"
#include "qlite_internal.h"

#define FB_MAX_BUFFER 0x7fffffffu
#define FB_PATH_MAX 80

typedef struct path_elem {
    const char *name;
    int64_t index; /* -1: not a vector element */
} path_elem;

typedef struct vctx {
    const uint8_t *buf;
    uint64_t limit;
    uint32_t depth, max_depth;
    uint32_t tables, max_tables;
    uint64_t extent;
    qlite_status unknown_union_status;
    path_elem path[FB_PATH_MAX];
    uint32_t path_len;
} vctx;

static void push(vctx *c, const char *name, int64_t index) {
    if (c->path_len < FB_PATH_MAX) c->path[c->path_len] = (path_elem){name, index};
    c->path_len++;
}

static void pop(vctx *c) { c->path_len--; }

/* Marks the innermost path element as vector element i. */
static void set_index(vctx *c, uint32_t i) {
    if (c->path_len >= 1 && c->path_len - 1 < FB_PATH_MAX) c->path[c->path_len - 1].index = i;
}

static qlite_status failv(vctx *c, qlite_status st, uint64_t pos, const char *fmt, va_list ap) {
    char path[256], msg[256];
    size_t n = 0;
    path[0] = '\0';
    uint32_t len = c->path_len < FB_PATH_MAX ? c->path_len : FB_PATH_MAX;
    for (uint32_t i = 0; i < len && n < sizeof path; i++) {
        int w = c->path[i].index >= 0
                    ? snprintf(path + n, sizeof path - n, "%s%s[%lld]", i ? "." : "",
                               c->path[i].name, (long long)c->path[i].index)
                    : snprintf(path + n, sizeof path - n, "%s%s", i ? "." : "", c->path[i].name);
        if (w < 0) break;
        n += (size_t)w;
    }
    vsnprintf(msg, sizeof msg, fmt, ap);
    return qlite_error(st, "corrupt FlatBuffer: %s at byte %llu: %s", path,
                       (unsigned long long)pos, msg);
}

static qlite_status fail(vctx *c, uint64_t pos, const char *fmt, ...) QLITE_PRINTF(3, 4);
static qlite_status fail(vctx *c, uint64_t pos, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    qlite_status st = failv(c, QLITE_ERR_CORRUPT, pos, fmt, ap);
    va_end(ap);
    return st;
}

static qlite_status fail_status(vctx *c, qlite_status st, uint64_t pos, const char *fmt, ...)
    QLITE_PRINTF(4, 5);
static qlite_status fail_status(vctx *c, qlite_status st, uint64_t pos, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    st = failv(c, st, pos, fmt, ap);
    va_end(ap);
    return st;
}

static void touch(vctx *c, uint64_t end) {
    if (end > c->extent) c->extent = end;
}

/* Reads the uoffset at `at` (4 bytes already known to be in bounds and
 * aligned) and checks its target lies inside the buffer. */
static qlite_status follow(vctx *c, uint64_t at, uint64_t *target) {
    uint32_t o = fb_load_u32(c->buf + at);
    if (o == 0) return fail(c, at, "offset is 0");
    if (o > FB_MAX_BUFFER) return fail(c, at, "offset %u exceeds 2^31-1", o);
    uint64_t t = at + o;
    if (t >= c->limit)
        return fail(c, at, "offset %u points to byte %llu, past the end (%llu)", o,
                    (unsigned long long)t, (unsigned long long)c->limit);
    *target = t;
    return QLITE_OK;
}

/* A vector (or string when is_string) at position v. */
static qlite_status verify_vector(vctx *c, uint64_t v, uint32_t elem_size, bool is_string,
                                  uint32_t *len_out) {
    if (v % 4) return fail(c, v, "vector length is not 4-byte aligned");
    if (v + 4 > c->limit) return fail(c, v, "vector length past the end");
    uint32_t len = fb_load_u32(c->buf + v);
    uint64_t bytes = (uint64_t)len * elem_size + (is_string ? 1u : 0u);
    if (bytes > c->limit - (v + 4))
        return fail(c, v, "%s of %u %s (%llu bytes) runs past the end (%llu)",
                    is_string ? "string" : "vector", len, is_string ? "bytes" : "elements",
                    (unsigned long long)bytes, (unsigned long long)c->limit);
    if (len > 0 && elem_size > 1 && (v + 4) % elem_size)
        return fail(c, v, "elements of %u bytes are not %u-byte aligned", elem_size, elem_size);
    if (is_string && c->buf[v + 4 + len] != 0)
        return fail(c, v, "string of %u bytes is not followed by a 0 byte", len);
    touch(c, v + 4 + bytes);
    *len_out = len;
    return QLITE_OK;
}

static qlite_status verify_table(vctx *c, const fb_table_desc *d, uint64_t pos);

static qlite_status verify_field(vctx *c, const fb_table_desc *d, uint32_t id, uint64_t tpos,
                                 uint64_t fpos, uint64_t vt, uint32_t nslots) {
    const fb_field_desc *f = &d->fields[id];
    qlite_status st = QLITE_OK;
    uint64_t target = 0;
    uint32_t len = 0;
    switch ((fb_kind)f->kind) {
    case FB_KIND_SCALAR:
        return QLITE_OK; /* bounds and alignment checked by the caller */
    case FB_KIND_UNION_TYPE: {
        uint8_t type = c->buf[fpos];
        if (type > f->unio->count)
            return fail_status(c, c->unknown_union_status, fpos,
                               "unknown %s type %u (this reader knows 1..%u)", f->unio->name,
                               type, f->unio->count);
        return QLITE_OK;
    }
    case FB_KIND_STRING:
        if ((st = follow(c, fpos, &target))) return st;
        return verify_vector(c, target, 1, true, &len);
    case FB_KIND_VECTOR:
        if ((st = follow(c, fpos, &target))) return st;
        return verify_vector(c, target, f->size, false, &len);
    case FB_KIND_TABLE:
        if ((st = follow(c, fpos, &target))) return st;
        return verify_table(c, f->table, target);
    case FB_KIND_TABLE_VECTOR:
        if ((st = follow(c, fpos, &target))) return st;
        if ((st = verify_vector(c, target, 4, false, &len))) return st;
        for (uint32_t i = 0; i < len; i++) {
            uint64_t at = target + 4 + 4ull * i, t = 0;
            set_index(c, i);
            if ((st = follow(c, at, &t))) return st;
            if ((st = verify_table(c, f->table, t))) return st;
        }
        return QLITE_OK;
    case FB_KIND_UNION: {
        /* The type lives in the previous slot (FlatBuffers convention). */
        uint8_t type = 0;
        if (id >= 1 && id - 1 < nslots) {
            uint16_t toff = fb_load_u16(c->buf + vt + 4 + 2 * (id - 1));
            if (toff) type = c->buf[tpos + toff];
        }
        if (type == 0) return fail(c, fpos, "%s value present but its type is NONE", f->unio->name);
        if (type > f->unio->count)
            return fail_status(c, c->unknown_union_status, fpos, "unknown %s type %u",
                               f->unio->name, type);
        if ((st = follow(c, fpos, &target))) return st;
        return verify_table(c, f->unio->members[type - 1], target);
    }
    }
    return fail(c, fpos, "bad field descriptor");
}

static qlite_status verify_table(vctx *c, const fb_table_desc *d, uint64_t pos) {
    if (c->depth >= c->max_depth)
        return fail(c, pos, "tables nested deeper than %u", c->max_depth);
    if (c->tables >= c->max_tables)
        return fail(c, pos, "more than %u tables", c->max_tables);
    c->tables++;
    if (pos % 4) return fail(c, pos, "%s table is not 4-byte aligned", d->name);
    if (pos + 4 > c->limit) return fail(c, pos, "%s table past the end", d->name);
    int64_t vt_signed = (int64_t)pos - fb_load_i32(c->buf + pos);
    if (vt_signed < 0 || (uint64_t)vt_signed + 4 > c->limit)
        return fail(c, pos, "%s vtable at %lld is outside the buffer", d->name,
                    (long long)vt_signed);
    uint64_t vt = (uint64_t)vt_signed;
    if (vt % 2) return fail(c, pos, "%s vtable at %llu is not 2-byte aligned", d->name,
                            (unsigned long long)vt);
    uint16_t vt_size = fb_load_u16(c->buf + vt);
    uint16_t tbl_size = fb_load_u16(c->buf + vt + 2);
    if (vt_size < 4 || vt_size % 2 || vt + vt_size > c->limit)
        return fail(c, pos, "%s vtable at %llu has bad size %u", d->name,
                    (unsigned long long)vt, vt_size);
    if (tbl_size < 4 || pos + tbl_size > c->limit)
        return fail(c, pos, "%s table size %u runs past the end", d->name, tbl_size);
    touch(c, vt + vt_size);
    touch(c, pos + tbl_size);

    c->depth++;
    uint32_t nslots = (vt_size - 4u) / 2u;
    uint32_t n = d->count < nslots ? d->count : nslots;
    for (uint32_t id = 0; id < n; id++) {
        const fb_field_desc *f = &d->fields[id];
        uint16_t off = fb_load_u16(c->buf + vt + 4 + 2 * id);
        if (off == 0 || !f->name) continue;
        push(c, f->name, -1);
        uint32_t fsize = f->kind == FB_KIND_SCALAR      ? f->size
                         : f->kind == FB_KIND_UNION_TYPE ? 1u
                                                         : 4u;
        if (off < 4 || (uint32_t)off + fsize > tbl_size)
            return fail(c, pos + off, "field at table offset %u (%u bytes) is outside the %u-byte table",
                        off, fsize, tbl_size);
        uint64_t fpos = pos + off;
        if (fpos % fsize)
            return fail(c, fpos, "%u-byte field is not %u-byte aligned", fsize, fsize);
        qlite_status st = verify_field(c, d, id, pos, fpos, vt, nslots);
        if (st) return st;
        pop(c);
    }
    c->depth--;
    return QLITE_OK;
}

qlite_status fb_verify(const uint8_t *buf, size_t size, const fb_table_desc *root,
                       const char *identifier, const fb_verify_options *options,
                       fb_verify_result *result) {
    vctx c;
    memset(&c, 0, sizeof c);
    c.buf = buf;
    c.limit = size < FB_MAX_BUFFER ? size : FB_MAX_BUFFER;
    c.max_depth = options && options->max_depth ? options->max_depth : 64;
    c.max_tables = options && options->max_tables ? options->max_tables : 1000000;
    c.unknown_union_status = options && options->unknown_union_status
                                 ? options->unknown_union_status
                                 : QLITE_ERR_CORRUPT;
    if (result) memset(result, 0, sizeof *result);

    if (size < 8 || !buf)
        return qlite_error(identifier ? QLITE_ERR_NOT_QLITE : QLITE_ERR_CORRUPT,
                           "not a FlatBuffer: %zu bytes is too short", size);
    if (identifier && memcmp(buf + 4, identifier, 4) != 0) {
        char shown[17];
        for (int i = 0; i < 4; i++) {
            uint8_t ch = buf[4 + i];
            if (ch >= 0x20 && ch < 0x7f) {
                shown[i] = (char)ch;
            } else {
                shown[i] = '?';
            }
        }
        shown[4] = '\0';
        return qlite_error(QLITE_ERR_NOT_QLITE,
                           "not a qlite file: file identifier is '%s' (%02x %02x %02x %02x), "
                           "expected '%.4s'",
                           shown, buf[4], buf[5], buf[6], buf[7], identifier);
    }
    push(&c, root->name, -1);
    uint64_t target = 0;
    qlite_status st = follow(&c, 0, &target);
    if (!st) st = verify_table(&c, root, target);
    if (!st && result) {
        result->extent = c.extent;
        result->tables = c.tables;
    }
    return st;
}

bool fb_peek_root_u32(const uint8_t *buf, size_t size, unsigned id, uint32_t dflt,
                      uint32_t *out) {
    uint64_t limit = size < FB_MAX_BUFFER ? size : FB_MAX_BUFFER;
    if (!buf || limit < 8) return false;
    uint64_t pos = fb_load_u32(buf);
    if (pos % 4 || pos + 4 > limit) return false;
    int64_t vt = (int64_t)pos - fb_load_i32(buf + pos);
    if (vt < 0 || (uint64_t)vt + 4 > limit) return false;
    uint16_t vt_size = fb_load_u16(buf + vt), tbl_size = fb_load_u16(buf + vt + 2);
    if ((uint64_t)vt + vt_size > limit || pos + tbl_size > limit) return false;
    *out = dflt;
    if (4u + 2u * id + 2u > vt_size) return true;
    uint16_t off = fb_load_u16(buf + vt + 4 + 2 * id);
    if (off == 0) return true;
    if ((uint32_t)off + 4 > tbl_size) return false;
    *out = fb_load_u32(buf + pos + off);
    return true;
}
