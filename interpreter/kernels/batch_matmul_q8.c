/*
 * batch_matmul_q8.c — BATCH_MATMUL (numpy matmul, broadcast batch dims; the
 * shapes of batch_matmul.c) with 8-bit operands:
 *
 *   integer  A int8/uint8 per tensor; B int8/uint8, constant or not, per
 *            tensor or per column (the N axis); Y of A's dtype (docs §4.2):
 *              acc = sum_k (a[m,k] - za) (b[k,n] - zb[n])
 *              y   = clamp(zy + requantize(acc, sa sb[n] / sy), lo, hi)
 *   hybrid   A float32, B a constant int8 with zero points 0 (per tensor or
 *            per column), Y float32 (docs §5): each row of A quantized to
 *            uint8 with its own (su, zu); y = su sb[n] sum_k (u - zu) b[k,n].
 *
 * Both run the int8 GEMM (gemm_q8.h). With u = a (XOR 0x80 for int8, zu =
 * za + 128) and b' = b (XOR 0x80 for uint8, zb' = zb - 128):
 *   acc = sum u b' - zb'[n] sum_k u - zu sum_k b'[., n] + K zu zb'[n],
 * so the column terms become the GEMM's bias (from B's column sums: at
 * prepare for a constant B, while packing it otherwise) and zb' its weight
 * zero points (row sums of A). Every distinct B matrix is packed once per
 * invoke; batches that share B and a plain A fold into one GEMM, others are
 * split between threads, one GEMM each (row chunks of it when there are
 * fewer than 4 batches a thread).
 *
 * Strided views (integer only; kernel.h, interpreter/views.c): A's rows are
 * copied through their row and column steps (the vectorized copy when the
 * column step is 1), B is packed through its row step (plain or transposed;
 * a B view with no step-1 matrix dim is first copied dense into scratch), the
 * output rows are written ldc apart. Dense operands keep the layout and paths
 * they had before views (same bits); with a view nothing folds.
 */
#include <string.h>

#include "kernels/bmm_views.h"
#include "kernels/nn_q8.h"
#include "kernels/nn_variants.h"

/* short copy / fill loops stay loops (gcc would call memcpy / memset) */
#if defined(__GNUC__) && !defined(__clang__)
#endif

typedef struct bmmq_state {
    qlite_eval_fn eval;                    /* must stay first (qlite_eval_dispatch) */
    const qlite_gemm_q8_ukernel *uk;
    size_t M, N, K, batches, nb;           /* nb: distinct B matrices */
    bool ta, tb, fold, hybrid, b_const;
    uint32_t brank;
    int64_t bdims[QLITE_MAX_RANK], astride[QLITE_MAX_RANK], bstride[QLITE_MAX_RANK];
    /* integer */
    uint8_t flip_a, flip_b;
    bool a_signed, b_signed;
    int32_t za, zu;                        /* A's zero point; its unsigned form */
    const int32_t *zbp;                    /* [N] B's zero points after the flip (zb') */
    bool any_zb;
    qlite_q8_cols cols;                    /* requantization; bias/zw set per matrix */
    int32_t *cbias;                        /* [nb][cols_len]: constant B's column terms */
    /* hybrid */
    qlite_hybrid_cols hc;                  /* wsum set per matrix */
    int32_t *bsum;                         /* [nb][N] column sums of a constant B */
    /* scratch layout (bytes) */
    size_t lda, packed_bytes, colsum_bytes, cbias_bytes, abuf_bytes;
    size_t bcopy_bytes;                    /* nb K N when B is a view with no step-1 dim */
    size_t chunk_rows, chunks;             /* A rows per claimed item; items per batch */
    bool dup;                              /* row chunks: each thread packs its own B copies */
    size_t dup_bytes;                      /* packed + colsum + bias of one thread */
    size_t dup_off;                        /* scratch offset of the dup area */
    int threads;
} bmmq_state;

static void batch_offsets(const bmmq_state *s, size_t b, size_t *ao, size_t *bo) {
    size_t a = 0, bb = 0;
    for (int i = (int)s->brank - 1; i >= 0; i--) {
        const size_t d = (size_t)s->bdims[i], idx = b % d;
        b /= d;
        a += idx * (size_t)s->astride[i];
        bb += idx * (size_t)s->bstride[i];
    }
    *ao = a;
    *bo = bb;
}

