/*
 * test_kernel_gemm_q8.c — the int8 GEMM under the integer and hybrid kernels
 * (interpreter/kernels/gemm_q8.h).
 *
 * (a) The packed layout is the schema's O16I4 ([ceil(N/16)][ceil(K/4)][16][4]
 *     over [N, K]), byte for byte, for W [N, K] and B [K, N] sources and
 *     the uint8 flip; column sums.
 * (b) qlite_gemm_q8_ref equals the formula of gemm_q8.h written here in
 *     int64 with the test's own requantization (kernel_q8_check.h), in both
 *     output modes, with and without bias / weight zero points / left
 *     shifts that saturate.
 * (c) Every variant (tile and dot algorithms) equals the reference bit for
 *     bit on M, N, K equal to, below, above and multiples of its tile
 *     (MR, NR, the 4-byte K step, the 16/32/64-byte dot steps). A variant
 *     whose ISA this CPU lacks is skipped, not passed. copy_a, and the
 *     hybrid helpers (quantize a row, output stage) on every ISA level
 *     against the docs §5 formula written here.
 * (d) The AMX variant (x86 with AMX-INT8; skipped elsewhere): chosen when
 *     the CPU's own CPUID / XCR0 / arch_prctl say tiles are usable; bit for
 *     bit equal to the reference over M = 1..70, N = 1..80 and K below /
 *     at / above / multiples of its 64-byte tile step, both modes, with and
 *     without weight zero points, A rows of exactly K4 bytes (the next
 *     row's bytes follow, as in the convolutions' patch buffers) and
 *     weights of exactly ceil(N / 16) blocks (a model's O16I4 read in
 *     place), both ending at a PROT_NONE page so a read past either faults;
 *     the caller's tile configuration is put back (or the tiles released)
 *     after each call, also on a thread of its own.
 */
#include <float.h>
#include <math.h>
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__)
#define GEMM_TEST_AMX 1
#include <cpuid.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "kernel_q8_check.h"

#include "kernels/gemm_q8.h"
#include "kernels/nn_q8.h"

#define NCOLS_MAX 512

/* Column parameters with padded arrays (gemm_q8.h: readable to round_up(N, 64)). */
typedef struct cols_buf {
    int32_t bias[NCOLS_MAX], zw[NCOLS_MAX], mult[NCOLS_MAX], lsh[NCOLS_MAX], rsh[NCOLS_MAX];
    double real_m[NCOLS_MAX];
    qlite_q8_cols cols;
} cols_buf;

static void make_cols(qlite_test_rng *r, cols_buf *cb, size_t N, bool bias, bool zw, bool left,
                      qlite_dtype out_dt) {
    memset(cb, 0, sizeof *cb);
    for (size_t n = 0; n < N; n++) {
        cb->bias[n] = (int32_t)(qlite_test_rng_u32(r) % (1u << 21)) - (1 << 20);
        if (qlite_test_rng_u32(r) % 8 == 0)
            cb->bias[n] = (int32_t)(qlite_test_rng_u32(r) >> 2) - (1 << 29);
        cb->zw[n] = (int32_t)(qlite_test_rng_u32(r) % 256) - 128;
        /* multipliers from 2^-40 (M0 = 0 or shift -31) to 2^6 (left shifts) */
        double m = exp2((double)qlite_test_rng_float(r, -24.0f, left ? 6.0f : -1.0f));
        if (n % 7 == 3) m = exp2(-40.0);
        if (n % 11 == 5) m = 0.5;
        cb->real_m[n] = m;
        q8_mult qm = q8_ref_mult(m);
        cb->mult[n] = (int32_t)qm.m0;
        cb->lsh[n] = qm.shift > 0 ? qm.shift : 0;
        cb->rsh[n] = qm.shift > 0 ? 0 : -qm.shift;
    }
    cb->cols.bias = bias ? cb->bias : NULL;
    cb->cols.zw = zw ? cb->zw : NULL;
    cb->cols.mult = cb->mult;
    cb->cols.lshift = cb->lsh;
    cb->cols.rshift = cb->rsh;
    cb->cols.any_lshift = false;
    for (size_t n = 0; n < N; n++) cb->cols.any_lshift |= cb->lsh[n] > 0;
    int32_t lo, hi;
    q8_range(out_dt, &lo, &hi);
    cb->cols.zy = lo + (int32_t)(qlite_test_rng_u32(r) % 256);
    /* sometimes a fused-activation-like narrower clamp */
    cb->cols.lo = lo + (qlite_test_rng_u32(r) % 3 == 0 ? 20 : 0);
    cb->cols.hi = hi - (qlite_test_rng_u32(r) % 3 == 0 ? 30 : 0);
}

/* (a) ----------------------------------------------------------------------- */

