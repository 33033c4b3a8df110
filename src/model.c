/*
 * model.c — opening a .qlite model (mmap / read / memory / gzip), closing it,
 * crc32 checks and the qlite_model_* accessors.
 *
 * Decoding and validation live in model_decode.c and model_validate.c; this
 * file only gets the bytes in place and hands them over.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "model_internal.h"

/* ------------------------------------------------------------------------ */
/* Arena                                                                     */
/* ------------------------------------------------------------------------ */

struct qlite_arena_block {
    qlite_arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

#define ARENA_BLOCK (64u * 1024u)

void *qlite_arena_alloc(qlite_arena *a, size_t bytes) {
    if (bytes > SIZE_MAX / 2) return NULL;
    size_t need = (bytes + 15u) & ~(size_t)15u;
    if (need == 0) need = 16;
    qlite_arena_block *b = a->head;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > ARENA_BLOCK ? need : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->used = 0;
        b->cap = cap;
        /* A big one-off block goes second so the current block stays in use. */
        if (a->head && need > ARENA_BLOCK) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->data + b->used;
    b->used += need;
    memset(p, 0, need);
    return p;
}

void qlite_arena_free(qlite_arena *a) {
    qlite_arena_block *b = a->head;
    while (b) {
        qlite_arena_block *n = b->next;
        free(b);
        b = n;
    }
    a->head = NULL;
}

/* ------------------------------------------------------------------------ */
/* Small shared helpers                                                      */
/* ------------------------------------------------------------------------ */

bool qlite_dtype_bytes(qlite_dtype dtype, uint64_t elements, uint64_t *bytes) {
    uint32_t bits = qlite_dtype_bits(dtype);
    if (!bits) return false;
    if (bits % 8 == 0) return !qlite_mul_overflow_u64(elements, bits / 8, bytes);
    /* packed sub-byte elements: ceil(elements * bits / 8) without overflow */
    uint64_t per_byte = 8 / bits;
    *bytes = elements / per_byte + (elements % per_byte != 0);
    return true;
}

uint32_t qlite_crc32(const void *data, uint64_t size) {
    const unsigned char *p = data;
    uLong crc = crc32(0L, Z_NULL, 0);
    while (size > 0) {
        uInt n = size > (1u << 30) ? (1u << 30) : (uInt)size;
        crc = crc32(crc, p, n);
        p += n;
        size -= n;
    }
    return (uint32_t)crc;
}

qlite_status qlite_check_buffer_range(uint32_t index, uint64_t offset, uint64_t size,
                                      uint64_t file_size, uint64_t fb_end) {
    uint64_t end;
    if (offset % QLITE_DATA_ALIGNMENT)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "buffer %u: offset %llu is not a multiple of %u", index,
                           (unsigned long long)offset, QLITE_DATA_ALIGNMENT);
    if (qlite_add_overflow_u64(offset, size, &end))
        return qlite_error(QLITE_ERR_CORRUPT, "buffer %u: offset %llu + size %llu overflows",
                           index, (unsigned long long)offset, (unsigned long long)size);
    if (end > file_size)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "buffer %u: bytes %llu..%llu lie past the end of the file (%llu bytes)",
                           index, (unsigned long long)offset, (unsigned long long)end,
                           (unsigned long long)file_size);
    if (size > 0 && offset < fb_end)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "buffer %u: offset %llu lies inside the FlatBuffer (which ends at %llu)",
                           index, (unsigned long long)offset, (unsigned long long)fb_end);
    return QLITE_OK;
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                   */
/* ------------------------------------------------------------------------ */

static bool is_gzip(const uint8_t *p, size_t n) { return n >= 2 && p[0] == 0x1f && p[1] == 0x8b; }

/* Inflates a gzip stream into one 64-byte aligned allocation of at most
 * `cap` bytes. */