/* A[m][k] of matrix at a (transposed: stored [K, M]). */
static inline uint8_t a_at(const bmmq_state *s, const uint8_t *a, size_t m, size_t k) {
    return s->ta ? a[k * s->M + m] : a[m * s->K + k];
}
static inline uint8_t b_at(const bmmq_state *s, const uint8_t *b, size_t k, size_t n) {
    return s->tb ? b[n * s->K + k] : b[k * s->N + n];
}

/* ---- references ---- */

static void bmmq_ref(const bmmq_state *s, const uint8_t *a, const uint8_t *b, uint8_t *y) {
    for (size_t t = 0; t < s->batches; t++) {
        size_t ao, bo;
        batch_offsets(s, t, &ao, &bo);
        const uint8_t *A = a + ao * s->M * s->K, *B = b + bo * s->K * s->N;
        for (size_t m = 0; m < s->M; m++)
            for (size_t n = 0; n < s->N; n++) {
                /* zb from the flipped form: zb = zb' (+ 128 for uint8 B) */
                const int32_t zb = s->zbp[n] + (s->b_signed ? 0 : 128);
                int32_t acc = 0;
                for (size_t k = 0; k < s->K; k++)
                    acc += (qlite_q8_decode(a_at(s, A, m, k), s->a_signed) - s->za) *
                           (qlite_q8_decode(b_at(s, B, k, n), s->b_signed) - zb);
                y[(t * s->M + m) * s->N + n] = qlite_q8_cols_out(&s->cols, n, acc);
            }
    }
}

static void bmmh_ref(const bmmq_state *s, const float *a, const int8_t *b, float *y, uint8_t *u,
                     float *row) {
    for (size_t t = 0; t < s->batches; t++) {
        size_t ao, bo;
        batch_offsets(s, t, &ao, &bo);
        const float *A = a + ao * s->M * s->K;
        const int8_t *B = b + bo * s->K * s->N;
        for (size_t m = 0; m < s->M; m++) {
            for (size_t k = 0; k < s->K; k++) row[k] = s->ta ? A[k * s->M + m] : A[m * s->K + k];
            int32_t zu;
            const float su = qlite_hybrid_quantize(row, s->K, u, &zu, NULL);
            for (size_t n = 0; n < s->N; n++) {
                int32_t acc = 0;
                for (size_t k = 0; k < s->K; k++)
                    acc += (u[k] - zu) * (s->tb ? B[n * s->K + k] : B[k * s->N + n]);
                const float v = (float)acc * (su * s->hc.wscale[n]);
                y[(t * s->M + m) * s->N + n] = qlite_clampf(v, s->hc.lo, s->hc.hi);
            }
        }
    }
}

/* ---- the GEMM path ---- */

typedef struct bmmq_job {
    const bmmq_state *s;
    const void *a;
    const uint8_t *b;
    void *y;
    int8_t *packed;         /* [nb] packed B */
    int32_t *colsum;        /* [nb][N] (non-constant B) */
    int32_t *bias;          /* [nb][cols_len] column terms */
    uint8_t *abuf;          /* per thread A rows */
    float *su;              /* hybrid, per thread [M] */
    int32_t *zuv;
    bool pack_own;          /* each batch packs its own B (one B matrix per batch) */
    qlite_bmm_strides st;   /* element steps of A, B, Y (bmm_views.h) */
    const uint8_t *bsrc;    /* B matrices read by pack_range: b, or its dense copy */
    size_t ldb;             /* their row step */
    bool bt;                /* ... transposed */
    bool bdense;            /* bsrc is dense: matrix mat at mat K N */
    size_t chunk_rows;      /* rows of A per claimed item */
    size_t chunks;          /* items per batch: ceil(M / chunk_rows) */
    uint8_t *dup_area;      /* s->dup: threads 1.. B copies (0: the shared ones), flags */
} bmmq_job;

