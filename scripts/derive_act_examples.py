#!/usr/bin/env python3
"""Independent derivation of the expected values in reference/tests/act_and_mul_test.cpp.

act(g) with mpmath at 1500 and 2000 bits straight from the definitions (silu = g / (1 + e^-g),
gelu = (g/2)(1 + erf(g/sqrt 2)), gelu_tanh = (g/2)(1 + tanh(sqrt(2/pi)(g + 0.044715 g^3))) with
0.044715 the exact decimal), exact rationals (fractions) for every product of format values, and
an explicit round-to-nearest-even to bf16/fp16/fp32. A rounding is accepted only when both
precisions give it and the value is farther from every rounding boundary than their difference.
Nothing here shares code with the C++ reference.

In the far negative tails the definitions cancel (1 + erf, 1 + tanh) or leave every range, so
there the script uses the identities 1 + erf(-a) = erfc(a), 1 + tanh(z) = 2 e^(2z) / (1 + e^(2z))
(mpmath evaluates erfc and exp without cancellation), and values below 2^-3000 in magnitude (far
below half the smallest subnormal times the largest format value) are treated as a signed zero
for every rounding.

Usage:
  python3 scripts/derive_act_examples.py examples   # the C++ table pasted into the test
  python3 scripts/derive_act_examples.py values > reference/tests/act_mpmath_values.inc
  python3 scripts/derive_act_examples.py elementary # constants, exp, erfc for elementary_test
"""
from fractions import Fraction as F
import math
import random
import struct
import sys

import mpmath as mp

FORMATS = {"bf16": (8, 8), "fp16": (5, 11), "fp32": (8, 24)}
CXX_FORMAT = {"bf16": "kBf16", "fp16": "kFp16", "fp32": "kFp32"}
ACTS = ["silu", "gelu", "gelu_tanh"]
CXX_ACT = {"silu": "kSilu", "gelu": "kGelu", "gelu_tanh": "kGeluTanh"}
TINY = F(1, 2**3000)  # |value| below this: a signed zero for every rounding here


# ---------------------------------------------------------------- formats (bits <-> values)
def params(fmt):
    ebits, p = FORMATS[fmt]
    bias = (1 << (ebits - 1)) - 1
    return ebits, p, bias, 1 - bias, bias


def decode(fmt, bits):
    """Exact value of a finite pattern as a Fraction (with the sign of zero as a pair)."""
    ebits, p, bias, emin, _ = params(fmt)
    sign = -1 if bits >> (ebits + p - 1) & 1 else 1
    e = bits >> (p - 1) & ((1 << ebits) - 1)
    frac = bits & ((1 << (p - 1)) - 1)
    assert e != (1 << ebits) - 1, "finite patterns only"
    if e == 0:
        return sign * F(frac) * F(2) ** (emin - (p - 1))
    return sign * F((1 << (p - 1)) | frac) * F(2) ** (e - bias - (p - 1))


def rn(fmt, v, negative_zero=False):
    """Round a Fraction to the format (nearest, ties to even); returns the bit pattern."""
    ebits, p, bias, emin, emax = params(fmt)
    sign = 1 if (v < 0 or (v == 0 and negative_zero)) else 0
    sbit = sign << (ebits + p - 1)
    a = abs(v)
    if a == 0:
        return sbit
    e = a.numerator.bit_length() - a.denominator.bit_length()
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
    if n == 2**p:
        n //= 2
        q += 1
    if n < 2 ** (p - 1):
        return sbit | n
    biased = q + (p - 1) + bias
    if biased >= (1 << ebits) - 1:
        return sbit | (((1 << ebits) - 1) << (p - 1))
    return sbit | (biased << (p - 1)) | (n - 2 ** (p - 1))


def boundary_distance(fmt, v):
    """Distance from |v| to the nearest rounding boundary: the midpoints of the grid of |v|'s
    binade (its top one is the overflow threshold in the last binade), and the midpoint just
    below the binade's power of two, which belongs to the finer grid underneath."""
    ebits, p, bias, emin, emax = params(fmt)
    a = abs(v)
    if a == 0:
        return F(2) ** (emin - p)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    while F(2) ** e > a:
        e -= 1
    while F(2) ** (e + 1) <= a:
        e += 1
    if e > emax:
        return a - (F(2) ** (emax + 1) - F(2) ** (emax - p))
    q = F(2) ** (max(e, emin) - (p - 1))
    k = math.floor(a / q - F(1, 2))
    cands = [(k + F(1, 2)) * q, (k + F(3, 2)) * q]
    if e > emin:
        cands.append(F(2) ** e - F(2) ** (e - p) / 2)
    return min(abs(a - c) for c in cands if c > 0)


