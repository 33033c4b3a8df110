/*
 * make_dump_models.c — writes the models the qlite-dump CLI tests inspect
 * (tests/dump/run_dump_tests.sh holds the expected values, derived by hand
 * from the constants below; keep the two in step).
 *
 *   dump_model.qlite   16 tensors, 9 ops, dynamic batch:
 *     x[?,4,4,2] f32 -QUANTIZE-> xq int8 (0.05, -3)
 *       -CONV_2D(conv.w int8 per-channel x3, conv.b int32 per-channel)-> y int8 (0.1, 5)
 *       -DEQUANTIZE-> yf -TRANSPOSE(0,3,1,2)-> yt -RESHAPE(-1,12)-> r
 *       -FULLY_CONNECTED(fc.w f32 sparse 1x4 blocks, fc.b f16)-> z
 *       -MUL(k f32 clustered K=3)-> z2 -FULLY_CONNECTED(fc2.w int4, no bias)-> out
 *       -SOFTMAX-> probs
 *     metadata: quant_mode (text), labels (blob), note (quotes, newline, tab, UTF-8)
 *   dump_extra.qlite   O16I4-layout int8 weight and a per-row clustered int8
 *                      weight with an int8 codebook, quantized per channel.
 *
 * usage: make_dump_models OUTDIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "qlite/qlite.h"
#include "qlite_writer.h"

#define CHECK(expr)                                                                   \
    do {                                                                              \
        if (!(expr)) {                                                                \
            fprintf(stderr, "make_dump_models: %s failed: %s\n", #expr, qlite_last_error()); \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static int32_t add_tensor(qlite_writer *w, const char *name, qlite_dtype dt, uint32_t rank,
                          const int64_t *shape, uint32_t buffer, const qlite_quant *q) {
    qlite_tensor_info t = {.name = name, .dtype = dt, .rank = rank, .shape = shape,
                           .buffer = buffer, .quant = q};
    int32_t i = qlite_writer_add_tensor(w, &t);
    CHECK(i >= 0);
    return i;
}

static uint32_t add_buf(qlite_writer *w, const void *p, size_t n) {
    int64_t b = qlite_writer_add_buffer(w, p, n);
    CHECK(b > 0);
    return (uint32_t)b;
}

static void add_op(qlite_writer *w, qlite_op_code code, const char *name, uint32_t nin,
                   const int32_t *in, uint32_t nout, const int32_t *out,
                   const qlite_op_options *opt) {
    qlite_op_info op = {.code = code, .name = name, .num_inputs = nin, .inputs = in,
                        .num_outputs = nout, .outputs = out};
    if (opt) op.options = *opt;
    CHECK(qlite_writer_add_op(w, &op) >= 0);
}

static void write_main(const char *path) {
    qlite_writer *w;
    CHECK(qlite_writer_create(&w) == QLITE_OK);
    CHECK(qlite_writer_set_producer(w, "make_dump_models 1.0") == QLITE_OK);
    CHECK(qlite_writer_set_description(w, "dump test model: int8 conv, sparse fc, clustered mul, "
                                          "int4 fc") == QLITE_OK);
    CHECK(qlite_writer_add_metadata(w, "quant_mode", "mixed") == QLITE_OK);
    CHECK(qlite_writer_add_metadata_blob(w, "labels", "cat\ndog\n", 8) == QLITE_OK);
    CHECK(qlite_writer_add_metadata(w, "note", "say \"hi\"\n\tµ\\") == QLITE_OK);

    /* conv.w [3,3,3,2] int8: q_i = (i*37) % 255 - 127, per channel (axis 0). */
    int8_t convw[54];
    for (int i = 0; i < 54; i++) convw[i] = (int8_t)((i * 37) % 255 - 127);
    uint32_t b_convw = add_buf(w, convw, sizeof convw);
    /* conv.b [3] int32 */
    int32_t convb[3] = {100, -200, 300};
    uint32_t b_convb = add_buf(w, convb, sizeof convb);
    /* fc.w [4,12] f32, 1x4 blocks; stored values v_j = (j+1)/4, j = 0..23 */
    float fcw[24];
    for (int j = 0; j < 24; j++) fcw[j] = (float)(j + 1) * 0.25f;
    uint32_t b_fcw = add_buf(w, fcw, sizeof fcw);
    uint8_t rowptr[5] = {0, 2, 2, 3, 6};
    uint32_t b_rowptr = add_buf(w, rowptr, sizeof rowptr);
    uint8_t colidx[6] = {0, 2, 1, 0, 1, 2};
    uint32_t b_colidx = add_buf(w, colidx, sizeof colidx);
    /* fc.b [4] f16: 0.5, -1, 2, -0.25 */
    uint16_t fcb[4] = {0x3800, 0xbc00, 0x4000, 0xb400};
    uint32_t b_fcb = add_buf(w, fcb, sizeof fcb);
    /* k [4] f32 clustered: indices 2,0,1,2 (2 bits, LSB first) into [-1.5, 0.25, 2, pad 0] */
    uint8_t kidx[1] = {2 | 0 << 2 | 1 << 4 | 2 << 6};
    uint32_t b_kidx = add_buf(w, kidx, sizeof kidx);
    float kcb[4] = {-1.5f, 0.25f, 2.0f, 0.0f};
    uint32_t b_kcb = add_buf(w, kcb, sizeof kcb);
    /* fc2.w [2,4] int4: -8,7,-1,0, 3,-3,1,2 (low nibble first) */
    uint8_t fc2w[4] = {0x78, 0x0f, 0xd3, 0x21};
    uint32_t b_fc2w = add_buf(w, fc2w, sizeof fc2w);

    static const int64_t s_x[] = {-1, 4, 4, 2}, s_w[] = {3, 3, 3, 2}, s_3[] = {3},
                         s_y[] = {-1, 2, 2, 3}, s_yt[] = {-1, 3, 2, 2}, s_r[] = {-1, 12},
                         s_fcw[] = {4, 12}, s_4[] = {4}, s_z[] = {-1, 4}, s_fc2[] = {2, 4},
                         s_out[] = {-1, 2};
    float xq_scale = 0.05f, y_scale = 0.1f, fc2_scale = 0.5f;
    int32_t xq_zp = -3, y_zp = 5, zero = 0;
    float w_scales[3] = {0.01f, 0.02f, 0.04f};
    float b_scales[3] = {0.05f * 0.01f, 0.05f * 0.02f, 0.05f * 0.04f};
    int32_t zeros3[3] = {0, 0, 0};
    qlite_quant q_xq = {.count = 1, .scale = &xq_scale, .zero_point = &xq_zp};
    qlite_quant q_y = {.count = 1, .scale = &y_scale, .zero_point = &y_zp};
    qlite_quant q_w = {.count = 3, .axis = 0, .scale = w_scales, .zero_point = zeros3};
    qlite_quant q_b = {.count = 3, .axis = 0, .scale = b_scales, .zero_point = zeros3};
    qlite_quant q_fc2 = {.count = 1, .scale = &fc2_scale, .zero_point = &zero};

    int32_t x = add_tensor(w, "x", QLITE_DTYPE_FLOAT32, 4, s_x, 0, NULL);
    int32_t xq = add_tensor(w, "xq", QLITE_DTYPE_INT8, 4, s_x, 0, &q_xq);
    int32_t cw = add_tensor(w, "conv.w", QLITE_DTYPE_INT8, 4, s_w, b_convw, &q_w);
    int32_t cb = add_tensor(w, "conv.b", QLITE_DTYPE_INT32, 1, s_3, b_convb, &q_b);
    int32_t y = add_tensor(w, "y", QLITE_DTYPE_INT8, 4, s_y, 0, &q_y);
    int32_t yf = add_tensor(w, "yf", QLITE_DTYPE_FLOAT32, 4, s_y, 0, NULL);
    int32_t yt = add_tensor(w, "yt", QLITE_DTYPE_FLOAT32, 4, s_yt, 0, NULL);
    int32_t r = add_tensor(w, "r", QLITE_DTYPE_FLOAT32, 2, s_r, 0, NULL);
    qlite_sparsity sp = {.block_rows = 1, .block_cols = 4, .row_ptr_type = QLITE_INDEX_UINT8,
                         .col_index_type = QLITE_INDEX_UINT8, .row_ptr_buffer = b_rowptr,
                         .col_index_buffer = b_colidx, .nnz_blocks = 6};
    qlite_tensor_info t_fcw = {.name = "fc.w", .dtype = QLITE_DTYPE_FLOAT32, .rank = 2,
                               .shape = s_fcw, .buffer = b_fcw, .sparsity = &sp};
    int32_t fw = qlite_writer_add_tensor(w, &t_fcw);
    CHECK(fw >= 0);
    int32_t fb = add_tensor(w, "fc.b", QLITE_DTYPE_FLOAT16, 1, s_4, b_fcb, NULL);
    int32_t z = add_tensor(w, "z", QLITE_DTYPE_FLOAT32, 2, s_z, 0, NULL);
    qlite_clustering cl = {.num_clusters = 3, .index_bits = 2, .codebook_buffer = b_kcb};
    qlite_tensor_info t_k = {.name = "k", .dtype = QLITE_DTYPE_FLOAT32, .rank = 1, .shape = s_4,
                             .buffer = b_kidx, .clustering = &cl};
    int32_t k = qlite_writer_add_tensor(w, &t_k);
    CHECK(k >= 0);
    int32_t z2 = add_tensor(w, "z2", QLITE_DTYPE_FLOAT32, 2, s_z, 0, NULL);
    int32_t f2 = add_tensor(w, "fc2.w", QLITE_DTYPE_INT4, 2, s_fc2, b_fc2w, &q_fc2);
    int32_t out = add_tensor(w, "out", QLITE_DTYPE_FLOAT32, 2, s_out, 0, NULL);
    int32_t probs = add_tensor(w, "probs", QLITE_DTYPE_FLOAT32, 2, s_out, 0, NULL);

    qlite_op_options o;
    add_op(w, QLITE_OP_QUANTIZE, "quant", 1, (int32_t[]){x}, 1, (int32_t[]){xq}, NULL);
    qlite_op_options_default(QLITE_OPTIONS_CONV_2D, &o);
    o.u.conv2d.stride_h = o.u.conv2d.stride_w = 2;
    o.u.conv2d.pad_top = o.u.conv2d.pad_left = o.u.conv2d.pad_bottom = o.u.conv2d.pad_right = 1;
    o.u.conv2d.activation = QLITE_ACT_RELU;
    add_op(w, QLITE_OP_CONV_2D, "conv", 3, (int32_t[]){xq, cw, cb}, 1, (int32_t[]){y}, &o);
    add_op(w, QLITE_OP_DEQUANTIZE, "dequant", 1, (int32_t[]){y}, 1, (int32_t[]){yf}, NULL);
    qlite_op_options_default(QLITE_OPTIONS_TRANSPOSE, &o);
    static const int32_t perm[4] = {0, 3, 1, 2};
    o.u.transpose.rank = 4;
    o.u.transpose.perm = perm;
    add_op(w, QLITE_OP_TRANSPOSE, "to_nchw", 1, (int32_t[]){yf}, 1, (int32_t[]){yt}, &o);
    qlite_op_options_default(QLITE_OPTIONS_RESHAPE, &o);
    static const int64_t new_shape[2] = {-1, 12};
    o.u.reshape.rank = 2;
    o.u.reshape.new_shape = new_shape;
    add_op(w, QLITE_OP_RESHAPE, "flatten", 1, (int32_t[]){yt}, 1, (int32_t[]){r}, &o);
    qlite_op_options_default(QLITE_OPTIONS_FULLY_CONNECTED, &o);
    add_op(w, QLITE_OP_FULLY_CONNECTED, "fc", 3, (int32_t[]){r, fw, fb}, 1, (int32_t[]){z}, &o);
    qlite_op_options_default(QLITE_OPTIONS_BINARY, &o);
    add_op(w, QLITE_OP_MUL, "gain", 2, (int32_t[]){z, k}, 1, (int32_t[]){z2}, &o);
    qlite_op_options_default(QLITE_OPTIONS_FULLY_CONNECTED, &o);
    add_op(w, QLITE_OP_FULLY_CONNECTED, "fc2", 3, (int32_t[]){z2, f2, -1}, 1, (int32_t[]){out},
           &o);
    qlite_op_options_default(QLITE_OPTIONS_SOFTMAX, &o);
    add_op(w, QLITE_OP_SOFTMAX, "softmax", 1, (int32_t[]){out}, 1, (int32_t[]){probs}, &o);

    CHECK(qlite_writer_set_inputs(w, 1, (int32_t[]){x}) == QLITE_OK);
    CHECK(qlite_writer_set_outputs(w, 1, (int32_t[]){probs}) == QLITE_OK);
    CHECK(qlite_writer_write_file(w, path) == QLITE_OK);
    qlite_writer_destroy(w);
}

