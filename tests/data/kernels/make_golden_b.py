#!/usr/bin/python3
"""Golden values for the element-wise / softmax / norm / cast / quantize kernel
tests (tests/test_kernel_*.c), computed independently of qlite with NumPy and
PyTorch (float64 math, rounded once to float32 at the end).

Run from anywhere with Debian's python (numpy, torch 1.13):
    /usr/bin/python3 tests/data/kernels/make_golden_b.py
It rewrites the b_*.npy files beside this script; the output is deterministic.
"""
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240601)


def save(name, arr):
    np.save(os.path.join(HERE, "b_" + name + ".npy"), np.ascontiguousarray(arr))


def t64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


# --- erf and GELU (exact and tanh-approximate) ------------------------------
x = np.concatenate([
    np.linspace(-9.0, 9.0, 181),
    [0.0, -0.0, 1e-8, -1e-8, 1e-30, -3.0e-3, 5.5, -5.5, 30.0, -30.0, 1e4, -1e4],
    rng.normal(0.0, 2.0, 64),
]).astype(np.float32)
save("act_x", x)
save("erf", torch.erf(t64(x)).numpy().astype(np.float32))
save("gelu_erf", torch.nn.functional.gelu(t64(x)).numpy().astype(np.float32))
save("gelu_tanh", torch.nn.functional.gelu(t64(x), approximate="tanh").numpy().astype(np.float32))

# --- softmax / log-softmax --------------------------------------------------
# rows with large offsets and spreads: a naive exp() would overflow
sx = (rng.normal(0.0, 5.0, (6, 37)) + np.array([0, 1000, -1000, 80, -80, 0])[:, None])
sx[5, :] = 0.0  # constant row: uniform output
sx = sx.astype(np.float32)
save("softmax_x", sx)
save("softmax_last", torch.softmax(t64(sx), dim=-1).numpy().astype(np.float32))
save("log_softmax_last", torch.log_softmax(t64(sx), dim=-1).numpy().astype(np.float32))
mx = rng.normal(0.0, 4.0, (2, 9, 5)).astype(np.float32)
save("softmax_mid_x", mx)
save("softmax_mid", torch.softmax(t64(mx), dim=1).numpy().astype(np.float32))
save("log_softmax_mid", torch.log_softmax(t64(mx), dim=1).numpy().astype(np.float32))

# --- layer norm ---------------------------------------------------------
# a large common offset checks that the variance is not computed as E[x^2]-E[x]^2
lx = (rng.normal(0.0, 3.0, (4, 6, 32)) + 500.0).astype(np.float32)
g1 = rng.normal(1.0, 0.5, (32,)).astype(np.float32)
b1 = rng.normal(0.0, 0.5, (32,)).astype(np.float32)
g2 = rng.normal(1.0, 0.5, (6, 32)).astype(np.float32)
save("ln_x", lx)
save("ln_gamma1", g1)
save("ln_beta1", b1)
save("ln_gamma2", g2)
save("ln_last", torch.nn.functional.layer_norm(t64(lx), (32,), t64(g1), t64(b1), 1e-5)
     .numpy().astype(np.float32))
save("ln_two_axes_nobeta", torch.nn.functional.layer_norm(t64(lx), (6, 32), t64(g2), None, 1e-3)
     .numpy().astype(np.float32))

# --- cast ---------------------------------------------------------------
# float -> integer: truncation toward zero, values inside every target range
cf = np.array([-2.5, -1.5, -0.5, -0.0, 0.5, 1.5, 2.5, 0.99, -0.99, 126.9, -127.9, 3.7, -3.7,
               100.5, -100.5, 7.0, -8.0], dtype=np.float32)
save("cast_f32_in", cf)
save("cast_f32_to_i8", cf.astype(np.int8))
save("cast_f32_to_i32", cf.astype(np.int32))
save("cast_f32_to_i64", cf.astype(np.int64))
# float32 -> float16: round half to even, overflow to inf, subnormals
halfway = [1.0 + 2.0**-11, 1.0 + 3 * 2.0**-11, 2048.0 + 1.0, 2048.0 + 3.0, 65504.0, 65519.0,
           65520.0, 1e6, -65520.0, 2.0**-24, 2.0**-25, 3 * 2.0**-26, 2.0**-14, 0.1, -0.1,
           np.inf, -np.inf]
ch = np.concatenate([np.array(halfway), rng.normal(0.0, 100.0, 32)]).astype(np.float32)
save("cast_f16_in", ch)
with np.errstate(over="ignore"):
    save("cast_f32_to_f16", ch.astype(np.float16))
# integer -> narrower integer: two's complement wrap (ONNX: discard higher bits)
ci = np.array([0, 1, -1, 127, 128, 200, 255, 256, -128, -129, -200, 65535, 70000, -70000,
               2147483647, -2147483648], dtype=np.int32)
save("cast_i32_in", ci)
save("cast_i32_to_i8", ci.astype(np.int8))
save("cast_i32_to_u8", ci.astype(np.uint8))
save("cast_i32_to_i16", ci.astype(np.int16))
cl = np.array([0, 1, -1, 2**31, 2**31 - 1, -2**31 - 1, 2**40 + 5, -2**40 - 5, 2**62],
              dtype=np.int64)
save("cast_i64_in", cl)
save("cast_i64_to_i32", cl.astype(np.int32))
# anything -> bool: nonzero (NaN included) is true
cb = np.array([0.0, -0.0, 0.5, -1e-30, np.nan, np.inf, 2.0], dtype=np.float32)
save("cast_bool_in", cb)
save("cast_f32_to_bool", cb.astype(np.bool_))

# --- QuantizeLinear: y = saturate(round_half_even(x / scale) + zero_point) ----------
# ties: x / 0.5 lands on k + 0.5 exactly for odd multiples of 0.25
q1 = np.concatenate([np.arange(-40, 41) * 0.25, [-100.0, 100.0, 63.75, -64.25, -0.0]])
q1 = q1.astype(np.float32)
q2 = rng.normal(0.0, 3.0, 200).astype(np.float32)
save("quant_x1", q1)
save("quant_x2", q2)
s1, s2 = np.float32(0.5), np.float32(0.0373)


def quantize(x, scale, zp, lo, hi):
    return np.clip(np.rint(x / scale) + zp, lo, hi)


save("quant_x1_i8", quantize(q1, s1, np.float32(-3), -128, 127).astype(np.int8))
save("quant_x1_u8", quantize(q1, s1, np.float32(128), 0, 255).astype(np.uint8))
save("quant_x2_i8", quantize(q2, s2, np.float32(5), -128, 127).astype(np.int8))
save("quant_x2_u8", quantize(q2, s2, np.float32(100), 0, 255).astype(np.uint8))