static qlite_status inflate_gzip(const uint8_t *src, size_t n, uint64_t cap, uint8_t **out,
                                 size_t *out_size) {
    if (cap > SIZE_MAX - 64) cap = SIZE_MAX - 64;
    /* First guess: the trailer's ISIZE (size mod 2^32), at most what deflate
     * can produce from n bytes (ratio < 1032) and the cap; then doubling. */
    uint64_t guess = 64 * 1024;
    if (n >= 18) {
        uint32_t isize;
        memcpy(&isize, src + n - 4, 4);
        guess = isize ? isize : guess;
    }
    uint64_t ratio_max = (uint64_t)n * 1032u + 64u * 1024u;
    if (guess > ratio_max) guess = ratio_max;
    if (guess > cap + 1) guess = cap + 1; /* +1: see whether output goes past the cap */
    size_t capacity = (size_t)guess;
    uint8_t *buf = qlite_aligned_alloc(capacity);
    if (!buf) return qlite_error(QLITE_ERR_NO_MEMORY, "gzip: cannot allocate %zu bytes", capacity);

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        qlite_aligned_free(buf);
        return qlite_error(QLITE_ERR_NO_MEMORY, "gzip: inflateInit2 failed");
    }
    size_t in_pos = 0, out_pos = 0;
    qlite_status st = QLITE_OK;
    for (;;) {
        if (out_pos == capacity) {
            if (capacity > cap) {
                st = qlite_error(QLITE_ERR_CORRUPT,
                                 "gzip: inflated size exceeds the limit of %llu bytes "
                                 "(decompression bomb?)",
                                 (unsigned long long)cap);
                break;
            }
            uint64_t grown = (uint64_t)capacity * 2;
            if (grown > cap + 1) grown = cap + 1;
            uint8_t *nb = qlite_aligned_alloc((size_t)grown);
            if (!nb) {
                st = qlite_error(QLITE_ERR_NO_MEMORY, "gzip: cannot allocate %llu bytes",
                                 (unsigned long long)grown);
                break;
            }
            memcpy(nb, buf, out_pos);
            qlite_aligned_free(buf);
            buf = nb;
            capacity = (size_t)grown;
        }
        size_t in_left = n - in_pos, out_left = capacity - out_pos;
        zs.next_in = (Bytef *)(uintptr_t)(src + in_pos);
        zs.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
        zs.next_out = buf + out_pos;
        zs.avail_out = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
        uInt avail_in0 = zs.avail_in, avail_out0 = zs.avail_out;
        int rc = inflate(&zs, Z_NO_FLUSH);
        in_pos += avail_in0 - zs.avail_in;
        out_pos += avail_out0 - zs.avail_out;
        if (rc == Z_STREAM_END) {
            if (in_pos != n)
                st = qlite_error(QLITE_ERR_CORRUPT,
                                 "gzip: %zu bytes of trailing data after the compressed stream",
                                 n - in_pos);
            break;
        }
        if (rc == Z_MEM_ERROR) {
            st = qlite_error(QLITE_ERR_NO_MEMORY, "gzip: out of memory while inflating");
            break;
        }
        if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR) {
            st = qlite_error(QLITE_ERR_CORRUPT, "gzip: corrupt stream at compressed byte %zu: %s",
                             in_pos, zs.msg ? zs.msg : "invalid data");
            break;
        }
        if (in_pos == n && out_pos < capacity) {
            st = qlite_error(QLITE_ERR_CORRUPT, "gzip: stream truncated after %zu compressed bytes",
                             n);
            break;
        }
        if (avail_in0 == zs.avail_in && avail_out0 == zs.avail_out && out_pos < capacity) {
            st = qlite_error(QLITE_ERR_CORRUPT, "gzip: inflate made no progress at byte %zu",
                             in_pos);
            break;
        }
    }
    inflateEnd(&zs);
    if (st == QLITE_OK && out_pos == 0)
        st = qlite_error(QLITE_ERR_NOT_QLITE, "gzip: the stream inflates to 0 bytes");
    if (st != QLITE_OK) {
        qlite_aligned_free(buf);
        return st;
    }
    *out = buf;
    *out_size = out_pos;
    return QLITE_OK;
}

