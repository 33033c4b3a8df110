/*
 * npy.c — NumPy .npy / .npz reader and writer (format described in npy.h).
 *
 * Reading a .npy:
 *   1. check the magic and version, read the header length, check that the
 *      header lies inside the input and is not absurdly long;
 *   2. parse the header dict with a small strict tokenizer (exactly the keys
 *      descr / fortran_order / shape, each once; nothing but blanks after it);
 *   3. map descr to a qlite dtype, refuse fortran order / big-endian / others;
 *   4. multiply the dims with overflow checks and require exactly that many
 *      data bytes after the header;
 *   5. copy the data into a 64-byte aligned allocation.
 * Reading a .npz:
 *   1. find the end-of-central-directory record (and the zip64 one when the
 *      32-bit fields say so), check the central directory lies inside the file;
 *   2. walk the central directory entries, each bounds-checked, zip64 extra
 *      fields decoded; refuse encryption, multi-disk archives, other methods;
 *   3. for each member: check its local header against the central entry, find
 *      the data, inflate (raw deflate) or take it as stored, check size and
 *      crc32, and parse it as a .npy.
 */
#include "npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "qlite_internal.h"

/* Longest header accepted (numpy itself refuses more than 10000 bytes by default). */
#define NPY_MAX_HEADER (1u << 20)
#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6

/* ------------------------------------------------------------------------ */
/* dtypes                                                                    */
/* ------------------------------------------------------------------------ */

static const struct {
    char kind;       /* numpy kind character */
    unsigned size;   /* bytes */
    qlite_dtype dtype;
} dtype_map[] = {
    {'f', 4, QLITE_DTYPE_FLOAT32}, {'f', 2, QLITE_DTYPE_FLOAT16}, {'i', 1, QLITE_DTYPE_INT8},
    {'u', 1, QLITE_DTYPE_UINT8},   {'i', 2, QLITE_DTYPE_INT16},   {'i', 4, QLITE_DTYPE_INT32},
    {'i', 8, QLITE_DTYPE_INT64},   {'b', 1, QLITE_DTYPE_BOOL},
};

size_t qlite_npy_dtype_size(qlite_dtype dtype) {
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(dtype_map); i++)
        if (dtype_map[i].dtype == dtype) return dtype_map[i].size;
    return 0;
}

static qlite_status npy_descr(const char *where, const char *descr, qlite_dtype *out) {
    size_t n = strlen(descr);
    char order = n ? descr[0] : 0;
    if (n < 3 || n > 4 || !strchr("<>|=", order) || descr[2] < '1' || descr[2] > '9' ||
        (n == 4 && (descr[3] < '0' || descr[3] > '9')))
        return qlite_error(QLITE_ERR_UNSUPPORTED,
                           "%s: dtype '%s' is not supported (use float32, float16, int8, uint8, "
                           "int16, int32, int64 or bool)",
                           where, descr);
    unsigned size = (unsigned)atoi(descr + 2);
    char kind = descr[1];
    for (size_t i = 0; i < QLITE_ARRAY_SIZE(dtype_map); i++) {
        if (dtype_map[i].kind != kind || dtype_map[i].size != size) continue;
        if (order == '>' && size > 1)
            return qlite_error(QLITE_ERR_UNSUPPORTED,
                               "%s: dtype '%s' is big-endian; save it little-endian "
                               "(a.astype(a.dtype.newbyteorder('<')))",
                               where, descr);
        if (order == '=' && size > 1)
            return qlite_error(QLITE_ERR_CORRUPT,
                               "%s: dtype '%s' has native byte order, which a file cannot have",
                               where, descr);
        if (order == '|' && size > 1)
            return qlite_error(QLITE_ERR_CORRUPT, "%s: dtype '%s' needs a byte order", where,
                               descr);
        *out = dtype_map[i].dtype;
        return QLITE_OK;
    }
    const char *hint = "";
    if (kind == 'f' && size == 8) hint = " (float64: save with a.astype(np.float32))";
    if (kind == 'u' && size > 1) hint = " (unsigned: save as a signed type)";
    return qlite_error(QLITE_ERR_UNSUPPORTED,
                       "%s: dtype '%s' is not supported%s; qlite reads float32, float16, int8, "
                       "uint8, int16, int32, int64 and bool",
                       where, descr, hint);
}

static const char *npy_descr_of(qlite_dtype dtype) {
    switch (dtype) {
    case QLITE_DTYPE_FLOAT32: return "<f4";
    case QLITE_DTYPE_FLOAT16: return "<f2";
    case QLITE_DTYPE_INT8: return "|i1";
    case QLITE_DTYPE_UINT8: return "|u1";
    case QLITE_DTYPE_INT16: return "<i2";
    case QLITE_DTYPE_INT32: return "<i4";
    case QLITE_DTYPE_INT64: return "<i8";
    case QLITE_DTYPE_BOOL: return "|b1";
    default: return NULL;
    }
}

/* ------------------------------------------------------------------------ */
/* Header dict parser                                                        */
/* ------------------------------------------------------------------------ */

typedef struct hparse {
    const char *p, *end;
    const char *where;
} hparse;

static void hp_ws(hparse *h) {
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static qlite_status hp_fail(const hparse *h, const char *what) {
    return qlite_error(QLITE_ERR_CORRUPT, "%s: bad .npy header: %s", h->where, what);
}

/* A quoted string (' or "), no escapes (numpy never writes any here). */
static qlite_status hp_string(hparse *h, char *buf, size_t cap) {
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return hp_fail(h, "expected a string");
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\' || *h->p == '\n') return hp_fail(h, "unexpected character in a string");
        if (n + 1 >= cap) return hp_fail(h, "string too long");
        buf[n++] = *h->p++;
    }
    if (h->p >= h->end) return hp_fail(h, "unterminated string");
    h->p++;
    buf[n] = '\0';
    return QLITE_OK;
}

