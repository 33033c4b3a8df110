#!/usr/bin/python3
"""Small ONNX graphs and datasets for the quantization tests (tests/test_convert_quant.c).

Run with Debian's python3 (python3-onnx, python3-numpy):
    /usr/bin/python3 tests/data/onnx/make_quant_fixtures.py
Expected outputs are computed here with NumPy, independently of qlite. Seeded.
"""
import os

import numpy as np
from onnx import TensorProto, helper, numpy_helper
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(4242)


def save(model, name, opset=13):
    model.opset_import[0].version = opset
    model.ir_version = 7
    model.producer_name = "make_quant_fixtures.py"
    onnx.save(model, os.path.join(HERE, name + ".onnx"))


def npy(name, arr):
    np.save(os.path.join(HERE, name + ".npy"), arr)


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def init(name, arr):
    return numpy_helper.from_array(arr, name)


def softmax(v, axis):
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---- 1. q_mix: element-wise, fixed-range and data-movement ops, a float island ----------
#   x [N,4,6] -> Add(c) -> Sigmoid -> Flatten -> (r) ; Tanh(r) ; Concat(r, tanh) -> Softmax -> y
#                                               LogSoftmax(r) -> z      (no integer kernel)
c = rng.uniform(-0.5, 0.5, 6).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("Add", ["x", "c"], ["a"], name="add"),
     helper.make_node("Sigmoid", ["a"], ["s"], name="sigmoid"),
     helper.make_node("Flatten", ["s"], ["r"], name="flatten", axis=1),
     helper.make_node("Tanh", ["r"], ["t"], name="tanh"),
     helper.make_node("Concat", ["r", "t"], ["cc"], name="concat", axis=1),
     helper.make_node("Softmax", ["cc"], ["y"], name="softmax", axis=1),
     helper.make_node("LogSoftmax", ["r"], ["z"], name="logsoftmax", axis=1)],
    "q_mix", [vi("x", ["N", 4, 6])], [vi("y", ["N", 48]), vi("z", ["N", 24])], [init("c", c)])
save(helper.make_model(g), "q_mix")
calib = rng.normal(0, 1.5, (64, 4, 6)).astype(np.float32)
np.savez(os.path.join(HERE, "q_mix_calib.npz"), x=calib)
x = rng.normal(0, 1.5, (16, 4, 6)).astype(np.float32)
xa = x.astype(np.float64) + c
r = (1 / (1 + np.exp(-xa))).reshape(16, 24)
npy("q_mix_x", x)
npy("q_mix_y", softmax(np.concatenate([r, np.tanh(r)], axis=1), 1).astype(np.float32))
npy("q_mix_z", np.log(softmax(r, 1)).astype(np.float32))
# the first calibration sample's extremes, for the minmax check
npy("q_mix_calib_minmax", np.array([calib.min(), calib.max()], np.float32))

# ---- bad calibration data for q_mix --------------------------------------------------------
bad = calib.copy()
bad[5, 1, 2] = np.nan
np.savez(os.path.join(HERE, "q_bad_nan.npz"), x=bad)
bad = calib.copy()
bad[7, 0, 0] = np.inf
npy("q_bad_inf", bad)
npy("q_bad_shape", rng.normal(0, 1, (8, 4, 7)).astype(np.float32))
npy("q_bad_dtype", rng.integers(0, 5, (8, 4, 6)).astype(np.int32))
npy("q_bad_empty", np.zeros((0, 4, 6), np.float32))
np.savez(os.path.join(HERE, "q_bad_names.npz"), a=calib[:4], b=calib[:4])
npy("q_mix_calib_part", calib[:10])  # a second file: samples add up
npy("q_labels_short", np.arange(5, dtype=np.int64))

# ---- 2. q_dyn: an MLP with one big (2048) and one small (256) weight -----------------------
w1 = rng.normal(0, 0.2, (64, 32)).astype(np.float32)
b1 = rng.normal(0, 0.1, 32).astype(np.float32)
w2 = rng.normal(0, 0.2, (32, 8)).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
     helper.make_node("Add", ["h", "b1"], ["hb"], name="fc1_bias"),
     helper.make_node("Relu", ["hb"], ["hr"], name="relu"),
     helper.make_node("MatMul", ["hr", "w2"], ["y"], name="fc2")],
    "q_dyn", [vi("x", ["N", 64])], [vi("y", ["N", 8])],
    [init("w1", w1), init("b1", b1), init("w2", w2)])