void qlite_model_close(qlite_model *model) {
    if (!model) return;
    if (model->map) munmap(model->map, model->map_size);
    qlite_aligned_free(model->owned);
    qlite_arena_free(&model->arena);
    free(model);
}

/* Shared tail of every open: gzip, decode, validate, optional crc check. */
static qlite_status finish_open(qlite_model *m, uint32_t flags, const qlite_open_limits *limits) {
    if (m->size == 0) return qlite_error(QLITE_ERR_NOT_QLITE, "not a qlite file: it is empty");
    if (is_gzip(m->bytes, m->size)) {
        uint64_t cap = limits && limits->gzip_max_bytes ? limits->gzip_max_bytes
                                                         : QLITE_GZIP_MAX_BYTES;
        uint8_t *inflated = NULL;
        size_t n = 0;
        qlite_status st = inflate_gzip(m->bytes, m->size, cap, &inflated, &n);
        if (st) return st;
        /* The compressed bytes are no longer needed. */
        if (m->map) munmap(m->map, m->map_size);
        qlite_aligned_free(m->owned);
        m->map = NULL;
        m->owned = inflated;
        m->bytes = inflated;
        m->size = n;
        m->compressed = true;
    }
    qlite_status st = qlite_model_decode(m, limits);
    if (st) return st;
    st = qlite_model_validate(m);
    if (st) return st;
    if (flags & QLITE_OPEN_VERIFY_CRC) {
        /* Reading every byte: undo validation's MADV_RANDOM so the kernel
         * reads ahead (cold 100 MiB: 1.8 s page by page -> disk speed). */
        if (m->map) madvise(m->map, m->map_size, MADV_SEQUENTIAL);
        return qlite_model_verify_checksums(m);
    }
    return QLITE_OK;
}

#define KNOWN_FLAGS (QLITE_OPEN_VERIFY_CRC | QLITE_OPEN_READ | QLITE_OPEN_POPULATE)

qlite_status qlite_model_open_memory_ex(const void *data, size_t size, uint32_t flags,
                                        const qlite_open_limits *limits, qlite_model **out) {
    if (!out) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "open: out is NULL");
    *out = NULL;
    if (!data && size) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "open: data is NULL");
    if (flags & ~KNOWN_FLAGS)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "open: unknown flags 0x%x",
                           flags & ~KNOWN_FLAGS);
    qlite_model *m = calloc(1, sizeof *m);
    if (!m) return qlite_error(QLITE_ERR_NO_MEMORY, "open: out of memory");
    m->bytes = data;
    m->size = size;
    qlite_status st = finish_open(m, flags, limits);
    if (st) {
        qlite_model_close(m);
        return st;
    }
    *out = m;
    return QLITE_OK;
}

qlite_status qlite_model_open_memory(const void *data, size_t size, uint32_t flags,
                                     qlite_model **out) {
    return qlite_model_open_memory_ex(data, size, flags, NULL, out);
}

/* Rewrites this thread's last error as "<path>: <message>". */
static qlite_status with_path(qlite_status st, const char *path) {
    char msg[QLITE_ERROR_MAX];
    snprintf(msg, sizeof msg, "%s", qlite_last_error());
    return qlite_error(st, "%s: %s", path, msg);
}

static qlite_status read_all(int fd, uint8_t *dst, size_t size, const char *path) {
    size_t done = 0;
    while (done < size) {
        size_t want = size - done > (1u << 30) ? (1u << 30) : size - done;
        ssize_t r = pread(fd, dst + done, want, (off_t)done);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            return qlite_error(QLITE_ERR_IO, "%s: read failed at byte %zu: %s", path, done,
                               strerror(errno));
        if (r == 0)
            return qlite_error(QLITE_ERR_IO, "%s: file shrank while reading (%zu of %zu bytes)",
                               path, done, size);
        done += (size_t)r;
    }
    return QLITE_OK;
}

