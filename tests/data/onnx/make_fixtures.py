#!/usr/bin/python3
"""Small ONNX graphs for the converter unit tests (tests/test_convert_*.c).

Run with Debian's python3 (python3-onnx, python3-numpy):
    /usr/bin/python3 tests/data/onnx/make_fixtures.py
Every expected output is computed here with NumPy, independently of qlite.
Seeded: running it again reproduces the same bytes.
"""
import math
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(1234)


def save(model, name, opset=13):
    model.opset_import[0].version = opset
    model.ir_version = 7
    model.producer_name = "make_fixtures.py"
    onnx.save(model, os.path.join(HERE, name + ".onnx"))


def npy(name, arr):
    np.save(os.path.join(HERE, name + ".npy"), arr)


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


def init(name, arr):
    return numpy_helper.from_array(arr, name)


def conv2d_nchw(x, w, b, stride=1, pad=0, groups=1):
    n, c, h, wd = x.shape
    o, ig, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, o, oh, ow), np.float64)
    og = o // groups
    for oc in range(o):
        g = oc // og
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, g * ig:(g + 1) * ig, i * stride:i * stride + kh, j * stride:j * stride + kw]
                y[:, oc, i, j] = np.sum(patch * w[oc], axis=(1, 2, 3)) + b[oc]
    return y


# ---- 1. Conv + BatchNormalization (+ Relu): folding ------------------------------
x = f32(2, 3, 8, 8)
w = f32(4, 3, 3, 3, scale=0.5)
b = f32(4)
gamma, beta = f32(4) + 1.5, f32(4)
mean, var = f32(4), np.abs(f32(4)) + 0.5
eps = 1e-3
g = helper.make_graph(
    [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
     helper.make_node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["bn"],
                      name="bn", epsilon=eps),
     helper.make_node("Relu", ["bn"], ["y"], name="relu")],
    "bn_fold", [vi("x", ["N", 3, 8, 8])], [vi("y", ["N", 4, 8, 8])],
    [init("w", w), init("b", b), init("gamma", gamma), init("beta", beta), init("mean", mean),
     init("var", var)])
save(helper.make_model(g), "bn_fold")
c = conv2d_nchw(x.astype(np.float64), w, b, pad=1)
sh = (1, 4, 1, 1)
ref = (c - mean.reshape(sh)) / np.sqrt(var.reshape(sh) + eps) * gamma.reshape(sh) + beta.reshape(sh)
npy("bn_fold_x", x)
npy("bn_fold_y", np.maximum(ref, 0).astype(np.float32))