save(helper.make_model(g), "q_dyn")
x = rng.normal(0, 1, (32, 64)).astype(np.float32)
npy("q_dyn_x", x)
npy("q_dyn_y", (np.maximum(x.astype(np.float64) @ w1 + b1, 0) @ w2).astype(np.float32))
np.savez(os.path.join(HERE, "q_dyn_calib.npz"), x=x)
npy("q_dyn_labels", np.argmax(np.maximum(x.astype(np.float64) @ w1 + b1, 0) @ w2, axis=1).astype(np.int64))

# ---- 3. q_f16: float16 constants, one beyond the float16 range -----------------------------
wf = rng.normal(0, 1, (8, 4)).astype(np.float32)
bf = np.array([1e5, -7e4, 0.1, 65519.0], np.float32)  # 65519 rounds to 65504; the others overflow
g = helper.make_graph(
    [helper.make_node("MatMul", ["x", "wf"], ["m"], name="mm"),
     helper.make_node("Add", ["m", "bf"], ["y"], name="bias")],
    "q_f16", [vi("x", ["N", 8])], [vi("y", ["N", 4])], [init("wf", wf), init("bf", bf)])
save(helper.make_model(g), "q_f16")
x = rng.normal(0, 1, (8, 8)).astype(np.float32)
w16 = wf.astype(np.float16).astype(np.float64)      # NumPy rounds to nearest even
b16 = np.array([65504.0, -65504.0, np.float16(0.1), 65504.0])  # saturated as docs §7 says
npy("q_f16_x", x)
npy("q_f16_y", (x.astype(np.float64) @ w16 + b16).astype(np.float32))
npy("q_f16_w16", wf.astype(np.float16))

# ---- 4. q_qdq: a QDQ MLP as quantization-aware training exports it -------------------------
#   x -> QL/DQ (uint8) -> Gemm(W fake-quantized per channel, int8 zero points 0) -> Relu
#     -> QL/DQ (uint8, zp 0) -> Gemm(W2 fake-quantized) -> QL/DQ (uint8) -> y
def fake_quant_weight(w, name):
    s = (np.abs(w).max(axis=1) / 127.5).astype(np.float32)
    q = np.clip(np.round(w / s[:, None]), -128, 127).astype(np.int8)
    return s, q, [init(name, w), init(name + "_s", s), init(name + "_z", np.zeros(len(s), np.int8))]


def qdq_act(src, dst, s, zp, tag):
    return [helper.make_node("QuantizeLinear", [src, tag + "_s", tag + "_z"], [tag + "_q"], name=tag + "_ql"),
            helper.make_node("DequantizeLinear", [tag + "_q", tag + "_s", tag + "_z"], [dst], name=tag + "_dq")], \
        [init(tag + "_s", np.array([s], np.float32)), init(tag + "_z", np.array([zp], np.uint8))]


W1 = rng.normal(0, 0.3, (16, 12)).astype(np.float32)   # Gemm transB=1: [O, I]
B1 = rng.normal(0, 0.1, 16).astype(np.float32)
W2 = rng.normal(0, 0.3, (5, 16)).astype(np.float32)
B2 = rng.normal(0, 0.1, 5).astype(np.float32)
s1, q1, i1 = fake_quant_weight(W1, "W1")
s2, q2, i2 = fake_quant_weight(W2, "W2")
sx, zx = np.float32(0.03), 120
sh, zh = np.float32(0.02), 0
sy, zy = np.float32(0.05), 130
n0, ia = qdq_act("x", "xdq", sx, zx, "ax")
n1, ib = qdq_act("h", "hdq", sh, zh, "ah")
n2, ic = qdq_act("o", "y", sy, zy, "ay")
nodes = n0 + [
    helper.make_node("QuantizeLinear", ["W1", "W1_s", "W1_z"], ["W1_q"], name="w1_ql", axis=0),
    helper.make_node("DequantizeLinear", ["W1_q", "W1_s", "W1_z"], ["W1_dq"], name="w1_dq", axis=0),
    helper.make_node("Gemm", ["xdq", "W1_dq", "B1"], ["g1"], name="gemm1", transB=1),
    helper.make_node("Relu", ["g1"], ["h"], name="relu1")] + n1 + [
    helper.make_node("QuantizeLinear", ["W2", "W2_s", "W2_z"], ["W2_q"], name="w2_ql", axis=0),
    helper.make_node("DequantizeLinear", ["W2_q", "W2_s", "W2_z"], ["W2_dq"], name="w2_dq", axis=0),
    helper.make_node("Gemm", ["hdq", "W2_dq", "B2"], ["o"], name="gemm2", transB=1)] + n2