def to_pattern(fmt, x):
    """Bit pattern of a Python float that is exactly a value of the format."""
    b = rn(fmt, F(x), negative_zero=math.copysign(1, x) < 0)
    assert decode(fmt, b) == F(x), (fmt, x)
    return b


def width(fmt):
    return 8 if fmt == "fp32" else 4


def hx(fmt, b):
    return f"0x{b:0{width(fmt)}x}"


# ---------------------------------------------------------------- act at high precision
def act_mp(act, g, prec):
    """act(g) for a Fraction g != 0 as an mpf at `prec` bits (None: below TINY in magnitude)."""
    with mp.workprec(prec):
        x = mp.mpf(g.numerator) / g.denominator
        if act == "silu":
            if x < -5000:  # |silu| < |g| e^g
                return None
            return x / (1 + mp.exp(-x))
        if act == "gelu":
            if x < -100:  # |gelu| < e^(-g^2/2)
                return None
            if x < -5:
                return x / 2 * mp.erfc(-x / mp.sqrt(2))
            return x / 2 * (1 + mp.erf(x / mp.sqrt(2)))
        if act == "gelu_tanh":
            if x < -60:  # |gelu_tanh| < |g| e^(-2|z|)
                return None
            kappa = mp.mpf(44715) / 1000000
            z = mp.sqrt(2 / mp.pi) * (x + kappa * x**3)
            if z < -10:
                return x / 2 * (2 * mp.exp(2 * z) / (1 + mp.exp(2 * z)))
            return x / 2 * (1 + mp.tanh(z))
    raise ValueError(act)


def frac(m):
    """The exact value of an mpf (its _mpf_ is (sign, mantissa, exponent, bit count))."""
    sign, man, exp, _ = m._mpf_
    v = F(man) * F(2) ** exp if exp >= 0 else F(man, 2 ** (-exp))
    return -v if sign else v


def certain_round(fmt, lo_prec_value, hi_prec_value, negative):
    """Rounding of a real known as two approximations; asserts they settle it."""
    if lo_prec_value is None or abs(hi_prec_value) < TINY:
        return rn(fmt, F(0), negative_zero=negative)
    diff = abs(hi_prec_value - lo_prec_value)
    dist = boundary_distance(fmt, hi_prec_value)
    assert diff * 2**40 < dist, "undecided at 2000 bits"
    b = rn(fmt, hi_prec_value, negative_zero=negative)
    assert b == rn(fmt, lo_prec_value, negative_zero=negative)
    return b


def act_pair(act, g):
    """(1500-bit, 2000-bit) Fractions of act(g); None for a TINY value."""
    a = act_mp(act, g, 1500)
    b = act_mp(act, g, 2000)
    if a is None or b is None:
        return None, None
    fa, fb = frac(a), frac(b)
    if abs(fb) < TINY:
        return None, None
    return fa, fb


def expected(act, fmt, g, u):
    """(y_single, y_torch, act_bits) for finite g != 0 and finite u != 0 (Fractions)."""
    a_lo, a_hi = act_pair(act, g)
    neg_act = g < 0
    act_bits = certain_round(fmt, a_lo, a_hi, neg_act)
    neg_y = neg_act != (u < 0)
    if a_lo is None:
        single = rn(fmt, F(0), negative_zero=neg_y)
    else:
        single = certain_round(fmt, a_lo * u, a_hi * u, neg_y)
    act_val = decode(fmt, act_bits)
    torch = rn(fmt, act_val * u, negative_zero=neg_y)  # exact product, one rounding
    return single, torch, act_bits, (a_hi if a_hi is not None else F(0))


# ---------------------------------------------------------------- example selection
def q(fmt, x):
    """x rounded to the format, as a Fraction (a format value)."""
    return decode(fmt, rn(fmt, F(x)))


def all_finite_nonzero(fmt):
    ebits, p, *_ = params(fmt)
    total = 1 << (ebits + p)
    for b in range(total):
        e = b >> (p - 1) & ((1 << ebits) - 1)
        if e == (1 << ebits) - 1:
            continue
        v = decode(fmt, b)
        if v != 0:
            yield b, v


def find_differ(act, fmt, rng, count):
    """Pairs where single and torch differ (random N(0,2) gates, N(0,1) ups)."""
    out = []
    while len(out) < count:
        g = q(fmt, rng.gauss(0, 2))
        u = q(fmt, rng.gauss(0, 1))
        if g == 0 or u == 0:
            continue
        s, t, _, _ = expected(act, fmt, g, u)
        if s != t:
            out.append((g, u, "single and torch differ"))
    return out