qlite_status qlite_model_open(const char *path, uint32_t flags, qlite_model **out) {
    if (!out) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "open: out is NULL");
    *out = NULL;
    if (!path) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "open: path is NULL");
    if (flags & ~KNOWN_FLAGS)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "open: unknown flags 0x%x",
                           flags & ~KNOWN_FLAGS);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return qlite_error(QLITE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return qlite_error(QLITE_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return qlite_error(QLITE_ERR_IO, "%s: not a regular file", path);
    }
    if (sb.st_size == 0) {
        close(fd);
        return qlite_error(QLITE_ERR_NOT_QLITE, "%s: not a qlite file: it is empty", path);
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        close(fd);
        return qlite_error(QLITE_ERR_NO_MEMORY, "%s: %lld bytes do not fit the address space",
                           path, (long long)sb.st_size);
    }
    size_t size = (size_t)sb.st_size;
    qlite_model *m = calloc(1, sizeof *m);
    if (!m) {
        close(fd);
        return qlite_error(QLITE_ERR_NO_MEMORY, "open: out of memory");
    }
    qlite_status st = QLITE_OK;
    if (flags & QLITE_OPEN_READ) {
        m->owned = qlite_aligned_alloc(size);
        if (!m->owned)
            st = qlite_error(QLITE_ERR_NO_MEMORY, "%s: cannot allocate %zu bytes", path, size);
        else
            st = read_all(fd, m->owned, size, path);
        m->bytes = m->owned;
    } else {
        int mflags = MAP_PRIVATE;
#ifdef MAP_POPULATE
        if (flags & QLITE_OPEN_POPULATE) mflags |= MAP_POPULATE;
#endif
        void *p = mmap(NULL, size, PROT_READ, mflags, fd, 0);
        if (p == MAP_FAILED) {
            st = qlite_error(QLITE_ERR_IO, "%s: mmap of %zu bytes failed: %s", path, size,
                             strerror(errno));
        } else {
            m->map = p;
            m->map_size = size;
            m->bytes = p;
            /* While validating, fault in only the pages actually read: the
             * default read-around (up to the device's read-ahead, often MiBs)
             * would read weights. Back to normal read-ahead afterwards. */
            if (!(flags & QLITE_OPEN_POPULATE)) madvise(p, size, MADV_RANDOM);
        }
    }
    close(fd);
    m->size = size;
    if (st == QLITE_OK) {
        st = finish_open(m, flags, NULL);
        if (st) st = with_path(st, path);
        if (m->map) madvise(m->map, m->map_size, MADV_NORMAL);
    }
    if (st) {
        qlite_model_close(m);
        return st;
    }
    *out = m;
    return QLITE_OK;
}

qlite_status qlite_model_verify_checksums(const qlite_model *model) {
    if (!model) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "verify: model is NULL");
    for (uint32_t i = 0; i < model->num_buffers; i++) {
        const qlite_buffer_info *b = &model->buffers[i];
        uint32_t crc = b->size ? qlite_crc32(b->data, b->size) : 0;
        if (crc != b->crc32)
            return qlite_error(QLITE_ERR_CHECKSUM,
                               "buffer %u (%llu bytes at offset %llu): crc32 is %08x, the file "
                               "says %08x",
                               i, (unsigned long long)b->size, (unsigned long long)b->offset,
                               crc, b->crc32);
    }
    return QLITE_OK;
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                 */
/* ------------------------------------------------------------------------ */

void qlite_model_version(const qlite_model *model, uint32_t *major, uint32_t *minor) {
    if (major) *major = model ? model->version_major : 0;
    if (minor) *minor = model ? model->version_minor : 0;
}

const char *qlite_model_producer(const qlite_model *model) {
    return model && model->producer ? model->producer : "";
}

const char *qlite_model_description(const qlite_model *model) {
    return model && model->description ? model->description : "";
}

const void *qlite_model_bytes(const qlite_model *model, size_t *size) {
    if (size) *size = model ? model->size : 0;
    return model ? model->bytes : NULL;
}

bool qlite_model_was_compressed(const qlite_model *model) { return model && model->compressed; }

uint32_t qlite_model_tensor_count(const qlite_model *model) {
    return model ? model->num_tensors : 0;
}