static void test_pack_o16i4(void **state) {
    (void)state;
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 11);
    const size_t sizes[][2] = {{1, 1}, {5, 3}, {16, 4}, {17, 9}, {33, 64}, {70, 13}};
    for (size_t s = 0; s < Q8_COUNT(sizes); s++) {
        const size_t N = sizes[s][0], K = sizes[s][1], K4 = (K + 3) / 4 * 4;
        uint8_t *w = malloc(N * K), *bt = malloc(N * K);
        int8_t *p = malloc(qlite_gemm_q8_packed_size(K, N));
        int8_t *p2 = malloc(qlite_gemm_q8_packed_size(K, N));
        int32_t colsum[NCOLS_MAX], colsum2[NCOLS_MAX];
        assert_true(w && bt && p && p2);
        for (size_t i = 0; i < N * K; i++) w[i] = (uint8_t)qlite_test_rng_u32(&r);
        for (size_t n = 0; n < N; n++)
            for (size_t k = 0; k < K; k++) bt[k * N + n] = w[n * K + k];
        for (int flip = 0; flip < 2; flip++) {
            const uint8_t f = flip ? 0x80 : 0;
            memset(p, 0x5A, qlite_gemm_q8_packed_size(K, N));
            qlite_gemm_q8_pack(K, N, w, K, true, f, 0, (N + 15) / 16, p, colsum);
            qlite_gemm_q8_pack(K, N, bt, N, false, f, 0, (N + 15) / 16, p2, colsum2);
            /* [ceil(N/16)][ceil(K/4)][16][4], zero padded, and blocks to round_up(N, 64) */
            const size_t nb = (N + 63) / 64 * 4;
            for (size_t j = 0; j < nb; j++)
                for (size_t q = 0; q < K4 / 4; q++)
                    for (size_t c = 0; c < 16; c++)
                        for (size_t t = 0; t < 4; t++) {
                            const size_t n = j * 16 + c, k = q * 4 + t;
                            const int8_t want = n < N && k < K ? (int8_t)(w[n * K + k] ^ f) : 0;
                            const size_t off = ((j * (K4 / 4) + q) * 16 + c) * 4 + t;
                            assert_int_equal(p[off], want);
                            if (j * 16 < N) assert_int_equal(p2[off], want);
                        }
            for (size_t n = 0; n < N; n++) {
                int32_t sum = 0;
                for (size_t k = 0; k < K; k++) sum += (int8_t)(w[n * K + k] ^ f);
                assert_int_equal(colsum[n], sum);
                assert_int_equal(colsum2[n], sum);
            }
        }
        free(w);
        free(bt);
        free(p);
        free(p2);
    }
}

/* copy_a: rows XORed with the flip, [K, lda) zeroed, row sums of the copied bytes (the
 * SIMD body's 16-byte steps and the scalar tail), other bytes untouched */
static void test_copy_a(void **state) {
    (void)state;
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 13);
    const size_t Ks[] = {1, 4, 15, 16, 17, 31, 32, 33, 64, 100, 257};
    for (size_t i = 0; i < Q8_COUNT(Ks); i++)
        for (int fi = 0; fi < 2; fi++) {
            const size_t K = Ks[i], rows = 3, lin = K + 5, lda = (K + 3) / 4 * 4 + 4;
            const uint8_t flip = fi ? 0x80 : 0;
            uint8_t *a = malloc(rows * lin), *out = malloc(rows * lda + 8);
            assert_non_null(a);
            assert_non_null(out);
            for (size_t j = 0; j < rows * lin; j++) a[j] = (uint8_t)qlite_test_rng_u32(&r);
            memset(out, 0xAB, rows * lda + 8);
            int32_t rs[3] = {-1, -1, -1};
            qlite_gemm_q8_copy_a(rows, K, a, lin, flip, out, lda, i % 2 ? NULL : rs);
            for (size_t m = 0; m < rows; m++) {
                int32_t sum = 0;
                for (size_t k = 0; k < lda; k++) {
                    const uint8_t want = k < K ? (uint8_t)(a[m * lin + k] ^ flip) : 0;
                    assert_int_equal(out[m * lda + k], want);
                    sum += want;
                }
                assert_int_equal(rs[m], i % 2 ? -1 : sum);
            }
            for (size_t j = rows * lda; j < rows * lda + 8; j++) assert_int_equal(out[j], 0xAB);
            free(a);
            free(out);
        }
}

/* The hybrid helpers of nn_q8.c (AVX-512 bodies, scalar tails) on every ISA level equal
 * the docs §5 formula written here: range widened to 0 without NaN / inf, s = (hi - lo) /
 * 255, zp = clamp(rint(-128 - lo / s)), u = clamp(rint(x * (1 / s)) + zp) + 128 (NaN ->
 * -128, +-inf saturate); y = clamp((acc - zu wsum) * (su ws) + b, lo, hi). */
static void test_hybrid_helpers(void **state) {
    (void)state;
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 14);
    const size_t ns[] = {1, 15, 16, 17, 31, 33, 64, 100};
    const unsigned caps[2] = {~0u, 0u};
    for (size_t ni = 0; ni < Q8_COUNT(ns); ni++)
        for (int rep = 0; rep < 4; rep++) {
            const size_t n = ns[ni];
            float x[100];
            const float amp = rep == 3 ? 1e-30f : (float)(1 + qlite_test_rng_u32(&r) % 1000) / 7;
            for (size_t i = 0; i < n; i++)
                x[i] = amp * ((float)(qlite_test_rng_u32(&r) % 20001) / 10000.0f - 1.0f);
            if (rep == 1 && n > 5) { /* non-finite values: out of the range, saturating */
                x[n - 1] = NAN;
                x[n / 2] = INFINITY;
                x[1] = -INFINITY;
            }
            if (rep == 2) x[n - 1] = 0.5f * amp; /* a tail element that may tie */
            double lo = 0, hi = 0;
            for (size_t i = 0; i < n; i++)
                if (isfinite(x[i])) lo = x[i] < lo ? x[i] : lo, hi = x[i] > hi ? x[i] : hi;
            const double sd = (hi - lo) / 255.0;
            const float s = sd >= (double)FLT_MIN ? (float)sd : 1.0f;
            int32_t zp = 0;
            if (sd >= (double)FLT_MIN) {
                const float z = rintf((float)(-128.0 - lo / (double)s));
                zp = z < -128.0f ? -128 : (z > 127.0f ? 127 : (int32_t)z);
            }
            uint8_t want[100];
            int32_t want_sum = 0;
            const float inv = 1.0f / s;
            for (size_t i = 0; i < n; i++) {
                float v = x[i] * inv;
                v = isnan(v) ? -256.0f : (v < -256.0f ? -256.0f : (v > 256.0f ? 256.0f : v));
                int32_t q = (int32_t)rintf(v) + zp;
                q = q < -128 ? -128 : (q > 127 ? 127 : q);
                want[i] = (uint8_t)(q + 128);
                want_sum += q + 128;
            }
            for (size_t c = 0; c < 2; c++) {
                qlite_q8_set_feature_cap(caps[c]);
                uint8_t got[100];
                int32_t zu = -1, sum = -1;
                const float gs = qlite_hybrid_quantize(x, n, got, &zu, &sum);
                assert_true(gs == s);
                assert_int_equal(zu, zp + 128);
                assert_int_equal(sum, want_sum);
                assert_memory_equal(got, want, n);
            }
            /* output stage over channels [n0, n) with y aliasing acc */
            int32_t wsum[100], acc[100];
            float ws[100], b[100], y[100], want_y[100];
            const float su = s, flo = rep == 0 ? -INFINITY : -3.0f;
            const float fhi = rep == 0 ? INFINITY : 6.0f;
            for (size_t i = 0; i < n; i++) {
                wsum[i] = (int32_t)(qlite_test_rng_u32(&r) % 4001) - 2000;
                acc[i] = (int32_t)(qlite_test_rng_u32(&r) % 200001) - 100000;
                ws[i] = (float)(1 + qlite_test_rng_u32(&r) % 100) / 3000.0f;
                b[i] = (float)((int32_t)(qlite_test_rng_u32(&r) % 2001) - 1000) / 500.0f;
            }
            const size_t n0 = n > 3 ? 3 : 0;
            for (size_t i = n0; i < n; i++) {
                const float v = (float)(acc[i] - (zp + 128) * wsum[i]) * (su * ws[i]) + b[i];
                want_y[i] = v < flo ? flo : (v > fhi ? fhi : v);
            }
            const qlite_hybrid_cols hc = {.wscale = ws, .wsum = wsum, .bias = b, .lo = flo,
                                          .hi = fhi};
            for (size_t c = 0; c < 2; c++) {
                qlite_q8_set_feature_cap(caps[c]);
                memcpy(y, acc, n * sizeof(int32_t));
                qlite_hybrid_finish(&hc, n0, n, su, zp + 128, (const int32_t *)(void *)y, y);
                assert_memory_equal(y + n0, want_y + n0, (n - n0) * sizeof(float));
            }
            qlite_q8_set_feature_cap(~0u);
        }
}

