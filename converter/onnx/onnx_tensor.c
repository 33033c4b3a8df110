/*
 * onnx_tensor.c — decoding ONNX TensorProtos (inline, typed and external data).
 */
#include "onnx_tensor.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qlite_internal.h"

const char *qlc_onnx_type_name(int32_t t) {
    static const char *const names[] = {
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING",
        "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16"};
    return t >= 0 && t < (int32_t)QLITE_ARRAY_SIZE(names) ? names[t] : "UNKNOWN";
}

qlite_status qlc_onnx_dtype(int32_t t, qlite_dtype *out) {
    switch (t) {
    case QLC_ONNX_FLOAT: case QLC_ONNX_DOUBLE: *out = QLITE_DTYPE_FLOAT32; return QLITE_OK;
    case QLC_ONNX_UINT8: *out = QLITE_DTYPE_UINT8; return QLITE_OK;
    case QLC_ONNX_INT8: *out = QLITE_DTYPE_INT8; return QLITE_OK;
    case QLC_ONNX_INT16: *out = QLITE_DTYPE_INT16; return QLITE_OK;
    case QLC_ONNX_INT32: *out = QLITE_DTYPE_INT32; return QLITE_OK;
    case QLC_ONNX_INT64: *out = QLITE_DTYPE_INT64; return QLITE_OK;
    case QLC_ONNX_BOOL: *out = QLITE_DTYPE_BOOL; return QLITE_OK;
    case QLC_ONNX_FLOAT16: *out = QLITE_DTYPE_FLOAT16; return QLITE_OK;
    default:
        return qlite_error(QLITE_ERR_UNSUPPORTED, "ONNX element type %s (%d) has no qlite dtype",
                           qlc_onnx_type_name(t), (int)t);
    }
}

/* Bytes per element as stored in raw_data for an ONNX type (0 = unsupported). */
static size_t onnx_elem_size(int32_t t) {
    switch (t) {
    case QLC_ONNX_FLOAT: case QLC_ONNX_INT32: case QLC_ONNX_UINT32: return 4;
    case QLC_ONNX_UINT8: case QLC_ONNX_INT8: case QLC_ONNX_BOOL: return 1;
    case QLC_ONNX_UINT16: case QLC_ONNX_INT16: case QLC_ONNX_FLOAT16: case QLC_ONNX_BFLOAT16:
        return 2;
    case QLC_ONNX_INT64: case QLC_ONNX_DOUBLE: case QLC_ONNX_UINT64: return 8;
    default: return 0;
    }
}

/* Is `loc` a safe relative path (no absolute path, no ".." component)? */
static int safe_relative(const char *loc) {
    if (!loc[0] || loc[0] == '/') return 0;
    const char *p = loc;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return 0;
        if (!e) break;
        p = e + 1;
    }
    return 1;
}

static qlite_status read_external(const Onnx__TensorProto *tp, const char *base_dir,
                                  const char *what, size_t want, void *dst) {
    const char *loc = NULL;
    uint64_t offset = 0, length = UINT64_MAX;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        if (!e->key || !e->value) continue;
        char *end = NULL;
        if (strcmp(e->key, "location") == 0) loc = e->value;
        else if (strcmp(e->key, "offset") == 0 || strcmp(e->key, "length") == 0) {
            errno = 0;
            unsigned long long v = strtoull(e->value, &end, 10);
            if (errno || !end || *end || e->value[0] == '-')
                return qlite_error(QLITE_ERR_CORRUPT, "%s: external data %s '%s' is not a number",
                                   what, e->key, e->value);
            if (e->key[0] == 'o') offset = v;
            else length = v;
        }
    }
    if (!loc) return qlite_error(QLITE_ERR_CORRUPT, "%s: external data without a location", what);
    if (!base_dir)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: external data is not allowed here", what);
    if (!safe_relative(loc))
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s: external data location '%s' must be a relative path inside the "
                           "model's directory", what, loc);
    if (length != UINT64_MAX && length != want)
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s: external data length %llu does not match the %zu bytes its "
                           "shape needs", what, (unsigned long long)length, want);
    char path[PATH_MAX], real_dir[PATH_MAX], real_file[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", base_dir, loc) >= sizeof path)
        return qlite_error(QLITE_ERR_CORRUPT, "%s: external data path too long", what);
    if (!realpath(base_dir, real_dir) || !realpath(path, real_file))
        return qlite_error(QLITE_ERR_IO, "%s: external data file '%s': %s", what, path,
                           strerror(errno));
    size_t dl = strlen(real_dir);
    if (strncmp(real_file, real_dir, dl) != 0 || (real_file[dl] != '/' && dl != 1))
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s: external data file '%s' resolves outside the model's directory",
                           what, loc);
    FILE *f = fopen(real_file, "rb");
    if (!f)
        return qlite_error(QLITE_ERR_IO, "%s: cannot open external data '%s': %s", what, path,
                           strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return qlite_error(QLITE_ERR_IO, "%s: external data '%s' is not a regular file", what,
                           path);
    }
    if (offset > (uint64_t)sb.st_size || want > (uint64_t)sb.st_size - offset) {
        fclose(f);
        return qlite_error(QLITE_ERR_CORRUPT,
                           "%s: external data '%s' has %lld bytes; offset %llu + %zu bytes "
                           "runs past its end", what, loc, (long long)sb.st_size,
                           (unsigned long long)offset, want);
    }
    if (fseeko(f, (off_t)offset, SEEK_SET) != 0 || (want && fread(dst, 1, want, f) != want)) {
        fclose(f);
        return qlite_error(QLITE_ERR_IO, "%s: reading external data '%s' failed", what, path);
    }
    fclose(f);
    return QLITE_OK;
}