static bool hp_word(hparse *h, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(h->end - h->p) < n || memcmp(h->p, w, n) != 0) return false;
    h->p += n;
    return true;
}

static qlite_status hp_shape(hparse *h, uint32_t *rank, int64_t *dims) {
    if (h->p >= h->end || *h->p != '(') return hp_fail(h, "'shape' is not a tuple");
    h->p++;
    uint32_t r = 0;
    bool comma = false; /* a comma followed the last element */
    for (;;) {
        hp_ws(h);
        if (h->p < h->end && *h->p == ')') break;
        comma = false;
        if (h->p >= h->end || *h->p < '0' || *h->p > '9')
            return hp_fail(h, "'shape' holds something other than non-negative integers");
        uint64_t v = 0;
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            if (v > ((uint64_t)INT64_MAX - 9) / 10) return hp_fail(h, "a dimension overflows");
            v = v * 10 + (uint64_t)(*h->p++ - '0');
        }
        if (h->p < h->end && *h->p == 'L') h->p++; /* Python 2 long literal */
        if (r >= QLITE_MAX_RANK)
            return qlite_error(QLITE_ERR_UNSUPPORTED, "%s: rank above %d is not supported",
                               h->where, QLITE_MAX_RANK);
        dims[r++] = (int64_t)v;
        hp_ws(h);
        if (h->p < h->end && *h->p == ',') {
            h->p++;
            comma = true;
            continue;
        }
        if (h->p < h->end && *h->p == ')') break;
        return hp_fail(h, "'shape' tuple is malformed");
    }
    /* a one-element tuple needs its comma in Python: "(3)" is an int, not a tuple */
    if (r == 1 && !comma) return hp_fail(h, "'shape' is not a tuple");
    h->p++;
    *rank = r;
    return QLITE_OK;
}

typedef struct npy_header {
    qlite_dtype dtype;
    uint32_t rank;
    int64_t dims[QLITE_MAX_RANK];
    size_t data_bytes;
} npy_header;

static qlite_status parse_dict(const char *where, const char *text, size_t len, npy_header *out) {
    hparse h = {text, text + len, where};
    bool have_descr = false, have_fortran = false, have_shape = false, fortran = false;
    char descr[64], key[64];
    qlite_status st;
    hp_ws(&h);
    if (h.p >= h.end || *h.p != '{') return hp_fail(&h, "not a dict");
    h.p++;
    for (;;) {
        hp_ws(&h);
        if (h.p < h.end && *h.p == '}') break;
        if ((st = hp_string(&h, key, sizeof key)) != QLITE_OK) return st;
        hp_ws(&h);
        if (h.p >= h.end || *h.p != ':') return hp_fail(&h, "expected ':'");
        h.p++;
        hp_ws(&h);
        if (strcmp(key, "descr") == 0) {
            if (have_descr) return hp_fail(&h, "duplicate key 'descr'");
            have_descr = true;
            if (h.p < h.end && *h.p == '[')
                return qlite_error(QLITE_ERR_UNSUPPORTED,
                                   "%s: structured dtypes are not supported", where);
            if ((st = hp_string(&h, descr, sizeof descr)) != QLITE_OK) return st;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (have_fortran) return hp_fail(&h, "duplicate key 'fortran_order'");
            have_fortran = true;
            if (hp_word(&h, "True")) fortran = true;
            else if (hp_word(&h, "False")) fortran = false;
            else return hp_fail(&h, "'fortran_order' is not True or False");
        } else if (strcmp(key, "shape") == 0) {
            if (have_shape) return hp_fail(&h, "duplicate key 'shape'");
            have_shape = true;
            if ((st = hp_shape(&h, &out->rank, out->dims)) != QLITE_OK) return st;
        } else {
            return qlite_error(QLITE_ERR_CORRUPT, "%s: bad .npy header: unknown key '%s'", where,
                               key);
        }
        hp_ws(&h);
        if (h.p < h.end && *h.p == ',') {
            h.p++;
            continue;
        }
        if (h.p < h.end && *h.p == '}') break;
        return hp_fail(&h, "expected ',' or '}'");
    }
    h.p++;
    hp_ws(&h);
    if (h.p != h.end) return hp_fail(&h, "text after the dict");
    if (!have_descr || !have_fortran || !have_shape)
        return hp_fail(&h, !have_descr ? "no 'descr'" : !have_fortran ? "no 'fortran_order'"
                                                                      : "no 'shape'");
    if ((st = npy_descr(where, descr, &out->dtype)) != QLITE_OK) return st;
    if (fortran)
        return qlite_error(QLITE_ERR_UNSUPPORTED,
                           "%s: array is in Fortran order; save a C-ordered copy "
                           "(np.ascontiguousarray)",
                           where);
    uint64_t n = 1;
    for (uint32_t i = 0; i < out->rank; i++)
        if (qlite_mul_overflow_u64(n, (uint64_t)out->dims[i], &n))
            return qlite_error(QLITE_ERR_CORRUPT, "%s: element count overflows", where);
    uint64_t bytes;
    if (qlite_mul_overflow_u64(n, qlite_npy_dtype_size(out->dtype), &bytes) ||
        bytes > QLITE_NPY_MAX_BYTES)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: array of %llu elements is too large", where,
                           (unsigned long long)n);
    out->data_bytes = (size_t)bytes;
    return QLITE_OK;
}