/* (b) ----------------------------------------------------------------------- */

/* The formula of gemm_q8.h in int64, requantized by kernel_q8_check.h. */
static int64_t formula(const uint8_t *a, size_t lda, const int8_t *w, size_t K, size_t m,
                       size_t n, const cols_buf *cb, bool bias, bool zw) {
    int64_t rs = 0, acc = bias ? cb->bias[n] : 0;
    for (size_t k = 0; k < K; k++) {
        rs += a[m * lda + k];
        acc += (int64_t)a[m * lda + k] * w[n * K + k];
    }
    if (zw) acc -= cb->zw[n] * rs;
    return acc;
}

static uint8_t formula_out(int64_t acc, const cols_buf *cb, size_t n) {
    q8_mult qm = {cb->mult[n], cb->lsh[n] - cb->rsh[n]};
    const int64_t y = q8_clamp(cb->cols.zy + q8_ref_requantize(acc, qm), cb->cols.lo, cb->cols.hi);
    return (uint8_t)y;
}

static void test_ref_matches_formula(void **state) {
    (void)state;
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 12);
    cols_buf *cb = malloc(sizeof *cb);
    assert_non_null(cb);
    for (int iter = 0; iter < 24; iter++) {
        const size_t M = 1 + qlite_test_rng_u32(&r) % 5, N = 1 + qlite_test_rng_u32(&r) % 40;
        const size_t K = 1 + qlite_test_rng_u32(&r) % 300;
        const bool bias = iter % 2, zw = iter % 3 == 0, left = iter % 4 == 1;
        const qlite_dtype dt = iter % 5 == 0 ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8;
        make_cols(&r, cb, N, bias, zw, left, dt);
        uint8_t *a = malloc(M * K);
        int8_t *w = malloc(N * K);
        uint8_t *c8 = malloc(M * N);
        int32_t *c32 = malloc(M * N * 4);
        assert_true(a && w && c8 && c32);
        for (size_t i = 0; i < M * K; i++) a[i] = (uint8_t)qlite_test_rng_u32(&r);
        for (size_t i = 0; i < N * K; i++) w[i] = (int8_t)qlite_test_rng_u32(&r);
        qlite_gemm_q8_ref(M, N, K, a, K, w, K, true, 0, &cb->cols, c8, N, QLITE_GEMM_Q8_BYTES);
        qlite_gemm_q8_ref(M, N, K, a, K, w, K, true, 0, &cb->cols, c32, N, QLITE_GEMM_Q8_INT32);
        for (size_t m = 0; m < M; m++)
            for (size_t n = 0; n < N; n++) {
                const int64_t acc = formula(a, K, w, K, m, n, cb, bias, zw);
                assert_true(acc >= INT32_MIN && acc <= INT32_MAX);
                assert_int_equal(c32[m * N + n], acc);
                if (c8[m * N + n] != formula_out(acc, cb, n))
                    fail_msg("iter %d (%zu,%zu): %u, the formula says %u (acc %lld, m %g)", iter,
                             m, n, c8[m * N + n], formula_out(acc, cb, n), (long long)acc,
                             cb->real_m[n]);
            }
        free(a);
        free(w);
        free(c8);
        free(c32);
    }
    free(cb);
}

/* (c) ----------------------------------------------------------------------- */

typedef struct shape {
    size_t M, N, K;
} shape;

