#!/usr/bin/python3
"""Golden vectors for the int8/uint8 kernels (tests/test_kernel_*_int8.c).

An independent implementation of docs/quantization.md in Python: the rounding
rule (srdhm, rounding divide by a power of two, the multiplier decomposition)
is written here with Python integers and NumPy int64, never by calling qlite;
the functions of the table ops come from Python's math module (float64).

Run from anywhere with Debian's python:
    /usr/bin/python3 tests/data/kernels/make_golden_q8.py
It rewrites the q_*.npy files beside this script; the output is deterministic.

Every op family <set> writes five files:
  q_<set>_cases.npy   int32 [cases, 32]   one row per case (layout below)
  q_<set>_scales.npy  float32 [cases, 8]  sa, sb, sy, f0, f1, f2, f3, 0
  q_<set>_a.npy, q_<set>_b.npy, q_<set>_y.npy   int16: every case's input a,
                      input b and expected output, flattened and concatenated
Case row: 0 dtype (0 int8, 1 uint8) | 1 param (fused activation, axis) |
  2 za | 3 zb | 4 zy | 5 rank a | 6..13 dims a | 14 rank b | 15..22 dims b |
  23 offset of a (consecutive cases may share one a) | 24 offset of b | 25 offset of y | 26 count of y |
  27 extra (unary op index, reduce kind) | 28 extra (reduce axes bitmask) |
  29 extra (keep_dims) | 30, 31 zero
"""
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20241122)

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
I8, U8 = 0, 1
QRANGE = {I8: (-128, 127), U8: (0, 255)}
ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1 = 0, 1, 2, 3


# --- the rounding rule (docs/quantization.md section 3) -------------------------

def quantize_multiplier(m):
    """m = M0 * 2^(shift - 31), M0 in [2^30, 2^31): frexp, round half up."""
    assert m >= 0.0 and math.isfinite(m) and m < 2.0**30, m
    if m < 2.0**-31:
        return 0, 0
    frac, exp = math.frexp(m)
    q = math.floor(frac * 2.0**31 + 0.5)   # exact: frac * 2^31 has <= 22 fraction bits
    if q == 2**31:
        q //= 2
        exp += 1
    if exp < -31:
        q >>= (-31 - exp)
        exp = -31
    return int(q), int(exp)


def trunc_div(n, d):
    """C integer division (toward zero) of int64 arrays by a positive d."""
    return np.where(n >= 0, n // d, -((-n) // d))


def srdhm(a, b):
    a = np.asarray(a, dtype=np.int64)
    ab = a * np.int64(b)
    nudge = np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    r = trunc_div(ab + nudge, np.int64(1 << 31))
    both_min = (a == INT32_MIN) & (b == INT32_MIN)
    return np.where(both_min, INT32_MAX, r)


def rdbpot(x, e):
    x = np.asarray(x, dtype=np.int64)
    mask = np.int64((1 << e) - 1)
    rem = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> e) + (rem > threshold).astype(np.int64)


def requantize(x, M0, shift):
    left, right = max(shift, 0), max(-shift, 0)
    v = np.clip(np.asarray(x, dtype=np.int64) * (1 << left), INT32_MIN, INT32_MAX)
    return rdbpot(srdhm(v, M0), right)


def rq(x, m):
    M0, sh = quantize_multiplier(m)
    return requantize(x, M0, sh)


def round_half_even(v):
    return float(round(v))   # Python rounds floats half to even, exactly


def quantize_value_f32(r, scale, zp, lo, hi):
    """qlite_quantize_value: float32 division, half-even rounding, clamp."""
    q = float(np.rint(np.float32(r) / np.float32(scale))) + zp
    return int(min(max(q, lo), hi))


def act_range(act, sy, zy, dt):
    lo, hi = QRANGE[dt]
    if act in (ACT_RELU, ACT_RELU6):
        lo = max(lo, quantize_value_f32(0.0, sy, zy, lo, hi))
    if act == ACT_RELU_N1_TO_1:
        lo = max(lo, quantize_value_f32(-1.0, sy, zy, lo, hi))
    if act == ACT_RELU6:
        hi = min(hi, quantize_value_f32(6.0, sy, zy, lo, hi))
    if act == ACT_RELU_N1_TO_1:
        hi = min(hi, quantize_value_f32(1.0, sy, zy, lo, hi))
    return lo, hi


