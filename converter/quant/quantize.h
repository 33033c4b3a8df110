/*
 * quantize.h — the converter's quantization passes (docs/converter.md,
 * "Quantization passes"; the arithmetic is docs/quantization.md).
 *
 * They run on the lowered float graph after every float pass:
 *
 *   FLOAT16  qlc_quant_float16     float32 constants -> float16
 *   DYNAMIC  qlc_quant_dynamic     weights -> int8 (hybrid kernels)
 *   INT8     qlc_qdq_absorb        QUANTIZE -> DEQUANTIZE pairs of a QDQ model
 *                                  become fixed parameters on the float tensor
 *            qlc_calibrate         the float model runs on the dataset; every
 *                                  float activation gets a range
 *            qlc_quant_int8        int8 activations, int8 weights, int32
 *                                  biases; float islands where no kernel
 *
 * Tensor parameters live in qlc_tensor.quant (what emit writes) and, for the
 * parameters a QDQ model fixes before quantization, qlc_tensor.qdq = true with
 * the parameters in quant while the tensor is still float.
 */
#ifndef QLITE_CONVERTER_QUANTIZE_H
#define QLITE_CONVERTER_QUANTIZE_H

#include "ir.h"
#include "npy.h"
#include "passes/passes.h"
#include "report.h"

/* ---- datasets (dataset.c) ------------------------------------------------------------ */

/* A representative / evaluation dataset bound to the graph's inputs. */
typedef struct qlc_dataset {
    uint32_t num_inputs;
    qlite_npy_array *inputs;     /* [num_inputs] in graph-input order; samples on axis 0 */
    uint64_t samples;
} qlc_dataset;

/*
 * Loads .npy / .npz files and binds their arrays to the graph's inputs
 * (by name in an .npz; a lone array feeds a single-input model), concatenating
 * files on axis 0 and keeping the first max_samples (0 = all). Checks dtype,
 * rank and every dim but the first against the inputs, equal sample counts,
 * at least one sample, and no NaN/Inf. `what` ("calibration", "evaluation")
 * starts every message. QLITE_ERR_INVALID_ARGUMENT for data that does not fit.
 */
qlite_status qlc_dataset_load(const qlc_graph *g, const char *const *files, uint32_t num_files,
                              uint64_t max_samples, const char *what, qlc_dataset *out);
void qlc_dataset_free(qlc_dataset *d);

/* Loads a labels .npy (integer classes, one per sample; rank 1 or [N,1]). */
qlite_status qlc_labels_load(const char *path, uint64_t samples, int64_t **labels);

/* ---- running a model over a dataset (run.c) ------------------------------------------ */

typedef struct qlc_run {
    qlite_model *model;
    qlite_interpreter *interp;
    uint64_t batch;              /* samples per invoke */
    bool dynamic;                /* the model's batch dim is dynamic */
    uint64_t current;            /* batch the interpreter is prepared for (0 = none) */
} qlc_run;

/* Opens model bytes (borrowed) and creates an interpreter with the flags and
 * observer; max_batch bounds the samples per invoke of a dynamic-batch model. */
qlite_status qlc_run_open(const void *bytes, size_t size, uint32_t flags, int32_t threads,
                          qlite_observer_fn observer, void *user, uint64_t max_batch,
                          qlc_run *out);
/* Number of samples qlc_run_batch takes at `first` (<= batch). */
uint64_t qlc_run_chunk(const qlc_run *r, const qlc_dataset *d, uint64_t first);
/* Runs samples [first, first + n) (n from qlc_run_chunk): resizes when n
 * changes, sets every input (float data quantized for an int8/uint8 input),
 * invokes. */
qlite_status qlc_run_batch(qlc_run *r, const qlc_dataset *d, uint64_t first, uint64_t n);
/* Output `index` of the last batch as float (dequantized when int8/uint8):
 * *out malloc'd with *count elements. */
qlite_status qlc_run_output_f32(const qlc_run *r, uint32_t index, float **out, size_t *count);
void qlc_run_close(qlc_run *r);

/* Progress helper: calls options.progress when set. */
void qlc_progress(const qlc_ctx *c, const char *stage, uint64_t done, uint64_t total);

/* ---- range estimators (estimators.c) -------------------------------------------------- */

#define QLC_HIST_BINS 2048

/* Histogram of one tensor's values over [lo, hi] (the min/max of a first
 * pass), QLC_HIST_BINS equal bins; values outside land in the edge bins. */
typedef struct qlc_hist {
    double lo, hi;
    uint64_t counts[QLC_HIST_BINS];
    uint64_t total;
} qlc_hist;

void qlc_hist_init(qlc_hist *h, double lo, double hi);
void qlc_hist_add(qlc_hist *h, const float *x, size_t n);
/* Fraction of the values with |x| <= t (linear inside a bin). */
double qlc_hist_abs_cdf(const qlc_hist *h, double t);
/* Smallest t >= 0 with qlc_hist_abs_cdf(t) >= q (q in [0, 1]). */
double qlc_hist_abs_quantile(const qlc_hist *h, double q);
/* Percentile estimator: the range [lo, hi] clipped to [-t, t] where t is
 * the P-th percentile of |x|. */
