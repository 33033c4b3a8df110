/*
 * fb_schema.c — verifier descriptors for schema/qlite.fbs, one array per
 * table indexed by the field ids of fb_schema.h. The verifier is generic; all
 * knowledge of the schema's shape is in these tables.
 */
#include "fb_schema.h"

#include "qlite_internal.h"

#define SC(n, sz) {n, FB_KIND_SCALAR, sz, NULL, NULL}
#define STR(n) {n, FB_KIND_STRING, 1, NULL, NULL}
#define VEC(n, sz) {n, FB_KIND_VECTOR, sz, NULL, NULL}
#define TAB(n, t) {n, FB_KIND_TABLE, 4, &t, NULL}
#define TVEC(n, t) {n, FB_KIND_TABLE_VECTOR, 4, &t, NULL}
#define UTYPE(n, u) {n, FB_KIND_UNION_TYPE, 1, NULL, &u}
#define UVAL(n, u) {n, FB_KIND_UNION, 4, NULL, &u}
#define TABLE(var, name, fields) \
    const fb_table_desc var = {name, (uint32_t)QLITE_ARRAY_SIZE(fields), fields}

/* ---- option tables ---- */

static const fb_field_desc conv_fields[FB_CONV_FIELD_COUNT] = {
    [FB_CONV_STRIDE_H] = SC("stride_h", 4),     [FB_CONV_STRIDE_W] = SC("stride_w", 4),
    [FB_CONV_DILATION_H] = SC("dilation_h", 4), [FB_CONV_DILATION_W] = SC("dilation_w", 4),
    [FB_CONV_PAD_TOP] = SC("pad_top", 4),       [FB_CONV_PAD_LEFT] = SC("pad_left", 4),
    [FB_CONV_PAD_BOTTOM] = SC("pad_bottom", 4), [FB_CONV_PAD_RIGHT] = SC("pad_right", 4),
    [FB_CONV_GROUPS] = SC("groups", 4),         [FB_CONV_OUTPUT_PAD_H] = SC("output_pad_h", 4),
    [FB_CONV_OUTPUT_PAD_W] = SC("output_pad_w", 4), [FB_CONV_ACTIVATION] = SC("activation", 1),
};
static TABLE(conv_desc, "Conv2DOptions", conv_fields);

static const fb_field_desc pool_fields[FB_POOL_FIELD_COUNT] = {
    [FB_POOL_FILTER_H] = SC("filter_h", 4),     [FB_POOL_FILTER_W] = SC("filter_w", 4),
    [FB_POOL_STRIDE_H] = SC("stride_h", 4),     [FB_POOL_STRIDE_W] = SC("stride_w", 4),
    [FB_POOL_DILATION_H] = SC("dilation_h", 4), [FB_POOL_DILATION_W] = SC("dilation_w", 4),
    [FB_POOL_PAD_TOP] = SC("pad_top", 4),       [FB_POOL_PAD_LEFT] = SC("pad_left", 4),
    [FB_POOL_PAD_BOTTOM] = SC("pad_bottom", 4), [FB_POOL_PAD_RIGHT] = SC("pad_right", 4),
    [FB_POOL_CEIL_MODE] = SC("ceil_mode", 1),
    [FB_POOL_COUNT_INCLUDE_PAD] = SC("count_include_pad", 1),
    [FB_POOL_ACTIVATION] = SC("activation", 1),
};
static TABLE(pool_desc, "Pool2DOptions", pool_fields);

static const fb_field_desc fc_fields[FB_FC_FIELD_COUNT] = {
    [FB_FC_ACTIVATION] = SC("activation", 1),
    [FB_FC_KEEP_NUM_DIMS] = SC("keep_num_dims", 1),
};
static TABLE(fc_desc, "FullyConnectedOptions", fc_fields);

static const fb_field_desc bmm_fields[FB_BMM_FIELD_COUNT] = {
    [FB_BMM_TRANSPOSE_A] = SC("transpose_a", 1),
    [FB_BMM_TRANSPOSE_B] = SC("transpose_b", 1),
    [FB_BMM_ACTIVATION] = SC("activation", 1),
};
static TABLE(bmm_desc, "BatchMatMulOptions", bmm_fields);

