#!/usr/bin/python3
"""Derives the polynomial coefficients of the vectorizable erf/erfc in
interpreter/kernels/unary.c (least squares on relative error, in double,
against Python's math.erf/erfc) and prints their float32 values and the
float32-evaluated error. Deterministic; run with Debian's python3 + numpy."""
import math

import numpy as np

THR = 0.875
# erf(x) = x * P(x^2) on |x| <= THR, P of degree 5
xs = np.cos(np.linspace(0, np.pi, 4000)) * 0.5 * THR + 0.5 * THR
xs = xs[xs > 1e-6]
f = np.array([math.erf(x) / x for x in xs])
V = np.vander(xs**2, 6, increasing=True)
small, *_ = np.linalg.lstsq(V / f[:, None], np.ones_like(f), rcond=None)
print("erf_small (x^0..x^10):", [float(np.float32(c)) for c in small])

# erfc(z) = exp(-z^2) * g(t), t = 1 / (1 + z/2), on THR <= z <= 9.5, g of degree 8
zs = np.linspace(THR, 9.5, 20000)
t = 1 / (1 + 0.5 * zs)
g = np.array([math.erfc(z) * math.exp(z * z) for z in zs])
V = np.vander(t, 9, increasing=True)
large, *_ = np.linalg.lstsq(V / g[:, None], np.ones_like(g), rcond=None)
c32 = large.astype(np.float32)
acc = np.full(t.shape, c32[-1], dtype=np.float32)
for k in range(7, -1, -1):
    acc = acc * t.astype(np.float32) + c32[k]
print("erfc_large g (t^0..t^8):", [float(c) for c in c32])
print("max relative error of g in float32:", float(np.max(np.abs(acc / g - 1))))