/*
 * Parses the preamble + header of `in` (size bytes available; may be only a
 * prefix of the file). Sets *header_end to the data offset. Returns
 * QLITE_ERR_CORRUPT for a truncated prefix as well.
 */
static qlite_status parse_preamble(const char *where, const uint8_t *in, size_t size,
                                   npy_header *hdr, size_t *header_end) {
    if (size < 10)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: %zu bytes is too short for a .npy file", where,
                           size);
    if (memcmp(in, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: not a .npy file (no \\x93NUMPY magic)", where);
    uint8_t major = in[6], minor = in[7];
    if (major < 1 || major > 3 || minor != 0)
        return qlite_error(QLITE_ERR_UNSUPPORTED, "%s: .npy version %u.%u is not supported", where,
                           major, minor);
    size_t prefix = major == 1 ? 10 : 12;
    if (size < prefix)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: truncated .npy preamble", where);
    uint32_t hlen = major == 1 ? (uint32_t)in[8] | (uint32_t)in[9] << 8
                               : (uint32_t)in[8] | (uint32_t)in[9] << 8 |
                                     (uint32_t)in[10] << 16 | (uint32_t)in[11] << 24;
    if (hlen > NPY_MAX_HEADER)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: .npy header length %u is too large", where,
                           hlen);
    if (size - prefix < hlen)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s: truncated .npy header (%u bytes declared, %zu present)", where,
                           hlen, size - prefix);
    memset(hdr, 0, sizeof *hdr);
    qlite_status st = parse_dict(where, (const char *)in + prefix, hlen, hdr);
    if (st != QLITE_OK) return st;
    *header_end = prefix + hlen;
    return QLITE_OK;
}

static void fill_array(qlite_npy_array *out, const npy_header *h) {
    memset(out, 0, sizeof *out);
    out->dtype = h->dtype;
    out->rank = h->rank;
    memcpy(out->dims, h->dims, sizeof out->dims);
    out->bytes = h->data_bytes;
}

static qlite_status npy_parse(const char *where, const uint8_t *in, size_t size,
                              qlite_npy_array *out) {
    npy_header h;
    size_t off = 0;
    qlite_status st = parse_preamble(where, in, size, &h, &off);
    if (st != QLITE_OK) return st;
    if (size - off != h.data_bytes)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s: .npy data is %zu bytes but the header's shape and dtype need %zu",
                           where, size - off, h.data_bytes);
    fill_array(out, &h);
    if (h.data_bytes) {
        out->data = qlite_aligned_alloc(h.data_bytes);
        if (!out->data) return qlite_error(QLITE_ERR_NO_MEMORY, "%s: out of memory", where);
        memcpy(out->data, in + off, h.data_bytes);
    }
    return QLITE_OK;
}

qlite_status qlite_npy_read_memory(const void *data, size_t size, qlite_npy_array *out) {
    if (!out) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npy: NULL output");
    memset(out, 0, sizeof *out);
    if (!data && size) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npy: NULL input");
    qlite_status st = npy_parse("npy", data, size, out);
    if (st != QLITE_OK) {
        qlite_npy_free(out);
        memset(out, 0, sizeof *out);
    }
    return st;
}