g = helper.make_graph(nodes, "q_qdq", [vi("x", ["N", 12])], [vi("y", ["N", 5])],
                      i1 + i2 + ia + ib + ic + [init("B1", B1), init("B2", B2)])
save(helper.make_model(g), "q_qdq")
npy("q_qdq_w1_int8", q1)
npy("q_qdq_w2_int8", q2)
npy("q_qdq_w1_scale", s1)
npy("q_qdq_w2_scale", s2)


# the integer pipeline, computed independently in NumPy (float64, round half to even)
def quant(v, s, zp, lo, hi):
    return np.clip(np.round(v / np.float64(s)) + zp, lo, hi)


x = rng.uniform(-3.5, 4, (40, 12)).astype(np.float32)
xq8 = quant(x.astype(np.float64), sx, zx, 0, 255) - 128          # uint8 -> int8 grid
acc1 = (xq8 - (zx - 128)) @ q1.T.astype(np.float64) + np.round(B1 / (np.float64(sx) * s1))
h8 = np.clip(np.round(acc1 * (np.float64(sx) * s1 / np.float64(sh))) + (zh - 128), zh - 128, 127)
acc2 = (h8 - (zh - 128)) @ q2.T.astype(np.float64) + np.round(B2 / (np.float64(sh) * s2))
y8 = np.clip(np.round(acc2 * (np.float64(sh) * s2 / np.float64(sy))) + (zy - 128), -128, 127)
npy("q_qdq_x", x)
npy("q_qdq_y", (np.float64(sy) * (y8 - (zy - 128))).astype(np.float32))
npy("q_qdq_y_scale", np.array([sy], np.float32))

# ---- 5. q_two: two inputs, bound to .npz arrays by name ------------------------------------
g = helper.make_graph(
    [helper.make_node("Add", ["a", "b"], ["s"], name="add"),
     helper.make_node("Mul", ["s", "a"], ["y"], name="mul")],
    "q_two", [vi("a", ["N", 5]), vi("b", ["N", 5])], [vi("y", ["N", 5])], [])
save(helper.make_model(g), "q_two")
ta = rng.normal(0, 1, (12, 5)).astype(np.float32)
tb = rng.normal(0, 2, (12, 5)).astype(np.float32)
np.savez(os.path.join(HERE, "q_two_calib.npz"), b=tb, a=ta, extra=np.zeros(3, np.float32))
np.savez(os.path.join(HERE, "q_two_bad_count.npz"), a=ta, b=tb[:7])
npy("q_two_a_range", np.array([ta.min(), ta.max(), tb.min(), tb.max()], np.float32))

# ---- 6. q_emb: an embedding table (2048 elements) read by Gather ------------------------------
table = rng.normal(0, 1, (64, 32)).astype(np.float32)
g = helper.make_graph(
    [helper.make_node("Gather", ["table", "ids"], ["e"], name="embed", axis=0),
     helper.make_node("ReduceMean", ["e"], ["y"], name="mean", axes=[1], keepdims=0)],
    "q_emb", [vi("ids", ["N", 5], TensorProto.INT64)], [vi("y", ["N", 32])], [init("table", table)])
save(helper.make_model(g), "q_emb")
ids = rng.integers(0, 64, (20, 5)).astype(np.int64)
npy("q_emb_x", ids)
npy("q_emb_y", table.astype(np.float64)[ids].mean(axis=1).astype(np.float32))
np.savez(os.path.join(HERE, "q_emb_calib.npz"), ids=ids)