/* Element offset of distinct B matrix mat (mat counts B's own batch dims row-major). */
static size_t bmat_offset(const bmmq_state *s, const bmmq_job *j, size_t mat) {
    if (j->bdense) return mat * s->K * s->N;
    size_t off = 0;
    for (int i = (int)s->brank - 1; i >= 0; i--) {
        if (s->bstride[i] == 0) continue;
        const size_t d = (size_t)s->bdims[i];
        off += mat % d * (size_t)j->st.b[i];
        mat /= d;
    }
    return off;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define BMMQ_COLSUM_AVX512 1
/* Column sums of one packed 16-column block (O16I4, gemm_q8.h: K4 / 4 groups of
 * 64 bytes, 4 k of each of the 16 columns; padding bytes are zero): colsum[c] =
 * sum_k of the packed values, the sums qlite_gemm_q8_pack forms from the source
 * (there one byte at a time in SSE2 lanes for a transposed B: ~80% of its time in
 * the attention's matmuls). Per group one VPMADDUBSW by 1s (pairs: |sum| <= 256, no
 * saturation) and one VPMADDWD by 1s give the 16 columns' 4-k sums. Exact integer
 * sums: the same values. */
__attribute__((target("avx512f,avx512bw"))) static void block_colsum_avx512(
    const int8_t *blk, size_t groups, size_t cols, int32_t *colsum) {
    const __m512i ones8 = _mm512_set1_epi8(1), ones16 = _mm512_set1_epi16(1);
    __m512i acc = _mm512_setzero_si512();
    for (size_t g = 0; g < groups; g++) {
        const __m512i v = _mm512_loadu_si512((const void *)(blk + g * 64));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(ones8, v), ones16));
    }
    _mm512_mask_storeu_epi32(colsum, (__mmask16)((1u << cols) - 1), acc);
}
#endif

static void pack_range(void *arg, size_t begin, size_t end) {
    const bmmq_job *j = arg;
    const bmmq_state *s = j->s;
    const size_t blocks = (s->N + 15) / 16;
#ifdef BMMQ_COLSUM_AVX512
    const bool fast_sum = j->colsum && (qlite_q8_cpu_features() & QLITE_Q8_F_AVX512);
#else
    const bool fast_sum = false;
#endif
    for (size_t i = begin; i < end; i++) {
        const size_t mat = i / blocks, blk = i % blocks;
        int8_t *packed = j->packed + mat * s->packed_bytes;
        qlite_gemm_q8_pack(s->K, s->N, j->bsrc + bmat_offset(s, j, mat), j->ldb, j->bt,
                           s->flip_b, blk, blk + 1, packed,
                           j->colsum && !fast_sum ? j->colsum + mat * s->N : NULL);
#ifdef BMMQ_COLSUM_AVX512
        if (fast_sum) {
            const size_t k4 = qlite_gemm_q8_k4(s->K), c0 = blk * 16;
            block_colsum_avx512(packed + blk * k4 * 16, k4 / 4, s->N - c0 < 16 ? s->N - c0 : 16,
                                j->colsum + mat * s->N + c0);
        }
#endif
    }
}

/* Column terms of a non-constant B matrix mat: -zu colsum + K zu zb'. */
static void mat_bias(const bmmq_state *s, const bmmq_job *j, size_t mat) {
    const size_t len = qlite_q8_cols_len(s->N);
    for (size_t n = 0; n < s->N; n++)
        j->bias[mat * len + n] = (int32_t)(-(int64_t)s->zu * j->colsum[mat * s->N + n] +
                                           (int64_t)s->K * s->zu * s->zbp[n]);
}

/* A rows [m0, m0 + rows) of the A matrix at element offset ao into buf (unsigned
 * codes, rows of lda); row sums; hybrid (always dense): per-row quantization into
 * su / zu. */
static void fill_a(const bmmq_state *s, const bmmq_job *j, size_t ao, size_t m0, size_t rows,
                   uint8_t *buf, int32_t *rowsum, float *su, int32_t *zu, float *tmp) {
    for (size_t r = 0; r < rows; r++) {
        uint8_t *dst = buf + r * s->lda;
        const size_t m = m0 + r;
        if (s->hybrid) {
            const float *A = (const float *)j->a + ao;
            const float *src = A + m * s->K;
            if (s->ta) {
                for (size_t k = 0; k < s->K; k++) tmp[k] = A[k * s->M + m];
                src = tmp;
            }
            su[r] = qlite_hybrid_quantize(src, s->K, dst, &zu[r], NULL);
        } else if (j->st.a_cs == 1 || s->K == 1) {
            /* rows in place: a plain copy with the flip (vectorized) */
            const uint8_t *A = (const uint8_t *)j->a + ao;
            qlite_gemm_q8_copy_a(1, s->K, A + m * (size_t)j->st.a_rs, (size_t)j->st.a_rs,
                                 s->flip_a, dst, s->lda, rowsum + r);
            continue;
        } else {
            const uint8_t *A = (const uint8_t *)j->a + ao + m * (size_t)j->st.a_rs;
            const size_t cs = (size_t)j->st.a_cs;
            int32_t sum = 0;
            for (size_t k = 0; k < s->K; k++) {
                const uint8_t v = (uint8_t)(A[k * cs] ^ s->flip_a);
                dst[k] = v;
                sum += v;
            }
            rowsum[r] = sum;
        }
        for (size_t k = s->K; k < s->lda; k++) dst[k] = 0;
    }
}