static const fb_field_desc binary_fields[FB_BINARY_FIELD_COUNT] = {
    [FB_BINARY_ACTIVATION] = SC("activation", 1),
};
static TABLE(binary_desc, "BinaryOptions", binary_fields);

static const fb_field_desc act_fields[FB_ACT_FIELD_COUNT] = {
    [FB_ACT_ALPHA] = SC("alpha", 4), [FB_ACT_BETA] = SC("beta", 4),
    [FB_ACT_MIN] = SC("min", 4),     [FB_ACT_MAX] = SC("max", 4),
    [FB_ACT_APPROXIMATE] = SC("approximate", 1),
};
static TABLE(act_desc, "ActivationOptions", act_fields);

static const fb_field_desc softmax_fields[FB_SOFTMAX_FIELD_COUNT] = {
    [FB_SOFTMAX_AXIS] = SC("axis", 4),
    [FB_SOFTMAX_BETA] = SC("beta", 4),
};
static TABLE(softmax_desc, "SoftmaxOptions", softmax_fields);

static const fb_field_desc reshape_fields[FB_RESHAPE_FIELD_COUNT] = {
    [FB_RESHAPE_NEW_SHAPE] = VEC("new_shape", 8),
};
static TABLE(reshape_desc, "ReshapeOptions", reshape_fields);

static const fb_field_desc transpose_fields[FB_TRANSPOSE_FIELD_COUNT] = {
    [FB_TRANSPOSE_PERM] = VEC("perm", 4),
};
static TABLE(transpose_desc, "TransposeOptions", transpose_fields);

static const fb_field_desc concat_fields[FB_CONCAT_FIELD_COUNT] = {
    [FB_CONCAT_AXIS] = SC("axis", 4),
    [FB_CONCAT_ACTIVATION] = SC("activation", 1),
};
static TABLE(concat_desc, "ConcatenationOptions", concat_fields);

static const fb_field_desc split_fields[FB_SPLIT_FIELD_COUNT] = {
    [FB_SPLIT_AXIS] = SC("axis", 4),
    [FB_SPLIT_SIZES] = VEC("sizes", 8),
};
static TABLE(split_desc, "SplitOptions", split_fields);

static const fb_field_desc slice_fields[FB_SLICE_FIELD_COUNT] = {
    [FB_SLICE_STARTS] = VEC("starts", 8), [FB_SLICE_ENDS] = VEC("ends", 8),
    [FB_SLICE_AXES] = VEC("axes", 4),     [FB_SLICE_STEPS] = VEC("steps", 8),
};
static TABLE(slice_desc, "SliceOptions", slice_fields);

static const fb_field_desc pad_fields[FB_PAD_FIELD_COUNT] = {
    [FB_PAD_PADS] = VEC("pads", 8),
    [FB_PAD_MODE] = SC("mode", 1),
    [FB_PAD_VALUE] = SC("value", 4),
};
static TABLE(pad_desc, "PadOptions", pad_fields);

static const fb_field_desc gather_fields[FB_GATHER_FIELD_COUNT] = {
    [FB_GATHER_AXIS] = SC("axis", 4),
};
static TABLE(gather_desc, "GatherOptions", gather_fields);

static const fb_field_desc reduce_fields[FB_REDUCE_FIELD_COUNT] = {
    [FB_REDUCE_AXES] = VEC("axes", 4),
    [FB_REDUCE_KEEP_DIMS] = SC("keep_dims", 1),
};
static TABLE(reduce_desc, "ReduceOptions", reduce_fields);

static const fb_field_desc norm_fields[FB_NORM_FIELD_COUNT] = {
    [FB_NORM_AXIS] = SC("axis", 4),
    [FB_NORM_EPSILON] = SC("epsilon", 4),
};
static TABLE(norm_desc, "NormOptions", norm_fields);

static const fb_field_desc resize_fields[FB_RESIZE_FIELD_COUNT] = {
    [FB_RESIZE_MODE] = SC("mode", 1),
    [FB_RESIZE_COORD] = SC("coordinate_transform", 1),
    [FB_RESIZE_NEAREST_MODE] = SC("nearest_mode", 1),
    [FB_RESIZE_OUT_H] = SC("out_h", 4),
    [FB_RESIZE_OUT_W] = SC("out_w", 4),
    [FB_RESIZE_SCALE_H] = SC("scale_h", 4),
    [FB_RESIZE_SCALE_W] = SC("scale_w", 4),
    [FB_RESIZE_CUBIC_COEFF_A] = SC("cubic_coeff_a", 4),
};
static TABLE(resize_desc, "ResizeOptions", resize_fields);

