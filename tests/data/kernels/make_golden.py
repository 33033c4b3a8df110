#!/usr/bin/python3
"""Golden cases for the float kernels, computed by PyTorch (an independent
implementation), converted to qlite's layouts (NHWC activations, the weight
layouts of schema/qlite.fbs, ONNX gate orders) and written as small binary
files that tests/test_kernel_golden.c reads.

Run with Debian's python3 (python3-torch):
    /usr/bin/python3 tests/data/kernels/make_golden.py

File format (little-endian), one file per case, <op>_<n>.bin:
    "QKG1"  u32 count
    count x { u8 name_len, name, u8 dtype (0 = float32, 1 = int32), u8 rank,
              i64 dims[rank], data }
Arrays: "p" (int32 parameters, meaning per op: see the C test), "f" (float32
parameters, when any), inputs "x", "w", "b", "h0", "c0", outputs "y", "yh", "yc".
"""
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(1234)


def write(name, arrays):
    with open(os.path.join(OUT, name + ".bin"), "wb") as f:
        f.write(b"QKG1" + struct.pack("<I", len(arrays)))
        for key, a in arrays:
            a = np.ascontiguousarray(a)
            dt = 0 if a.dtype == np.float32 else 1
            a = a.astype(np.float32 if dt == 0 else np.int32)
            f.write(struct.pack("<B", len(key)) + key.encode())
            f.write(struct.pack("<BB", dt, a.ndim))
            f.write(struct.pack("<%dq" % a.ndim, *a.shape))
            f.write(a.tobytes())


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).numpy()


def rand(*shape):
    return torch.rand(*shape) * 2 - 1