/* Hybrid output stage of rows [0, rows) at y (matrix mat's column sums). */
static void hybrid_finish_rows(const bmmq_state *s, const bmmq_job *j, size_t mat, float *y,
                               size_t rows, const float *su, const int32_t *zu) {
    qlite_hybrid_cols hc = s->hc;
    hc.wsum = s->bsum + mat * s->N;
    (void)j;
    for (size_t r = 0; r < rows; r++)
        qlite_hybrid_finish(&hc, 0, s->N, su[r], zu[r], (const int32_t *)(void *)(y + r * s->N),
                            y + r * s->N);
}

/* The cols of B matrix mat. */
static qlite_q8_cols mat_cols(const bmmq_state *s, const bmmq_job *j, size_t mat) {
    qlite_q8_cols c = s->cols;
    c.bias = s->hybrid ? NULL : j->bias + mat * qlite_q8_cols_len(s->N);
    return c;
}

/* Items [begin, end): item i is rows [c chunk_rows, (c + 1) chunk_rows) of batch
 * i / chunks (c = i % chunks), one GEMM each, A rows in the running thread's buffer
 * (items are claimed: a thread that finishes early takes more). Every output row is
 * computed from its own A row alone, so the chunking does not change any bit. */
static void batches_range(void *arg, int thread, size_t begin, size_t end) {
    const bmmq_job *j = arg;
    const bmmq_state *s = j->s;
    const size_t es = s->hybrid ? 4 : 1;
    {
        uint8_t *buf = j->abuf + (size_t)thread * s->abuf_bytes;
        int32_t *rowsum = (int32_t *)(void *)(buf + s->M * s->lda);
        float *su = (float *)(void *)(rowsum + s->M);
        int32_t *zu = (int32_t *)(void *)(su + s->M);
        float *tmp = (float *)(void *)(zu + s->M);
        for (size_t item = begin; item < end; item++) {
            const size_t batch = item / j->chunks, m0 = item % j->chunks * j->chunk_rows;
            const size_t rows = s->M - m0 < j->chunk_rows ? s->M - m0 : j->chunk_rows;
            size_t ao, bo, ae, be, ye; /* matrix indices; element offsets */
            batch_offsets(s, batch, &ao, &bo);
            qlite_bmm_offsets(&j->st, s->bdims, s->brank, batch, &ae, &be, &ye);
            if (j->pack_own) { /* this thread packs the B it multiplies by: no hand-over */
                const size_t blocks = (s->N + 15) / 16;
                pack_range((void *)j, bo * blocks, (bo + 1) * blocks);
                mat_bias(s, j, bo);
            }
            const bmmq_job *jm = j; /* where matrix bo is packed */
            bmmq_job jt;
            if (s->dup) { /* this thread's own copy of B matrix bo, packed on first use */
                /* thread 0: the shared packed / colsum / bias area (same layout) */
                uint8_t *area = thread == 0
                                    ? (uint8_t *)j->packed
                                    : j->dup_area + (size_t)(thread - 1) * s->dup_bytes;
                bool *done = (bool *)(void *)(j->dup_area +
                                              (size_t)(s->threads - 1) * s->dup_bytes) +
                             (size_t)thread * s->nb;
                jt = *j;
                jt.packed = (int8_t *)area;
                if (!s->b_const) {
                    jt.colsum = (int32_t *)(void *)(area + s->nb * s->packed_bytes);
                    jt.bias = (int32_t *)(void *)(area + s->nb * s->packed_bytes + s->colsum_bytes);
                }
                if (!done[bo]) {
                    const size_t blocks = (s->N + 15) / 16;
                    pack_range(&jt, bo * blocks, (bo + 1) * blocks);
                    if (!s->b_const) mat_bias(s, &jt, bo);
                    done[bo] = true;
                }
                jm = &jt;
            }
            fill_a(s, j, ae, m0, rows, buf, rowsum, su, zu, tmp);
            const qlite_q8_cols cols = mat_cols(s, jm, bo);
            const size_t ldc = (size_t)j->st.y_rs;
            uint8_t *c = (uint8_t *)j->y + (ye + m0 * ldc) * es;
            qlite_gemm_q8_tiles(s->uk, rows, s->N, s->K, buf, s->lda,
                                jm->packed + bo * s->packed_bytes, &cols, rowsum, c, ldc,
                                s->hybrid ? QLITE_GEMM_Q8_INT32 : QLITE_GEMM_Q8_BYTES);
            if (s->hybrid) hybrid_finish_rows(s, j, bo, (float *)(void *)c, rows, su, zu);
        }
    }
}