/* Shapes around a variant's tile: MR, NR, and the K steps 4 / 16 / 32 / 64. */
static size_t make_shapes(const qlite_gemm_q8_ukernel *uk, shape *out, size_t cap) {
    const size_t mr = uk->mr, nr = uk->nr;
    const size_t Ms[] = {1, 2, mr - 1 ? mr - 1 : 1, mr, mr + 1, 2 * mr, 3 * mr + 2};
    const size_t Ns[] = {1, 7, 15, 16, 17, nr - 1, nr, nr + 1, 2 * nr, 3 * nr + 5};
    const size_t Ks[] = {1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 128, 131, 300};
    size_t n = 0;
    for (size_t i = 0; i < Q8_COUNT(Ms); i++)
        for (size_t j = 0; j < Q8_COUNT(Ns); j++) {
            /* a spread of K per (M, N) keeps the run short */
            const size_t k = Ks[(i * 5 + j * 3) % Q8_COUNT(Ks)];
            const size_t k2 = Ks[(i * 7 + j * 11 + 4) % Q8_COUNT(Ks)];
            if (n + 2 <= cap) {
                out[n++] = (shape){Ms[i], Ns[j], k};
                out[n++] = (shape){Ms[i], Ns[j], k2};
            }
        }
    for (size_t i = 0; i < Q8_COUNT(Ks) && n < cap; i++) out[n++] = (shape){mr + 1, nr + 3, Ks[i]};
    if (uk->tiles_ws) {
        /* the workspace path (qlite_gemm_q8_tiles_ws, from QLITE_GEMM_Q8_WS_MIN_M rows): its
         * 6-row tiles full and partial, one and several 16-column blocks with tails, K
         * below / at / above a 4-step, odd */
        const size_t Mw[] = {QLITE_GEMM_Q8_WS_MIN_M - 1, QLITE_GEMM_Q8_WS_MIN_M,
                             QLITE_GEMM_Q8_WS_MIN_M + 1, 17, 18, 19, 23, 37};
        const size_t Nw[] = {1, 8, 15, 16, 17, 33, 48};
        for (size_t i = 0; i < Q8_COUNT(Mw); i++)
            for (size_t j = 0; j < Q8_COUNT(Nw) && n < cap; j++)
                out[n++] = (shape){Mw[i], Nw[j], Ks[(i * 3 + j * 5) % Q8_COUNT(Ks)]};
    }
    return n;
}

static void check_variant(const qlite_gemm_q8_ukernel *uk, uint64_t seed) {
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    shape shapes[256];
    const size_t ns = make_shapes(uk, shapes, Q8_COUNT(shapes));
    cols_buf *cb = malloc(sizeof *cb);
    assert_non_null(cb);
    for (size_t s = 0; s < ns; s++) {
        const size_t M = shapes[s].M, N = shapes[s].N, K = shapes[s].K;
        assert_true(N <= NCOLS_MAX - 64);
        const bool bias = s % 2 == 0, zw = s % 3 == 1, left = s % 5 == 2;
        const qlite_dtype dt = s % 4 == 3 ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8;
        make_cols(&r, cb, N, bias, zw, left, dt);
        const size_t lda = qlite_gemm_q8_dot_lda(K) + 4 * (s % 3); /* odd strides too */
        uint8_t *a = calloc(M * lda, 1);
        int8_t *w = malloc(N * K);
        int8_t *packed = malloc(qlite_gemm_q8_packed_size(K, N));
        int32_t *rowsum = malloc(M * sizeof(int32_t));
        void *want = malloc(M * N * 4), *got = malloc(M * N * 4);
        assert_true(a && w && packed && rowsum && want && got);
        for (size_t m = 0; m < M; m++) {
            rowsum[m] = 0;
            for (size_t k = 0; k < K; k++) {
                /* extremes often: 0 and 255 against -128 and 127 */
                const uint32_t u = qlite_test_rng_u32(&r);
                a[m * lda + k] = u % 4 == 0 ? (u & 4 ? 255 : 0) : (uint8_t)(u >> 8);
                rowsum[m] += a[m * lda + k];
            }
        }
        for (size_t i = 0; i < N * K; i++) {
            const uint32_t u = qlite_test_rng_u32(&r);
            w[i] = u % 4 == 0 ? (u & 4 ? 127 : -128) : (int8_t)(u >> 8);
        }
        qlite_gemm_q8_pack(K, N, w, K, true, 0, 0, (N + 15) / 16, packed, NULL);
        for (unsigned mode = 0; mode < 2; mode++) {
            const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
            qlite_gemm_q8_ref(M, N, K, a, lda, w, K, true, 0, &cb->cols, want, N, mode);
            for (int alg = 0; alg < 3; alg++) {
                memset(got, 0xA5, M * N * 4);
                if (alg == 0) {
                    qlite_gemm_q8_tiles(uk, M, N, K, a, lda, packed, &cb->cols,
                                        zw ? rowsum : NULL, got, N, mode);
                } else if (alg == 2) {
                    /* with a workspace (any alignment: 1 byte past an allocation); its
                     * bytes start as garbage */
                    const size_t wsb = qlite_gemm_q8_ws_bytes(uk, M, K);
                    uint8_t *ws = wsb ? malloc(wsb + 1) : NULL;
                    if (wsb) {
                        assert_non_null(ws);
                        memset(ws, 0x5A, wsb + 1);
                    }
                    qlite_gemm_q8_tiles_ws(uk, M, N, K, a, lda, packed, &cb->cols,
                                           zw ? rowsum : NULL, got, N, mode,
                                           ws ? ws + 1 : NULL);
                    free(ws);
                } else
                    qlite_gemm_q8_dot_rows(uk, M, K, a, lda, zw ? rowsum : NULL, w, K, 0, N,
                                           &cb->cols, got, N, mode);
                if (memcmp(got, want, M * N * es) != 0) {
                    for (size_t i = 0; i < M * N; i++) {
                        const int64_t g = es == 4 ? ((int32_t *)got)[i] : ((uint8_t *)got)[i];
                        const int64_t e = es == 4 ? ((int32_t *)want)[i] : ((uint8_t *)want)[i];
                        if (g != e)
                            fail_msg("%s %s %s M=%zu N=%zu K=%zu: C[%zu][%zu] = %lld, the "
                                     "reference says %lld",
                                     uk->name, alg == 1 ? "dot" : alg ? "tiles_ws" : "tiles",
                                     es == 4 ? "int32" : "bytes",
                                     M, N, K, i / N, i % N, (long long)g, (long long)e);
                    }
                }
            }
            /* a column range of the dot path (threads split columns) */
            if (N > 3) {
                memcpy(got, want, M * N * es);
                memset((uint8_t *)got + es, 0xA5, es); /* column 1 of row 0 must be rewritten */
                qlite_gemm_q8_dot_rows(uk, 1, K, a, lda, zw ? rowsum : NULL, w, K, 1, N - 1,
                                       &cb->cols, got, N, mode);
                assert_memory_equal(got, want, M * N * es);
            }
        }
        free(a);
        free(w);
        free(packed);
        free(rowsum);
        free(want);
        free(got);
    }
    free(cb);
}