static void write_extra(const char *path) {
    qlite_writer *w;
    CHECK(qlite_writer_create(&w) == QLITE_OK);
    CHECK(qlite_writer_set_producer(w, "make_dump_models 1.0") == QLITE_OK);

    /* p.w [20,6] int8 in O16I4 layout: logical q(o,i) = (o*6+i) % 100 - 50,
     * stored at ((o/16)*2 + i/4)*64 + (o%16)*4 + i%4 of 2*2*64 bytes, zero padded. */
    int8_t packed[256];
    memset(packed, 0, sizeof packed);
    for (int o = 0; o < 20; o++)
        for (int i = 0; i < 6; i++)
            packed[((o / 16) * 2 + i / 4) * 64 + (o % 16) * 4 + i % 4] =
                (int8_t)((o * 6 + i) % 100 - 50);
    uint32_t b_packed = add_buf(w, packed, sizeof packed);
    /* c.w [2,5] int8, clustered per row, 4 clusters (2 bits): codebooks
     * row 0: [-100, -10, 10, 100], row 1: [-3, 0, 3, 6];
     * indices row 0: 0,1,2,3,0; row 1: 3,3,1,0,2 -> one bitstream of 10 codes. */
    int8_t cbook[8] = {-100, -10, 10, 100, -3, 0, 3, 6};
    uint32_t b_cbook = add_buf(w, cbook, sizeof cbook);
    static const unsigned codes[10] = {0, 1, 2, 3, 0, 3, 3, 1, 0, 2};
    uint8_t bits[3] = {0, 0, 0};
    for (int i = 0; i < 10; i++) bits[(i * 2) / 8] |= (uint8_t)(codes[i] << ((i * 2) % 8));
    uint32_t b_bits = add_buf(w, bits, sizeof bits);

    static const int64_t s_in[] = {1, 6}, s_pw[] = {20, 6}, s_mid[] = {1, 20}, s_cw[] = {2, 5},
                         s_cin[] = {1, 5}, s_out[] = {1, 2};
    float p_scales[20];
    int32_t p_zps[20];
    for (int i = 0; i < 20; i++) {
        p_scales[i] = 0.125f * (float)(i + 1);
        p_zps[i] = 0;
    }
    float c_scales[2] = {0.5f, 0.25f};
    int32_t c_zps[2] = {0, 0};
    qlite_quant q_p = {.count = 20, .axis = 0, .scale = p_scales, .zero_point = p_zps};
    qlite_quant q_c = {.count = 2, .axis = 0, .scale = c_scales, .zero_point = c_zps};

    int32_t in = add_tensor(w, "in", QLITE_DTYPE_FLOAT32, 2, s_in, 0, NULL);
    qlite_tensor_info t_p = {.name = "p.w", .dtype = QLITE_DTYPE_INT8, .rank = 2, .shape = s_pw,
                             .buffer = b_packed, .quant = &q_p, .layout = QLITE_LAYOUT_O16I4};
    int32_t pw = qlite_writer_add_tensor(w, &t_p);
    CHECK(pw >= 0);
    int32_t mid = add_tensor(w, "mid", QLITE_DTYPE_FLOAT32, 2, s_mid, 0, NULL);
    int32_t in2 = add_tensor(w, "in2", QLITE_DTYPE_FLOAT32, 2, s_cin, 0, NULL);
    qlite_clustering cl = {.num_clusters = 4, .index_bits = 2, .per_row = true,
                           .codebook_buffer = b_cbook};
    qlite_tensor_info t_c = {.name = "c.w", .dtype = QLITE_DTYPE_INT8, .rank = 2, .shape = s_cw,
                             .buffer = b_bits, .quant = &q_c, .clustering = &cl};
    int32_t cw = qlite_writer_add_tensor(w, &t_c);
    CHECK(cw >= 0);
    int32_t out = add_tensor(w, "out", QLITE_DTYPE_FLOAT32, 2, s_out, 0, NULL);

    qlite_op_options o;
    qlite_op_options_default(QLITE_OPTIONS_FULLY_CONNECTED, &o);
    add_op(w, QLITE_OP_FULLY_CONNECTED, "packed_fc", 3, (int32_t[]){in, pw, -1}, 1,
           (int32_t[]){mid}, &o);
    add_op(w, QLITE_OP_FULLY_CONNECTED, "clustered_fc", 3, (int32_t[]){in2, cw, -1}, 1,
           (int32_t[]){out}, &o);
    CHECK(qlite_writer_set_inputs(w, 2, (int32_t[]){in, in2}) == QLITE_OK);
    CHECK(qlite_writer_set_outputs(w, 2, (int32_t[]){mid, out}) == QLITE_OK);
    CHECK(qlite_writer_write_file(w, path) == QLITE_OK);
    qlite_writer_destroy(w);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_dump_models OUTDIR\n");
        return 2;
    }
    if (mkdir(argv[1], 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "make_dump_models: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/dump_model.qlite", argv[1]);
    write_main(path);
    snprintf(path, sizeof path, "%s/dump_extra.qlite", argv[1]);
    write_extra(path);
    return 0;
}
