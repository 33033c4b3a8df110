#!/usr/bin/python3
"""Derives the polynomial of the branch-free float tanh in
interpreter/kernels/unary_f32_body.inc (UF(tanh_one)):

    tanh(x) ~= x + x^3 * P(x^2)   for |x| < 0.5,   P of degree 4,

a least-squares fit weighted for relative error (minimizes
sum ((x + x^3 P(x^2) - tanh x) / x)^2, x ~ tanh x there) over 4000
Chebyshev points of [0, 0.5] (the extrema cos(k pi / 3999), as
fit_erf_b.py), in double, against NumPy's tanh; prints the float32
coefficients (highest power first, as the Horner steps in the source use
them) and the error of the polynomial branch evaluated in float32 the way
the source does (p = c4; p = p*s + c3; ...; x + (x*s)*p, no FMA), in ulp of
the float32 result against the double-precision tanh.

    /usr/bin/python3 tests/data/kernels/fit_tanh.py          # print
    /usr/bin/python3 tests/data/kernels/fit_tanh.py --check  # and compare with the source

--check exits 1 unless the source's five coefficients are exactly these.
Deterministic; Debian's python3 + numpy."""
import os
import re
import sys

import numpy as np

THR = 0.5   # the switch to (1 - e) / (1 + e) in the source
DEGREE = 4  # in s = x^2

xs = np.cos(np.linspace(0, np.pi, 4000)) * 0.5 * THR + 0.5 * THR
xs = xs[xs > 1e-6]
t = np.tanh(xs)
V = np.vander(xs * xs, DEGREE + 1, increasing=True)
# relative residual: (x + x^3 V c - t) / x = x^2 V c - (t - x) / x
A = V * (xs * xs)[:, None]
b = (t - xs) / xs
c, *_ = np.linalg.lstsq(A, b, rcond=None)
c32 = c.astype(np.float32)
high_first = [float(v) for v in c32[::-1]]
print("P (s^4 .. s^0):", ", ".join("%.8e" % v for v in high_first))


def poly_f32(x):
    x = x.astype(np.float32)
    s = x * x
    p = np.full_like(x, c32[DEGREE])
    for i in range(DEGREE - 1, -1, -1):
        p = p * s + c32[i]
    return x + (x * s) * p


grid = np.linspace(2.0**-12, THR, 200001, endpoint=False).astype(np.float32)
got = poly_f32(grid).astype(np.float64)
want = np.tanh(grid.astype(np.float64))
ulp = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
print("max error of the |x| < %.1f branch in float32: %.2f ulp" % (THR, np.max(np.abs(got - want) / ulp)))

if "--check" in sys.argv[1:]:
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.path.join(here, "..", "..", "..", "interpreter", "kernels", "unary_f32_body.inc")
    with open(src) as f:
        body = f.read()
    fn = body[body.index("UF(tanh_one)"):]
    fn = fn[:fn.index("}")]
    found = [np.float32(v) for v in re.findall(r"([-+]?\d\.\d+e[-+]\d+)f", fn)]
    if found != [np.float32(v) for v in high_first]:
        print("source has", [float(v) for v in found], file=sys.stderr)
        sys.exit(1)
    print("unary_f32_body.inc: the same five coefficients")