static const fb_field_desc rnn_fields[FB_RNN_FIELD_COUNT] = {
    [FB_RNN_HIDDEN_SIZE] = SC("hidden_size", 4),
    [FB_RNN_DIRECTION] = SC("direction", 1),
    [FB_RNN_BATCH_FIRST] = SC("batch_first", 1),
    [FB_RNN_LINEAR_BEFORE_RESET] = SC("linear_before_reset", 1),
    [FB_RNN_CLIP] = SC("clip", 4),
};
static TABLE(rnn_desc, "RnnOptions", rnn_fields);

static const fb_field_desc cast_fields[FB_CAST_FIELD_COUNT] = {
    [FB_CAST_TO] = SC("to", 1),
};
static TABLE(cast_desc, "CastOptions", cast_fields);

/* Members in union order: type k (= qlite_options_type k) is members[k - 1]. */
static const fb_table_desc *const options_members[] = {
    [QLITE_OPTIONS_CONV_2D - 1] = &conv_desc,
    [QLITE_OPTIONS_POOL_2D - 1] = &pool_desc,
    [QLITE_OPTIONS_FULLY_CONNECTED - 1] = &fc_desc,
    [QLITE_OPTIONS_BATCH_MATMUL - 1] = &bmm_desc,
    [QLITE_OPTIONS_BINARY - 1] = &binary_desc,
    [QLITE_OPTIONS_ACTIVATION - 1] = &act_desc,
    [QLITE_OPTIONS_SOFTMAX - 1] = &softmax_desc,
    [QLITE_OPTIONS_RESHAPE - 1] = &reshape_desc,
    [QLITE_OPTIONS_TRANSPOSE - 1] = &transpose_desc,
    [QLITE_OPTIONS_CONCATENATION - 1] = &concat_desc,
    [QLITE_OPTIONS_SPLIT - 1] = &split_desc,
    [QLITE_OPTIONS_SLICE - 1] = &slice_desc,
    [QLITE_OPTIONS_PAD - 1] = &pad_desc,
    [QLITE_OPTIONS_GATHER - 1] = &gather_desc,
    [QLITE_OPTIONS_REDUCE - 1] = &reduce_desc,
    [QLITE_OPTIONS_NORM - 1] = &norm_desc,
    [QLITE_OPTIONS_RESIZE - 1] = &resize_desc,
    [QLITE_OPTIONS_RNN - 1] = &rnn_desc,
    [QLITE_OPTIONS_CAST - 1] = &cast_desc,
};
_Static_assert(QLITE_ARRAY_SIZE(options_members) == QLITE_OPTIONS_COUNT - 1,
               "OpOptions members out of date");

const fb_union_desc fb_desc_OpOptions = {"OpOptions", QLITE_OPTIONS_COUNT - 1, options_members};

/* ---- model tables ---- */

static const fb_field_desc buffer_fields[FB_BUFFER_FIELD_COUNT] = {
    [FB_BUFFER_OFFSET] = SC("offset", 8),
    [FB_BUFFER_SIZE] = SC("size", 8),
    [FB_BUFFER_CRC32] = SC("crc32", 4),
};
static TABLE(buffer_desc, "Buffer", buffer_fields);

static const fb_field_desc quant_fields[FB_QUANT_FIELD_COUNT] = {
    [FB_QUANT_SCALE] = VEC("scale", 4),
    [FB_QUANT_ZERO_POINT] = VEC("zero_point", 8),
    [FB_QUANT_AXIS] = SC("axis", 4),
    [FB_QUANT_MIN] = VEC("min", 4),
    [FB_QUANT_MAX] = VEC("max", 4),
};
static TABLE(quant_desc, "Quantization", quant_fields);

