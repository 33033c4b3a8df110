/*
 * qlite_internal.h — helpers shared by every part of libqlite (not installed).
 */
#ifndef QLITE_INTERNAL_H
#define QLITE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "qlite/qlite.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "qlite reads FlatBuffers and tensor data in place: little-endian hosts only"
#endif

#if defined(__GNUC__)
#define QLITE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define QLITE_LIKELY(x) __builtin_expect(!!(x), 1)
#define QLITE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define QLITE_PRINTF(f, a)
#define QLITE_LIKELY(x) (x)
#define QLITE_UNLIKELY(x) (x)
#endif

#define QLITE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Longest detail message kept (longer ones are truncated). */
#define QLITE_ERROR_MAX 512

/*
 * Records a detail message for `status` as this thread's last error and
 * returns `status`, so failures read:  return qlite_error(QLITE_ERR_CORRUPT, "...", ...);
 */
qlite_status qlite_error(qlite_status status, const char *fmt, ...) QLITE_PRINTF(2, 3);
qlite_status qlite_verror(qlite_status status, const char *fmt, va_list ap);
/* Clears this thread's last error (successful public calls do not need to). */
void qlite_clear_error(void);

/* Overflow-checked arithmetic: return 0 on success, 1 on overflow. */
static inline int qlite_mul_overflow_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_mul_overflow(a, b, out);
}
static inline int qlite_add_overflow_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_add_overflow(a, b, out);
}

/* 64-byte aligned allocation (free with qlite_aligned_free); NULL on failure or size 0. */
void *qlite_aligned_alloc(size_t size);
void qlite_aligned_free(void *p);

#endif /* QLITE_INTERNAL_H */
