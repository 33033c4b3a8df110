#!/usr/bin/python3
"""Golden vectors for the int8 / uint8 forms of FULLY_CONNECTED, CONV_2D,
DEPTHWISE_CONV_2D, TRANSPOSE_CONV_2D, BATCH_MATMUL, MAX/AVERAGE_POOL_2D and
RESIZE (tests/test_kernel_*_q8.c).

An independent implementation of docs/quantization.md §3, §4.1, §4.2, §4.5
and the RESIZE rule of interpreter/kernels/resize_q8.c, written here with
Python integers and NumPy int64 (never by calling qlite): the multiplier
decomposition by frexp, srdhm and the rounding divide by a power of two,
the fused-activation clamp by QUANTIZE's float32 rule, and the ops by their
definitions (the transposed convolution as the scatter of every input pixel,
not the gather the kernel uses).

Run from anywhere with Debian's python:
    /usr/bin/python3 tests/data/kernels/make_golden_nn_q8.py
It rewrites the q_nn_*.npy files beside this script; deterministic.

Every set <s> (fc, conv, dw, tconv, bmm, pool, resize) writes:
  q_nn_<s>_meta.npy  int32 [cases, 48]  one row per case:
      0 dtype (0 int8, 1 uint8) | 1 fused activation | 2 zx (A's zero point)
      | 3 zy | 4 per-channel weights | 5 has bias | 6 offset in x | 7 offset
      in w | 8 offset in b | 9 offset in y | 10 count of y | 11 offset in
      ws / wz | 16.. op parameters:
        fc     M, K, N
        conv   N, H, W, C, O, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, groups
        dw     N, H, W, C, M(ultiplier), KH, KW, sh, sw, dh, dw, pt, pl, pb, pr
        tconv  N, H, W, C, O, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, groups, oph, opw
        bmm    batches, M, K, N, zb, B per column
        pool   N, H, W, C, KH, KW, sh, sw, pt, pl, pb, pr, ceil, include_pad, is_max
        resize N, H, W, C, OH, OW, mode (0 nearest, 1 linear), coordinate transform
  q_nn_<s>_f.npy     float32 [cases, 4]: sx, sy, 0, 0
  q_nn_<s>_ws.npy    float32: weight (B) scales, per case from its offset
  q_nn_<s>_wz.npy    int32: weight (B) zero points, same offsets
  q_nn_<s>_x.npy / _w.npy  int16: inputs / weights (B), concatenated
  q_nn_<s>_b.npy     int32: biases, concatenated
  q_nn_<s>_y.npy     int16: expected outputs, concatenated
Layouts are NHWC, weights as qlite stores them ([O, KH, KW, C/g]; depthwise
[1, KH, KW, C*M]; B [K, N]).
"""
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20250107)

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
QR = {0: (-128, 127), 1: (0, 255)}


# --- docs §3 ----------------------------------------------------------------------

def multiplier(m):
    """m = M0 * 2^(shift - 31), M0 in [2^30, 2^31) (frexp; 0 below 2^-31)."""
    assert 0.0 <= m < 2.0**30, m
    if m < 2.0**-31:
        return 0, 0
    frac, e = math.frexp(m)
    q = math.floor(frac * 2.0**31 + 0.5)
    if q == 2**31:
        q //= 2
        e += 1
    if e < -31:
        q >>= (-31 - e)
        e = -31
    return int(q), int(e)


def requantize(x, m0, shift):
    """One value (Python ints): saturating left shift, srdhm, rounding shift right."""
    left, right = max(shift, 0), max(-shift, 0)
    v = min(max(x * (1 << left), INT32_MIN), INT32_MAX)
    prod = v * m0
    # C truncating division of (prod + nudge) by 2^31, nudge 2^30 or 1 - 2^30
    nudge = (1 << 30) if prod >= 0 else 1 - (1 << 30)
    t = prod + nudge
    h = t // (1 << 31) if t >= 0 else -((-t) // (1 << 31))
    if right == 0:
        return h
    mask = (1 << right) - 1
    rem = h & mask
    thr = (mask >> 1) + (1 if h < 0 else 0)
    return (h >> right) + (1 if rem > thr else 0)


def quantize_f32(r, s, zp, lo, hi):
    q = float(np.rint(np.float32(r) / np.float32(s)))
    return int(min(max(q + zp, lo), hi))


def act_range(act, sy, zy, dt):
    lo, hi = QR[dt]
    rlo, rhi = {0: (None, None), 1: (0.0, None), 2: (0.0, 6.0), 3: (-1.0, 1.0)}[act]
    if rlo is not None:
        lo = max(lo, quantize_f32(rlo, sy, zy, lo, hi))
    if rhi is not None:
        hi = min(hi, quantize_f32(rhi, sy, zy, lo, hi))
    return lo, hi