def find_near_tie(act, fmt, rng, gates, ups):
    """The (g, u) whose act(g) u is closest (relative to its ulp) to a rounding boundary."""
    ebits, p, bias, emin, emax = params(fmt)
    best = None
    for _ in range(gates):
        g = q(fmt, rng.uniform(-6, 6))
        if g == 0:
            continue
        with mp.workprec(200):
            a = act_mp(act, g, 200)
        if a is None:
            continue
        fa = frac(a)
        for _ in range(ups):
            u = q(fmt, rng.uniform(0.5, 2))
            v = abs(fa * u)
            e = v.numerator.bit_length() - v.denominator.bit_length()
            while F(2) ** e > v:
                e -= 1
            while F(2) ** (e + 1) <= v:
                e += 1
            qq = F(2) ** (max(e, emin) - (p - 1))
            r = v / qq - math.floor(v / qq)
            d = abs(r - F(1, 2))
            if best is None or d < best[0]:
                best = (d, g, u)
    d, g, u = best
    return [(g, u, f"near a tie: {float(d):.2e} ulp from a midpoint")]


def find_nudge_tie(act, fmt, g, rng):
    """An up value u with g u exactly a midpoint whose lower neighbour is odd, if one exists
    (the tie rule and the true rounding then disagree)."""
    ebits, p, *_ = params(fmt)
    for _ in range(20000):
        u = q(fmt, rng.uniform(1, 2))
        v = abs(g * u)
        if boundary_distance(fmt, v) == 0 and rn(fmt, v) % 2 == 0:
            lo = rn(fmt, v * (1 - F(1, 2**60)))
            if lo % 2 == 1:
                return u
    return None


def examples():
    rng = random.Random(20240)
    rows = []  # (act, fmt, g, u, note)

    def add(act, fmts, g, u, note):
        for fmt in fmts:
            gq, uq = F(g), F(u)
            if q(fmt, gq) != gq or q(fmt, uq) != uq:
                continue
            rows.append((act, fmt, gq, uq, note))

    allf = ["bf16", "fp16", "fp32"]
    for act in ACTS:
        for g, u in [(1, 1.5), (-1, 1.5), (0.5, -0.3125), (2.5, 3), (-0.75, 2), (3.25, -1.25)]:
            add(act, allf, g, u, "ordinary")
        # Large positive: identity region (act(g) = g(1 - delta)) and just below it.
        for g in {"silu": [30, 79.5, 80, 85, 1000], "gelu": [6, 12.5, 13, 20, 1000],
                  "gelu_tanh": [6, 9.75, 10, 15, 1000]}[act]:
            add(act, allf, g, 1.25, "large positive")
        # Subnormal and tiny gates.
        for fmt, g in [("bf16", F(1, 2**133)), ("bf16", -F(1, 2**133)), ("fp32", F(1, 2**149)),
                       ("fp32", -F(3, 2**149)), ("fp16", F(1, 2**24)), ("fp16", -F(5, 2**24)),
                       ("bf16", F(3, 2**120)), ("fp32", F(1, 2**100))]:
            for u in (1, 3, 5, F(2**100) if fmt != "fp16" else 1000):
                add(act, [fmt], g, u, "tiny gate (u = 3, 5: (g/2) u on a midpoint)")
        # The smallest normals: g/2 (and (g/2) u) a subnormal midpoint, act(g) = (g/2)(1 + T)
        # with |T| ~ 2^-128 on the side of g's sign: beyond what 128 bits resolve, so the
        # reference must widen; the true rounding differs from ties-to-even here.
        for fmt, g in [("bf16", F(129, 2**133)), ("bf16", -F(131, 2**133)),
                       ("fp32", F(2**23 + 1, 2**149)), ("fp32", -F(2**23 + 3, 2**149))]:
            for u in (1, 3):
                add(act, [fmt], g, u, "smallest normal gate: (g/2) u a midpoint, widening")
    # Negative tails.
    for g in [-80, -88.5, -89, -95, -103, -104, -110]:
        add("silu", ["bf16", "fp32"], g, 1, "silu tail (fp32 e^-x overflows past -88.72)")
        add("silu", ["bf16", "fp32"], g, 2.0**100, "silu tail times a large u")
    for g in [-4, -5, -5.5, -6, -8, -10, -12, -13.5, -14]:
        add("gelu", ["bf16", "fp32"], g, 1, "gelu tail (fp32 formulas give -0 from -6)")
        add("gelu", ["fp16"], g, 1, "gelu tail")
    for g in [-4, -5, -5.5, -8, -10, -12]:
        add("gelu_tanh", ["bf16", "fp32"], g, 1, "gelu_tanh tail")
    add("gelu", ["fp32"], -18, 2.0**120, "gelu tail times a large u")
    add("gelu_tanh", ["fp32"], -13, 2.0**120, "gelu_tanh tail times a large u")
    # Nudge ties: g u exactly a midpoint in the identity region.
    for act, g in [("silu", 85), ("gelu", 20), ("gelu_tanh", 15)]:
        for fmt in ["bf16", "fp16"]:
            u = find_nudge_tie(act, fmt, F(g), rng)
            if u is not None:
                rows.append((act, fmt, F(g), u, "g u is a midpoint: act(g) u lies just below"))
    # Single vs torch, and near ties of the final rounding.
    for act in ACTS:
        for fmt in allf:
            for g, u, note in find_differ(act, fmt, rng, 2):
                rows.append((act, fmt, g, u, note))
            ups = {"bf16": 128, "fp16": 256, "fp32": 256}[fmt]
            for g, u, note in find_near_tie(act, fmt, rng, 60, ups):
                rows.append((act, fmt, g, u, note))

    print("    // Generated by scripts/derive_act_examples.py examples (pasted; do not edit).")
    print("    // {act, format, g, u, y single, y torch, rn(act(g))}, each after its note and")
    print("    // act(g) to 20 digits.")
    for act, fmt, g, u, note in rows:
        s, t, a, val = expected(act, fmt, g, u)
        gb = rn(fmt, g, negative_zero=False)
        ub = rn(fmt, u)
        with mp.workprec(80):
            shown = mp.nstr(mp.mpf(val.numerator) / val.denominator, 20) if val != 0 else "< 2^-3000"
        print(f"    // {note}; act = {shown}")
        print(f"    {{{CXX_ACT[act]}, {CXX_FORMAT[fmt]}, {hx(fmt, gb)}, {hx(fmt, ub)}, "
              f"{hx(fmt, s)}, {hx(fmt, t)}, {hx(fmt, a)}}},")