void qlc_estimate_percentile(const qlc_hist *h, double p, float *rmin, float *rmax);
/* MSE estimator: of 128 thresholds t evenly spaced from the 50th percentile
 * of |x| to max |x|, the one whose range [lo, hi] ∩ [-t, t] quantized as
 * int8 (qlite_choose_asymmetric) gives the least expected squared error;
 * *err_out (may be NULL) receives that error (sum over the values). */
void qlc_estimate_mse(const qlc_hist *h, float *rmin, float *rmax, double *err_out);
/* The expected squared error of quantizing the histogram with int8 range
 * [rmin, rmax] (docs/quantization.md §2.4). */
double qlc_hist_quant_error(const qlc_hist *h, float rmin, float rmax);

/* ---- weights (weights.c) -------------------------------------------------------------- */

/*
 * Quantizes a float weight symmetric int8 (range -127..127) per channel
 * along `axis` (or per tensor when per_tensor) into a new int8 tensor whose
 * quant is set; returns its index (or -1, error set). With `fixed` (a
 * weight whose parameters a QDQ model fixed), those parameters are used
 * as they are (uint8 ones moved to int8). *sqnr receives the SQNR (dB).
 */
int32_t qlc_quantize_weight(qlc_graph *g, int32_t w, int32_t axis, bool per_tensor,
                            const char *suffix, double *sqnr);
/* Bias as int32 in units of input_scale * weight_scale[c], stored without
 * Quantization (the scale is implied; docs §2.3). */
int32_t qlc_quantize_bias(qlc_graph *g, int32_t b, float input_scale, const qlc_quant *wq,
                          int32_t out_channels);
/* Constant as int8 asymmetric per tensor over its own [min, max] (0 included). */
int32_t qlc_quantize_const_asym(qlc_graph *g, int32_t t, double *sqnr);
/* Constant quantized with given per-tensor int8 parameters. */
int32_t qlc_quantize_const_with(qlc_graph *g, int32_t t, float scale, int32_t zp);

/* Output channel axis of a weight (input `slot`) of op `code`, or -1 when the
 * op has no per-channel weight there. */
int32_t qlc_weight_axis(const qlc_node *n, uint32_t slot, const qlc_tensor *w);

/* ---- kernel support probe (probe.c) --------------------------------------------------- */

/*
 * Would node n, with the tensors ins[k] / outs[k] of graph g in place of its
 * inputs and outputs (dtype, quant, constant data as they are there), pass
 * the qlite kernel's prepare? Builds the one-op model in memory, opens it,
 * prepares it (a dynamic batch as 1). On false, `why` receives the kernel's
 * message.
 */
bool qlc_probe_op(const qlc_graph *g, const qlc_node *n, const int32_t *ins, const int32_t *outs,
                  char *why, size_t why_size);

/* ---- passes ----------------------------------------------------------------------------- */

qlite_status qlc_quant_float16(qlc_ctx *c, qlite_convert_report *r);
qlite_status qlc_quant_dynamic(qlc_ctx *c, qlite_convert_report *r);

/* Turns QUANTIZE -> DEQUANTIZE pairs (and lone QUANTIZE / DEQUANTIZE next
 * to float tensors) into fixed parameters (qdq) on the float tensors; sets
 * *found when the graph had any. */
qlite_status qlc_qdq_absorb(qlc_ctx *c, bool *found);
/* True when every float activation has parameters (fixed or a range). */
bool qlc_int8_needs_calibration(const qlc_graph *g, char *first, size_t size);

/* Runs the float model (emitted bytes) on the dataset and sets range on
 * every float activation (docs §2.4). */
qlite_status qlc_calibrate(qlc_ctx *c, const void *float_bytes, size_t float_size,
                           const qlc_dataset *d, qlite_convert_report *r);

qlite_status qlc_quant_int8(qlc_ctx *c, qlite_convert_report *r);

/* ---- measuring (measure.c) ---------------------------------------------------------- */

/* Activation SQNR on the dataset: both models run; every report activation
 * found in both (by name) gets its sqnr_db. */
qlite_status qlc_measure_activations(qlc_ctx *c, const void *float_bytes, size_t float_size,
                                     const void *conv_bytes, size_t conv_size,
                                     const qlc_dataset *d, qlite_convert_report *r);
/* Top-1 of both models on the dataset against labels. */
qlite_status qlc_measure_accuracy(qlc_ctx *c, const void *float_bytes, size_t float_size,
                                  const void *conv_bytes, size_t conv_size, const qlc_dataset *d,
                                  const int64_t *labels, qlite_convert_report *r);

#endif /* QLITE_CONVERTER_QUANTIZE_H */