# ---- 2. NCHW chain: conv -> relu -> add(const) -> depthwise conv -> maxpool -> softmax(axis 1)
x = f32(1, 2, 6, 6)
w1, b1 = f32(4, 2, 3, 3, scale=0.5), f32(4)
w2, b2 = f32(4, 1, 3, 3, scale=0.5), f32(4)
bias = f32(4, 1, 1)
g = helper.make_graph(
    [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
     helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
     helper.make_node("Add", ["r1", "bias"], ["a1"], name="add1"),
     helper.make_node("Conv", ["a1", "w2", "b2"], ["c2"], name="dw", group=4, pads=[1, 1, 1, 1]),
     helper.make_node("MaxPool", ["c2"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
     helper.make_node("Softmax", ["p"], ["y"], name="softmax", axis=1)],
    "layout", [vi("x", [1, 2, 6, 6])], [vi("y", [1, 4, 3, 3])],
    [init("w1", w1), init("b1", b1), init("w2", w2), init("b2", b2), init("bias", bias)])
save(helper.make_model(g), "layout")
c1 = conv2d_nchw(x.astype(np.float64), w1, b1, pad=1)
a1 = np.maximum(c1, 0) + bias
c2 = conv2d_nchw(a1, w2, b2, pad=1, groups=4)
p = c2.reshape(1, 4, 3, 2, 3, 2).max(axis=(3, 5))
e = np.exp(p - p.max(axis=1, keepdims=True))
npy("layout_x", x)
npy("layout_y", (e / e.sum(axis=1, keepdims=True)).astype(np.float32))

# ---- 3. PyTorch-style view(x.size(0), -1) with a dynamic batch, then MatMul + Add
x = f32(3, 2, 3, 4)
wm, bm = f32(24, 5, scale=0.3), f32(5)
g = helper.make_graph(
    [helper.make_node("Shape", ["x"], ["s"], name="shape"),
     helper.make_node("Gather", ["s", "zero"], ["n"], name="gather", axis=0),
     helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"], name="unsq"),
     helper.make_node("Concat", ["n1", "minus1"], ["target"], name="concat", axis=0),
     helper.make_node("Reshape", ["x", "target"], ["flat"], name="reshape"),
     helper.make_node("MatMul", ["flat", "wm"], ["mm"], name="matmul"),
     helper.make_node("Add", ["mm", "bm"], ["y"], name="add")],
    "shape_chain", [vi("x", ["batch", 2, 3, 4])], [vi("y", ["batch", 5])],
    [init("zero", np.array(0, np.int64)), init("axes0", np.array([0], np.int64)),
     init("minus1", np.array([-1], np.int64)), init("wm", wm), init("bm", bm)])
save(helper.make_model(g), "shape_chain")
npy("shape_chain_x", x)
npy("shape_chain_y", (x.reshape(3, -1).astype(np.float64) @ wm + bm).astype(np.float32))

# ---- 4. Decomposed LayerNorm and erf-Gelu (as PyTorch exports them)
x = f32(2, 5, 8)
gam, bet = f32(8) + 1.0, f32(8)
c = lambda name, v: init(name, np.array(v, np.float32))
g = helper.make_graph(
    [helper.make_node("ReduceMean", ["x"], ["m"], name="ln_mean", axes=[-1]),
     helper.make_node("Sub", ["x", "m"], ["d"], name="ln_sub"),
     helper.make_node("Pow", ["d", "two"], ["d2"], name="ln_pow"),
     helper.make_node("ReduceMean", ["d2"], ["v"], name="ln_var", axes=[-1]),
     helper.make_node("Add", ["v", "eps"], ["ve"], name="ln_add_eps"),
     helper.make_node("Sqrt", ["ve"], ["s"], name="ln_sqrt"),
     helper.make_node("Div", ["d", "s"], ["nrm"], name="ln_div"),
     helper.make_node("Mul", ["nrm", "gamma"], ["sc"], name="ln_mul"),
     helper.make_node("Add", ["sc", "beta"], ["ln"], name="ln_add"),
     helper.make_node("Div", ["ln", "sqrt2"], ["g1"], name="gelu_div"),
     helper.make_node("Erf", ["g1"], ["g2"], name="gelu_erf"),
     helper.make_node("Add", ["g2", "one"], ["g3"], name="gelu_add"),
     helper.make_node("Mul", ["ln", "g3"], ["g4"], name="gelu_mul"),
     helper.make_node("Mul", ["g4", "half"], ["y"], name="gelu_half")],
    "ln_gelu", [vi("x", [2, 5, 8])], [vi("y", [2, 5, 8])],
    [c("two", 2.0), c("eps", 1e-5), init("gamma", gam), init("beta", bet),
     c("sqrt2", math.sqrt(2.0)), c("one", 1.0), c("half", 0.5)])
save(helper.make_model(g), "ln_gelu")
xd = x.astype(np.float64)
mu = xd.mean(-1, keepdims=True)
ln = (xd - mu) / np.sqrt(((xd - mu) ** 2).mean(-1, keepdims=True) + 1e-5) * gam + bet
erf = np.vectorize(math.erf)
npy("ln_gelu_x", x)
npy("ln_gelu_y", (ln * 0.5 * (1 + erf(ln / math.sqrt(2)))).astype(np.float32))

# ---- 5. Gemm (transB, alpha, beta) and opset-7 Clip attributes / opset-11 Squeeze attribute
x = f32(4, 6)
wg, cg = f32(3, 6), f32(3)
g = helper.make_graph(
    [helper.make_node("Gemm", ["x", "wg", "cg"], ["gm"], name="gemm", transB=1, alpha=0.5, beta=2.0),
     helper.make_node("Clip", ["gm"], ["cl"], name="clip", min=-1.0, max=1.0),
     helper.make_node("Unsqueeze", ["cl"], ["u"], name="unsq", axes=[0]),
     helper.make_node("Squeeze", ["u"], ["y"], name="sq", axes=[0])],
    "gemm_clip", [vi("x", [4, 6])], [vi("y", [4, 3])], [init("wg", wg), init("cg", cg)])
save(helper.make_model(g), "gemm_clip", opset=9)
npy("gemm_clip_x", x)
npy("gemm_clip_y", np.clip(0.5 * x.astype(np.float64) @ wg.T + 2.0 * cg, -1, 1).astype(np.float32))

# ---- 6. 1-D convolutions (N, C, L): conv -> relu -> conv
x = f32(2, 3, 10)
wa, ba = f32(4, 3, 3, scale=0.5), f32(4)
wb, bb = f32(2, 4, 3, scale=0.5), f32(2)
g = helper.make_graph(
    [helper.make_node("Conv", ["x", "wa", "ba"], ["ca"], name="conv_a", pads=[1, 1]),
     helper.make_node("Relu", ["ca"], ["ra"], name="relu_a"),
     helper.make_node("Conv", ["ra", "wb", "bb"], ["y"], name="conv_b", strides=[2])],
    "conv1d", [vi("x", [2, 3, 10])], [vi("y", [2, 2, 4])],
    [init("wa", wa), init("ba", ba), init("wb", wb), init("bb", bb)])
save(helper.make_model(g), "conv1d")
ca = conv2d_nchw(x[:, :, None, :].astype(np.float64), wa[:, :, None, :], ba, pad=0)
# pad only along L: recompute with explicit padding
xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1)))
ca = conv2d_nchw(xp[:, :, None, :], wa[:, :, None, :], ba)[:, :, 0, :]
ra = np.maximum(ca, 0)
yb = conv2d_nchw(ra[:, :, None, :], wb[:, :, None, :], bb, stride=1)[:, :, 0, ::2]
npy("conv1d_x", x)
npy("conv1d_y", yb.astype(np.float32))