static void test_variant(void **state) {
    const qlite_gemm_q8_ukernel *uk = *state;
    if (!qlite_gemm_q8_runnable(uk)) {
        print_message("%s: this CPU lacks its ISA\n", uk->name);
        skip();
    }
    check_variant(uk, 100 + uk->mr * 7 + uk->nr);
}

/*
 * The output stage at its edges: accumulators set through the bias alone
 * (A all zero, no weight zero points) to INT32_MIN / INT32_MAX, powers of
 * two and their neighbours (rounding ties of both roundings) and random
 * words, with M0 at 0, 2^30 and just below 2^31, shifts 0, -1, -30, -31
 * and left shifts that saturate, int8 and uint8 outputs with and without a
 * narrower clamp; N around 16 / 32 / 64 and odd M (the AVX-512 tiles
 * requantize rows and columns in pairs). Tile and dot paths of every
 * variant against the formula written in this test.
 */
static void test_output_stage_edges(void **state) {
    (void)state;
    size_t nuk;
    const qlite_gemm_q8_ukernel *const *all = qlite_gemm_q8_all_ukernels(&nuk);
    static const size_t Ns[] = {15, 16, 17, 31, 32, 33, 64, 65};
    static const size_t Ms[] = {1, 3, 12, 13};
    static const int32_t m0s[] = {0, 1 << 30, INT32_MAX, INT32_MAX - 1, 1518500250};
    static const int shifts[] = {0, -1, -30, -31, 1, 9, 30, -7};
    cols_buf *cb = malloc(sizeof *cb);
    assert_non_null(cb);
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 77);
    size_t tested = 0;
    for (size_t u = 0; u < nuk; u++) {
        const qlite_gemm_q8_ukernel *uk = all[u];
        if (!qlite_gemm_q8_runnable(uk)) {
            print_message("%s: this CPU lacks its ISA\n", uk->name);
            continue;
        }
        for (size_t t = 0; t < 2 * Q8_COUNT(Ns); t++) {
            const size_t N = Ns[t % Q8_COUNT(Ns)], M = Ms[(t + u) % Q8_COUNT(Ms)], K = 4;
            const qlite_dtype dt = t % 3 == 1 ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8;
            make_cols(&r, cb, N, true, false, false, dt);
            for (size_t n = 0; n < N; n++) {
                const uint32_t v = qlite_test_rng_u32(&r);
                const int e = (int)(v % 32);
                switch (v / 32 % 8) {
                case 0: cb->bias[n] = INT32_MIN; break;
                case 1: cb->bias[n] = INT32_MAX; break;
                case 2: cb->bias[n] = (int32_t)(1u << e) * (v & 1u << 20 ? -1 : 1); break;
                case 3: cb->bias[n] = (int32_t)((1u << e) + 1u) * (v & 1u << 20 ? -1 : 1); break;
                case 4: cb->bias[n] = (int32_t)((1u << e) - 1u) * (v & 1u << 20 ? -1 : 1); break;
                case 5: cb->bias[n] = (int32_t)((3u << (e % 30)) >> 1) * (v & 1u << 20 ? -1 : 1);
                    break;
                default: cb->bias[n] = (int32_t)qlite_test_rng_u32(&r); break;
                }
                const int sh = shifts[(n + t) % Q8_COUNT(shifts)];
                cb->mult[n] = m0s[(n / 3 + t) % Q8_COUNT(m0s)];
                cb->lsh[n] = sh > 0 ? sh : 0;
                cb->rsh[n] = sh > 0 ? 0 : -sh;
            }
            cb->cols.any_lshift = false;
            for (size_t n = 0; n < N; n++) cb->cols.any_lshift |= cb->lsh[n] > 0;
            uint8_t *a = calloc(M * 64, 1);
            int8_t *w = malloc(N * K), *packed = malloc(qlite_gemm_q8_packed_size(K, N));
            uint8_t *got = malloc(M * N);
            assert_true(a && w && packed && got);
            for (size_t i = 0; i < N * K; i++) w[i] = (int8_t)qlite_test_rng_u32(&r);
            qlite_gemm_q8_pack(K, N, w, K, true, 0, 0, (N + 15) / 16, packed, NULL);
            /* 12 and 13 rows also take the workspace path (AVX2: rows in pairs) */
            const size_t wsb = qlite_gemm_q8_ws_bytes(uk, M, K);
            uint8_t *ws = wsb ? malloc(wsb) : NULL;
            assert_true(!wsb || ws);
            for (int alg = 0; alg < 3; alg++) {
                memset(got, 0xA5, M * N);
                if (alg == 0)
                    qlite_gemm_q8_tiles(uk, M, N, K, a, 64, packed, &cb->cols, NULL, got, N,
                                        QLITE_GEMM_Q8_BYTES);
                else if (alg == 2)
                    qlite_gemm_q8_tiles_ws(uk, M, N, K, a, 64, packed, &cb->cols, NULL, got, N,
                                           QLITE_GEMM_Q8_BYTES, ws);
                else
                    qlite_gemm_q8_dot_rows(uk, M, K, a, 64, NULL, w, K, 0, N, &cb->cols, got, N,
                                           QLITE_GEMM_Q8_BYTES);
                for (size_t i = 0; i < M * N; i++) {
                    const size_t n = i % N;
                    const uint8_t want = formula_out(cb->bias[n], cb, n);
                    if (got[i] != want)
                        fail_msg("%s %s M=%zu N=%zu: C[%zu][%zu] = %u, the formula says %u (acc "
                                 "%d, M0 %d, shift %d, zy %d, [%d, %d])",
                                 uk->name, alg == 1 ? "dot" : alg ? "tiles_ws" : "tiles", M, N,
                                 i / N, n, got[i], want,
                                 cb->bias[n], cb->mult[n], cb->lsh[n] - cb->rsh[n], cb->cols.zy,
                                 cb->cols.lo, cb->cols.hi);
                }
            }
            tested++;
            free(ws);
            free(a);
            free(w);
            free(packed);
            free(got);
        }
    }
    assert_true(tested > 0);
    free(cb);
}