def f(s):
    """A float32 scale as the Python float (double) the kernels compute with."""
    return float(np.float32(s))


# --- case collection -----------------------------------------------------------

class CaseSet:
    def __init__(self, name):
        self.name = name
        self.rows, self.scales = [], []
        self.a, self.b, self.y = [], [], []
        self.na = self.nb = self.ny = 0
        self.last_a = None   # (array, offset): an input shared by consecutive cases

    def add(self, dt, a, b, y, za=0, zb=0, zy=0, sa=1.0, sb=1.0, sy=1.0, param=0, fl=(),
            extra=(0, 0, 0), ydt=None):
        row = np.zeros(32, dtype=np.int64)
        row[0], row[1], row[2], row[3], row[4] = dt, param, za, zb, zy
        a = np.asarray(a)
        row[5] = a.ndim
        row[6:6 + a.ndim] = a.shape
        if b is not None:
            b = np.asarray(b)
            row[14] = b.ndim
            row[15:15 + b.ndim] = b.shape
        y = np.asarray(y)
        reuse = (self.last_a is not None and self.last_a[0].shape == a.shape and
                 np.array_equal(self.last_a[0], a))
        row[23] = self.last_a[1] if reuse else self.na
        row[24], row[25], row[26] = self.nb, self.ny, y.size
        row[27:30] = extra
        lo, hi = QRANGE[dt]
        ylo, yhi = QRANGE[dt if ydt is None else ydt]
        assert a.min() >= lo and a.max() <= hi and y.min() >= ylo and y.max() <= yhi
        self.rows.append(row)
        sc = np.zeros(8, dtype=np.float32)
        sc[0], sc[1], sc[2] = sa, sb, sy
        sc[3:3 + len(fl)] = fl
        self.scales.append(sc)
        if not reuse:
            self.last_a = (a.copy(), self.na)
            self.a.append(a.reshape(-1))
            self.na += a.size
        if b is not None:
            self.b.append(b.reshape(-1))
            self.nb += b.size
        self.y.append(y.reshape(-1))
        self.ny += y.size

    def save(self):
        def cat(parts):
            return np.concatenate(parts).astype(np.int16) if parts else np.zeros(1, np.int16)
        p = os.path.join(HERE, "q_" + self.name + "_")
        np.save(p + "cases.npy", np.stack(self.rows).astype(np.int32))
        np.save(p + "scales.npy", np.stack(self.scales))
        np.save(p + "a.npy", cat(self.a))
        np.save(p + "b.npy", cat(self.b))
        np.save(p + "y.npy", cat(self.y))


def rand_q(dt, shape):
    lo, hi = QRANGE[dt]
    return rng.integers(lo, hi + 1, size=shape, dtype=np.int64)


def rand_scale(lo_exp=-8, hi_exp=2):
    return np.float32(2.0 ** rng.uniform(lo_exp, hi_exp))