# ---- 7. external data: weights in a file beside the model
x = f32(2, 4)
we = f32(4, 3)
t = numpy_helper.from_array(we, "we")
t.ClearField("raw_data")
t.data_location = TensorProto.EXTERNAL
with open(os.path.join(HERE, "external.bin"), "wb") as fh:
    fh.write(b"\0" * 16 + we.tobytes())
for k, v in (("location", "external.bin"), ("offset", "16"), ("length", str(we.nbytes))):
    e = t.external_data.add()
    e.key, e.value = k, v
g = helper.make_graph([helper.make_node("MatMul", ["x", "we"], ["y"], name="mm")], "external",
                      [vi("x", [2, 4])], [vi("y", [2, 3])], [t])
save(helper.make_model(g), "external")
npy("external_x", x)
npy("external_y", (x.astype(np.float64) @ we).astype(np.float32))
t.external_data[0].value = "../external.bin"
g = helper.make_graph([helper.make_node("MatMul", ["x", "we"], ["y"], name="mm")], "escape",
                      [vi("x", [2, 4])], [vi("y", [2, 3])], [t])
save(helper.make_model(g), "bad_external_escape")

# ---- 8. malformed models (no checker: they are meant to be wrong)
def bad(name, nodes, inputs, outputs, inits, value_info=()):
    g = helper.make_graph(nodes, name, inputs, outputs, inits, value_info=list(value_info))
    save(helper.make_model(g), name)