static const fb_field_desc sparsity_fields[FB_SPARSITY_FIELD_COUNT] = {
    [FB_SPARSITY_BLOCK_ROWS] = SC("block_rows", 4),
    [FB_SPARSITY_BLOCK_COLS] = SC("block_cols", 4),
    [FB_SPARSITY_ROW_PTR_TYPE] = SC("row_ptr_type", 1),
    [FB_SPARSITY_ROW_PTR_BUFFER] = SC("row_ptr_buffer", 4),
    [FB_SPARSITY_COL_INDEX_TYPE] = SC("col_index_type", 1),
    [FB_SPARSITY_COL_INDEX_BUFFER] = SC("col_index_buffer", 4),
    [FB_SPARSITY_NNZ_BLOCKS] = SC("nnz_blocks", 8),
};
static TABLE(sparsity_desc, "Sparsity", sparsity_fields);

static const fb_field_desc clustering_fields[FB_CLUSTERING_FIELD_COUNT] = {
    [FB_CLUSTERING_NUM_CLUSTERS] = SC("num_clusters", 4),
    [FB_CLUSTERING_INDEX_BITS] = SC("index_bits", 4),
    [FB_CLUSTERING_CODEBOOK_BUFFER] = SC("codebook_buffer", 4),
    [FB_CLUSTERING_PER_ROW] = SC("per_row", 1),
};
static TABLE(clustering_desc, "Clustering", clustering_fields);

static const fb_field_desc tensor_fields[FB_TENSOR_FIELD_COUNT] = {
    [FB_TENSOR_NAME] = STR("name"),
    [FB_TENSOR_SHAPE] = VEC("shape", 8),
    [FB_TENSOR_DTYPE] = SC("dtype", 1),
    [FB_TENSOR_BUFFER] = SC("buffer", 4),
    [FB_TENSOR_QUANTIZATION] = TAB("quantization", quant_desc),
    [FB_TENSOR_SPARSITY] = TAB("sparsity", sparsity_desc),
    [FB_TENSOR_CLUSTERING] = TAB("clustering", clustering_desc),
    [FB_TENSOR_LAYOUT] = SC("layout", 1),
};
static TABLE(tensor_desc, "Tensor", tensor_fields);

static const fb_field_desc op_fields[FB_OP_FIELD_COUNT] = {
    [FB_OP_OPCODE] = SC("opcode", 4),
    [FB_OP_INPUTS] = VEC("inputs", 4),
    [FB_OP_OUTPUTS] = VEC("outputs", 4),
    [FB_OP_OPTIONS_TYPE] = UTYPE("options_type", fb_desc_OpOptions),
    [FB_OP_OPTIONS] = UVAL("options", fb_desc_OpOptions),
    [FB_OP_NAME] = STR("name"),
};
static TABLE(op_desc, "Operator", op_fields);

static const fb_field_desc graph_fields[FB_GRAPH_FIELD_COUNT] = {
    [FB_GRAPH_NAME] = STR("name"),
    [FB_GRAPH_TENSORS] = TVEC("tensors", tensor_desc),
    [FB_GRAPH_INPUTS] = VEC("inputs", 4),
    [FB_GRAPH_OUTPUTS] = VEC("outputs", 4),
    [FB_GRAPH_OPERATORS] = TVEC("operators", op_desc),
};
static TABLE(graph_desc, "Graph", graph_fields);

static const fb_field_desc metadata_fields[FB_METADATA_FIELD_COUNT] = {
    [FB_METADATA_KEY] = STR("key"),
    [FB_METADATA_VALUE] = STR("value"),
    [FB_METADATA_BUFFER] = SC("buffer", 4),
};
static TABLE(metadata_desc, "Metadata", metadata_fields);

static const fb_field_desc model_fields[FB_MODEL_FIELD_COUNT] = {
    [FB_MODEL_VERSION_MAJOR] = SC("version_major", 4),
    [FB_MODEL_VERSION_MINOR] = SC("version_minor", 4),
    [FB_MODEL_PRODUCER] = STR("producer"),
    [FB_MODEL_DESCRIPTION] = STR("description"),
    [FB_MODEL_GRAPHS] = TVEC("graphs", graph_desc),
    [FB_MODEL_BUFFERS] = TVEC("buffers", buffer_desc),
    [FB_MODEL_METADATA] = TVEC("metadata", metadata_desc),
};
TABLE(fb_desc_Model, "Model", model_fields);