static void test_select(void **state) {
    (void)state;
    const qlite_gemm_q8_ukernel *a = qlite_gemm_q8_select_for(6);
    const qlite_gemm_q8_ukernel *b = qlite_gemm_q8_select_for(256);
    assert_true(qlite_gemm_q8_runnable(a));
    assert_true(qlite_gemm_q8_runnable(b));
    print_message("int8 GEMM for N=6: %s, N=256: %s\n", a->name, b->name);
}

/* (d) ----------------------------------------------------------------------- */

#ifdef GEMM_TEST_AMX
/* What this CPU and kernel offer, asked directly (CPUID.(7,0):EDX bits 24/25, OSXSAVE, XCR0
 * bits 17/18, the Linux permission for tile data). */
static bool cpu_has_amx_int8(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d >> 24 & 1) || !(d >> 25 & 1))
        return false;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c >> 27 & 1)) return false;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo >> 17 & 3) != 3) return false;
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512vnni"))
        return false;
    return syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0;
}

static const qlite_gemm_q8_ukernel *amx_ukernel(void) {
    size_t n;
    const qlite_gemm_q8_ukernel *const *all = qlite_gemm_q8_all_ukernels(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i]->name, "qlite_q8_gemm__amx_32x32") == 0) return all[i];
    return NULL;
}

/* bytes of memory ending exactly where a PROT_NONE page begins */
typedef struct guarded {
    void *map;
    size_t len;
    uint8_t *p;
} guarded;

static guarded guarded_alloc(size_t bytes) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t data = (bytes + page - 1) / page * page;
    guarded g;
    g.len = data + page;
    g.map = mmap(NULL, g.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(g.map != MAP_FAILED);
    assert_int_equal(mprotect((uint8_t *)g.map + data, page, PROT_NONE), 0);
    g.p = (uint8_t *)g.map + data - bytes;
    return g;
}

static void guarded_free(guarded *g) { munmap(g->map, g->len); }

static void test_amx_detect(void **state) {
    (void)state;
    const qlite_gemm_q8_ukernel *uk = amx_ukernel();
    assert_non_null(uk);
    qlite_q8_set_feature_cap(~0u);
    if (!cpu_has_amx_int8() || !(qlite_q8_feature_limit() & QLITE_Q8_F_AMX)) {
        /* no AMX-INT8, or QLITE_MAX_ISA below amx: never used */
        assert_false(qlite_q8_cpu_features() & QLITE_Q8_F_AMX);
        assert_false(qlite_gemm_q8_runnable(uk));
        print_message("this CPU / kernel offers no AMX-INT8\n");
        skip();
    }
    assert_true(qlite_q8_cpu_features() & QLITE_Q8_F_AMX);
    assert_true(qlite_gemm_q8_runnable(uk));
    /* chosen, also for a model's weights in place at N of one block past a tile width */
    assert_ptr_equal(qlite_gemm_q8_select_packed(256, false), uk);
    assert_ptr_equal(qlite_gemm_q8_select_packed(48, true), uk);
    assert_ptr_equal(qlite_gemm_q8_select_for(7), uk);
    /* and off under the cap (the VNNI tiles then) */
    qlite_q8_set_feature_cap(~QLITE_Q8_F_AMX);
    assert_false(qlite_q8_cpu_features() & QLITE_Q8_F_AMX);
    assert_ptr_not_equal(qlite_gemm_q8_select_packed(256, false), uk);
    qlite_q8_set_feature_cap(~0u);
}

/* amx_check_shape's output clamp: 0 as make_cols drew it, 1 ReLU (lo = zy), 2 ReLU6-like
 * (lo = zy, hi = zy + 90 within the dtype) -- the AMX output stage leaves out the negative-h
 * rounding correction when lo >= zy. */
static int amx_relu;

/* One shape: A of exactly M x lda bytes (rows past K: zeros to K4, then the next row's
 * bytes), weights of exactly ceil(N / 16) blocks, both against a guard page. */
