#!/usr/bin/env python3
"""Constants of kernels/src/qknorm_rope/qknorm_rope_row.h and qknorm_rope_table.cpp.

Prints, as C++ hex literals:
  - the double-double splits hi + lo of ln 2, 1 / (2 pi) and 2 pi (hi = rn64(v), lo = rn64(v - hi));
  - the Taylor coefficients (-1)^k / (2k+1)! and (-1)^k / (2k)! rounded to double (Python's
    int / int true division is correctly rounded), and the truncation error of the series on
    |x| <= pi / 4.
Checked with mpmath at 300 bits.
"""
import math
import mpmath

mpmath.mp.prec = 300


def split(v):
    hi = float(v)
    lo = float(v - mpmath.mpf(hi))
    return hi.hex(), lo.hex()


print("ln2", split(mpmath.log(2)))
print("inv2pi", split(1 / (2 * mpmath.pi)))
print("two_pi", split(2 * mpmath.pi))
sin_c = [(-1) ** k / math.factorial(2 * k + 1) for k in range(10)]
cos_c = [(-1) ** k / math.factorial(2 * k) for k in range(10)]
print("sin", [c.hex() for c in sin_c])
print("cos", [c.hex() for c in cos_c])
x = mpmath.pi / 4
print("sin truncation after x^19:", mpmath.nstr(x ** 21 / mpmath.factorial(21), 5))
print("cos truncation after x^18:", mpmath.nstr(x ** 20 / mpmath.factorial(20), 5))