def rand_zp(dt):
    lo, hi = QRANGE[dt]
    choice = rng.integers(0, 4)
    return int([lo, hi, (lo + hi + 1) // 2, rng.integers(lo, hi + 1)][choice])


# Shape pairs: every kind of broadcast (same, per channel, per pixel, scalar
# either side, both sides, rank mismatch, alternating, max rank).
PAIRS = [
    ((2, 3, 4, 5), (2, 3, 4, 5)),
    ((1, 5, 6, 8), (8,)),
    ((2, 5, 6, 8), (1, 1, 1, 8)),
    ((2, 5, 6, 8), (2, 5, 6, 1)),
    ((2, 5, 6, 8), (2, 1, 1, 8)),
    ((3, 4, 5), ()),
    ((1,), (3, 4, 5)),
    ((3, 1, 5), (1, 4, 1)),
    ((7,), (2, 3, 7)),
    ((2, 1, 4, 1, 3), (1, 3, 1, 2, 1)),
    ((2, 1, 2, 1, 2, 1, 2, 3), (1, 2, 1, 2, 1, 2, 1, 3)),
]


# --- ADD, SUB, MUL, MINIMUM, MAXIMUM (sections 4.3, 4.4, 4.10) -------------------

def add_ref(a, b, dt, sa, za, sb, zb, sy, zy, act, sub):
    t = 2.0 * max(f(sa), f(sb))
    a1 = rq((a - za) * (1 << 20), f(sa) / t)
    b1 = rq((b - zb) * (1 << 20), f(sb) / t)
    acc = a1 - b1 if sub else a1 + b1
    lo, hi = act_range(act, sy, zy, dt)
    return np.clip(zy + rq(acc, t / (1048576.0 * f(sy))), lo, hi)


def mul_ref(a, b, dt, sa, za, sb, zb, sy, zy, act):
    lo, hi = act_range(act, sy, zy, dt)
    return np.clip(zy + rq((a - za) * (b - zb), f(sa) * f(sb) / f(sy)), lo, hi)


def minmax_ref(a, b, dt, sa, za, sb, zb, sy, zy, act, is_max):
    qlo, qhi = QRANGE[dt]
    ra = np.clip(zy + rq(a - za, f(sa) / f(sy)), qlo, qhi)
    rb = np.clip(zy + rq(b - zb, f(sb) / f(sy)), qlo, qhi)
    lo, hi = act_range(act, sy, zy, dt)
    return np.clip(np.maximum(ra, rb) if is_max else np.minimum(ra, rb), lo, hi)


def binary_sets():
    sets = {n: CaseSet(n) for n in ("add", "sub", "mul", "min", "max")}
    for name, cs in sets.items():
        for k, (sha, shb) in enumerate(PAIRS):
            for dt in (I8, U8):
                a, b = rand_q(dt, sha), rand_q(dt, shb)
                sa, sb, sy = rand_scale(), rand_scale(), rand_scale()
                za, zb, zy = rand_zp(dt), rand_zp(dt), rand_zp(dt)
                if name in ("min", "max") and k % 2 == 0:
                    sb, zb, sy, zy = sa, za, sa, za     # equal parameters: exact min/max
                act = [ACT_NONE, ACT_RELU, ACT_RELU6, ACT_RELU_N1_TO_1][(k + dt) % 4]
                cs.add(dt, a, b, run_binary(name, a, b, dt, sa, za, sb, zb, sy, zy, act),
                       za, zb, zy, sa, sb, sy, param=act)
        # scales 2^+-20 apart, saturation, zero points at the extremes
        for dt in (I8, U8):
            lo, hi = QRANGE[dt]
            a = np.array([lo, hi, lo, hi, 0 if dt == I8 else 128, 1, lo + 1, hi - 1] * 4)
            b = np.array([lo, lo, hi, hi, 3, 250 if dt == U8 else 100, lo, hi] * 4)
            for sa, sb, sy in ((1.0, 2.0**-20, 1.0), (2.0**-20, 1.0, 2.0**-19),
                               (2.0**-10, 2.0**10, 2.0**-12), (0.05, 0.05, 0.001),
                               (0.5, 0.25, 3.0)):
                for za, zb, zy in ((lo, hi, lo), (hi, lo, hi), (lo, lo, hi)):
                    y = run_binary(name, a, b, dt, sa, za, sb, zb, sy, zy, ACT_NONE)
                    cs.add(dt, a, b, y, za, zb, zy, sa, sb, sy)
        cs.save()


def run_binary(name, a, b, dt, sa, za, sb, zb, sy, zy, act):
    a, b = np.broadcast_arrays(np.asarray(a, np.int64), np.asarray(b, np.int64))
    if name in ("add", "sub"):
        return add_ref(a, b, dt, sa, za, sb, zb, sy, zy, act, name == "sub")
    if name == "mul":
        return mul_ref(a, b, dt, sa, za, sb, zb, sy, zy, act)
    return minmax_ref(a, b, dt, sa, za, sb, zb, sy, zy, act, name == "max")


# --- PRELU (section 4.11), per-tensor slope ---------------------------------

def prelu_set():
    cs = CaseSet("prelu")
    shapes = [((2, 4, 4, 6), (6,)), ((1, 3, 5, 4), (1, 1, 4)), ((3, 7), ()), ((2, 3, 4), (2, 3, 4))]
    for k, (shx, sha) in enumerate(shapes):
        for dt in (I8, U8):
            x, al = rand_q(dt, shx), rand_q(dt, sha)
            sx, sa, sy = rand_scale(-6, 0), rand_scale(-9, -5), rand_scale(-6, 0)
            zx, za, zy = rand_zp(dt), rand_zp(dt), rand_zp(dt)
            xb, ab = np.broadcast_arrays(x, al)
            lo, hi = QRANGE[dt]
            pos = np.clip(zy + rq(xb - zx, f(sx) / f(sy)), lo, hi)
            neg = np.clip(zy + rq((xb - zx) * (ab - za), f(sx) * f(sa) / f(sy)), lo, hi)
            cs.add(dt, x, al, np.where(xb >= zx, pos, neg), zx, za, zy, sx, sa, sy)
    cs.save()


# --- table ops (section 4.6) --------------------------------------------------

SQRT1_2 = 0.70710678118654752440
SQRT_2_OVER_PI = 0.79788456080286535588


def safe(fn):
    def g(x, p):
        try:
            return fn(x, p)
        except ZeroDivisionError:
            return math.inf
        except OverflowError:
            return math.inf
        except ValueError:   # log/sqrt of a negative; log(0) handled below
            return math.nan
    return g


def clampd(v, lo, hi):
    return lo if v < lo else (hi if v > hi else v)


UNARY = [  # (name, f(x, p) with p = (alpha, beta, lo, hi), params drawn)
    ("LOGISTIC", lambda x, p: 1.0 / (1.0 + math.exp(-x))),
    ("TANH", lambda x, p: math.tanh(x)),
    ("HARD_SWISH", lambda x, p: x * clampd(x / 6.0 + 0.5, 0.0, 1.0)),
    ("HARD_SIGMOID", lambda x, p: clampd(p[0] * x + p[1], 0.0, 1.0)),
    ("GELU", lambda x, p: 0.5 * x * math.erfc(-x * SQRT1_2)),
    ("GELU_TANH", lambda x, p: 0.5 * x * (1.0 + math.tanh(SQRT_2_OVER_PI *
                                                          (x + 0.044715 * x * x * x)))),
    ("ELU", lambda x, p: p[0] * math.expm1(x) if x < 0.0 else x),
    ("LEAKY_RELU", lambda x, p: p[0] * x if x < 0.0 else x),
    ("RELU", lambda x, p: 0.0 if x < 0.0 else x),
    ("RELU6", lambda x, p: clampd(x, 0.0, 6.0)),
    ("CLIP", lambda x, p: clampd(x, p[2], p[3])),
    ("EXP", lambda x, p: math.exp(x)),
    ("LOG", lambda x, p: -math.inf if x == 0.0 else math.log(x)),
    ("SQRT", lambda x, p: math.sqrt(x)),
    ("ABS", lambda x, p: abs(x)),
    ("NEG", lambda x, p: -x),
    ("ERF", lambda x, p: math.erf(x)),
    ("RECIPROCAL", lambda x, p: 1.0 / x),
    ("SQUARE", lambda x, p: x * x),
]


def table_ref(fn, dt, sx, zx, sy, zy, p):
    lo, hi = QRANGE[dt]
    codes = np.arange(256)
    q = codes.astype(np.int8).astype(np.int64) if dt == I8 else codes
    out = []
    for v in q:
        r = safe(fn)(f(sx) * float(v - zx), p) / f(sy)
        if math.isnan(r):
            y = min(max(zy, lo), hi)
        elif math.isinf(r):
            y = hi if r > 0 else lo
        else:
            y = int(min(max(round_half_even(r) + zy, lo), hi))
        out.append(y)
    return q, np.array(out)


def unary_set():
    cs = CaseSet("unary")
    for k, (name, fn) in enumerate(UNARY):
        for dt in (I8, U8):
            lo, hi = QRANGE[dt]
            params = [
                # typical: input range about +-8, output from the function's range
                (np.float32(16.0 / 255), rand_zp(dt), None, None),
                (rand_scale(-7, -2), rand_zp(dt), None, None),
                # zero points at the extremes
                (np.float32(0.05), lo, None, None),
                (np.float32(0.05), hi, None, None),
            ]
            if name == "LOGISTIC":
                params.append((np.float32(0.1), 0 if dt == I8 else 128,
                               np.float32(1.0 / 256), -128 if dt == I8 else 0))
            if name == "TANH":
                params.append((np.float32(0.03), 0 if dt == I8 else 128,
                               np.float32(1.0 / 128), 0 if dt == I8 else 128))
            for sx, zx, sy, zy in params:
                p = (f(np.float32(rng.uniform(0.05, 0.5))), f(np.float32(rng.uniform(0.2, 0.7))),
                     f(np.float32(-rng.uniform(0.5, 3))), f(np.float32(rng.uniform(0.5, 3))))
                xs = f(sx) * (np.array([lo, hi], dtype=np.float64) - zx)
                if sy is None:
                    ys = [safe(fn)(float(v), p) for v in np.linspace(xs[0], xs[1], 1001)]
                    ys = [v for v in ys if math.isfinite(v)] + [0.0]
                    ymin, ymax = min(ys), max(ys)
                    ymax = min(ymax, 1e4)
                    sy = np.float32(max(ymax - ymin, 1e-3) / 255.0 * rng.uniform(0.8, 1.2))
                    zy = int(min(max(round(lo - ymin / f(sy)), lo), hi))
                q, y = table_ref(fn, dt, sx, zx, sy, zy, p)
                cs.add(dt, q, None, y, zx, 0, zy, sx, 1.0, sy, fl=p, extra=(k, 0, 0))
    cs.save()


# --- SOFTMAX (section 4.7) ----------------------------------------------------

def softmax_ref(x, axis, dt, sx, beta, sy, zy):
    lo, hi = QRANGE[dt]
    sb = f(sx) * abs(f(beta))
    e = np.array([round_half_even(8388608.0 * math.exp(-sb * d)) for d in range(256)],
                 dtype=np.int64)
    R = int(round_half_even(65536.0 / f(sy)))
    xm = np.moveaxis(np.asarray(x, np.int64), axis, -1)
    m = xm.min(axis=-1, keepdims=True) if f(beta) < 0 else xm.max(axis=-1, keepdims=True)
    d = np.abs(xm - m)
    ed = e[d]
    S = ed.sum(axis=-1, keepdims=True)
    assert S.max() < 2**47
    # (e R + S 2^15) // (S 2^16) in Python integers (no int64 overflow)
    num = [int(v) * R for v in ed.reshape(-1)]
    den = np.broadcast_to(S, ed.shape).reshape(-1)
    q = np.array([(n + int(s) * 2**15) // (int(s) * 2**16) for n, s in zip(num, den)])
    y = np.clip(zy + q.reshape(ed.shape), lo, hi)
    return np.moveaxis(y, -1, axis)


def softmax_set():
    cs = CaseSet("softmax")
    cases = [((4, 10), -1, 1.0), ((3, 1000), 1, 1.0), ((2, 7, 5), 1, 1.0), ((6, 1), -1, 1.0),
             ((1, 1), 0, 1.0), ((2, 3, 4, 5), 0, 0.5), ((2, 3, 4, 5), 3, -1.5),
             ((3, 256), -1, 2.0), ((5, 9), 1, 0.0)]
    for shape, axis, beta in cases:
        for dt in (I8, U8):
            lo, hi = QRANGE[dt]
            x = rand_q(dt, shape)
            for sx, zx, sy, zy in ((rand_scale(-6, -1), rand_zp(dt), 1.0 / 256, lo),
                                   (np.float32(0.1), hi, 1.0 / 255, lo),
                                   (np.float32(1.0 / 16), lo, 1.0 / 200, (lo + hi + 1) // 2)):
                y = softmax_ref(x, axis, dt, sx, beta, sy, zy)
                cs.add(dt, x, None, y, zx, 0, zy, sx, 1.0, sy, param=axis, fl=(beta,))
    cs.save()


# --- REDUCE_MEAN / SUM / MAX / MIN (section 4.5) ------------------------------

def reduce_ref(x, axes, keep, kind, dt, sx, zx, sy, zy):
    lo, hi = QRANGE[dt]
    x = np.asarray(x, np.int64)
    ax = tuple(axes) if axes else tuple(range(x.ndim))
    n = int(np.prod([x.shape[i] for i in ax])) if ax else 1
    if kind in (0, 1):
        acc = (x - zx).sum(axis=ax, keepdims=keep)
        m = f(sx) / (f(sy) * n) if kind == 0 else f(sx) / f(sy)
    else:
        acc = (x.max(axis=ax, keepdims=keep) if kind == 2 else x.min(axis=ax, keepdims=keep)) - zx
        m = f(sx) / f(sy)
    return np.clip(zy + rq(acc, m), lo, hi)


def reduce_set():
    cs = CaseSet("reduce")
    cases = [((2, 5, 5, 16), (1, 2), True),       # global average pool (NHWC)
             ((2, 5, 5, 16), (1, 2), False),
             ((3, 50), (1,), False),              # rows
             ((3, 50), (), False),                # everything
             ((4, 3, 5), (0, 2), True),           # two runs: the general path
             ((2, 3, 4, 5), (1, 3), False),
             ((5, 1, 6), (1,), False),            # reducing a dim of size 1: a rescale
             ((1, 2000), (1,), False)]            # long sums
    for shape, axes, keep in cases:
        for dt in (I8, U8):
            x = rand_q(dt, shape)
            for kind in range(4):
                lo, hi = QRANGE[dt]
                params = [(rand_scale(-6, 0), rand_zp(dt), rand_scale(-6, 0), rand_zp(dt)),
                          (np.float32(0.02), lo, np.float32(0.02), lo)]
                if kind == 1:
                    params.append((np.float32(0.5), hi, np.float32(0.5 * 2**20), hi))
                else:
                    params.append((np.float32(2.0**-20), hi, np.float32(1.0), lo))
                for sx, zx, sy, zy in params:
                    y = reduce_ref(x, axes, keep, kind, dt, sx, zx, sy, zy)
                    mask = sum(1 << a for a in axes)
                    cs.add(dt, x, None, y, zx, 0, zy, sx, 1.0, sy,
                           extra=(kind, mask, int(keep)))
    cs.save()


# --- QUANTIZE int -> int (section 4.9) and CONCATENATION (section 4.8) -------

def requant_set():
    cs = CaseSet("requant")
    for dti in (I8, U8):
        for dto in (I8, U8):
            lo, hi = QRANGE[dti]
            olo, ohi = QRANGE[dto]
            x = np.arange(lo, hi + 1)
            for sx, zx, sy, zy in ((0.1, 0, 0.1, 128 if dto == U8 else 0),
                                   (0.1, 128 if dti == U8 else 0, 0.1, 0 if dto == I8 else 128),
                                   (rand_scale(), rand_zp(dti), rand_scale(), rand_zp(dto)),
                                   (1.0, lo, 2.0**-20, olo), (2.0**-20, hi, 1.0, ohi),
                                   (0.3, hi, 0.7, olo)):
                y = np.clip(zy + rq(x - zx, f(sx) / f(sy)), olo, ohi)
                # dtype of the output in param; the output values live in y
                cs.add(dti, x, None, y, zx, 0, zy, sx, 1.0, sy, param=dto, ydt=dto)
    cs.save()


def concat_set():
    cs = CaseSet("concat")
    for shape_a, shape_b, axis in (((2, 3, 4), (2, 5, 4), 1), ((3, 2), (3, 7), -1),
                                   ((1, 4, 4, 3), (1, 4, 4, 5), 3), ((2, 2), (3, 2), 0)):
        for dt in (I8, U8):
            lo, hi = QRANGE[dt]
            a, b = rand_q(dt, shape_a), rand_q(dt, shape_b)
            for k in range(3):
                sa, za = rand_scale(), rand_zp(dt)
                sb, zb = (sa, za) if k == 0 else (rand_scale(), rand_zp(dt))
                sy, zy = (sa, za) if k < 2 else (rand_scale(), rand_zp(dt))
                act = ACT_RELU if k == 2 else ACT_NONE
                olo, ohi = act_range(act, sy, zy, dt)

                def resc(v, s, z):
                    if act == ACT_NONE and f(s) == f(sy) and z == zy:
                        return v
                    return np.clip(zy + rq(v - z, f(s) / f(sy)), olo, ohi)
                y = np.concatenate([resc(a, sa, za), resc(b, sb, zb)], axis=axis)
                cs.add(dt, a, b, y, za, zb, zy, sa, sb, sy, param=axis, extra=(act, 0, 0))
    cs.save()


if __name__ == "__main__":
    binary_sets()
    prelu_set()
    unary_set()
    softmax_set()
    reduce_set()
    requant_set()
    concat_set()