const qlite_tensor_info *qlite_model_tensor(const qlite_model *model, uint32_t index) {
    return model && index < model->num_tensors ? &model->tensors[index] : NULL;
}

int32_t qlite_model_find_tensor(const qlite_model *model, const char *name) {
    if (!model || !name) return -1;
    for (uint32_t i = 0; i < model->num_tensors; i++)
        if (strcmp(model->tensors[i].name, name) == 0) return (int32_t)i;
    return -1;
}

uint32_t qlite_model_op_count(const qlite_model *model) { return model ? model->num_ops : 0; }

const qlite_op_info *qlite_model_op(const qlite_model *model, uint32_t index) {
    return model && index < model->num_ops ? &model->ops[index] : NULL;
}

uint32_t qlite_model_input_count(const qlite_model *model) {
    return model ? model->num_inputs : 0;
}

int32_t qlite_model_input(const qlite_model *model, uint32_t index) {
    return model && index < model->num_inputs ? model->inputs[index] : -1;
}

uint32_t qlite_model_output_count(const qlite_model *model) {
    return model ? model->num_outputs : 0;
}

int32_t qlite_model_output(const qlite_model *model, uint32_t index) {
    return model && index < model->num_outputs ? model->outputs[index] : -1;
}

uint32_t qlite_model_buffer_count(const qlite_model *model) {
    return model ? model->num_buffers : 0;
}

qlite_status qlite_model_buffer(const qlite_model *model, uint32_t index, qlite_buffer_info *out) {
    if (!model || !out) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "buffer: NULL argument");
    if (index >= model->num_buffers)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "buffer %u out of range (%u buffers)",
                           index, model->num_buffers);
    *out = model->buffers[index];
    return QLITE_OK;
}

uint32_t qlite_model_metadata_count(const qlite_model *model) {
    return model ? model->num_metadata : 0;
}

const qlite_metadata *qlite_model_metadata(const qlite_model *model, uint32_t index) {
    return model && index < model->num_metadata ? &model->metadata[index] : NULL;
}

const char *qlite_model_metadata_get(const qlite_model *model, const char *key) {
    if (!model || !key) return NULL;
    for (uint32_t i = 0; i < model->num_metadata; i++)
        if (strcmp(model->metadata[i].key, key) == 0) return model->metadata[i].value;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Option defaults (schema/qlite.fbs)                                        */
/* ------------------------------------------------------------------------ */

void qlite_op_options_default(qlite_options_type type, qlite_op_options *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if ((unsigned)type >= QLITE_OPTIONS_COUNT) type = QLITE_OPTIONS_NONE;
    out->type = type;
    switch (type) {
    case QLITE_OPTIONS_CONV_2D:
        out->u.conv2d.stride_h = out->u.conv2d.stride_w = 1;
        out->u.conv2d.dilation_h = out->u.conv2d.dilation_w = 1;
        out->u.conv2d.groups = 1;
        break;
    case QLITE_OPTIONS_POOL_2D:
        out->u.pool2d.stride_h = out->u.pool2d.stride_w = 1;
        out->u.pool2d.dilation_h = out->u.pool2d.dilation_w = 1;
        break;
    case QLITE_OPTIONS_FULLY_CONNECTED:
        out->u.fully_connected.keep_num_dims = true;
        break;
    case QLITE_OPTIONS_ACTIVATION:
        out->u.activation.min = -FLT_MAX;
        out->u.activation.max = FLT_MAX;
        break;
    case QLITE_OPTIONS_SOFTMAX:
        out->u.softmax.axis = -1;
        out->u.softmax.beta = 1.0f;
        break;
    case QLITE_OPTIONS_REDUCE:
        out->u.reduce.keep_dims = true;
        break;
    case QLITE_OPTIONS_NORM:
        out->u.norm.axis = -1;
        out->u.norm.epsilon = 1e-5f;
        break;
    case QLITE_OPTIONS_RESIZE:
        out->u.resize.cubic_coeff_a = -0.75f;
        break;
    default:
        break;
    }
}