def out_stage(acc, sx, sw, sy, zy, lo, hi):
    m = float(np.float32(sx)) * float(np.float32(sw)) / float(np.float32(sy))
    m0, sh = multiplier(m)
    return min(max(zy + requantize(int(acc), m0, sh), lo), hi)


# --- data ---------------------------------------------------------------------------

def codes(dt, n):
    lo, hi = QR[dt]
    v = rng.integers(lo, hi + 1, size=n)
    ext = rng.random(n) < 0.12
    v[ext] = np.where(rng.random(ext.sum()) < 0.5, lo, hi)
    return v.astype(np.int64)


def weights(n):
    v = rng.integers(-127, 128, size=n)
    ext = rng.random(n) < 0.06
    v[ext] = np.where(rng.random(ext.sum()) < 0.5, -128, 127)
    return v.astype(np.int64)


def pow2(lo, hi):
    return float(np.float32(2.0 ** rng.uniform(lo, hi)))


def zero_point(dt):
    lo, hi = QR[dt]
    k = rng.integers(0, 4)
    return [lo, hi, (lo + hi + 1) // 2, int(rng.integers(lo, hi + 1))][k]


class Set:
    def __init__(self, name):
        self.name = name
        self.meta, self.f = [], []
        self.ws, self.wz, self.x, self.w, self.b, self.y = [], [], [], [], [], []
        self.off = dict(x=0, w=0, b=0, y=0, ws=0)

    def add(self, dt, act, zx, zy, pc, bias, params, sx, sy, x, w, b, ws, wz, y):
        row = np.zeros(48, np.int64)
        row[0:6] = [dt, act, zx, zy, int(pc), int(bias is not None)]
        row[6], row[7], row[8] = self.off["x"], self.off["w"], self.off["b"]
        row[9], row[10], row[11] = self.off["y"], len(y), self.off["ws"]
        row[16:16 + len(params)] = params
        self.meta.append(row)
        self.f.append([sx, sy, 0.0, 0.0])
        for key, arr, lst in (("x", x, self.x), ("w", w, self.w), ("y", y, self.y)):
            lst.append(np.asarray(arr, np.int64))
            self.off[key] += len(arr)
        if bias is not None:
            self.b.append(np.asarray(bias, np.int64))
            self.off["b"] += len(bias)
        self.ws.append(np.asarray(ws, np.float32))
        self.wz.append(np.asarray(wz, np.int64))
        self.off["ws"] += len(ws)

    def write(self):
        def cat(lst, dtype):
            a = np.concatenate(lst) if lst else np.zeros(0)
            if len(a) == 0:
                a = np.zeros(1)
            return a.astype(dtype)
        out = {"meta": np.array(self.meta, np.int32), "f": np.array(self.f, np.float32),
               "ws": cat(self.ws, np.float32), "wz": cat(self.wz, np.int32),
               "x": cat(self.x, np.int16), "w": cat(self.w, np.int16),
               "b": cat(self.b, np.int32), "y": cat(self.y, np.int16)}
        for k, v in out.items():
            np.save(os.path.join(HERE, f"q_nn_{self.name}_{k}.npy"), v)


def wparams(count, zp):
    ws = [pow2(-10, -4) for _ in range(count)]
    wz = [int(rng.integers(-30, 31)) if zp else 0 for _ in range(count)]
    return ws, wz


def out_scale(sx, sw, k):
    return float(np.float32(sx * sw * math.sqrt(max(k, 1)) * 40.0 * 2.0 ** rng.uniform(-1, 1)))


# --- the ops ------------------------------------------------------------------------

def fc_cases():
    s = Set("fc")
    for i, (M, K, N) in enumerate([(1, 5, 3), (1, 784, 16), (2, 33, 17), (4, 64, 40),
                                   (5, 100, 7), (17, 19, 33), (3, 130, 64)]):
        dt, act, pc = i % 2, i % 4, i % 3 != 1
        zp = i == 4
        zx, zy = zero_point(dt), zero_point(dt)
        sx = pow2(-8, -2)
        ws, wz = wparams(N if pc else 1, zp)
        sy = out_scale(sx, ws[0], K)
        x, w = codes(dt, M * K).reshape(M, K), weights(N * K).reshape(N, K)
        b = rng.integers(-2**14, 2**14, size=N) if i != 2 else None
        lo, hi = act_range(act, sy, zy, dt)
        y = []
        for m in range(M):
            for n in range(N):
                c = n if pc else 0
                acc = (int(b[n]) if b is not None else 0) + int(
                    np.sum((x[m] - zx) * (w[n] - wz[c])))
                y.append(out_stage(acc, sx, ws[c], sy, zy, lo, hi))
        s.add(dt, act, zx, zy, pc, b, [M, K, N], sx, sy, x.ravel(), w.ravel(), b, ws, wz, y)
    s.write()


def conv_ref(x, w, zx, wz, b, p, pc, transposed):
    """acc [N, OH, OW, O] by the definition (int64)."""
    N, H, W, C, O, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, g = p[:16]
    Cg, Og = C // g, O // g
    if transposed:
        oph, opw = p[16], p[17]
        OH = sh * (H - 1) + oph + (KH - 1) * dh + 1 - pt - pb
        OW = sw * (W - 1) + opw + (KW - 1) * dw + 1 - pl - pr
        acc = np.zeros((N, OH, OW, O), np.int64)
        for n in range(N):
            for iy in range(H):
                for ix in range(W):
                    for ky in range(KH):
                        for kx in range(KW):
                            oy, ox = iy * sh - pt + ky * dh, ix * sw - pl + kx * dw
                            if not (0 <= oy < OH and 0 <= ox < OW):
                                continue
                            for o in range(O):
                                gi = o // Og
                                xv = x[n, iy, ix, gi * Cg:(gi + 1) * Cg] - zx
                                wv = w[o, ky, kx, :] - wz[o if pc else 0]
                                acc[n, oy, ox, o] += int(np.sum(xv * wv))
    else:
        OH = (H + pt + pb - ((KH - 1) * dh + 1)) // sh + 1
        OW = (W + pl + pr - ((KW - 1) * dw + 1)) // sw + 1
        acc = np.zeros((N, OH, OW, O), np.int64)
        for n in range(N):
            for oy in range(OH):
                for ox in range(OW):
                    for ky in range(KH):
                        iy = oy * sh - pt + ky * dh
                        if not 0 <= iy < H:
                            continue
                        for kx in range(KW):
                            ix = ox * sw - pl + kx * dw
                            if not 0 <= ix < W:
                                continue
                            for o in range(O):
                                gi = o // Og
                                xv = x[n, iy, ix, gi * Cg:(gi + 1) * Cg] - zx
                                wv = w[o, ky, kx, :] - wz[o if pc else 0]
                                acc[n, oy, ox, o] += int(np.sum(xv * wv))
    if b is not None:
        acc += np.asarray(b, np.int64)
    return acc


def conv_cases(transposed):
    s = Set("tconv" if transposed else "conv")
    shapes = [  # N, H, W, C, O, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr, groups
        (1, 6, 6, 1, 6, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1),
        (1, 7, 5, 6, 16, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1),
        (2, 5, 6, 8, 12, 3, 2, 2, 1, 1, 2, 1, 0, 1, 1, 2),
        (1, 4, 4, 16, 32, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1),
        (1, 9, 7, 4, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1),
        (1, 3, 3, 4, 4, 2, 2, 1, 2, 2, 1, 1, 0, 0, 1, 4),
    ]
    for i, p in enumerate(shapes):
        p = list(p)
        if transposed:
            p[11:15] = [min(v, 1) for v in p[11:15]]
            p += [i % 2, (i // 2) % 2 if p[8] > 1 else 0]
            p[16] = p[16] if p[7] > 1 else 0
        N, H, W, C, O, KH, KW = p[:7]
        g = p[15]
        dt, act, pc = i % 2, (i + 1) % 4, i != 3
        zp = i == 2
        zx, zy = zero_point(dt), zero_point(dt)
        sx = pow2(-8, -2)
        ws, wz = wparams(O if pc else 1, zp)
        K = KH * KW * (C // g)
        sy = out_scale(sx, ws[0], K)
        x = codes(dt, N * H * W * C).reshape(N, H, W, C)
        w = weights(O * K).reshape(O, KH, KW, C // g)
        b = rng.integers(-2**14, 2**14, size=O) if i != 1 else None
        acc = conv_ref(x, w, zx, wz, b, p, pc, transposed)
        lo, hi = act_range(act, sy, zy, dt)
        y = [out_stage(int(a), sx, ws[(k % O) if pc else 0], sy, zy, lo, hi)
             for k, a in enumerate(acc.ravel())]
        s.add(dt, act, zx, zy, pc, b, p, sx, sy, x.ravel(), w.ravel(), b, ws, wz, y)
    s.write()


def dw_cases():
    s = Set("dw")
    shapes = [  # N, H, W, C, M, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr
        (1, 8, 8, 16, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
        (1, 7, 7, 32, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1),
        (2, 5, 6, 19, 1, 3, 2, 1, 2, 2, 1, 2, 0, 1, 1),
        (1, 5, 5, 3, 2, 3, 3, 1, 1, 1, 1, 0, 1, 0, 1),
        (1, 4, 4, 40, 1, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2),
    ]
    for i, p in enumerate(shapes):
        N, H, W, C, Mu, KH, KW, sh, sw, dh, dw, pt, pl, pb, pr = p
        O = C * Mu
        dt, act, pc = i % 2, (i + 2) % 4, i != 4
        zp = i == 3
        zx, zy = zero_point(dt), zero_point(dt)
        sx = pow2(-8, -2)
        ws, wz = wparams(O if pc else 1, zp)
        sy = out_scale(sx, ws[0], KH * KW)
        x = codes(dt, N * H * W * C).reshape(N, H, W, C)
        w = weights(KH * KW * O).reshape(KH, KW, O)
        b = rng.integers(-2**12, 2**12, size=O) if i != 0 else None
        OH = (H + pt + pb - ((KH - 1) * dh + 1)) // sh + 1
        OW = (W + pl + pr - ((KW - 1) * dw + 1)) // sw + 1
        lo, hi = act_range(act, sy, zy, dt)
        y = []
        for n in range(N):
            for oy in range(OH):
                for ox in range(OW):
                    for oc in range(O):
                        acc = int(b[oc]) if b is not None else 0
                        for ky in range(KH):
                            iy = oy * sh - pt + ky * dh
                            if not 0 <= iy < H:
                                continue
                            for kx in range(KW):
                                ix = ox * sw - pl + kx * dw
                                if not 0 <= ix < W:
                                    continue
                                acc += int(x[n, iy, ix, oc // Mu] - zx) * int(
                                    w[ky, kx, oc] - wz[oc if pc else 0])
                        y.append(out_stage(acc, sx, ws[oc if pc else 0], sy, zy, lo, hi))
        s.add(dt, act, zx, zy, pc, b, list(p), sx, sy, x.ravel(), w.ravel(), b, ws, wz, y)
    s.write()


def bmm_cases():
    s = Set("bmm")
    for i, (bt, M, K, N) in enumerate([(1, 3, 5, 4), (2, 7, 16, 9), (4, 28, 16, 28),
                                       (1, 1, 64, 17), (3, 5, 33, 40)]):
        dt, act = i % 2, [0, 0, 1, 0, 2][i]
        pc = i == 3
        zx, zy = zero_point(dt), zero_point(dt)
        sx = pow2(-6, -2)
        # B is int8 here (an activation per tensor with any zero point, or a per-column weight)
        ws = [pow2(-7, -3) for _ in range(N if pc else 1)]
        wz = [int(rng.integers(-128, 128)) for _ in range(N if pc else 1)]
        sy = out_scale(sx, ws[0], K)
        a = codes(dt, bt * M * K).reshape(bt, M, K)
        bb = codes(0, bt * K * N).reshape(bt, K, N)
        lo, hi = act_range(act, sy, zy, dt)
        y = []
        for t in range(bt):
            for m in range(M):
                for n in range(N):
                    c = n if pc else 0
                    acc = int(np.sum((a[t, m] - zx) * (bb[t, :, n] - wz[c])))
                    y.append(out_stage(acc, sx, ws[c], sy, zy, lo, hi))
        s.add(dt, act, zx, zy, pc, None, [bt, M, K, N, wz[0], int(pc)], sx, sy, a.ravel(),
              bb.ravel(), None, ws, wz, y)
    s.write()


def pool_cases():
    s = Set("pool")
    shapes = [  # N, H, W, C, KH, KW, sh, sw, pt, pl, pb, pr, ceil, include_pad, is_max
        (1, 28, 28, 6, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1),
        (1, 7, 6, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0, 1),
        (2, 5, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 0, 1, 0),
        (1, 6, 7, 20, 3, 2, 2, 2, 1, 0, 1, 1, 1, 0, 0),
        (1, 4, 4, 33, 4, 4, 1, 1, 0, 0, 0, 0, 0, 0, 0),
        (1, 5, 5, 4, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 0),
    ]
    for i, p in enumerate(shapes):
        N, H, W, C, KH, KW, sh, sw, pt, pl, pb, pr, ceil, incl, is_max = p
        dt, act = i % 2, [0, 1, 0, 2, 0, 1][i]
        zx = zero_point(dt)
        sx = pow2(-6, -2)
        x = codes(dt, N * H * W * C).reshape(N, H, W, C)

        def osize(n, k, st, p0, p1):
            span = n + p0 + p1 - k
            o = (span + st - 1) // st + 1 if ceil else span // st + 1
            if ceil and o > 1 and (o - 1) * st >= n + p0:
                o -= 1
            return o
        OH, OW = osize(H, KH, sh, pt, pb), osize(W, KW, sw, pl, pr)
        lo, hi = act_range(act, sx, zx, dt)
        qlo, _ = QR[dt]
        y = []
        for n in range(N):
            for oy in range(OH):
                for ox in range(OW):
                    ys = [oy * sh - pt + k for k in range(KH)]
                    xs = [ox * sw - pl + k for k in range(KW)]
                    iny = [v for v in ys if 0 <= v < H]
                    inx = [v for v in xs if 0 <= v < W]
                    if incl:
                        cnt = sum(1 for v in ys if -pt <= v < H + pb) * sum(
                            1 for v in xs if -pl <= v < W + pr)
                    else:
                        cnt = len(iny) * len(inx)
                    for c in range(C):
                        vals = [int(x[n, a, b_, c]) for a in iny for b_ in inx]
                        if is_max:
                            v = max(vals) if vals else qlo
                        elif cnt == 0:
                            v = zx
                        else:
                            tot = sum(vals) + (cnt - len(vals)) * zx
                            q, r = divmod(abs(tot), cnt)
                            v = q + (1 if 2 * r >= cnt else 0)
                            v = v if tot >= 0 else -v
                        y.append(min(max(v, lo), hi))
        s.add(dt, act, zx, zx, 0, None, list(p), sx, sx, x.ravel(), [0], None, [1.0], [0], y)
    s.write()


def resize_cases():
    s = Set("resize")
    # coordinate transforms: 0 half_pixel, 1 pytorch_half_pixel, 2 align_corners, 3 asymmetric
    shapes = [(1, 4, 4, 3, 8, 8, 1, 0), (1, 5, 3, 17, 7, 9, 1, 2), (2, 3, 4, 5, 6, 2, 1, 3),
              (1, 6, 6, 4, 3, 3, 1, 1), (1, 3, 3, 8, 6, 7, 0, 3), (1, 4, 5, 2, 9, 10, 0, 0)]
    for i, p in enumerate(shapes):
        N, H, W, C, OH, OW, mode, ct = p
        dt = i % 2
        zx = zero_point(dt)
        sx = pow2(-6, -2)
        x = codes(dt, N * H * W * C).reshape(N, H, W, C)

        def coord(o, n_in, n_out):
            scale = n_out / n_in
            if ct == 0:
                return (o + 0.5) / scale - 0.5
            if ct == 1:
                return (o + 0.5) / scale - 0.5 if n_out > 1 else 0.0
            if ct == 2:
                return o * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
            return o / scale

        def clampi(v, n):
            if not v > 0.0:
                return 0
            return n - 1 if v >= n - 1 else int(v)

        def axis(o, n_in, n_out):
            c = coord(o, n_in, n_out)
            if mode == 0:  # nearest, round_prefer_floor: halves down, else the nearest
                f = math.floor(c)
                r = f if c - f == 0.5 else math.floor(c + 0.5)
                return clampi(r, n_in), clampi(r, n_in), 0
            f = math.floor(c)
            w1 = float(np.float32(c - f))
            return clampi(f, n_in), clampi(f + 1.0, n_in), int(math.floor(w1 * 1024 + 0.5))
        y = []
        for n in range(N):
            for oy in range(OH):
                y0, y1, ly = axis(oy, H, OH)
                for ox in range(OW):
                    x0, x1, lx = axis(ox, W, OW)
                    for c in range(C):
                        if mode == 0:
                            y.append(int(x[n, y0, x0, c]))
                            continue
                        top = int(x[n, y0, x0, c]) * (1024 - lx) + int(x[n, y0, x1, c]) * lx
                        bot = int(x[n, y1, x0, c]) * (1024 - lx) + int(x[n, y1, x1, c]) * lx
                        v = top * (1024 - ly) + bot * ly
                        q = (abs(v) + (1 << 19)) >> 20
                        y.append(q if v >= 0 else -q)
        s.add(dt, 0, zx, zx, 0, None, list(p), sx, sx, x.ravel(), [0], None, [1.0], [0], y)
    s.write()


if __name__ == "__main__":
    fc_cases()
    conv_cases(False)
    conv_cases(True)
    dw_cases()
    bmm_cases()
    pool_cases()
    resize_cases()