# ---- CONV_2D / DEPTHWISE_CONV_2D -------------------------------------------
# p = [stride_h, stride_w, dil_h, dil_w, pad_t, pad_l, pad_b, pad_r, groups, depthwise]
conv_cases = [
    # N C H W O k stride pad dil groups
    (1, 3, 7, 6, 5, 3, 2, 1, 1, 1),
    (2, 4, 6, 6, 6, 3, 1, 2, 2, 2),
    (1, 1, 9, 9, 4, 5, 1, 2, 1, 1),
    (1, 8, 5, 5, 16, 1, 1, 0, 1, 1),
    (1, 6, 6, 5, 12, 3, 2, 1, 1, 6),  # depthwise, multiplier 2
]
for i, (N, C, H, W, O, k, s, pd, d, g) in enumerate(conv_cases):
    x, w, b = rand(N, C, H, W), rand(O, C // g, k, k), rand(O)
    y = F.conv2d(x, w, b, stride=s, padding=pd, dilation=d, groups=g)
    dw = g == C and g > 1
    if dw:  # torch [C*M, 1, k, k] -> qlite [1, k, k, C*M]
        wq = w.detach().permute(1, 2, 3, 0).numpy()
        groups = O // C
    else:  # torch [O, C/g, k, k] -> qlite [O, k, k, C/g]
        wq = w.detach().permute(0, 2, 3, 1).numpy()
        groups = g
    p = np.array([s, s, d, d, pd, pd, pd, pd, groups, int(dw)], np.int32)
    write("conv_%d" % i, [("p", p), ("x", nhwc(x)), ("w", wq), ("b", b.numpy()), ("y", nhwc(y))])

# ---- TRANSPOSE_CONV_2D -----------------------------------------------------
# p = [stride_h, stride_w, dil_h, dil_w, pad_t, pad_l, pad_b, pad_r, groups, out_pad_h, out_pad_w]
tconv_cases = [
    # N C H W O k stride pad outpad dil groups
    (1, 4, 3, 3, 2, 2, 2, 0, 0, 1, 1),
    (1, 3, 4, 3, 5, 3, 2, 1, 1, 1, 1),
    (2, 4, 3, 4, 6, 3, 1, 1, 0, 2, 2),
]
for i, (N, C, H, W, O, k, s, pd, op, d, g) in enumerate(tconv_cases):
    x, w, b = rand(N, C, H, W), rand(C, O // g, k, k), rand(O)
    y = F.conv_transpose2d(x, w, b, stride=s, padding=pd, output_padding=op, groups=g,
                           dilation=d)
    Cg, Og = C // g, O // g
    wt = w.detach().numpy()
    wq = np.zeros((O, k, k, Cg), np.float32)
    for gg in range(g):
        for ol in range(Og):
            for ci in range(Cg):
                wq[gg * Og + ol, :, :, ci] = wt[gg * Cg + ci, ol]
    p = np.array([s, s, d, d, pd, pd, pd, pd, g, op, op], np.int32)
    write("tconv_%d" % i, [("p", p), ("x", nhwc(x)), ("w", wq), ("b", b.numpy()), ("y", nhwc(y))])

# ---- MAX_POOL_2D / AVERAGE_POOL_2D -----------------------------------------
# p = [is_max, k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_t, pad_l, pad_b, pad_r, ceil, include_pad]
pool_cases = [
    (1, 3, 2, 1, 0, 1, False, False),
    (1, 3, 2, 1, 1, 1, True, False),
    (1, 2, 2, 1, 1, 2, True, False),  # dilation
    (0, 3, 2, 1, 1, 1, True, True),
    (0, 3, 2, 1, 1, 1, True, False),
    (0, 2, 2, 1, 0, 1, True, True),
    (0, 3, 3, 1, 1, 1, False, True),
]
for i, (mx, k, s, _, pd, d, ceil, inc) in enumerate(pool_cases):
    x = rand(2, 3, 7, 6)
    if mx:
        y = F.max_pool2d(x, k, s, pd, dilation=d, ceil_mode=ceil)
    else:
        y = F.avg_pool2d(x, k, s, pd, ceil_mode=ceil, count_include_pad=inc)
    p = np.array([mx, k, k, s, s, d, d, pd, pd, pd, pd, int(ceil), int(inc)], np.int32)
    write("pool_%d" % i, [("p", p), ("x", nhwc(x)), ("y", nhwc(y))])

# ---- RESIZE ------------------------------------------------------------------
# p = [mode (0 nearest, 1 linear), coordinate_transform, nearest_mode, out_h, out_w]
# f = [scale_h, scale_w] (0 = derived from the sizes)
ASYM, ALIGN, PYHALF, HALF = 1, 2, 3, 0
FLOOR, PREFER_CEIL = 2, 1
resize_cases = [
    ("nearest", dict(size=(8, 9)), 0, ASYM, FLOOR),
    ("nearest", dict(size=(3, 2)), 0, ASYM, FLOOR),
    ("nearest-exact", dict(size=(7, 11)), 0, HALF, PREFER_CEIL),
    ("bilinear", dict(size=(9, 7), align_corners=False), 1, PYHALF, 0),
    ("bilinear", dict(size=(3, 4), align_corners=False), 1, PYHALF, 0),
    ("bilinear", dict(size=(9, 7), align_corners=True), 1, ALIGN, 0),
    ("bilinear", dict(scale_factor=2.5, align_corners=False), 1, PYHALF, 0),
]
for i, (mode, kw, m, ct, nm) in enumerate(resize_cases):
    x = rand(2, 3, 4, 5)
    y = F.interpolate(x, mode=mode, **kw)
    sc = kw.get("scale_factor", 0.0)
    p = np.array([m, ct, nm, 0 if sc else y.shape[2], 0 if sc else y.shape[3]], np.int32)
    f = np.array([sc, sc], np.float32)
    write("resize_%d" % i, [("p", p), ("f", f), ("x", nhwc(x)), ("y", nhwc(y))])


# ---- LSTM / GRU ------------------------------------------------------------
# p = [is_gru, T, B, I, H, bidirectional, batch_first]
def reorder(t, blocks, order):
    parts = torch.chunk(t.detach(), blocks, dim=0)
    return torch.cat([parts[j] for j in order], dim=0)


rnn_cases = [
    (False, 5, 2, 3, 4, True, False),
    (False, 4, 3, 5, 6, False, True),
    (True, 5, 2, 3, 4, True, False),
    (True, 6, 1, 4, 5, False, True),
]
for i, (gru, T, B, I, H, bi, bf) in enumerate(rnn_cases):
    D = 2 if bi else 1
    net = (torch.nn.GRU if gru else torch.nn.LSTM)(I, H, bidirectional=bi, batch_first=bf)
    x = rand(B, T, I) if bf else rand(T, B, I)
    h0 = rand(D, B, H)
    c0 = rand(D, B, H)
    with torch.no_grad():
        if gru:
            y, hn = net(x, h0)
        else:
            y, (hn, cn) = net(x, (h0, c0))
    # torch LSTM gates i,f,g,o -> ONNX i,o,f,c; torch GRU r,z,n -> ONNX z,r,h
    order = [1, 0, 2] if gru else [0, 3, 1, 2]
    G = 3 if gru else 4
    sfx = ["", "_reverse"][:D]
    W = np.stack([reorder(getattr(net, "weight_ih_l0" + s), G, order).numpy() for s in sfx])
    R = np.stack([reorder(getattr(net, "weight_hh_l0" + s), G, order).numpy() for s in sfx])
    Bb = np.stack([np.concatenate([reorder(getattr(net, "bias_ih_l0" + s), G, order).numpy(),
                                   reorder(getattr(net, "bias_hh_l0" + s), G, order).numpy()])
                   for s in sfx])
    # ONNX layouts: layout 0 Y [T, D, B, H], states [D, B, H];
    #               layout 1 Y [B, T, D, H], states [B, D, H]
    if bf:
        Y = y.reshape(B, T, D, H).numpy()
        st = lambda t: t.permute(1, 0, 2).numpy()
    else:
        Y = y.reshape(T, B, D, H).permute(0, 2, 1, 3).numpy()
        st = lambda t: t.numpy()
    arrays = [("p", np.array([int(gru), T, B, I, H, int(bi), int(bf)], np.int32)),
              ("x", x.numpy()), ("w", W), ("r", R), ("b", Bb), ("h0", st(h0))]
    if not gru:
        arrays.append(("c0", st(c0)))
    arrays += [("y", Y), ("yh", st(hn))]
    if not gru:
        arrays.append(("yc", st(cn)))
    write("rnn_%d" % i, arrays)

print("wrote golden cases to", OUT)