typedef struct fold_ctx {
    const bmmq_state *s;
    const bmmq_job *j;
    float *y;
    const float *su;
    const int32_t *zu;
} fold_ctx;

static void fold_finish(void *arg, size_t m0, size_t m1, size_t n0, size_t n1) {
    const fold_ctx *f = arg;
    qlite_hybrid_cols hc = f->s->hc;
    hc.wsum = f->s->bsum;
    for (size_t m = m0; m < m1; m++)
        qlite_hybrid_finish(&hc, n0, n1, f->su[m], f->zu[m],
                            (const int32_t *)(void *)(f->y + m * f->s->N), f->y + m * f->s->N);
}

static qlite_status bmmq_eval(qlite_node *node) {
    const bmmq_state *s = node->state;
    bmmq_job j = {.s = s, .a = node->inputs[0]->data, .b = node->inputs[1]->data,
                  .y = node->outputs[0]->data};
    uint8_t *sc = node->scratch;
    j.packed = (int8_t *)sc;
    j.colsum = s->b_const ? NULL : (int32_t *)(void *)(sc + s->nb * s->packed_bytes);
    j.bias = s->b_const ? s->cbias
                        : (int32_t *)(void *)(sc + s->nb * s->packed_bytes + s->colsum_bytes);
    j.abuf = sc + s->nb * s->packed_bytes + s->colsum_bytes + s->cbias_bytes;
    if (qlite_node_reference_only(node)) { /* never views (views.c) */
        if (s->hybrid)
            bmmh_ref(s, j.a, (const int8_t *)j.b, j.y, j.abuf,
                     (float *)(void *)(j.abuf + (s->lda + 63) / 64 * 64));
        else
            bmmq_ref(s, j.a, j.b, j.y);
        return QLITE_OK;
    }
    /* Row chunks (s->dup, prepare): every thread packs, on first use, its own copy of
     * each B matrix its items multiply by (items are claimed head-major, so at 2 threads
     * the caller packs heads 0-1 and the worker heads 2-3, a matrix twice only when a
     * thread takes the other's item). Before, the matrices were packed in a parallel
     * region of their own, split in matrix order, and half of them handed over to the
     * other core. With whole batches, a non-constant B with one matrix per batch (no
     * broadcast: batch -> matrix is one-to-one) is packed by the thread that runs its
     * batch, so the packed panels stay in that core's cache. Same packing and GEMM rows:
     * same bits. */
    j.chunk_rows = s->chunk_rows;
    j.chunks = s->chunks;
    j.dup_area = sc + s->dup_off;
    qlite_bmm_strides_get(node->inputs[0], node->inputs[1], node->outputs[0], s->brank, s->ta,
                          s->tb, &j.st);
    j.bsrc = j.b;
    j.bdense = !node->inputs[1]->is_view;
    if (!qlite_bmm_b_layout(&j.st, s->K, s->N, s->tb, &j.ldb, &j.bt)) {
        /* a B view with no step-1 matrix dim: a dense copy of every matrix first */
        uint8_t *dense = sc + node->scratch_bytes - s->bcopy_bytes;
        j.bdense = false; /* bmat_offset of the view */
        for (size_t mat = 0; mat < s->nb; mat++)
            qlite_bmm_copy_b(&j.st, j.b + bmat_offset(s, &j, mat), 1, s->K, s->N,
                             dense + mat * s->K * s->N);
        j.bsrc = dense;
        j.bdense = true;
        j.ldb = s->N;
        j.bt = false;
    }
    j.pack_own = !s->b_const && !s->fold && s->nb == s->batches && j.chunks == 1;
    if (s->dup) {
        memset(j.dup_area + (size_t)(s->threads - 1) * s->dup_bytes, 0,
               (size_t)s->threads * s->nb);
    } else if (!j.pack_own) {
        const size_t blocks = (s->N + 15) / 16;
        qlite_kernel_parallel(node, s->nb * blocks, 16 * s->K, pack_range, &j);
        if (!s->b_const) /* column terms of each matrix */
            for (size_t mat = 0; mat < s->nb; mat++) mat_bias(s, &j, mat);
    }
    if (s->fold) {
        /* one GEMM over all batches' rows: A is plain and B is shared */
        const size_t M = s->batches * s->M;
        uint8_t *buf = j.abuf;
        int32_t *rowsum = (int32_t *)(void *)(buf + M * s->lda);
        float *su = (float *)(void *)(rowsum + M);
        int32_t *zu = (int32_t *)(void *)(su + M);
        fill_a(s, &j, 0, 0, M, buf, rowsum, su, zu, (float *)(void *)(zu + M));
        const qlite_q8_cols cols = mat_cols(s, &j, 0);
        fold_ctx f = {.s = s, .j = &j, .y = j.y, .su = su, .zu = zu};
        const qlite_q8_gemm g = {.uk = s->uk, .M = M, .N = s->N, .K = s->K, .a = buf,
                                 .lda = s->lda, .rowsum = rowsum, .packed = j.packed,
                                 .prepacked = true, .cols = &cols, .c = j.y, .ldc = s->N,
                                 .mode = s->hybrid ? QLITE_GEMM_Q8_INT32 : QLITE_GEMM_Q8_BYTES,
                                 .finish = s->hybrid ? fold_finish : NULL, .finish_ctx = &f};
        qlite_q8_gemm_run(node, &g);
    } else {
        qlite_parallel_for_thread(node, s->batches * j.chunks, batches_range, &j);
    }
    return QLITE_OK;
}