static void amx_check_shape(const qlite_gemm_q8_ukernel *uk, qlite_test_rng *r, cols_buf *cb,
                            size_t M, size_t N, size_t K, size_t lda, bool zw, unsigned mode) {
    const size_t K4 = qlite_gemm_q8_k4(K), blocks = (N + 15) / 16;
    make_cols(r, cb, N, qlite_test_rng_u32(r) % 4 != 0, zw, qlite_test_rng_u32(r) % 5 == 0,
              qlite_test_rng_u32(r) % 3 == 0 ? QLITE_DTYPE_UINT8 : QLITE_DTYPE_INT8);
    if (amx_relu) { /* (a zero point below the upper clamp, as a fused ReLU has) */
        if (cb->cols.zy > cb->cols.hi - 1) cb->cols.zy = cb->cols.hi - 1;
        cb->cols.lo = cb->cols.zy;
        if (amx_relu == 2 && cb->cols.hi > cb->cols.zy + 90) cb->cols.hi = cb->cols.zy + 90;
    }
    guarded ga = guarded_alloc(M * lda), gb = guarded_alloc(blocks * K4 * 16);
    uint8_t *a = ga.p;
    int8_t *w = malloc(N * K), *packed = malloc(qlite_gemm_q8_packed_size(K, N));
    int32_t *rowsum = malloc(M * sizeof(int32_t));
    const size_t es = mode == QLITE_GEMM_Q8_INT32 ? 4 : 1;
    uint8_t *want = malloc(M * N * 4), *got = malloc(M * N * 4);
    assert_true(w && packed && rowsum && want && got);
    for (size_t m = 0; m < M; m++) {
        rowsum[m] = 0;
        for (size_t k = 0; k < lda; k++) {
            const uint32_t u = qlite_test_rng_u32(r);
            uint8_t v = u % 4 == 0 ? (u & 4 ? 255 : 0) : (uint8_t)(u >> 8);
            if (k >= K && k < K4) v = 0; /* the contract: callers zero [K, K4) */
            a[m * lda + k] = v;
            if (k < K) rowsum[m] += v;
        }
    }
    for (size_t i = 0; i < N * K; i++) {
        const uint32_t u = qlite_test_rng_u32(r);
        w[i] = u % 4 == 0 ? (u & 4 ? 127 : -128) : (int8_t)(u >> 8);
    }
    qlite_gemm_q8_pack(K, N, w, K, true, 0, 0, blocks, packed, NULL);
    memcpy(gb.p, packed, blocks * K4 * 16);
    qlite_gemm_q8_ref(M, N, K, a, lda, w, K, true, 0, &cb->cols, want, N, mode);
    memset(got, 0xA5, M * N * es);
    qlite_gemm_q8_tiles(uk, M, N, K, a, lda, (const int8_t *)gb.p, &cb->cols,
                        zw ? rowsum : NULL, got, N, mode);
    if (memcmp(got, want, M * N * es) != 0) {
        for (size_t i = 0; i < M * N; i++) {
            const int64_t g = es == 4 ? ((int32_t *)(void *)got)[i] : got[i];
            const int64_t e = es == 4 ? ((int32_t *)(void *)want)[i] : want[i];
            if (g != e)
                fail_msg("%s %s M=%zu N=%zu K=%zu lda=%zu zw=%d: C[%zu][%zu] = %lld, the "
                         "reference says %lld",
                         uk->name, es == 4 ? "int32" : "bytes", M, N, K, lda, zw, i / N, i % N,
                         (long long)g, (long long)e);
        }
    }
    guarded_free(&ga);
    guarded_free(&gb);
    free(w);
    free(packed);
    free(rowsum);
    free(want);
    free(got);
}

static const size_t AMX_KS[] = {1, 3, 4, 5, 17, 60, 63, 64, 65, 100, 127, 128, 129,
                                147, 191, 192, 193, 256, 300};

static void amx_sweep(uint64_t seed) {
    const qlite_gemm_q8_ukernel *uk = amx_ukernel();
    qlite_test_rng r;
    qlite_test_rng_seed(&r, seed);
    cols_buf *cb = malloc(sizeof *cb);
    assert_non_null(cb);
    size_t t = 0;
    /* every M 1..70 at N around the blocks; every N 1..80 at M around the tiles */
    static const size_t Ns[] = {1, 15, 16, 17, 31, 32, 33, 48, 64, 80};
    static const size_t Ms[] = {1, 15, 16, 17, 19, 32, 33, 47, 48, 49, 64, 70};
    for (size_t M = 1; M <= 70; M++)
        for (size_t j = 0; j < Q8_COUNT(Ns); j++, t++) {
            const size_t K = AMX_KS[(M * 3 + j * 7 + seed) % Q8_COUNT(AMX_KS)];
            const size_t lda = qlite_gemm_q8_k4(K) + (t % 4 == 3 ? 4 * (t % 7) : 0);
            amx_check_shape(uk, &r, cb, M, Ns[j], K, lda, t % 3 == 1, (unsigned)(t / 2 % 2));
        }
    for (size_t N = 1; N <= 80; N++)
        for (size_t i = 0; i < Q8_COUNT(Ms); i++, t++) {
            const size_t K = AMX_KS[(N * 5 + i * 3 + seed) % Q8_COUNT(AMX_KS)];
            const size_t lda = qlite_gemm_q8_k4(K) + (t % 4 == 3 ? 4 * (t % 7) : 0);
            amx_check_shape(uk, &r, cb, Ms[i], N, K, lda, t % 3 == 1, (unsigned)(t / 2 % 2));
        }
    /* every K at a 2 x 2 tile block with a row and column remainder */
    for (size_t i = 0; i < Q8_COUNT(AMX_KS); i++)
        for (unsigned mode = 0; mode < 2; mode++)
            amx_check_shape(uk, &r, cb, 53, 45, AMX_KS[i], qlite_gemm_q8_k4(AMX_KS[i]),
                            i % 2 == 0, mode);
    /* deep K (ResNet-18's layer4 3x3: 4608, the 49 pixels of a 7x7 map) */
    amx_check_shape(uk, &r, cb, 49, 64, 4608, 4608, true, QLITE_GEMM_Q8_BYTES);
    amx_check_shape(uk, &r, cb, 49, 40, 4610, 4612, false, QLITE_GEMM_Q8_INT32);
    free(cb);
}

static void test_amx_exact(void **state) {
    (void)state;
    const qlite_gemm_q8_ukernel *uk = amx_ukernel();
    assert_non_null(uk);
    if (!qlite_gemm_q8_runnable(uk)) {
        print_message("%s: this CPU lacks AMX-INT8\n", uk->name);
        skip();
    }
    /* reduced sweeps (support.h): one seed (the others pair each M and N with
     * other K; every K still runs at the 2 x 2 tile block) */
    const uint64_t seeds = qlite_test_reduced() ? 1 : 3;
    for (uint64_t seed = 1; seed <= seeds; seed++) amx_sweep(seed);
}

/*
 * Short K (K4 < 64: tiles configured K4 bytes wide, B read in place; MobileNetV2's first
 * layers): every K 1..40 (and 41..63 at a few sizes) at N around the blocks and panels up to
 * 130 and M around the 16- and 32-row blocks up to 70, A and B against guard pages (a tile
 * that read past K4 bytes of the last row or past a block would fault); bytes and int32,
 * with and without the row-sum term, biases up to 2^29 (the bias folded into the 64-bit
 * rounding constants), output clamps narrower and full.
 */