bad("bad_missing_initializer",
    [helper.make_node("Add", ["x", "w_missing"], ["y"], name="add_missing")],
    [vi("x", [2])], [vi("y", [2])], [])
bad("bad_cycle",
    [helper.make_node("Add", ["x", "b"], ["a"], name="cyc_a"),
     helper.make_node("Relu", ["a"], ["b"], name="cyc_b"),
     helper.make_node("Relu", ["b"], ["y"], name="out")],
    [vi("x", [2])], [vi("y", [2])], [])
bad("bad_rank_mismatch",
    [helper.make_node("MatMul", ["x", "w"], ["m"], name="mm_rank"),
     helper.make_node("Relu", ["m"], ["y"], name="relu")],
    [vi("x", [2, 3])], [vi("y", [2, 4])], [init("w", f32(3, 4))],
    value_info=[vi("m", [2, 4, 1])])
bad("bad_unsupported_op",
    [helper.make_node("NonZero", ["x"], ["y"], name="nz")],
    [vi("x", [4])], [vi("y", [1, 4], TensorProto.INT64)], [])

# ---- 9. a batch_first LSTM as PyTorch exports it at opset 13: Transpose(1,0,2) in front,
#         zero initial states from ConstantOfShape(Shape(x)), Gather(Y_h, -1) behind
N_, T_, I_, H_ = 3, 5, 4, 6
x = f32(N_, T_, I_)
wl, rl, bl = f32(1, 4 * H_, I_, scale=0.5), f32(1, 4 * H_, H_, scale=0.5), f32(1, 8 * H_, scale=0.5)
g = helper.make_graph(
    [helper.make_node("Shape", ["x"], ["shp"], name="shape"),
     helper.make_node("Gather", ["shp", "zero"], ["bsz"], name="bsz", axis=0),
     helper.make_node("Unsqueeze", ["bsz", "ax0"], ["bsz1"], name="unsq"),
     helper.make_node("Concat", ["one", "bsz1", "hid"], ["hshape"], name="cat", axis=0),
     helper.make_node("ConstantOfShape", ["hshape"], ["h0"], name="zeros"),
     helper.make_node("Transpose", ["x"], ["xt"], name="to_time_major", perm=[1, 0, 2]),
     helper.make_node("LSTM", ["xt", "wl", "rl", "bl", "", "h0", "h0"], ["ys", "yh", "yc"],
                      name="lstm", hidden_size=H_),
     helper.make_node("Gather", ["yh", "last"], ["y"], name="last_dir", axis=0)],
    "lstm_bf", [vi("x", ["N", T_, I_])], [vi("y", ["N", H_])],
    [init("wl", wl), init("rl", rl), init("bl", bl), init("zero", np.array(0, np.int64)),
     init("ax0", np.array([0], np.int64)), init("one", np.array([1], np.int64)),
     init("hid", np.array([H_], np.int64)), init("last", np.array(-1, np.int64))])
save(helper.make_model(g), "lstm_bf")


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


h = np.zeros((N_, H_))
cst = np.zeros((N_, H_))
W, R, B = wl[0].astype(np.float64), rl[0].astype(np.float64), bl[0].astype(np.float64)
for t in range(T_):
    pre = x[:, t].astype(np.float64) @ W.T + h @ R.T + B[:4 * H_] + B[4 * H_:]
    gi, go, gf, gc = (pre[:, k * H_:(k + 1) * H_] for k in range(4))  # ONNX gate order i, o, f, c
    cst = sigmoid(gf) * cst + sigmoid(gi) * np.tanh(gc)
    h = sigmoid(go) * np.tanh(cst)
npy("lstm_bf_x", x)
npy("lstm_bf_y", h.astype(np.float32))