void qlite_npy_free(qlite_npy_array *a) {
    if (!a) return;
    free(a->name);
    qlite_aligned_free(a->data);
    a->name = NULL;
    a->data = NULL;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                     */
/* ------------------------------------------------------------------------ */

/* A whole file, mapped when it is a regular file, read otherwise. */
typedef struct file_image {
    const uint8_t *data;
    size_t size;
    bool mapped;
} file_image;

static qlite_status image_open(const char *path, file_image *img) {
    memset(img, 0, sizeof *img);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return qlite_error(QLITE_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat s;
    if (fstat(fd, &s) != 0) {
        int e = errno;
        close(fd);
        return qlite_error(QLITE_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(s.st_mode)) {
        close(fd);
        return qlite_error(QLITE_ERR_IO, "%s: is a directory", path);
    }
    if (S_ISREG(s.st_mode)) {
        if ((uint64_t)s.st_size > QLITE_NPY_MAX_BYTES + NPY_MAX_HEADER + 12) {
            close(fd);
            return qlite_error(QLITE_ERR_UNSUPPORTED, "%s: file of %lld bytes is too large", path,
                               (long long)s.st_size);
        }
        img->size = (size_t)s.st_size;
        if (img->size == 0) {
            close(fd);
            return qlite_error(QLITE_ERR_CORRUPT, "%s: empty file", path);
        }
        void *p = mmap(NULL, img->size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        if (p == MAP_FAILED) return qlite_error(QLITE_ERR_IO, "%s: mmap: %s", path, strerror(errno));
        img->data = p;
        img->mapped = true;
        return QLITE_OK;
    }
    /* a pipe or device: read to the end */
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            close(fd);
            return qlite_error(QLITE_ERR_NO_MEMORY, "%s: out of memory", path);
        }
        if (n == cap) {
            if (cap > QLITE_NPY_MAX_BYTES) {
                free(buf);
                close(fd);
                return qlite_error(QLITE_ERR_UNSUPPORTED, "%s: input is too large", path);
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) free(buf);
            buf = nb;
            cap *= 2;
            continue;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return qlite_error(QLITE_ERR_IO, "%s: read: %s", path, strerror(e));
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    img->data = buf;
    img->size = n;
    return QLITE_OK;
}

static void image_close(file_image *img) {
    if (img->mapped) munmap((void *)img->data, img->size);
    else free((void *)img->data);
    memset(img, 0, sizeof *img);
}

qlite_status qlite_npy_read_file(const char *path, qlite_npy_array *out) {
    if (!out || !path) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npy: NULL argument");
    memset(out, 0, sizeof *out);
    file_image img;
    qlite_status st = image_open(path, &img);
    if (st != QLITE_OK) return st;
    st = npy_parse(path, img.data, img.size, out);
    image_close(&img);
    if (st != QLITE_OK) {
        qlite_npy_free(out);
        memset(out, 0, sizeof *out);
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* .npz (zip)                                                                */
/* ------------------------------------------------------------------------ */

#define ZIP_LOCAL_SIG 0x04034b50u
#define ZIP_CENTRAL_SIG 0x02014b50u
#define ZIP_EOCD_SIG 0x06054b50u
#define ZIP64_EOCD_SIG 0x06064b50u
#define ZIP64_LOCATOR_SIG 0x07064b50u
#define ZIP_LOCAL_LEN 30
#define ZIP_CENTRAL_LEN 46
#define ZIP_EOCD_LEN 22
#define ZIP64_EOCD_LEN 56
#define ZIP64_LOCATOR_LEN 20

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

typedef struct zip_entry {
    const uint8_t *name;
    uint16_t name_len;
    uint16_t flags, method;
    uint32_t crc;
    uint64_t csize, usize, local_offset;
} zip_entry;

/* Step 1: the end-of-central-directory record(s). */
static qlite_status zip_find_cd(const char *where, const uint8_t *in, size_t size,
                                uint64_t *cd_offset, uint64_t *cd_size, uint64_t *entries) {
    if (size < ZIP_EOCD_LEN)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: %zu bytes is too short for a .npz file", where,
                           size);
    /* the record is 22 bytes + a comment of up to 65535 bytes, at the very end */
    size_t eocd = SIZE_MAX;
    size_t lowest = size - ZIP_EOCD_LEN > 65535 ? size - ZIP_EOCD_LEN - 65535 : 0;
    for (size_t p = size - ZIP_EOCD_LEN + 1; p-- > lowest;) {
        if (rd32(in + p) == ZIP_EOCD_SIG && p + ZIP_EOCD_LEN + rd16(in + p + 20) == size) {
            eocd = p;
            break;
        }
    }
    if (eocd == SIZE_MAX)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s: not a zip/.npz file (no end-of-central-directory record)", where);
    const uint8_t *e = in + eocd;
    if (rd16(e + 4) != 0 || rd16(e + 6) != 0 || rd16(e + 8) != rd16(e + 10))
        return qlite_error(QLITE_ERR_UNSUPPORTED, "%s: multi-disk zip archives are not supported",
                           where);
    *entries = rd16(e + 10);
    *cd_size = rd32(e + 12);
    *cd_offset = rd32(e + 16);
    size_t cd_limit = eocd;
    if (*entries == 0xFFFF || *cd_size == 0xFFFFFFFFu || *cd_offset == 0xFFFFFFFFu) {
        if (eocd < ZIP64_LOCATOR_LEN || rd32(in + eocd - ZIP64_LOCATOR_LEN) != ZIP64_LOCATOR_SIG)
            goto plain; /* genuine 0xFFFF values without zip64 records */
        const uint8_t *l = in + eocd - ZIP64_LOCATOR_LEN;
        uint64_t z = rd64(l + 8);
        if (rd32(l + 4) != 0 || rd32(l + 16) > 1)
            return qlite_error(QLITE_ERR_UNSUPPORTED,
                               "%s: multi-disk zip archives are not supported", where);
        if (z > eocd - ZIP64_LOCATOR_LEN || eocd - ZIP64_LOCATOR_LEN - z < ZIP64_EOCD_LEN ||
            rd32(in + z) != ZIP64_EOCD_SIG)
            return qlite_error(QLITE_ERR_CORRUPT, "%s: bad zip64 end-of-central-directory offset",
                               where);
        const uint8_t *r = in + z;
        if (rd32(r + 16) != 0 || rd32(r + 20) != 0 || rd64(r + 24) != rd64(r + 32))
            return qlite_error(QLITE_ERR_UNSUPPORTED,
                               "%s: multi-disk zip archives are not supported", where);
        *entries = rd64(r + 32);
        *cd_size = rd64(r + 40);
        *cd_offset = rd64(r + 48);
        cd_limit = (size_t)z;
    }
plain:
    if (*cd_offset > cd_limit || *cd_size > cd_limit - *cd_offset)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s: central directory (offset %llu, %llu bytes) lies outside the file",
                           where, (unsigned long long)*cd_offset, (unsigned long long)*cd_size);
    if (*entries > *cd_size / ZIP_CENTRAL_LEN)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s: %llu entries cannot fit a %llu-byte central directory", where,
                           (unsigned long long)*entries, (unsigned long long)*cd_size);
    return QLITE_OK;
}

/* Step 2: one central directory entry at *pos (advanced past it). */
static qlite_status zip_entry_parse(const char *where, const uint8_t *cd, size_t cd_size,
                                    size_t *pos, zip_entry *z) {
    size_t p = *pos;
    if (cd_size - p < ZIP_CENTRAL_LEN || rd32(cd + p) != ZIP_CENTRAL_SIG)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: bad central directory entry at byte %zu", where,
                           p);
    const uint8_t *c = cd + p;
    memset(z, 0, sizeof *z);
    z->flags = rd16(c + 8);
    z->method = rd16(c + 10);
    z->crc = rd32(c + 16);
    z->csize = rd32(c + 20);
    z->usize = rd32(c + 24);
    z->name_len = rd16(c + 28);
    uint16_t extra_len = rd16(c + 30), comment_len = rd16(c + 32), disk = rd16(c + 34);
    z->local_offset = rd32(c + 42);
    size_t var = (size_t)z->name_len + extra_len + comment_len;
    if (cd_size - p - ZIP_CENTRAL_LEN < var)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: central directory entry at byte %zu overruns",
                           where, p);
    z->name = c + ZIP_CENTRAL_LEN;
    /* zip64 extended information: the 0xFFFFFFFF fields, in this order */
    const uint8_t *x = z->name + z->name_len, *xe = x + extra_len;
    bool need_u = z->usize == 0xFFFFFFFFu, need_c = z->csize == 0xFFFFFFFFu,
         need_o = z->local_offset == 0xFFFFFFFFu, need_d = disk == 0xFFFF;
    while (xe - x >= 4) {
        uint16_t id = rd16(x), len = rd16(x + 2);
        if ((size_t)(xe - x - 4) < len)
            return qlite_error(QLITE_ERR_CORRUPT, "%s: bad extra field in entry at byte %zu",
                               where, p);
        if (id == 0x0001) {
            const uint8_t *f = x + 4, *fe = f + len;
            if (need_u) { if (fe - f < 8) goto bad64; z->usize = rd64(f); f += 8; need_u = false; }
            if (need_c) { if (fe - f < 8) goto bad64; z->csize = rd64(f); f += 8; need_c = false; }
            if (need_o) { if (fe - f < 8) goto bad64; z->local_offset = rd64(f); f += 8; need_o = false; }
            if (need_d) { if (fe - f < 4) goto bad64; disk = (uint16_t)(rd32(f) ? 1 : 0); need_d = false; }
        }
        x += 4 + len;
    }
    if (need_u || need_c || need_o || need_d) goto bad64;
    if (disk != 0)
        return qlite_error(QLITE_ERR_UNSUPPORTED, "%s: multi-disk zip archives are not supported",
                           where);
    *pos = p + ZIP_CENTRAL_LEN + var;
    return QLITE_OK;
bad64:
    return qlite_error(QLITE_ERR_CORRUPT, "%s: missing or short zip64 field in entry at byte %zu",
                       where, p);
}

/* Inflates raw deflate `in` into exactly `usize` bytes at out. */
static qlite_status zip_inflate(const char *where, const uint8_t *in, uint64_t csize,
                                uint8_t *out, uint64_t usize) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
        return qlite_error(QLITE_ERR_NO_MEMORY, "%s: inflateInit failed", where);
    uint64_t in_left = csize, out_left = usize;
    int r = Z_OK;
    zs.next_in = (Bytef *)in;
    zs.next_out = out;
    do {
        if (zs.avail_in == 0 && in_left) {
            zs.avail_in = in_left > 0x40000000u ? 0x40000000u : (uInt)in_left;
            in_left -= zs.avail_in;
        }
        if (zs.avail_out == 0 && out_left) {
            zs.avail_out = out_left > 0x40000000u ? 0x40000000u : (uInt)out_left;
            out_left -= zs.avail_out;
        }
        uInt before_in = zs.avail_in, before_out = zs.avail_out;
        r = inflate(&zs, Z_NO_FLUSH);
        if (r == Z_BUF_ERROR && zs.avail_in == before_in && zs.avail_out == before_out) break;
    } while (r == Z_OK || r == Z_BUF_ERROR);
    uint64_t produced = usize - out_left - zs.avail_out;
    const char *msg = zs.msg;
    inflateEnd(&zs);
    if (r != Z_STREAM_END)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: deflate data is corrupt (%s)", where,
                           r == Z_BUF_ERROR ? "truncated or larger than declared"
                           : msg            ? msg
                                            : "inflate error");
    if (produced != usize)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s: inflated to %llu bytes but the archive declares %llu", where,
                           (unsigned long long)produced, (unsigned long long)usize);
    return QLITE_OK;
}

