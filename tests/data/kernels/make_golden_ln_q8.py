#!/usr/bin/python3
"""Golden data for the int8 / uint8 LAYER_NORM kernel (tests/test_kernel_ln_q8.c).

For each case: x codes, gamma and beta codes (per-tensor asymmetric, as the
converter's int8 mode stores them) and the expected output codes, computed
here in float64 NumPy from the dequantized values:

    xr = sx (x - zx); g = sg (gq - zg); b = sb (bq - zb)
    y  = (xr - mean) / sqrt(var + eps) * g + b        (population variance, last axis)
    yq = clip(round_half_even(y / sy) + zy, qmin, qmax)

Files (tests/data/kernels/): q8_ln_<case>_{x,g,b,y,p}.npy; p is float64
[sx, zx, sg, zg, sb, zb, sy, zy, eps, is_signed, has_beta]. Run from any
directory: /usr/bin/python3 make_golden_ln_q8.py
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def quant_asym(v, signed):
    lo, hi = (-128, 127) if signed else (0, 255)
    vmin, vmax = min(float(v.min()), 0.0), max(float(v.max()), 0.0)
    scale = (vmax - vmin) / 255.0 if vmax > vmin else 1.0
    scale = np.float32(scale)
    zp = int(np.clip(np.round(lo - vmin / float(scale)), lo, hi))
    q = np.clip(np.round(v / float(scale)) + zp, lo, hi).astype(np.int32)
    return q, float(scale), zp


def case(name, rng, rows, n, signed, sx, zx, sy, zy, eps, gamma_mu, gamma_sd, beta_sd,
         has_beta=True, x=None):
    lo, hi = (-128, 127) if signed else (0, 255)
    dt = np.int8 if signed else np.uint8
    if x is None:
        x = rng.integers(lo, hi + 1, size=(rows, n))
    gf = rng.normal(gamma_mu, gamma_sd, size=n)
    bf = rng.normal(0.0, beta_sd, size=n) if has_beta else np.zeros(n)
    gq, sg, zg = quant_asym(gf, signed)
    bq, sb, zb = quant_asym(bf, signed) if has_beta else (np.zeros(n, np.int32), 1.0, 0)
    sx, sy = float(np.float32(sx)), float(np.float32(sy))
    xr = sx * (x.astype(np.float64) - zx)
    g = sg * (gq.astype(np.float64) - zg)
    b = sb * (bq.astype(np.float64) - zb) if has_beta else 0.0
    mean = xr.mean(axis=-1, keepdims=True)
    var = ((xr - mean) ** 2).mean(axis=-1, keepdims=True)
    y = (xr - mean) / np.sqrt(var + np.float64(np.float32(eps))) * g + b
    yq = np.clip(np.round(y / sy) + zy, lo, hi).astype(np.int32)  # np.round: half to even
    p = np.array([sx, zx, sg, zg, sb, zb, sy, zy, float(np.float32(eps)), 1.0 if signed else 0.0,
                  1.0 if has_beta else 0.0], dtype=np.float64)
    for suffix, arr in (("x", x.astype(dt)), ("g", gq.astype(dt)), ("b", bq.astype(dt)),
                        ("y", yq), ("p", p)):
        np.save(os.path.join(HERE, "q8_ln_%s_%s.npy" % (name, suffix)), arr)


def main():
    rng = np.random.default_rng(20261122)
    # the transformer's shape: 28 tokens of 64 features
    case("t64", rng, 28, 64, True, 0.045, 2, 0.034, 8, 1e-5, 1.0, 0.1, 0.1)
    case("u7", rng, 5, 7, False, 0.02, 131, 0.05, 120, 1e-5, 0.8, 0.3, 0.5)
    case("n1", rng, 4, 1, True, 0.1, 0, 0.02, -3, 1e-5, 1.0, 0.1, 0.5)
    xc = np.full((3, 16), 17)
    xc[1] = -128
    case("const", rng, 3, 16, True, 0.1, 5, 0.02, 0, 1e-5, 1.0, 0.1, 0.5, x=xc)
    case("wide", rng, 2, 300, True, 0.07, -20, 0.025, -10, 1e-3, 1.2, 0.4, 0.0, has_beta=False)
    case("sat", rng, 6, 32, True, 0.05, 0, 0.003, 0, 1e-5, 1.5, 0.5, 0.3)
    # codes one step apart: tiny variance, eps dominates
    xt = rng.integers(0, 2, size=(4, 48))
    case("tinyvar", rng, 4, 48, False, 0.001, 0, 0.01, 128, 1e-5, 1.0, 0.2, 0.05, x=xt)


if __name__ == "__main__":
    main()