/* ---- prepare ---- */

/* B's scales and zero points (in B's dtype): per tensor or per column along naxis. */
static qlite_status b_params(qlite_node *node, const qlite_tensor *b, uint32_t naxis, size_t N,
                             qlite_q8_weights *bq) {
    if (!qlite_is_q8(b->dtype))
        return qlite_node_error(node, QLITE_ERR_DTYPE, "B '%s' is %s; int8 or uint8 expected",
                                b->info->name, qlite_dtype_name(b->dtype));
    qlite_qparams p;
    const bool is_signed = b->dtype == QLITE_DTYPE_INT8;
    qlite_status st = qlite_qparams_init(node, b, "B", is_signed ? -128 : 0, is_signed ? 127 : 255,
                                         &p);
    if (st != QLITE_OK) return st;
    const qlite_quant *q = b->info->quant;
    bq->channels = N;
    bq->per_channel = q->count > 1;
    if (bq->per_channel) {
        uint32_t ax = 0;
        qlite_normalize_axis(q->axis, b->rank, &ax); /* checked by qlite_qparams_init */
        if (ax != naxis || q->count != N || b->rank < 2)
            return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                    "B '%s' is quantized along axis %d (%u scales); this op takes "
                                    "one scale per tensor or %zu along its N axis %u",
                                    b->info->name, q->axis, q->count, N, naxis);
    }
    bq->scale = q->scale;
    bq->zp = q->zero_point;
    bq->any_zp = false;
    for (uint32_t c = 0; c < q->count; c++) bq->any_zp |= q->zero_point[c] != 0;
    return QLITE_OK;
}

