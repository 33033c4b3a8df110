/*
 * fb_reader.h — reading a FlatBuffer in place (internal to src/).
 *
 * FlatBuffers essentials (docs/format.md §2 has the full story):
 *   - all scalars are little-endian; offsets are relative to where they are
 *     stored: a uoffset (u32) at position p refers to p + value;
 *   - a table at position t starts with an soffset (i32) s; its vtable is at
 *     t - s: [u16 vtable bytes][u16 table inline bytes][u16 field offset]...,
 *     a field offset of 0 (or a field id past the vtable) means "absent,
 *     use the schema default";
 *   - a vector/string is [u32 length][elements]; strings also end in a 0 byte.
 *
 * Every load goes through memcpy, so an unaligned position is never
 * undefined behaviour. The accessors below do not bounds-check: they may only
 * be used on a buffer that fb_verify() (fb_verify.h) accepted with the schema
 * the caller reads it with. Bounds-checked peeks for use before verification
 * are in fb_verify.h.
 */
#ifndef QLITE_FB_READER_H
#define QLITE_FB_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint8_t fb_load_u8(const uint8_t *p) { return *p; }
static inline uint16_t fb_load_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline uint32_t fb_load_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline uint64_t fb_load_u64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline int32_t fb_load_i32(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline int64_t fb_load_i64(const uint8_t *p) {
    int64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline float fb_load_f32(const uint8_t *p) {
    float v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* A table: buffer base, its position and the position/length of its vtable. */
typedef struct fb_table {
    const uint8_t *base;
    uint32_t pos;     /* table start (its soffset) */
    uint32_t vt;      /* vtable start */
    uint16_t vt_size; /* vtable bytes (4 + 2 * number of field slots) */
} fb_table;

/* A vector: position of element 0 and the element count. */
typedef struct fb_vector {
    const uint8_t *base;
    uint32_t pos;
    uint32_t len;
} fb_vector;

/* Table at absolute position pos. */
static inline fb_table fb_table_at(const uint8_t *base, uint32_t pos) {
    fb_table t;
    t.base = base;
    t.pos = pos;
    t.vt = (uint32_t)((int64_t)pos - fb_load_i32(base + pos));
    t.vt_size = fb_load_u16(base + t.vt);
    return t;
}

/* The root table (uoffset at byte 0). */
static inline fb_table fb_root(const uint8_t *base) {
    return fb_table_at(base, fb_load_u32(base));
}

/* Absolute position of field `id`, or 0 when absent. */
static inline uint32_t fb_field_pos(const fb_table *t, unsigned id) {
    uint32_t slot = 4u + 2u * id;
    if (slot + 2u > t->vt_size) return 0;
    uint16_t off = fb_load_u16(t->base + t->vt + slot);
    return off ? t->pos + off : 0;
}

static inline bool fb_has(const fb_table *t, unsigned id) { return fb_field_pos(t, id) != 0; }

static inline uint8_t fb_get_u8(const fb_table *t, unsigned id, uint8_t dflt) {
    uint32_t p = fb_field_pos(t, id);
    return p ? fb_load_u8(t->base + p) : dflt;
}
static inline int8_t fb_get_i8(const fb_table *t, unsigned id, int8_t dflt) {
    uint32_t p = fb_field_pos(t, id);
    return p ? (int8_t)fb_load_u8(t->base + p) : dflt;
}
static inline bool fb_get_bool(const fb_table *t, unsigned id, bool dflt) {
    uint32_t p = fb_field_pos(t, id);
    return p ? fb_load_u8(t->base + p) != 0 : dflt;
}
static inline uint32_t fb_get_u32(const fb_table *t, unsigned id, uint32_t dflt) {
    uint32_t p = fb_field_pos(t, id);
    return p ? fb_load_u32(t->base + p) : dflt;
}
static inline int32_t fb_get_i32(const fb_table *t, unsigned id, int32_t dflt) {
    uint32_t p = fb_field_pos(t, id);
    return p ? fb_load_i32(t->base + p) : dflt;
}
static inline uint64_t fb_get_u64(const fb_table *t, unsigned id, uint64_t dflt) {
    uint32_t p = fb_field_pos(t, id);
    return p ? fb_load_u64(t->base + p) : dflt;
}
static inline int64_t fb_get_i64(const fb_table *t, unsigned id, int64_t dflt) {
    uint32_t p = fb_field_pos(t, id);
    return p ? fb_load_i64(t->base + p) : dflt;
}
static inline float fb_get_f32(const fb_table *t, unsigned id, float dflt) {
    uint32_t p = fb_field_pos(t, id);
    return p ? fb_load_f32(t->base + p) : dflt;
}

/* Follows the uoffset stored at absolute position p. */
static inline uint32_t fb_deref(const uint8_t *base, uint32_t p) {
    return p + fb_load_u32(base + p);
}

/* Sub-table field; false when absent. */
static inline bool fb_get_table(const fb_table *t, unsigned id, fb_table *out) {
    uint32_t p = fb_field_pos(t, id);
    if (!p) return false;
    *out = fb_table_at(t->base, fb_deref(t->base, p));
    return true;
}

/* Vector field; false (and an empty vector) when absent. */
static inline bool fb_get_vector(const fb_table *t, unsigned id, fb_vector *out) {
    uint32_t p = fb_field_pos(t, id);
    out->base = t->base;
    if (!p) {
        out->pos = 0;
        out->len = 0;
        return false;
    }
    uint32_t v = fb_deref(t->base, p);
    out->len = fb_load_u32(t->base + v);
    out->pos = v + 4;
    return true;
}

/* String field (NUL-terminated in the buffer); NULL when absent. */
static inline const char *fb_get_string(const fb_table *t, unsigned id, uint32_t *len) {
    uint32_t p = fb_field_pos(t, id);
    if (!p) {
        if (len) *len = 0;
        return NULL;
    }
    uint32_t v = fb_deref(t->base, p);
    if (len) *len = fb_load_u32(t->base + v);
    return (const char *)(t->base + v + 4);
}

/* Element i of a vector of tables. */
static inline fb_table fb_vector_table(const fb_vector *v, uint32_t i) {
    return fb_table_at(v->base, fb_deref(v->base, v->pos + 4u * i));
}

static inline uint8_t fb_vector_u8(const fb_vector *v, uint32_t i) {
    return fb_load_u8(v->base + v->pos + i);
}
static inline int32_t fb_vector_i32(const fb_vector *v, uint32_t i) {
    return fb_load_i32(v->base + v->pos + 4u * i);
}
static inline int64_t fb_vector_i64(const fb_vector *v, uint32_t i) {
    return fb_load_i64(v->base + v->pos + 8u * (uint64_t)i);
}
static inline float fb_vector_f32(const fb_vector *v, uint32_t i) {
    return fb_load_f32(v->base + v->pos + 4u * i);
}

#endif /* QLITE_FB_READER_H */
