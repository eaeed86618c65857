#!/usr/bin/env python3
"""Independent derivation of the expected values in reference/tests/rmsnorm_test.cpp.

Exact rationals (fractions) for every dyadic quantity, 80-digit decimal square roots for R, and
an explicit round-to-nearest-even to bf16/fp16/fp32. Nothing here shares code with the C++
reference: it is the second opinion the hand-derived tests are checked against.
Run: python3 scripts/derive_norm_examples.py
"""
from decimal import Decimal, getcontext
from fractions import Fraction as F
import math

getcontext().prec = 80
FORMATS = {"bf16": (8, 8), "fp16": (5, 11), "fp32": (8, 24)}


def rn(fmt, v):
    """Round a Fraction or Decimal to the format; returns (bits, value as Fraction)."""
    ebits, p = FORMATS[fmt]
    bias = (1 << (ebits - 1)) - 1
    emin, emax = 1 - bias, bias
    v = F(v) if not isinstance(v, Decimal) else F(v)
    sign = 1 if v < 0 else 0
    a = abs(v)
    if a == 0:
        return sign << (ebits + p - 1), F(0)
    e = math.floor(math.log2(a))
    while F(2) ** e > a:
        e -= 1
    while F(2) ** (e + 1) <= a:
        e += 1
    q = max(e, emin) - (p - 1)
    m = a / F(2) ** q
    n = math.floor(m)
    rest = m - n
    if rest > F(1, 2) or (rest == F(1, 2) and n % 2 == 1):
        n += 1
    if n == 2 ** p:
        n //= 2
        q += 1
    value = n * F(2) ** q
    if n >= 2 ** (p - 1):
        biased = q + (p - 1) + bias
        if biased >= (1 << ebits) - 1:
            return (sign << (ebits + p - 1)) | (((1 << ebits) - 1) << (p - 1)), None  # inf
        bits = (sign << (ebits + p - 1)) | (biased << (p - 1)) | (n - 2 ** (p - 1))
    else:
        bits = (sign << (ebits + p - 1)) | n
    return bits, (-value if sign else value)


def inv_rms(z, eps):
    q = sum(F(v) ** 2 for v in z) / len(z) + F(eps)
    qd = Decimal(q.numerator) / Decimal(q.denominator)
    return Decimal(1) / qd.sqrt(), q


def show(label, fmt, v):
    bits, val = rn(fmt, v)
    width = 4 if fmt != "fp32" else 8
    print(f"  {label}: exact {Decimal(v.numerator) / Decimal(v.denominator) if isinstance(v, F) else v:.30} "
          f"-> {fmt} 0x{bits:0{width}x} ({float(val) if val is not None else 'inf'})")
    return bits, val


def dec(fr):
    return Decimal(fr.numerator) / Decimal(fr.denominator)


def rmsnorm_row(name, fmt, x, w, eps):
    print(f"{name}: {fmt} x={x} w={w} eps={eps}")
    r, q = inv_rms(x, eps)
    print(f"  mean(x^2)+eps = {q} ; R = {r:.40}")
    for i, (xi, wi) in enumerate(zip(x, w)):
        single = dec(F(xi)) * r * dec(F(wi))
        show(f"fp32[{i}] x R w", fmt, single)
        _, inner = rn(fmt, dec(F(xi)) * r)
        show(f"hf[{i}] w rn(x R)", fmt, F(wi) * inner)
        show(f"gemma[{i}] x R (1+w)", fmt, dec(F(xi)) * r * dec(1 + F(wi)))


def fused_row(name, fmt, x, res, w, eps):
    print(f"{name}: {fmt} x={x} r={res} w={w} eps={eps}")
    s = [F(a) + F(b) for a, b in zip(x, res)]
    rs = [rn(fmt, v)[1] for v in s]
    for i, v in enumerate(s):
        show(f"res[{i}] rn(s)", fmt, v)
    r_s, _ = inv_rms(s, eps)
    if None in rs:  # rn(s) overflowed: only the fp32-sum profile has a finite row
        print(f"  rn(s) overflows; R(s) = {r_s:.40}")
        for i in range(len(s)):
            show(f"fp32_sum[{i}]", fmt, dec(s[i]) * r_s * dec(F(w[i])))
        return
    r_rs, _ = inv_rms(rs, eps)
    print(f"  R(s) = {r_s:.40}\n  R(rn(s)) = {r_rs:.40}")
    for i in range(len(s)):
        show(f"fp32_sum[{i}]", fmt, dec(s[i]) * r_s * dec(F(w[i])))
        _, inner = rn(fmt, dec(rs[i]) * r_rs)
        show(f"hf[{i}]", fmt, F(w[i]) * inner)
        _, inner2 = rn(fmt, dec(s[i]) * r_s)
        show(f"fp32_sum_hf_cast[{i}]", fmt, F(w[i]) * inner2)
        show(f"gemma[{i}]", fmt, dec(rs[i]) * r_rs * dec(1 + F(w[i])))
        show(f"legacy_mixed[{i}]", fmt, dec(rs[i]) * r_s * dec(F(w[i])))


if __name__ == "__main__":
    # R rational: mean((1, 7)^2) = 25, R = 1/5.
    rmsnorm_row("rational R", "bf16", [1, 7], [1.5, 1.0234375], 0.0)
    # hf and fp32 differ: x R near a bf16 midpoint, moved across it by the weight.
    rmsnorm_row("hf vs fp32", "bf16", [1, 3, 5, 7], [1.0234375, 1.0234375, 1.0234375, 1.0234375], 0.0)
    # Gemma weights near -1: 1 + w = 2^-8 exactly.
    rmsnorm_row("gemma near -1", "bf16", [2, -2], [-0.99609375, -0.99609375], 1e-6)
    # eps-dominated: mean(x^2) = 2^-20 << eps = 2^-7.
    rmsnorm_row("eps dominated", "fp32", [F(1, 2**10), F(-1, 2**10)], [1, 1], F(1, 2**7))
    # Residual sums needing > 8 bits (548 + 1.5 = 549.5 -> 550, -178 + 0.5 = -177.5 -> -178 in
    # bf16): fp32_sum, hf and legacy_mixed give three different outputs for element 1.
    fused_row("wide residual sum", "bf16", [548, -178], [1.5, 0.5], [1.8671875, 1.0078125], 0.0)
    # fp16 residual overflow: 60000 + 10000 = 70000 -> inf; fp32_sum normalises (70000, 2).
    # eps = 1e-6 as the fp32 value 0x358637bd.
    fused_row("fp16 overflow", "fp16", [60000, 1], [10000, 1], [1, 1], F(0x8637bd | 0x800000, 2 ** 43))