/* Step 3: one member -> one array. */
static qlite_status zip_member(const char *archive, const uint8_t *in, size_t size,
                               const zip_entry *z, qlite_npy_array *out) {
    char where[320];
    snprintf(where, sizeof where, "%s: member '%.*s'", archive, (int)z->name_len,
             (const char *)z->name);
    if (z->flags & 1)
        return qlite_error(QLITE_ERR_UNSUPPORTED, "%s is encrypted", where);
    if (z->method != 0 && z->method != 8)
        return qlite_error(QLITE_ERR_UNSUPPORTED,
                           "%s uses compression method %u (only stored and deflate)", where,
                           z->method);
    if (z->name_len < 5 || memcmp(z->name + z->name_len - 4, ".npy", 4) != 0)
        return qlite_error(QLITE_ERR_UNSUPPORTED, "%s is not a .npy array", where);
    if (memchr(z->name, 0, z->name_len))
        return qlite_error(QLITE_ERR_CORRUPT, "%s has a NUL in its name", where);
    if (z->local_offset > size || size - z->local_offset < ZIP_LOCAL_LEN ||
        rd32(in + z->local_offset) != ZIP_LOCAL_SIG)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: bad local header offset %llu", where,
                           (unsigned long long)z->local_offset);
    const uint8_t *l = in + z->local_offset;
    uint16_t lname = rd16(l + 26), lextra = rd16(l + 28);
    if (rd16(l + 8) != z->method || lname != z->name_len ||
        size - z->local_offset - ZIP_LOCAL_LEN < (size_t)lname + lextra ||
        memcmp(l + ZIP_LOCAL_LEN, z->name, lname) != 0)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s: local header does not match the central directory", where);
    uint64_t data_off = z->local_offset + ZIP_LOCAL_LEN + lname + lextra;
    if (z->csize > size - data_off)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: %llu data bytes run past the end of the file",
                           where, (unsigned long long)z->csize);
    if (z->usize > QLITE_NPY_MAX_BYTES + NPY_MAX_HEADER + 12)
        return qlite_error(QLITE_ERR_UNSUPPORTED, "%s: %llu bytes is too large", where,
                           (unsigned long long)z->usize);
    /* deflate cannot expand by more than about 1032:1; a larger claim is a lie
     * (and would make us allocate for a zip bomb) */
    if (z->method == 8 && z->usize / 1032 > z->csize + 1)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s declares %llu bytes, more than %llu deflated bytes can hold", where,
                           (unsigned long long)z->usize, (unsigned long long)z->csize);
    const uint8_t *data = in + data_off;
    qlite_status st;
    if (z->method == 0) {
        if (z->csize != z->usize)
            return qlite_error(QLITE_ERR_CORRUPT,
                               "%s: stored member has compressed size %llu != size %llu", where,
                               (unsigned long long)z->csize, (unsigned long long)z->usize);
        if ((uint32_t)crc32_z(0L, data, (z_size_t)z->usize) != z->crc)
            return qlite_error(QLITE_ERR_CORRUPT, "%s: crc32 mismatch", where);
        st = npy_parse(where, data, (size_t)z->usize, out);
    } else {
        /* Inflate into one aligned block, parse its header, then slide the
         * data to the block's start: one allocation per member, no copy. */
        uint8_t *buf = qlite_aligned_alloc(z->usize ? (size_t)z->usize : 1);
        if (!buf) return qlite_error(QLITE_ERR_NO_MEMORY, "%s: out of memory", where);
        st = zip_inflate(where, data, z->csize, buf, z->usize);
        if (st == QLITE_OK && (uint32_t)crc32_z(0L, buf, (z_size_t)z->usize) != z->crc)
            st = qlite_error(QLITE_ERR_CORRUPT, "%s: crc32 mismatch", where);
        npy_header h;
        size_t off = 0;
        if (st == QLITE_OK) st = parse_preamble(where, buf, (size_t)z->usize, &h, &off);
        if (st == QLITE_OK && z->usize - off != h.data_bytes)
            st = qlite_error(QLITE_ERR_CORRUPT,
                             "%s: .npy data is %llu bytes but the header's shape and dtype need "
                             "%zu",
                             where, (unsigned long long)(z->usize - off), h.data_bytes);
        if (st != QLITE_OK) {
            qlite_aligned_free(buf);
            return st;
        }
        fill_array(out, &h);
        if (h.data_bytes) {
            memmove(buf, buf + off, h.data_bytes);
            out->data = buf;
        } else {
            qlite_aligned_free(buf);
        }
    }
    if (st != QLITE_OK) return st;
    out->name = malloc((size_t)z->name_len - 3);
    if (!out->name) return qlite_error(QLITE_ERR_NO_MEMORY, "%s: out of memory", where);
    memcpy(out->name, z->name, (size_t)z->name_len - 4);
    out->name[z->name_len - 4] = '\0';
    return QLITE_OK;
}