qlite_status qlc_onnx_tensor_decode(const Onnx__TensorProto *tp, const char *base_dir,
                                    const char *what, qlc_onnx_tensor *out) {
    memset(out, 0, sizeof *out);
    int32_t ot = tp->has_data_type ? tp->data_type : 0;
    qlite_dtype dt;
    qlite_status st = qlc_onnx_dtype(ot, &dt);
    if (st != QLITE_OK)
        return qlite_error(st, "%s: element type %s is not supported", what,
                           qlc_onnx_type_name(ot));
    if (tp->segment)
        return qlite_error(QLITE_ERR_UNSUPPORTED, "%s: segmented tensors are not supported", what);
    if (tp->n_dims > QLITE_MAX_RANK)
        return qlite_error(QLITE_ERR_UNSUPPORTED, "%s: rank %zu exceeds %d", what, tp->n_dims,
                           QLITE_MAX_RANK);
    uint64_t n = 1;
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0)
            return qlite_error(QLITE_ERR_CORRUPT, "%s: negative dimension %lld", what,
                               (long long)tp->dims[i]);
        if (qlite_mul_overflow_u64(n, (uint64_t)tp->dims[i], &n) || n > ((uint64_t)1 << 40))
            return qlite_error(QLITE_ERR_CORRUPT, "%s: element count overflows", what);
        out->shape[i] = tp->dims[i];
    }
    out->rank = (int32_t)tp->n_dims;
    out->dtype = dt;
    size_t esz = onnx_elem_size(ot);           /* as stored */
    size_t osz = ot == QLC_ONNX_DOUBLE ? 4 : esz; /* as kept */
    size_t want = (size_t)n * esz;
    void *raw = NULL; /* bytes in the ONNX storage type */
    bool external = tp->has_data_location &&
                    tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (external) {
        raw = malloc(want ? want : 1);
        if (!raw) return qlite_error(QLITE_ERR_NO_MEMORY, "%s: out of memory", what);
        st = read_external(tp, base_dir, what, want, raw);
        if (st != QLITE_OK) {
            free(raw);
            return st;
        }
    } else if (tp->has_raw_data) {
        if (tp->raw_data.len != want)
            return qlite_error(QLITE_ERR_CORRUPT,
                               "%s: raw_data has %zu bytes; shape and type need %zu", what,
                               tp->raw_data.len, want);
        raw = malloc(want ? want : 1);
        if (!raw) return qlite_error(QLITE_ERR_NO_MEMORY, "%s: out of memory", what);
        if (want) memcpy(raw, tp->raw_data.data, want);
    } else {
        size_t have = 0;
        raw = malloc(want ? want : 1);
        if (!raw) return qlite_error(QLITE_ERR_NO_MEMORY, "%s: out of memory", what);
        switch (ot) {
        case QLC_ONNX_FLOAT:
            have = tp->n_float_data;
            if (have == n && n) memcpy(raw, tp->float_data, want);
            break;
        case QLC_ONNX_INT64:
            have = tp->n_int64_data;
            if (have == n && n) memcpy(raw, tp->int64_data, want);
            break;
        case QLC_ONNX_DOUBLE:
            have = tp->n_double_data;
            if (have == n && n) memcpy(raw, tp->double_data, want);
            break;
        case QLC_ONNX_INT32: case QLC_ONNX_INT16: case QLC_ONNX_INT8: case QLC_ONNX_UINT8:
        case QLC_ONNX_BOOL: case QLC_ONNX_FLOAT16:
            have = tp->n_int32_data;
            if (have == n) {
                for (uint64_t i = 0; i < n; i++) {
                    int32_t v = tp->int32_data[i];
                    switch (esz) {
                    case 4: ((int32_t *)raw)[i] = v; break;
                    case 2: ((uint16_t *)raw)[i] = (uint16_t)v; break;
                    default: ((uint8_t *)raw)[i] = (uint8_t)v; break;
                    }
                }
            }
            break;
        default:
            break;
        }
        if (have != n) {
            free(raw);
            return qlite_error(QLITE_ERR_CORRUPT,
                               "%s: has %zu values; its shape needs %llu (missing data?)", what,
                               have, (unsigned long long)n);
        }
    }
    if (ot == QLC_ONNX_DOUBLE) {
        float *f = malloc(n ? (size_t)n * 4 : 1);
        if (!f) {
            free(raw);
            return qlite_error(QLITE_ERR_NO_MEMORY, "%s: out of memory", what);
        }
        for (uint64_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, (const char *)raw + i * 8, 8);
            f[i] = (float)d;
        }
        free(raw);
        raw = f;
    }
    out->data = raw;
    out->size = (size_t)n * osz;
    return QLITE_OK;
}

qlite_status qlc_onnx_tensor_load_file(const char *path, qlc_onnx_tensor *out, char *name,
                                       size_t name_size) {
    FILE *f = fopen(path, "rb");
    if (!f) return qlite_error(QLITE_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (len < cap) break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    fclose(f);
    if (!buf) return qlite_error(QLITE_ERR_NO_MEMORY, "out of memory reading '%s'", path);
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    if (!tp) return qlite_error(QLITE_ERR_CORRUPT, "'%s' is not a valid TensorProto", path);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    qlite_status st = qlc_onnx_tensor_decode(tp, dir, path, out);
    if (name && name_size) snprintf(name, name_size, "%s", tp->name ? tp->name : "");
    onnx__tensor_proto__free_unpacked(tp, NULL);
    return st;
}