def values():
    """rn(act(g)) for sampled gates: every (act, 16-bit format) 900 patterns drawn uniformly
    from all finite nonzero ones plus 100 from [-20, 20]; fp32 250 per act."""
    rng = random.Random(7)
    print("// Generated by scripts/derive_act_examples.py values; do not edit by hand.")
    print("// {act (0 silu, 1 gelu, 2 gelu_tanh), format (0 bf16, 1 fp16, 2 fp32), g, rn(act(g))}")
    fid = {"bf16": 0, "fp16": 1, "fp32": 2}
    for ai, act in enumerate(ACTS):
        for fmt in ["bf16", "fp16", "fp32"]:
            if fmt == "fp32":
                picks = []
                while len(picks) < 250:
                    x = struct.unpack("<f", struct.pack("<I", rng.getrandbits(32)))[0]
                    if len(picks) % 2:
                        x = rng.uniform(-25, 25)
                        x = struct.unpack("<f", struct.pack("<f", x))[0]
                    if math.isfinite(x) and x != 0:
                        picks.append(rn(fmt, F(x), negative_zero=False))
            else:
                pool = [b for b, _ in all_finite_nonzero(fmt)]
                picks = rng.sample(pool, 900)
                near = [b for b, v in all_finite_nonzero(fmt) if abs(v) <= 20]
                picks += rng.sample(near, 100)
            line = []
            for b in picks:
                g = decode(fmt, b)
                lo, hi = act_pair(act, g)
                a = certain_round(fmt, lo, hi, g < 0)
                line.append(f"{{{ai},{fid[fmt]},{hx(fmt, b)},{hx(fmt, a)}}},")
                if len(line) == 4:
                    print("".join(line))
                    line = []
            if line:
                print("".join(line))


def elementary():
    """Reference values (330 significant digits) for reference/tests/elementary_test.cpp."""
    mp.mp.prec = 1400

    def show(name, arg, v):
        print(f'    {{"{name}", "{arg}", "{mp.nstr(v, 330, min_fixed=1, max_fixed=0)}"}},')

    print("    // Generated by scripts/derive_act_examples.py elementary (pasted; do not edit).")
    show("ln2", "0", mp.log(2))
    show("inv_sqrt2", "0", 1 / mp.sqrt(2))
    show("inv_sqrt_pi", "0", 1 / mp.sqrt(mp.pi))
    show("sqrt_2_by_pi", "0", mp.sqrt(2 / mp.pi))
    # Arguments are doubles written exactly (dyadic decimals), so the test can read them with
    # strtod without rounding.
    for x in ["-16777216", "-745.5", "-100", "-1", "-8.67361737988403547205962240695953369140625e-19",
              "9.31322574615478515625e-10", "0.5", "1", "88.75", "700", "12345.6875"]:
        show("exp", x, mp.exp(mp.mpf(x)))
    for x in ["1.16415321826934814453125e-10", "0.296875", "2.90625", "3.09375", "7.90625",
              "8.09375", "11.90625", "12.09375", "20", "100", "4000"]:
        show("erfc", x, mp.erfc(mp.mpf(x)))


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "examples"
    {"examples": examples, "values": values, "elementary": elementary}[mode]()
