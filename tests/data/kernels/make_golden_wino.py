#!/usr/bin/python3
"""Golden cases for the Winograd F(4x4, 3x3) float32 CONV_2D
(tests/test_kernel_conv_winograd.c): 3x3, stride 1, one group, computed by
NumPy as a float64 direct convolution (the definition, tap by tap), never
by qlite.

Run with Debian's python3:
    /usr/bin/python3 tests/data/kernels/make_golden_wino.py

Files (NumPy .npy, all cases concatenated; the C test walks them with the
shapes from wino_p):
    wino_p.npy     int32 [cases, 11]: N, H, W, C, O, pad_t, pad_l, pad_b,
                   pad_r, activation (0 none, 1 RELU, 2 RELU6: qlite_activation),
                   has_bias
    wino_x.npy     float32, each case's input x [N, H, W, C] (NHWC)
    wino_w.npy     float16, each case's weights [O, 3, 3, C] (qlite's
                   CONV_2D layout); the float32-weight runs widen them, so
                   both weight dtypes have the same exact expected values
    wino_b.npy     float32, each case's bias [O] (only cases with has_bias)
    wino_y.npy     float32, each case's output y [N, OH, OW, O], the float64
                   result rounded once to float32
    wino_scale.npy float64 [cases]: max |pre-activation output| of the case
                   (the scale the test's tolerance is relative to)
Inputs are uniform in [-1, 1) (seeded), so outputs are O(sqrt(9 C)).
"""
import os

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261122)

ACT_NONE, ACT_RELU, ACT_RELU6 = 0, 1, 2


def conv(x, w, b, pads):
    """Direct float64 convolution: x [N,H,W,C], w [O,3,3,C] -> [N,OH,OW,O]."""
    pt, pl, pb, pr = pads
    n, h, wd, c = x.shape
    xp = np.zeros((n, h + pt + pb, wd + pl + pr, c))
    xp[:, pt:pt + h, pl:pl + wd, :] = x
    oh, ow = h + pt + pb - 2, wd + pl + pr - 2
    y = np.zeros((n, oh, ow, w.shape[0]))
    for ky in range(3):
        for kx in range(3):
            patch = xp[:, ky:ky + oh, kx:kx + ow, :]  # [N, OH, OW, C]
            y += np.einsum("nhwc,oc->nhwo", patch, w[:, ky, kx, :])
    if b is not None:
        y += b
    return y


cases = []
acts = [ACT_NONE, ACT_RELU, ACT_RELU6]
pad_sets = [(0, 0, 0, 0), (1, 1, 1, 1), (1, 0, 0, 1), (0, 1, 1, 0), (1, 1, 0, 0), (0, 0, 1, 1)]
# spatial sweep around the 4x4 tile boundaries: H, W = 1..13, odd and even,
# padding 0 / 1 on each side, channel tails (C 3, O 5: below one vector)
i = 0
for h in range(1, 14):
    for wd in (h, 14 - h):
        for pads in (pad_sets[i % len(pad_sets)], (1, 1, 1, 1)):
            i += 1
            if h + pads[0] + pads[2] < 3 or wd + pads[1] + pads[3] < 3:
                continue
            cases.append((1, h, wd, 3, 5, pads, acts[i % 3], i % 4 != 0))
# channel sweep: Cin / Cout 1, 15, 16, 17, 33, 64 (vector tails, O16 panel
# tails, the GEMM's 64-column blocks), odd sizes, padding 1
for k, (c, o) in enumerate([(1, 1), (1, 16), (16, 1), (15, 15), (16, 16), (17, 17), (15, 33),
                            (33, 17), (64, 16), (16, 64)]):
    h, wd = [(5, 6), (9, 7), (6, 5), (4, 7)][k % 4]
    cases.append((1, h, wd, c, o, (1, 1, 1, 1), acts[k % 3], k % 5 != 2))
# batch 2, unpadded and asymmetric padding; a larger case (several tiles each way)
cases.append((2, 7, 9, 16, 17, (0, 0, 0, 0), ACT_RELU, True))
cases.append((2, 8, 5, 17, 16, (1, 0, 1, 0), ACT_NONE, True))
cases.append((1, 13, 12, 16, 16, (1, 1, 1, 1), ACT_RELU, True))

P, X, Wt, B, Y, S = [], [], [], [], [], []
for n, h, wd, c, o, pads, act, has_b in cases:
    x = rng.uniform(-1, 1, (n, h, wd, c)).astype(np.float32)
    w16 = rng.uniform(-1, 1, (o, 3, 3, c)).astype(np.float16)
    b = rng.uniform(-1, 1, o).astype(np.float32) if has_b else None
    y = conv(x.astype(np.float64), w16.astype(np.float64),
             None if b is None else b.astype(np.float64), pads)
    S.append(np.abs(y).max())
    if act == ACT_RELU:
        y = np.maximum(y, 0)
    elif act == ACT_RELU6:
        y = np.clip(y, 0, 6)
    P.append([n, h, wd, c, o, *pads, act, int(has_b)])
    X.append(x.ravel())
    Wt.append(w16.ravel())
    if b is not None:
        B.append(b)
    Y.append(y.astype(np.float32).ravel())

np.save(os.path.join(OUT, "wino_p.npy"), np.array(P, dtype=np.int32))
np.save(os.path.join(OUT, "wino_x.npy"), np.concatenate(X))
np.save(os.path.join(OUT, "wino_w.npy"), np.concatenate(Wt))
np.save(os.path.join(OUT, "wino_b.npy"), np.concatenate(B))
np.save(os.path.join(OUT, "wino_y.npy"), np.concatenate(Y))
np.save(os.path.join(OUT, "wino_scale.npy"), np.array(S, dtype=np.float64))
print(len(cases), "cases")