static qlite_status npz_parse(const char *where, const uint8_t *in, size_t size, qlite_npz *out) {
    uint64_t cd_off = 0, cd_size = 0, entries = 0;
    qlite_status st = zip_find_cd(where, in, size, &cd_off, &cd_size, &entries);
    if (st != QLITE_OK) return st;
    if (entries == 0) return qlite_error(QLITE_ERR_CORRUPT, "%s: the archive has no arrays", where);
    if (entries > UINT32_MAX) return qlite_error(QLITE_ERR_CORRUPT, "%s: too many arrays", where);
    out->arrays = calloc((size_t)entries, sizeof *out->arrays);
    if (!out->arrays) return qlite_error(QLITE_ERR_NO_MEMORY, "%s: out of memory", where);
    const uint8_t *cd = in + cd_off;
    size_t pos = 0;
    for (uint64_t i = 0; i < entries; i++) {
        zip_entry z;
        if ((st = zip_entry_parse(where, cd, (size_t)cd_size, &pos, &z)) != QLITE_OK) return st;
        if ((st = zip_member(where, in, size, &z, &out->arrays[i])) != QLITE_OK) {
            qlite_npy_free(&out->arrays[i]); /* a half-built member */
            return st;
        }
        out->count = (uint32_t)i + 1;
        for (uint64_t j = 0; j < i; j++)
            if (strcmp(out->arrays[j].name, out->arrays[i].name) == 0)
                return qlite_error(QLITE_ERR_CORRUPT, "%s: two arrays are named '%s'", where,
                                   out->arrays[i].name);
    }
    return QLITE_OK;
}

qlite_status qlite_npz_read_memory(const void *data, size_t size, qlite_npz *out) {
    if (!out) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npz: NULL output");
    memset(out, 0, sizeof *out);
    if (!data && size) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npz: NULL input");
    qlite_status st = npz_parse("npz", data, size, out);
    if (st != QLITE_OK) qlite_npz_free(out);
    return st;
}

qlite_status qlite_npz_read_file(const char *path, qlite_npz *out) {
    if (!out || !path) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npz: NULL argument");
    memset(out, 0, sizeof *out);
    file_image img;
    qlite_status st = image_open(path, &img);
    if (st != QLITE_OK) return st;
    st = npz_parse(path, img.data, img.size, out);
    image_close(&img);
    if (st != QLITE_OK) qlite_npz_free(out);
    return st;
}