static void test_amx_short_k(void **state) {
    (void)state;
    const qlite_gemm_q8_ukernel *uk = amx_ukernel();
    assert_non_null(uk);
    if (!qlite_gemm_q8_runnable(uk)) {
        print_message("%s: this CPU lacks AMX-INT8\n", uk->name);
        skip();
    }
    static const size_t Ns[] = {1, 7, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 96, 127, 130};
    static const size_t Ms[] = {1, 15, 16, 17, 20, 31, 32, 33, 47, 48, 50, 63, 64, 70};
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 77);
    cols_buf *cb = malloc(sizeof *cb);
    assert_non_null(cb);
    size_t t = 0;
    for (size_t K = 1; K <= 40; K++)
        for (size_t j = 0; j < Q8_COUNT(Ns); j++, t++) {
            const size_t M = Ms[(K * 5 + j * 3) % Q8_COUNT(Ms)];
            const size_t lda = qlite_gemm_q8_k4(K) + (t % 5 == 4 ? 4 * (t % 3 + 1) : 0);
            amx_check_shape(uk, &r, cb, M, Ns[j], K, lda, t % 4 == 1, (unsigned)(t / 3 % 2));
        }
    for (size_t K = 41; K < 64; K++)
        for (size_t mode = 0; mode < 2; mode++)
            amx_check_shape(uk, &r, cb, 16 + K % 40, 16 + K * 2, K, qlite_gemm_q8_k4(K), K % 3 == 0,
                            (unsigned)mode);
    /* MobileNetV2's shapes: 1x1 32 -> 16, 16 -> 96, the 3x3 stem (K = 27) -> 32 */
    amx_check_shape(uk, &r, cb, 256, 16, 32, 32, false, QLITE_GEMM_Q8_BYTES);
    amx_check_shape(uk, &r, cb, 256, 96, 16, 16, false, QLITE_GEMM_Q8_BYTES);
    amx_check_shape(uk, &r, cb, 200, 32, 27, 28, false, QLITE_GEMM_Q8_BYTES);
    /* ReLU / ReLU6 clamps (lo = zy) at short and long K, with and without the row-sum term */
    for (amx_relu = 1; amx_relu <= 2; amx_relu++)
        for (size_t K = 1; K <= 140; K += 3)
            amx_check_shape(uk, &r, cb, 16 + K % 55, 1 + K % 97, K, qlite_gemm_q8_k4(K), K % 4 == 1,
                            QLITE_GEMM_Q8_BYTES);
    amx_relu = 0;
    free(cb);
}

typedef struct tile_cfg {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_cfg;

static void cfg_store(tile_cfg *c) { __asm__ volatile("sttilecfg (%0)" ::"r"(c) : "memory"); }
static void cfg_load(const tile_cfg *c) { __asm__ volatile("ldtilecfg (%0)" ::"r"(c) : "memory"); }

/* A 40 x 40 x 100 GEMM (AMX blocks, K tail, VNNI-free) on this thread; then the tile state. */
static void *amx_state_run(void *arg) {
    tile_cfg *after = arg;
    const qlite_gemm_q8_ukernel *uk = amx_ukernel();
    qlite_test_rng r;
    qlite_test_rng_seed(&r, 5);
    cols_buf *cb = malloc(sizeof *cb);
    if (!cb) return NULL;
    amx_check_shape(uk, &r, cb, 40, 40, 100, 100, true, QLITE_GEMM_Q8_BYTES);
    free(cb);
    cfg_store(after);
    return NULL;
}

static void test_amx_tile_state(void **state) {
    (void)state;
    const qlite_gemm_q8_ukernel *uk = amx_ukernel();
    assert_non_null(uk);
    if (!qlite_gemm_q8_runnable(uk)) skip();
    static const tile_cfg none;
    tile_cfg after;
    /* no configuration before: released after (STTILECFG stores zeros) */
    __asm__ volatile("tilerelease" ::: "memory");
    amx_state_run(&after);
    assert_memory_equal(&after, &none, sizeof after);
    /* a host's configuration (other shapes) before: the same configuration after */
    tile_cfg host;
    memset(&host, 0, sizeof host);
    host.palette = 1;
    host.colsb[0] = 32;
    host.rows[0] = 8;
    host.colsb[3] = 16;
    host.rows[3] = 3;
    cfg_load(&host);
    amx_state_run(&after);
    __asm__ volatile("tilerelease" ::: "memory");
    assert_memory_equal(&after, &host, sizeof after);
    /* a thread of its own (its tiles configured by the call itself) */
    pthread_t th;
    memset(&after, 0xFF, sizeof after);
    assert_int_equal(pthread_create(&th, NULL, amx_state_run, &after), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_memory_equal(&after, &none, sizeof after);
}
#else
static void test_amx_detect(void **state) {
    (void)state;
    skip(); /* not x86-64 Linux: no AMX */
}
static void test_amx_exact(void **state) {
    (void)state;
    skip();
}
static void test_amx_short_k(void **state) {
    (void)state;
    skip();
}
static void test_amx_tile_state(void **state) {
    (void)state;
    skip();
}
#endif

int main(void) {
    size_t n;
    const qlite_gemm_q8_ukernel *const *all = qlite_gemm_q8_all_ukernels(&n);
    struct CMUnitTest tests[20];
    size_t t = 0;
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_pack_o16i4);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_copy_a);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_hybrid_helpers);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_ref_matches_formula);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_select);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_output_stage_edges);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_amx_detect);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_amx_exact);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_amx_short_k);
    tests[t++] = (struct CMUnitTest)cmocka_unit_test(test_amx_tile_state);
    for (size_t i = 0; i < n && t < Q8_COUNT(tests); i++) {
        struct CMUnitTest u = cmocka_unit_test_prestate(test_variant, (void *)all[i]);
        u.name = all[i]->name;
        tests[t++] = u;
    }
    return _cmocka_run_group_tests("gemm_q8", tests, t, NULL, NULL);
}