static qlite_status bmmq_prepare(qlite_node *node, bool hybrid) {
    qlite_status st = qlite_nn_check_io(node, 2, 2, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *a = node->inputs[0], *b = node->inputs[1];
    qlite_tensor *y = node->outputs[0];
    qlite_bmm_shape g = {.M = 0};
    if ((st = qlite_bmm_shape_get(node, &g))) return st;
    const qlite_batch_matmul_options o = g.o;
    bmmq_state *s = qlite_node_alloc(node, sizeof *s);
    if (!s) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    s->hybrid = hybrid;
    const bool b_vec = g.b_vec;
    QLITE_BMM_SHAPE_COPY(s, g);
    s->nb = g.nb;
    if ((unsigned)o.activation >= QLITE_ACT_COUNT)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT, "bad activation %d",
                                (int)o.activation);

    /* B's parameters: per tensor, or per column along its N axis */
    const uint32_t naxis = b_vec ? 0 : b->rank - (s->tb ? 2 : 1);
    qlite_q8_weights bq;
    if ((st = b_params(node, b, naxis, s->N, &bq))) return st;
    s->b_signed = b->dtype == QLITE_DTYPE_INT8;
    s->flip_b = s->b_signed ? 0 : 0x80;
    s->b_const = b->is_const;
    int32_t *zbp = qlite_node_alloc(node, qlite_q8_cols_len(s->N) * sizeof(int32_t));
    if (!zbp) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
    for (size_t n = 0; n < s->N; n++) {
        zbp[n] = qlite_q8_wzp(&bq, n) - (s->b_signed ? 0 : 128);
        s->any_zb |= zbp[n] != 0;
    }
    s->zbp = zbp;
    qlite_q8_weights bflip = bq; /* the bound of |b - zb| uses the flipped zero points */
    bflip.per_channel = true;
    bflip.zp = zbp;
    if ((st = hybrid ? qlite_hybrid_check_acc(node, s->K, &bflip)
                     : qlite_q8_check_acc(node, s->K, &bflip, 0)))
        return st;

    const size_t len = qlite_q8_cols_len(s->N);
    if (hybrid) {
        if ((st = qlite_nn_check_dtype(node, y, "output", QLITE_DTYPE_FLOAT32))) return st;
        if (!s->b_const || !s->b_signed)
            return qlite_node_error(node, QLITE_ERR_UNSUPPORTED_OP,
                                    "the hybrid kernel takes a constant int8 B ('%s' is %s%s)",
                                    b->info->name, s->b_const ? "" : "not constant, ",
                                    qlite_dtype_name(b->dtype));
        if ((st = qlite_hybrid_cols_build(node, s->N, &bq, b->data, 0, 0, 0, NULL, o.activation,
                                          &s->hc)))
            return st;
        s->bsum = qlite_node_alloc(node, s->nb * s->N * sizeof(int32_t));
        if (!s->bsum) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
        const int8_t *bd = b->data;
        for (size_t mat = 0; mat < s->nb; mat++)
            for (size_t n = 0; n < s->N; n++) {
                int32_t sum = 0;
                for (size_t k = 0; k < s->K; k++)
                    sum += bd[mat * s->K * s->N + (s->tb ? n * s->K + k : k * s->N + n)];
                s->bsum[mat * s->N + n] = sum;
            }
        s->hc.wsum = s->bsum;
    } else {
        qlite_q8 qa, qy;
        if ((st = qlite_q8_params(node, a, "A", &qa)) ||
            (st = qlite_node_check_same_dtype(node, a, "A", y, "output")) ||
            (st = qlite_q8_params(node, y, "output", &qy)))
            return st;
        s->a_signed = qa.is_signed;
        s->flip_a = qa.is_signed ? 0x80 : 0;
        s->za = qa.zero_point;
        s->zu = qa.zero_point + (qa.is_signed ? 128 : 0);
        int64_t *zero = qlite_node_alloc(node, s->N * sizeof(int64_t));
        if (!zero) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
        qlite_q8_weights nozp = bq;
        nozp.any_zp = false;
        /* requantization only; the bias and zero points are set below */
        if ((st = qlite_q8_cols_build(node, s->N, &nozp, qa.scale, 0, &qy, o.activation, NULL,
                                      zero, 0, &s->cols)))
            return st;
        s->cols.zw = s->any_zb ? s->zbp : NULL;
        if (s->b_const) {
            s->cbias = qlite_node_alloc(node, s->nb * len * sizeof(int32_t));
            if (!s->cbias) return qlite_node_error(node, QLITE_ERR_NO_MEMORY, "out of memory");
            const uint8_t *bd = b->data;
            for (size_t mat = 0; mat < s->nb; mat++)
                for (size_t n = 0; n < s->N; n++) {
                    int64_t sum = 0;
                    for (size_t k = 0; k < s->K; k++)
                        sum += (int8_t)(bd[mat * s->K * s->N + (s->tb ? n * s->K + k
                                                                       : k * s->N + n)] ^
                                        s->flip_b);
                    s->cbias[mat * len + n] =
                        (int32_t)(-(int64_t)s->zu * sum + (int64_t)s->K * s->zu * zbp[n]);
                }
        }
    }
    s->eval = bmmq_eval;
    s->uk = qlite_gemm_q8_select_for(s->N);
    s->threads = qlite_node_threads(node);
    bool b_shared = true, a_dense = !s->ta;
    for (uint32_t i = 0; i < s->brank; i++) {
        b_shared = b_shared && s->bstride[i] == 0;
        a_dense = a_dense && (s->astride[i] != 0 || s->bdims[i] == 1);
    }
    const bool views = a->is_view || b->is_view || y->is_view;
    s->fold = b_shared && a_dense && s->batches > 1 && !views;
    if (s->batches == 1 && !views) s->fold = true; /* one GEMM: its own threading */
    if (qlite_bmm_b_copied(a, b, y, s->brank, s->ta, s->tb, s->K, s->N))
        s->bcopy_bytes = (s->nb * s->K * s->N + 63) / 64 * 64;
    s->lda = qlite_gemm_q8_k4(s->K);
    s->packed_bytes = (qlite_gemm_q8_packed_size(s->K, s->N) + 63) / 64 * 64;
    s->colsum_bytes = s->b_const ? 0 : (s->nb * s->N * sizeof(int32_t) + 63) / 64 * 64;
    s->cbias_bytes = s->b_const ? 0 : (s->nb * len * sizeof(int32_t) + 63) / 64 * 64;
    const size_t rows = s->fold ? s->batches * s->M : s->M;
    /* A rows, rowsum, su, zu (+ one transposed float row for hybrid) */
    s->abuf_bytes = (rows * s->lda + 3 * rows * sizeof(int32_t) +
                     (hybrid ? s->K * sizeof(float) : 0) + 63) / 64 * 64;
    const size_t ref_bytes = (s->lda + 63) / 64 * 64 + s->K * sizeof(float);
    size_t abufs = s->abuf_bytes * (s->fold ? 1 : (size_t)s->threads);
    if (abufs < ref_bytes) abufs = ref_bytes;
    /* Fewer than 4 batches a thread (attention: 4 heads at 2 threads) are claimed in row
     * chunks (>= 32 rows, a multiple of 16): with whole heads a thread that starts late
     * leaves the other 3 of the 4 to one thread (profile 1T/2T x1.27-1.36). Each thread
     * then packs its own B copies (bmmq_eval): per thread the packed matrices, their
     * column sums and terms, and a flag per matrix. */
    s->chunk_rows = s->M;
    s->chunks = 1;
    const size_t want = 4 * (size_t)s->threads;
    if (!s->fold && s->threads > 1 && s->batches < want) {
        const size_t per = (want + s->batches - 1) / s->batches;
        size_t cr = (s->M + per - 1) / per;
        cr = (cr + 15) / 16 * 16;
        if (cr < 32) cr = 32;
        if (cr < s->M) {
            s->chunk_rows = cr;
            s->chunks = (s->M + cr - 1) / cr;
        }
    }
    s->dup = s->chunks > 1;
    s->dup_off = s->nb * s->packed_bytes + s->colsum_bytes + s->cbias_bytes + abufs;
    s->dup_bytes = s->dup ? s->nb * s->packed_bytes + s->colsum_bytes + s->cbias_bytes : 0;
    const size_t dup_total =
        s->dup ? s->dup_bytes * (size_t)(s->threads - 1) +
                     ((size_t)s->threads * s->nb + 63) / 64 * 64
               : 0;
    node->scratch_bytes = s->dup_off + dup_total + s->bcopy_bytes;
    node->state = s;
    return QLITE_OK;
}

qlite_status qlite_bmm_variants_prepare(qlite_node *node) {
    qlite_status st = qlite_nn_check_io(node, 2, 2, 1, 1);
    if (st != QLITE_OK) return st;
    const qlite_tensor *a = node->inputs[0], *b = node->inputs[1];
    if (qlite_is_q8(a->dtype) && qlite_is_q8(b->dtype)) return bmmq_prepare(node, false);
    if (a->dtype == QLITE_DTYPE_FLOAT32 && b->dtype == QLITE_DTYPE_INT8)
        return bmmq_prepare(node, true);
    if (a->dtype == QLITE_DTYPE_FLOAT32 && b->dtype == QLITE_DTYPE_FLOAT16)
        return qlite_bmm_f16_prepare(node);
    return qlite_nn_variant_unsupported(node, a, b);
}