void qlite_npz_free(qlite_npz *npz) {
    if (!npz) return;
    for (uint32_t i = 0; npz->arrays && i < npz->count; i++) qlite_npy_free(&npz->arrays[i]);
    free(npz->arrays);
    npz->arrays = NULL;
    npz->count = 0;
}

qlite_status qlite_npy_load(const char *path, qlite_npz *out) {
    if (!out || !path) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npy: NULL argument");
    memset(out, 0, sizeof *out);
    file_image img;
    qlite_status st = image_open(path, &img);
    if (st != QLITE_OK) return st;
    if (img.size >= 4 && rd32(img.data) == ZIP_LOCAL_SIG) {
        st = npz_parse(path, img.data, img.size, out);
    } else if (img.size >= 4 && rd32(img.data) == ZIP_EOCD_SIG) {
        st = qlite_error(QLITE_ERR_CORRUPT, "%s: the archive has no arrays", path);
    } else {
        out->arrays = calloc(1, sizeof *out->arrays);
        if (!out->arrays) st = qlite_error(QLITE_ERR_NO_MEMORY, "%s: out of memory", path);
        else st = npy_parse(path, img.data, img.size, &out->arrays[0]);
        if (st == QLITE_OK) out->count = 1;
    }
    image_close(&img);
    if (st != QLITE_OK) qlite_npz_free(out);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Writers                                                                   */
/* ------------------------------------------------------------------------ */

/* Builds the version 1.0 preamble + header, padded so the data starts at a
 * multiple of 64 (what numpy writes). Returns its length, 0 on error. */
static size_t npy_header_text(const qlite_npy_array *a, char *buf, size_t cap) {
    const char *descr = npy_descr_of(a->dtype);
    char shape[QLITE_MAX_RANK * 24 + 8];
    size_t n = 0;
    shape[n++] = '(';
    for (uint32_t i = 0; i < a->rank; i++)
        n += (size_t)snprintf(shape + n, sizeof shape - n, i ? ", %lld" : "%lld",
                              (long long)a->dims[i]);
    if (a->rank == 1) shape[n++] = ',';
    shape[n++] = ')';
    shape[n] = '\0';
    int len = snprintf(buf + 10, cap - 10, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                       descr, shape);
    if (len < 0 || (size_t)len + 10 + 64 >= cap) return 0;
    size_t total = 10 + (size_t)len + 1;
    size_t padded = (total + 63) & ~(size_t)63;
    memset(buf + 10 + len, ' ', padded - total);
    buf[padded - 1] = '\n';
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (char)((padded - 10) & 0xff);
    buf[9] = (char)((padded - 10) >> 8);
    return padded;
}

static qlite_status check_array(const char *where, const qlite_npy_array *a) {
    if (!a) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "%s: NULL array", where);
    if (!npy_descr_of(a->dtype))
        return qlite_error(QLITE_ERR_UNSUPPORTED, "%s: dtype %s cannot be written to .npy", where,
                           qlite_dtype_name(a->dtype));
    if (a->rank > QLITE_MAX_RANK)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "%s: rank %u", where, a->rank);
    uint64_t n = 1;
    for (uint32_t i = 0; i < a->rank; i++)
        if (a->dims[i] < 0 || qlite_mul_overflow_u64(n, (uint64_t)a->dims[i], &n))
            return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "%s: bad dim %u", where, i);
    uint64_t bytes;
    if (qlite_mul_overflow_u64(n, qlite_npy_dtype_size(a->dtype), &bytes) || bytes != a->bytes)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT,
                           "%s: %zu data bytes do not match the shape and dtype", where, a->bytes);
    if (a->bytes && !a->data)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "%s: NULL data", where);
    return QLITE_OK;
}

qlite_status qlite_npy_write_memory(const qlite_npy_array *a, void **out, size_t *size) {
    if (!out || !size) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npy: NULL output");
    *out = NULL;
    *size = 0;
    qlite_status st = check_array("npy", a);
    if (st != QLITE_OK) return st;
    char hdr[512];
    size_t hlen = npy_header_text(a, hdr, sizeof hdr);
    if (!hlen || a->bytes > SIZE_MAX - hlen)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npy: header too long");
    uint8_t *buf = malloc(hlen + a->bytes);
    if (!buf) return qlite_error(QLITE_ERR_NO_MEMORY, "npy: out of memory");
    memcpy(buf, hdr, hlen);
    if (a->bytes) memcpy(buf + hlen, a->data, a->bytes);
    *out = buf;
    *size = hlen + a->bytes;
    return QLITE_OK;
}

/* Temporary file beside path, fsync, rename over path. */
static qlite_status write_atomic(const char *path, const void *data, size_t size) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) return qlite_error(QLITE_ERR_NO_MEMORY, "%s: out of memory", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return qlite_error(QLITE_ERR_IO, "%s: cannot create: %s", path, strerror(e));
    }
    const uint8_t *p = data;
    size_t left = size;
    int err = 0;
    while (left && !err) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) err = w < 0 ? errno : EIO;
        else {
            p += w;
            left -= (size_t)w;
        }
    }
    if (!err && fchmod(fd, 0644) != 0) err = errno;
    if (!err && fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && !err) err = errno;
    if (!err && rename(tmp, path) != 0) err = errno;
    if (err) unlink(tmp);
    free(tmp);
    if (err) return qlite_error(QLITE_ERR_IO, "%s: write failed: %s", path, strerror(err));
    return QLITE_OK;
}

qlite_status qlite_npy_write_file(const char *path, const qlite_npy_array *a) {
    if (!path) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npy: NULL path");
    void *buf;
    size_t size;
    qlite_status st = qlite_npy_write_memory(a, &buf, &size);
    if (st != QLITE_OK) return st;
    st = write_atomic(path, buf, size);
    free(buf);
    return st;
}

