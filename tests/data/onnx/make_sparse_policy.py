#!/usr/bin/python3
"""sp_policy.onnx: the fixture of tests/test_convert_sparse.c (issue #5, the
converter's automatic sparse storage of int8 weights, docs/converter.md
"Sparse and palettized storage").

A chain of eight Gemm layers (x [1, 256]) whose weights are already pruned
with a known block structure; the block sparsities sit on either side of
the int8 break-even sparsities (1x16: 0.95, 1x4: 0.98, 1x1: 0.99, 16x4: 0.60):

  wa [64, 256]  1x16 blocks, 32 of 1024 kept     96.875%  (>= 0.95)
  wb [64, 64]   1x16 blocks, 25 of 256 kept      90.234%  (<  0.95)
  wc [64, 64]   single weights, 40 of 4096 kept  99.023%  (>= 0.99)
  wd [64, 64]   1x4 blocks, 16 of 1024 kept      98.438%  (>= 0.98; in 16
                different 1x16 blocks, so as 1x16 it is 93.75%)
  we [64, 64]   1x4 blocks, 64 of 1024 kept      93.750%  (<  0.98)
  wf [64, 64]   16x4 blocks, 20 of 64 kept       68.750%  (>= 0.60; as any other
                shape the same 68.75%, below those shapes' break-evens)
  wg [64, 64]   16x4 blocks, 28 of 64 kept       56.250%  (<  0.60)
  wh [64, 64]   16x4 blocks, 16 of 64 kept       75.000%  (>= 0.60), only one column
                of each kept block non-zero: as 16x1 blocks it is smaller (and has no
                fast kernel), as 1x1 93.75% (< 0.99)

(every weight has at least 4096 elements: the dynamic mode quantizes them all)

Kept values are drawn from +-[0.5, 1.5), so no kept weight quantizes to 0.
Run with Debian's python3 (python3-onnx, python3-numpy); seeded.
"""
import os

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261122)


def blocks16x4(rows, cols, keep, one_column=False):
    """rows x cols weight, `keep` of its 16 x 4 blocks non-zero (with
    one_column only the block's column b % 4)."""
    w = np.zeros((rows, cols), np.float32)
    nb = cols // 4
    for f in rng.choice((rows // 16) * nb, size=keep, replace=False):
        r, b = f // nb, f % nb
        mag = rng.uniform(0.5, 1.5, (16, 4)).astype(np.float32)
        sign = np.where(rng.integers(0, 2, (16, 4)) == 0, -1.0, 1.0).astype(np.float32)
        blk = mag * sign
        if one_column:
            blk[:, [j for j in range(4) if j != b % 4]] = 0
        w[r * 16:(r + 1) * 16, b * 4:(b + 1) * 4] = blk
    return w


def blocks(rows, cols, bc, keep):
    """rows x cols weight, `keep` of its 1 x bc blocks non-zero (no two in
    one 1x16 block when bc == 4, which the caller's sizes allow)."""
    w = np.zeros((rows, cols), np.float32)
    nb = cols // bc
    if bc == 4:
        # one 1x4 block per 1x16 block at most: choose among 1x16 blocks
        chosen16 = rng.choice(rows * (cols // 16), size=keep, replace=False)
        chosen = [(c // (cols // 16), (c % (cols // 16)) * 4 + rng.integers(4)) for c in chosen16]
    else:
        flat = rng.choice(rows * nb, size=keep, replace=False)
        chosen = [(f // nb, f % nb) for f in flat]
    for r, b in chosen:
        mag = rng.uniform(0.5, 1.5, bc).astype(np.float32)
        sign = np.where(rng.integers(0, 2, bc) == 0, -1.0, 1.0).astype(np.float32)
        w[r, b * bc:(b + 1) * bc] = mag * sign
    return w


ws = {
    "wa": blocks(64, 256, 16, 32),
    "wb": blocks(64, 64, 16, 25),
    "wc": blocks(64, 64, 1, 40),
    "wd": blocks(64, 64, 4, 16),
    "we": blocks(64, 64, 4, 64),
    "wf": blocks16x4(64, 64, 20),
    "wg": blocks16x4(64, 64, 28),
    "wh": blocks16x4(64, 64, 16, one_column=True),
}
for n, w in ws.items():
    assert (w != 0).sum() == {"wa": 512, "wb": 400, "wc": 40, "wd": 64, "we": 256,
                            "wf": 1280, "wg": 1792, "wh": 256}[n], n

inits, nodes = [], []
prev = "x"
for i, (n, w) in enumerate(ws.items()):
    inits.append(numpy_helper.from_array(w, n))
    b = (rng.standard_normal(w.shape[0]) * 0.1).astype(np.float32)
    inits.append(numpy_helper.from_array(b, "b" + n[1]))
    out = "y" if i == len(ws) - 1 else "h%d" % i
    nodes.append(helper.make_node("Gemm", [prev, n, "b" + n[1]], [out], transB=1, name="fc_" + n))
    prev = out
graph = helper.make_graph(nodes, "sp_policy",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 256])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])],
                          inits)
model = helper.make_model(graph, producer_name="make_sparse_policy.py")
model.opset_import[0].version = 13
model.ir_version = 7
save(model, os.path.join(HERE, "sp_policy.onnx"))
