"""Quantized ONNX variants of a float model, for the ONNX Runtime rows of the
model-level benchmark (tests/bench/run_models.py).

ONNX Runtime's own quantization tool (the Python package
onnxruntime.quantization) is not installed on this machine (no pip), so this
script builds the two graphs that tool builds, with the `onnx` package, in the
form ONNX Runtime's graph optimizer recognises and fuses into its integer
kernels (the benchmark's ORT profile names the fused kernels, e.g.
QLinearConv, QGemm, DynamicQuantizeMatMul):

Both start from the float model with BatchNormalization folded into the
preceding Conv (what ORT's quantization pre-processing does).

  NAME.ort_qdq.onnx   static int8, QDQ format (as quantize_static(quant_format=QDQ)):
      - weights of Conv / Gemm / MatMul-with-a-constant: int8, symmetric
        (zero point 0, -127..127), per output channel, stored as int8
        initializers followed by DequantizeLinear;
      - biases of those ops: int32, scale = input scale * weight scale, zero
        point 0, followed by DequantizeLinear;
      - activations: uint8, asymmetric, per tensor, QuantizeLinear ->
        DequantizeLinear on the input and output of every Conv, Gemm,
        MatMul-with-a-constant, Relu, Clip, MaxPool, AveragePool,
        GlobalAveragePool and Flatten; ranges are min/max (widened to include 0)
        over the calibration set, computed by ONNX Runtime on the float model
        (tests/bench/ort_ranges.js); everything else stays float.
  NAME.ort_dynamic.onnx   dynamic-range int8 (as quantize_dynamic): every Gemm and
      MatMul with a constant weight becomes
        DynamicQuantizeLinear(x) -> MatMulInteger(x_q, W_q, x_zp, 0) -> Cast ->
        Mul(x_scale * w_scale) [-> Add(bias)],
      and every Conv
        DynamicQuantizeLinear(x) -> ConvInteger(x_q, W_q, x_zp, 0) -> Cast ->
        Mul(x_scale * w_scale) [-> Add(bias)],
      weights int8 symmetric per output channel; activations float elsewhere.
      LSTM/GRU are left float (ORT's tool would use its contrib
      DynamicQuantizeLSTM, which is not reproduced here).

Usage: /usr/bin/python3 tests/bench/make_ort_quant.py MODEL.onnx CALIB.npz OUTDIR
       (CALIB.npz: one array of model inputs, samples on axis 0: float32, or int64
       token ids, which are not quantized)
Prints one line per file written, with the number of ops quantized.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

HERE = os.path.dirname(os.path.abspath(__file__))
ACT_OPS = {"Conv", "Gemm", "MatMul", "Relu", "Clip", "MaxPool", "AveragePool",
           "GlobalAveragePool", "Flatten"}


def initializers(model):
    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def weight_node(node, inits):
    """(weight input index, output-channel axis of the weight) for a node whose
    weight is a constant, else None."""
    if node.op_type == "Conv" and len(node.input) > 1 and node.input[1] in inits:
        return 1, 0
    if node.op_type == "Gemm" and len(node.input) > 1 and node.input[1] in inits:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0:
            return None
        return 1, (0 if attrs.get("transB", 0) else 1)
    if node.op_type == "MatMul" and node.input[1] in inits and inits[node.input[1]].ndim == 2:
        return 1, 1
    return None


def symmetric_int8(w, axis):
    """Per-channel symmetric int8: (q, scale[C])."""
    red = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.abs(w).max(axis=red).astype(np.float64)
    scale = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.rint(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return q, scale


def uint8_params(lo, hi):
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zp = int(np.clip(np.rint(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def fold_batchnorm(model):
    """Conv -> BatchNormalization (Conv output read by nothing else) folded into
    the Conv's weight and bias, as ONNX Runtime's quantization pre-processing
    (its graph optimizer) does before quantizing."""
    g = model.graph
    inits = initializers(model)
    consumers = {}
    for n in g.node:
        for t in n.input:
            consumers[t] = consumers.get(t, 0) + 1
    producer = {o: n for n in g.node for o in n.output}
    drop, replace = set(), {}
    for bn in g.node:
        if bn.op_type != "BatchNormalization" or len(bn.output) != 1:
            continue
        conv = producer.get(bn.input[0])
        if conv is None or conv.op_type != "Conv" or consumers.get(bn.input[0]) != 1 \
                or conv.input[1] not in inits or any(t not in inits for t in bn.input[1:5]):
            continue
        eps = next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5)
        gamma, beta, mean, var = (inits[t].astype(np.float64) for t in bn.input[1:5])
        k = gamma / np.sqrt(var + eps)
        w = inits[conv.input[1]].astype(np.float64)
        b = inits[conv.input[2]].astype(np.float64) if len(conv.input) > 2 and conv.input[2] else 0.0
        wname, bname = conv.input[1] + "_bnfold", (conv.name or conv.output[0]) + "_bias_bnfold"
        replace[wname] = (w * k.reshape(-1, *([1] * (w.ndim - 1)))).astype(np.float32)
        replace[bname] = ((b - mean) * k + beta).astype(np.float32)
        x = conv.input[0]
        del conv.input[:]
        conv.input.extend([x, wname, bname])
        conv.output[0] = bn.output[0]
        drop.add(id(bn))
    nodes = [n for n in g.node if id(n) not in drop]
    del g.node[:]
    g.node.extend(nodes)
    g.initializer.extend(numpy_helper.from_array(v, k) for k, v in replace.items())
    used = {t for n in g.node for t in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    return model


def ranges_by_ort(model, calib_x):
    """min/max of every float tensor of `model` over calib_x, by ONNX Runtime."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    inferred = shape_inference.infer_shapes(m)
    types = {v.name: v.type.tensor_type.elem_type for v in inferred.graph.value_info}
    have = {o.name for o in m.graph.output}
    for n in m.graph.node:
        for o in n.output:
            if o and o not in have and types.get(o) == TensorProto.FLOAT:
                m.graph.output.append(helper.make_tensor_value_info(o, TensorProto.FLOAT, None))
                have.add(o)
    with tempfile.TemporaryDirectory() as d:
        mp, xp = os.path.join(d, "calib.onnx"), os.path.join(d, "x.npy")
        onnx.save(m, mp)
        np.save(xp, calib_x if calib_x.dtype == np.int64 else calib_x.astype(np.float32))
        out = subprocess.run(["node", os.path.join(HERE, "ort_ranges.js"), mp, xp],
                             check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    if calib_x.dtype.kind == "f":
        r[model.graph.input[0].name] = [float(calib_x.min()), float(calib_x.max())]
    return r


def make_qdq(model, ranges):
    g = model.graph
    inits = initializers(model)
    new_inits, nodes = [], []
    graph_inputs = {i.name for i in g.input}
    # 1. activations to quantize: data input and output of every ACT_OPS node
    act = set()
    for n in g.node:
        if n.op_type not in ACT_OPS:
            continue
        if n.op_type == "MatMul" and weight_node(n, inits) is None:
            continue
        for t in (n.input[0], n.output[0]):
            if t in ranges and t not in inits:
                act.add(t)
    qparams = {t: uint8_params(*ranges[t]) for t in act}
    for t, (s, z) in qparams.items():
        new_inits += [numpy_helper.from_array(np.array(s, np.float32), t + "_scale"),
                      numpy_helper.from_array(np.array(z, np.uint8), t + "_zp")]

    def qdq(src, dst, t):
        return [helper.make_node("QuantizeLinear", [src, t + "_scale", t + "_zp"], [t + "_q"],
                                 name=t + "_QuantizeLinear"),
                helper.make_node("DequantizeLinear", [t + "_q", t + "_scale", t + "_zp"], [dst],
                                 name=t + "_DequantizeLinear")]

    # graph inputs: Q/DQ in front, consumers read the DQ output
    rename_in = {}
    for t in sorted(act & graph_inputs):
        rename_in[t] = t + "_dq"
        nodes += qdq(t, t + "_dq", t)
    count = 0
    for n in g.node:
        n = onnx.NodeProto.FromString(n.SerializeToString())
        src = n.input[0] if n.input else ""
        for i, t in enumerate(n.input):
            if t in rename_in:
                n.input[i] = rename_in[t]
        wn = weight_node(n, inits)
        if wn is not None and src in qparams:
            widx, axis = wn
            wname = n.input[widx]
            q, ws = symmetric_int8(inits[wname], axis)
            base = f"{n.name or wname}_w"
            new_inits += [numpy_helper.from_array(q, base + "_q"),
                          numpy_helper.from_array(ws, base + "_scale"),
                          numpy_helper.from_array(np.zeros(ws.shape, np.int8), base + "_zp")]
            nodes.append(helper.make_node("DequantizeLinear", [base + "_q", base + "_scale", base + "_zp"],
                                          [base + "_dq"], axis=axis, name=base + "_DequantizeLinear"))
            n.input[widx] = base + "_dq"
            if n.op_type in ("Conv", "Gemm") and len(n.input) > 2 and n.input[2] in inits \
                    and inits[n.input[2]].ndim == 1 and inits[n.input[2]].size == ws.size:
                bs = (qparams[src][0] * ws).astype(np.float32)
                bq = np.rint(inits[n.input[2]] / bs).astype(np.int64)
                bq = np.clip(bq, -2**31, 2**31 - 1).astype(np.int32)
                bbase = f"{n.name or wname}_b"
                new_inits += [numpy_helper.from_array(bq, bbase + "_q"),
                              numpy_helper.from_array(bs, bbase + "_scale"),
                              numpy_helper.from_array(np.zeros(bs.shape, np.int32), bbase + "_zp")]
                nodes.append(helper.make_node("DequantizeLinear",
                                              [bbase + "_q", bbase + "_scale", bbase + "_zp"],
                                              [bbase + "_dq"], axis=0, name=bbase + "_DequantizeLinear"))
                n.input[2] = bbase + "_dq"
            count += 1
        outs = []
        for i, t in enumerate(n.output):
            if t in act:
                n.output[i] = t + "_fp"
                outs += qdq(t + "_fp", t, t)
        nodes.append(n)
        nodes += outs
    used = {t for n in nodes for t in n.input}
    keep = [i for i in g.initializer if i.name in used]
    out = helper.make_model(
        helper.make_graph(nodes, g.name + "_qdq", list(g.input), list(g.output),
                          keep + new_inits, value_info=[]),
        opset_imports=model.opset_import, producer_name="qlite tests/bench/make_ort_quant.py")
    out.ir_version = model.ir_version
    onnx.checker.check_model(out)
    return out, count


def make_dynamic(model):
    g = model.graph
    inits = initializers(model)
    nodes, new_inits = [], []
    count = 0
    for n in g.node:
        wn = weight_node(n, inits)
        if wn is None:
            nodes.append(n)
            continue
        widx, axis = wn
        w = inits[n.input[widx]]
        base = n.name or n.output[0]
        bias = n.input[2] if n.op_type in ("Conv", "Gemm") and len(n.input) > 2 and n.input[2] else None
        if n.op_type == "Gemm" and bias is not None and bias not in inits:
            nodes.append(n)
            continue
        if n.op_type == "Conv":
            q, ws = symmetric_int8(w, 0)
            core = helper.make_node("ConvInteger", [base + "/x_q", base + "/w_q", base + "/x_zp", base + "/w_zp"],
                                    [base + "/y_i32"], name=base + "/ConvInteger")
            core.attribute.extend(n.attribute)
            scale_shape = [len(ws), 1, 1]             # broadcast over [N, C, H, W]
        else:
            wk = w.T if (n.op_type == "Gemm" and axis == 0) else w   # [K, N]
            q, ws = symmetric_int8(wk, 1)
            core = helper.make_node("MatMulInteger", [base + "/x_q", base + "/w_q", base + "/x_zp", base + "/w_zp"],
                                    [base + "/y_i32"], name=base + "/MatMulInteger")
            scale_shape = [len(ws)]
        new_inits += [numpy_helper.from_array(q, base + "/w_q"),
                      numpy_helper.from_array(ws.reshape(scale_shape), base + "/w_scale"),
                      numpy_helper.from_array(np.array(0, np.int8), base + "/w_zp")]  # ConvInteger: per-tensor zp only
        last = base + "/y" if bias else n.output[0]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [n.input[0]],
                             [base + "/x_q", base + "/x_scale", base + "/x_zp"], name=base + "/DynamicQuantizeLinear"),
            core,
            helper.make_node("Mul", [base + "/x_scale", base + "/w_scale"], [base + "/scale"], name=base + "/ScaleMul"),
            helper.make_node("Cast", [base + "/y_i32"], [base + "/y_f"], to=TensorProto.FLOAT, name=base + "/Cast"),
            helper.make_node("Mul", [base + "/y_f", base + "/scale"], [last], name=base + "/Mul"),
        ]
        if bias:
            b = inits[bias]
            bname = bias
            if n.op_type == "Conv":
                bname = base + "/bias"
                new_inits.append(numpy_helper.from_array(b.reshape(-1, 1, 1), bname))
            nodes.append(helper.make_node("Add", [last, bname], [n.output[0]], name=base + "/BiasAdd"))
        count += 1
    used = {t for n in nodes for t in n.input}
    keep = [i for i in g.initializer if i.name in used]
    out = helper.make_model(
        helper.make_graph(nodes, g.name + "_dynamic", list(g.input), list(g.output), keep + new_inits),
        opset_imports=model.opset_import, producer_name="qlite tests/bench/make_ort_quant.py")
    out.ir_version = model.ir_version
    onnx.checker.check_model(out)
    return out, count


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    src, calib, outdir = sys.argv[1:]
    name = os.path.splitext(os.path.basename(src))[0]
    model = fold_batchnorm(onnx.load(src))
    os.makedirs(outdir, exist_ok=True)
    z = np.load(calib)
    x = z[z.files[0]]
    qdq, nq = make_qdq(model, ranges_by_ort(model, x))
    p = os.path.join(outdir, f"{name}.ort_qdq.onnx")
    onnx.save(qdq, p)
    print(f"{p}: {nq} ops with int8 weights (QDQ), calibrated on {len(x)} samples")
    dyn, nd = make_dynamic(model)
    p = os.path.join(outdir, f"{name}.ort_dynamic.onnx")
    onnx.save(dyn, p)
    print(f"{p}: {nd} ops dynamic int8")


if __name__ == "__main__":
    main()