static void wr16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void wr32(uint8_t *p, uint32_t v) {
    wr16(p, v & 0xffff);
    wr16(p + 2, v >> 16);
}

qlite_status qlite_npz_write_memory(uint32_t count, const qlite_npy_array *arrays, void **out,
                                    size_t *size) {
    if (!out || !size || (count && !arrays))
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npz: NULL argument");
    *out = NULL;
    *size = 0;
    if (count == 0 || count > 0xFFFE)
        return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npz: %u arrays (1..65534)", count);
    /* pass 1: sizes and checks */
    uint64_t total = ZIP_EOCD_LEN;
    for (uint32_t i = 0; i < count; i++) {
        const qlite_npy_array *a = &arrays[i];
        qlite_status st = check_array("npz", a);
        if (st != QLITE_OK) return st;
        size_t nl = a->name ? strlen(a->name) : 0;
        if (nl == 0 || nl > 1000)
            return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npz: array %u needs a name (1..1000)",
                               i);
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(arrays[j].name, a->name) == 0)
                return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npz: two arrays named '%s'",
                                   a->name);
        char hdr[512];
        uint64_t member = npy_header_text(a, hdr, sizeof hdr) + (uint64_t)a->bytes;
        total += ZIP_LOCAL_LEN + ZIP_CENTRAL_LEN + 2 * (nl + 4) + member;
        if (member >= 0xFFFFFFFFu || total >= 0xFFFFFFFFu)
            return qlite_error(QLITE_ERR_UNSUPPORTED,
                               "npz: the arrays exceed 4 GiB, which needs zip64 (not written)");
    }
    uint8_t *buf = malloc((size_t)total);
    if (!buf) return qlite_error(QLITE_ERR_NO_MEMORY, "npz: out of memory");
    /* pass 2: local headers + data, remembering what the central directory needs */
    uint32_t *info = malloc((size_t)count * 3 * sizeof *info); /* offset, size, crc */
    if (!info) {
        free(buf);
        return qlite_error(QLITE_ERR_NO_MEMORY, "npz: out of memory");
    }
    size_t pos = 0;
    for (uint32_t i = 0; i < count; i++) {
        const qlite_npy_array *a = &arrays[i];
        size_t nl = strlen(a->name) + 4;
        char hdr[512];
        size_t hl = npy_header_text(a, hdr, sizeof hdr);
        uint32_t msize = (uint32_t)(hl + a->bytes);
        uLong crc = crc32(0L, (const Bytef *)hdr, (uInt)hl);
        if (a->bytes) crc = crc32_z(crc, a->data, a->bytes);
        info[3 * i] = (uint32_t)pos;
        info[3 * i + 1] = msize;
        info[3 * i + 2] = (uint32_t)crc;
        uint8_t *l = buf + pos;
        memset(l, 0, ZIP_LOCAL_LEN);
        wr32(l, ZIP_LOCAL_SIG);
        wr16(l + 4, 20);        /* version needed: 2.0 */
        wr16(l + 12, 0x21);     /* 1980-01-01: reproducible output */
        wr32(l + 14, (uint32_t)crc);
        wr32(l + 18, msize);
        wr32(l + 22, msize);
        wr16(l + 26, (uint32_t)nl);
        pos += ZIP_LOCAL_LEN;
        memcpy(buf + pos, a->name, nl - 4);
        memcpy(buf + pos + nl - 4, ".npy", 4);
        pos += nl;
        memcpy(buf + pos, hdr, hl);
        pos += hl;
        if (a->bytes) memcpy(buf + pos, a->data, a->bytes);
        pos += a->bytes;
    }
    size_t cd_start = pos;
    for (uint32_t i = 0; i < count; i++) {
        size_t nl = strlen(arrays[i].name) + 4;
        uint8_t *c = buf + pos;
        memset(c, 0, ZIP_CENTRAL_LEN);
        wr32(c, ZIP_CENTRAL_SIG);
        wr16(c + 4, 20);
        wr16(c + 6, 20);
        wr16(c + 14, 0x21);
        wr32(c + 16, info[3 * i + 2]);
        wr32(c + 20, info[3 * i + 1]);
        wr32(c + 24, info[3 * i + 1]);
        wr16(c + 28, (uint32_t)nl);
        wr32(c + 42, info[3 * i]);
        pos += ZIP_CENTRAL_LEN;
        memcpy(buf + pos, arrays[i].name, nl - 4);
        memcpy(buf + pos + nl - 4, ".npy", 4);
        pos += nl;
    }
    uint8_t *e = buf + pos;
    memset(e, 0, ZIP_EOCD_LEN);
    wr32(e, ZIP_EOCD_SIG);
    wr16(e + 8, count);
    wr16(e + 10, count);
    wr32(e + 12, (uint32_t)(pos - cd_start));
    wr32(e + 16, (uint32_t)cd_start);
    pos += ZIP_EOCD_LEN;
    free(info);
    *out = buf;
    *size = pos;
    return QLITE_OK;
}

qlite_status qlite_npz_write_file(const char *path, uint32_t count,
                                  const qlite_npy_array *arrays) {
    if (!path) return qlite_error(QLITE_ERR_INVALID_ARGUMENT, "npz: NULL path");
    void *buf;
    size_t size;
    qlite_status st = qlite_npz_write_memory(count, arrays, &buf, &size);
    if (st != QLITE_OK) return st;
    st = write_atomic(path, buf, size);
    free(buf);
    return st;
}
