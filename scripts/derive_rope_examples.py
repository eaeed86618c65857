#!/usr/bin/env python3
"""Independent derivation of the expected rows in reference/tests/qknorm_rope_test.cpp.

Every profile of qknorm_rope.h is evaluated here from its definition with exact rationals
(fractions) for every dyadic quantity and mpmath at 500 bits for sqrt, pow, cos and sin; each
rounding of an irrational value is accepted only when the 500-bit value lies at least 2^-420
(relative) away from every rounding boundary, so the printed bits do not depend on mpmath's last
bits. Nothing here shares code with the C++ reference: it is the second opinion its table is
checked against.

Run: python3 scripts/derive_rope_examples.py > table.inc
The output is a C++ table (kRows) pasted into qknorm_rope_test.cpp, a table of fp32 frequencies,
and (on stderr) a few statistics quoted in the test's comments.
"""
from fractions import Fraction as F
import math
import random
import struct
import sys

import mpmath
from mpmath import mp

mp.prec = 500
FORMATS = {"bf16": (8, 8), "fp16": (5, 11), "fp32": (8, 24)}
CPP_FORMAT = {"bf16": "kBf16", "fp16": "kFp16", "fp32": "kFp32"}
NAN = {"bf16": 0x7fc0, "fp16": 0x7e00, "fp32": 0x7fc00000}  # canonical quiet NaNs


# ----------------------------------------------------------------------------------------------
# Rounding to a storage format (round to nearest, ties to even), from an exact Fraction.

def rn(fmt, v):
    """Round a Fraction; returns (bits, value as Fraction or None for infinity)."""
    ebits, p = FORMATS[fmt]
    bias = (1 << (ebits - 1)) - 1
    emin, emax = 1 - bias, bias
    sign = 1 if v < 0 else 0
    a = abs(F(v))
    if a == 0:
        return sign << (ebits + p - 1), F(0)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    while F(2) ** e > a:
        e -= 1
    while F(2) ** (e + 1) <= a:
        e += 1
    q = max(e, emin) - (p - 1)
    m = a / F(2) ** q
    n = m.numerator // m.denominator
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
            return (sign << (ebits + p - 1)) | (((1 << ebits) - 1) << (p - 1)), None
        bits = (sign << (ebits + p - 1)) | (biased << (p - 1)) | (n - 2 ** (p - 1))
    else:
        bits = (sign << (ebits + p - 1)) | n
    return bits, (-value if sign else value)


def rnv(fmt, v):
    return rn(fmt, v)[1]


def rn32(v):
    return rnv("fp32", v)


def frac(x):
    """The exact value of an mpf as a Fraction (man_exp gives the magnitude's mantissa)."""
    m, e = x.man_exp
    v = F(m) * F(2) ** e if e >= 0 else F(m, 2 ** -e)
    return -v if x < 0 else v


def rn_cert(fmt, x):
    """Round an irrational mpf; fail unless it is far from a rounding boundary."""
    delta = mpmath.ldexp(abs(x), -420)
    lo, hi = rn(fmt, frac(x - delta))[0], rn(fmt, frac(x + delta))[0]
    if lo != hi:
        raise ValueError("value too close to a rounding boundary: %s" % mpmath.nstr(x, 30))
    return rn(fmt, frac(x))


def decode(fmt, bits):
    ebits, p = FORMATS[fmt]
    bias = (1 << (ebits - 1)) - 1
    sign = -1 if bits >> (ebits + p - 1) else 1
    e = (bits >> (p - 1)) & ((1 << ebits) - 1)
    f = bits & ((1 << (p - 1)) - 1)
    if e == 0:
        return sign * F(f) * F(2) ** (1 - bias - (p - 1))
    return sign * F(f + (1 << (p - 1))) * F(2) ** (e - bias - (p - 1))


def mpf_of(fr):
    return mpmath.mpf(fr.numerator) / fr.denominator


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f32(x):
    """The fp32 value of a Python float (round to nearest) as a Fraction."""
    return F(struct.unpack("<f", struct.pack("<f", x))[0])


# ----------------------------------------------------------------------------------------------
# Angles.

def yarn_high_adjusted(low, high):
    # SGLang compute_freq_yarn: if (fabsf(low - high) <= 1e-6f) high += 0.001f; fp32 operations.
    if abs(rn32(low - high)) <= f32(1e-6):
        return rn32(high + f32(0.001))
    return high


def exact_freq(base, rd, j, yarn):
    """f_j = base^(-2j/rd) g_j as an mpf (base exact as given, a Python float)."""
    power = mpmath.power(mpf_of(F(base)), mpmath.mpf(-2 * j) / rd)
    factor, low, high, _ = yarn
    if factor == 1:
        return power
    num = F(j) - low
    den = yarn_high_adjusted(low, high) - low
    ratio = num / den
    ramp = min(max(ratio, F(0)), F(1))
    g = 1 - ramp * (1 - 1 / factor)
    return power * mpf_of(g)


def fp32_freq(base, rd, j, yarn):
    """F_j of the fp32 angle, every operation an fp32 rounding of its exact result."""
    b = f32(base)
    e = rn32(F(2 * j, rd))
    w = F(1) if e == 0 else rn_cert("fp32", mpmath.power(mpf_of(b), mpf_of(e)))[1]
    freq = rn32(1 / w)
    factor, low, high, _ = yarn
    if factor != 1:
        interp = rn32(freq / factor)
        hadj = yarn_high_adjusted(low, high)
        linear = rn32(rn32(F(j) - low) / rn32(hadj - low))
        ramp = min(max(linear, F(0)), F(1))
        ef = rn32(1 - ramp)
        freq = rn32(rn32(interp * rn32(1 - ef)) + rn32(freq * ef))
    return freq


def sglang_test_freq(base, rd, j):
    """SGLang's test reference: base ** (-2.0 * j / rd) in fp32, one rounding of the power."""
    b = f32(base)
    e = rn32(F(-2 * j, rd))
    return F(1) if e == 0 else rn_cert("fp32", mpmath.power(mpf_of(b), mpf_of(e)))[1]


# ----------------------------------------------------------------------------------------------
# One token, every profile.

def pairs_of(style, rd):
    half = rd // 2
    if style == "neox":
        return [(j, j, j + half) for j in range(half)]
    return [(j, 2 * j, 2 * j + 1) for j in range(half)]


def evaluate(cfg, row, qw, kw):
    fmt, d, nq, nk, nv, rd, style, base, eps, yarn, pos = (
        cfg["fmt"], cfg["d"], cfg["nq"], cfg["nk"], cfg["nv"], cfg["rd"], cfg["style"],
        cfg["base"], cfg["eps"], cfg["yarn"], cfg["pos"])
    af = yarn[3]
    half = rd // 2
    # Angles: exact (mpf) and fp32 (Fraction), their cos/sin at 500 bits.
    th_exact = [pos * exact_freq(base, rd, j, yarn) for j in range(half)]
    p32 = rn32(F(pos))
    th32 = [rn32(p32 * fp32_freq(base, rd, j, yarn)) for j in range(half)]
    out = {k: [] for k in ("exact", "fp32_angle", "hf", "vllm_cache")}
    cache = []
    for j in range(half):
        if th32[j] is None:  # the fp32 angle overflowed: cos and sin of infinity are NaN
            cache.append((None, None))
            continue
        c = mpmath.cos(mpf_of(th32[j]))
        s = mpmath.sin(mpf_of(th32[j]))
        if th32[j] == 0:
            cache.append((rnv(fmt, af), F(0)))
        else:
            cache.append((rn_cert(fmt, mpf_of(af) * c)[1], rn_cert(fmt, mpf_of(af) * s)[1]))
    for h in range(nq + nk + nv):
        z = row[h * d:(h + 1) * d]
        if h >= nq + nk:
            for v in z:
                for k in out:
                    out[k].append(rn(fmt, v)[0])
            continue
        w = qw if h < nq else kw
        q = sum(v * v for v in z) / d + eps
        r = 1 / mpmath.sqrt(mpf_of(q))
        t = [z[i] * w[i] for i in range(d)]
        res = {k: [None] * d for k in out}
        # hf's normed values zn = rn(w rn(z R)).
        zn = [rnv(fmt, w[i] * rn_cert(fmt, mpf_of(z[i]) * r)[1]) for i in range(d)]
        for j, a, b in pairs_of(style, rd):
            for name, th in (("exact", None), ("fp32_angle", th32[j])):
                if name == "fp32_angle" and th is None:
                    res[name][a] = res[name][b] = NAN[fmt]
                    continue
                if name == "exact":
                    zero = pos == 0
                    c = mpmath.cos(th_exact[j]) if not zero else mpmath.mpf(1)
                    s = mpmath.sin(th_exact[j]) if not zero else mpmath.mpf(0)
                else:
                    zero = th == 0
                    c = mpmath.cos(mpf_of(th)) if not zero else mpmath.mpf(1)
                    s = mpmath.sin(mpf_of(th)) if not zero else mpmath.mpf(0)
                ya = mpf_of(af) * r * (mpf_of(t[a]) * c - mpf_of(t[b]) * s)
                yb = mpf_of(af) * r * (mpf_of(t[b]) * c + mpf_of(t[a]) * s)
                res[name][a] = rn_cert(fmt, ya)[0]
                res[name][b] = rn_cert(fmt, yb)[0]
            cj, sj = cache[j]
            if cj is None:
                res["hf"][a] = res["hf"][b] = NAN[fmt]
                res["vllm_cache"][a] = res["vllm_cache"][b] = NAN[fmt]
                continue
            res["hf"][a] = rn(fmt, rnv(fmt, zn[a] * cj) + rnv(fmt, -zn[b] * sj))[0]
            res["hf"][b] = rn(fmt, rnv(fmt, zn[b] * cj) + rnv(fmt, zn[a] * sj))[0]
            res["vllm_cache"][a] = rn_cert(fmt, r * mpf_of(t[a] * cj - t[b] * sj))[0]
            res["vllm_cache"][b] = rn_cert(fmt, r * mpf_of(t[b] * cj + t[a] * sj))[0]
        for i in range(rd, d):
            y = rn_cert(fmt, r * mpf_of(t[i]))[0]
            for name in ("exact", "fp32_angle", "vllm_cache"):
                res[name][i] = y
            res["hf"][i] = rn(fmt, zn[i])[0]
        for k in out:
            out[k].extend(res[k])
    return out


# ----------------------------------------------------------------------------------------------
# Rows.

def random_values(rng, fmt, n, sigma=1.0, mean=0.0):
    vals = []
    for _ in range(n):
        v = rnv(fmt, F(rng.gauss(mean, sigma)))
        vals.append(v)
    return vals


def make_row(cfg, seed):
    rng = random.Random(seed)
    fmt, d = cfg["fmt"], cfg["d"]
    total = (cfg["nq"] + cfg["nk"] + cfg["nv"]) * d
    row = random_values(rng, fmt, total, sigma=1.5)
    scale = cfg.get("weight_scale", 1.0)  # weights not ones; tiny scales give subnormal outputs
    qw = random_values(rng, fmt, d, sigma=0.15 * scale, mean=scale)
    kw = random_values(rng, fmt, d, sigma=0.15 * scale, mean=scale)
    return row, qw, kw


def yarn_from_config(factor, dim, base, orig_max, beta_fast=32, beta_slow=1):
    # SGLang yarn_find_correction_range (truncate=True) in Python doubles, and the default
    # attention factor yarn_get_mscale(factor) = 0.1 ln(factor) + 1.
    def corr(rot):
        return (dim * math.log(orig_max / (rot * 2 * math.pi))) / (2 * math.log(base))
    low = max(math.floor(corr(beta_fast)), 0)
    high = min(math.ceil(corr(beta_slow)), dim - 1)
    af = 0.1 * math.log(factor) + 1.0
    return (f32(factor), f32(low), f32(high), f32(af))


NO_YARN = (F(1), F(0), F(0), F(1))
EPS6 = f32(1e-6)


def cfg(label, fmt, d, nq, nk, nv, rd, style, base, pos, yarn=NO_YARN, eps=EPS6,
        weight_scale=1.0):
    return dict(label=label, fmt=fmt, d=d, nq=nq, nk=nk, nv=nv, rd=rd, style=style, base=base,
                pos=pos, yarn=yarn, eps=eps, weight_scale=weight_scale)


ROWS = [
    cfg("bf16 neox position 0", "bf16", 8, 1, 1, 1, 8, "neox", 1e6, 0),
    cfg("bf16 interleaved position 1", "bf16", 8, 1, 1, 1, 8, "interleaved", 1e4, 1),
    cfg("fp16 neox position 2^15", "fp16", 8, 1, 1, 1, 8, "neox", 1e4, 2 ** 15),
    cfg("bf16 neox partial rd 8 of 16, position 131071", "bf16", 16, 1, 1, 1, 8, "neox", 1e6,
        131071),
    cfg("fp32 interleaved position 131071, nv = 0", "fp32", 8, 1, 1, 0, 8, "interleaved", 5e5,
        131071),
    cfg("bf16 interleaved partial rd 6 of 8, position 2^24 - 1", "bf16", 8, 1, 1, 1, 6,
        "interleaved", 1e4, 2 ** 24 - 1),
    cfg("bf16 neox position 2^24", "bf16", 8, 1, 1, 1, 8, "neox", 1e6, 2 ** 24),
    cfg("fp16 neox partial rd 4, position 2^24 + 1 (fp32 2^24)", "fp16", 8, 1, 1, 1, 4, "neox",
        1e6, 2 ** 24 + 1),
    cfg("bf16 neox position 2^40 + 3, nk = 0", "bf16", 8, 2, 0, 1, 8, "neox", 1e6, 2 ** 40 + 3),
    cfg("fp32 neox position 2^62 + 2^40 + 7", "fp32", 8, 1, 1, 1, 8, "neox", 1e6,
        2 ** 62 + 2 ** 40 + 7),
    cfg("bf16 interleaved YaRN factor 4 (config), position 131071", "bf16", 16, 1, 1, 1, 16,
        "interleaved", 1e6, 131071, yarn=yarn_from_config(4.0, 16, 1e6, 4096)),
    # Partial rotary with af != 1: the passthrough elements are not scaled by af.
    cfg("fp16 neox YaRN factor 2.5 low 1 high 3 af 0.9, partial rd 6 of 8, position 40000",
        "fp16", 8, 1, 1, 1, 6, "neox", 5e5, 40000, yarn=(f32(2.5), F(1), F(3), f32(0.9))),
    cfg("fp16 head_dim 2, position 12345", "fp16", 2, 2, 1, 1, 2, "neox", 1e4, 12345),
    cfg("bf16 rotary_dim 0 (norm only), eps 2^-7", "bf16", 8, 1, 1, 1, 0, "neox", 1e4, 999,
        eps=F(1, 128)),
    # Weights around 2^-16 (fp16), 2^-128 (bf16, themselves subnormal) and 2^-140 (fp32):
    # subnormal outputs, rounded on the subnormal grid.
    cfg("fp16 subnormal outputs (weights ~2^-16), interleaved", "fp16", 8, 1, 1, 1, 8,
        "interleaved", 1e4, 3000, weight_scale=2.0 ** -16),
    cfg("bf16 subnormal outputs (weights ~2^-128)", "bf16", 8, 1, 1, 1, 6, "neox", 1e6, 77777,
        weight_scale=2.0 ** -128),
    cfg("fp32 subnormal outputs (weights ~2^-140)", "fp32", 8, 1, 1, 1, 8, "neox", 1e6, 5,
        weight_scale=2.0 ** -140),
    # base 2^-120: f_j = 2^(30 j), exact angles up to 2^152 at position 2^62 (beyond what 192
    # bits reduce: the exact profile widens to 384 bits); the fp32 angle overflows for j = 3.
    cfg("fp32 neox base 2^-120, position 2^62: huge angles", "fp32", 8, 1, 1, 1, 8, "neox",
        2.0 ** -120, 2 ** 62),
]


def find_separating(base_cfg, seeds):
    """First seed whose row has an element where all four profiles give different bits."""
    for seed in seeds:
        row, qw, kw = make_row(base_cfg, seed)
        out = evaluate(base_cfg, row, qw, kw)
        for i in range(len(out["exact"])):
            vals = {out[k][i] for k in out}
            if len(vals) == 4:
                return seed, i
    raise RuntimeError("no separating row found")


def cpp_list(vals, width):
    return "{" + ", ".join("0x%0*x" % (width, v) for v in vals) + "}"


def print_row(c, seed, note=""):
    fmt = c["fmt"]
    width = 8 if fmt == "fp32" else 4
    row, qw, kw = make_row(c, seed)
    out = evaluate(c, row, qw, kw)
    bits = lambda vals: [rn(fmt, v)[0] for v in vals]
    factor, low, high, af = c["yarn"]
    print("    // %s%s (seed %d)" % (c["label"], note, seed))
    print("    {%s, %d, %d, %d, %d, %d, RopeStyle::%s, %r, 0x%08x," % (
        CPP_FORMAT[fmt], c["d"], c["nq"], c["nk"], c["nv"], c["rd"],
        "kNeox" if c["style"] == "neox" else "kInterleaved", c["base"],
        f32_bits(float(c["eps"])), ))
    print("     {0x%08x, 0x%08x, 0x%08x, 0x%08x}, %dLL," % (
        f32_bits(float(factor)), f32_bits(float(low)), f32_bits(float(high)),
        f32_bits(float(af)), c["pos"]))
    print("     %s," % cpp_list(bits(row), width))
    print("     %s," % cpp_list(bits(qw), width))
    print("     %s," % cpp_list(bits(kw), width))
    for k in ("exact", "fp32_angle", "hf", "vllm_cache"):
        print("     %s%s" % (cpp_list(out[k], width), "}," if k == "vllm_cache" else ","))
    return out


def main():
    print("// Generated by scripts/derive_rope_examples.py: inputs and the expected bits of every")
    print("// profile (exact, fp32_angle, hf, vllm_cache).")
    print("const ExpectedRow kRows[] = {")
    for i, c in enumerate(ROWS):
        print_row(c, 100 + i)
    sep_cfg = cfg("four profiles separate", "bf16", 8, 1, 1, 1, 8, "neox", 1e6, 131071)
    seed, index = find_separating(sep_cfg, range(1000, 1200))
    out = print_row(sep_cfg, seed, note=", element %d" % index)
    print("};")
    print("constexpr int kSeparatingRow = %d;" % len(ROWS))
    print("constexpr int kSeparatingElement = %d;" % index)
    # fp32 frequencies F_j for Qwen3 (base 1e6, rd 128) and Llama (base 5e5, rd 128), and
    # rd 96 (a rotary_dim that is not a power of two: e_j = rn32(2j/96) is a real rounding).
    print("// F_j = rn32(1 / rn32(rn32(base)^rn32(2j/rd))), j = 0 .. rd/2 - 1.")
    for base, rd in ((1e6, 128), (5e5, 128), (1e4, 96)):
        vals = [f32_bits(float(fp32_freq(base, rd, j, NO_YARN))) for j in range(rd // 2)]
        print("const std::uint32_t kFreq_%d_%d[] = %s;" % (int(base), rd, cpp_list(vals, 8)))
    # Statistics quoted in the test comments (stderr).
    for base, rd in ((1e4, 128), (1e6, 128), (5e5, 128), (1e4, 96)):
        diff = sum(1 for j in range(rd // 2)
                   if fp32_freq(base, rd, j, NO_YARN) != sglang_test_freq(base, rd, j))
        print("base %g rd %d: rn32(1/rn32(b^e)) != rn32(b^-e) for %d of %d pairs" % (
            base, rd, diff, rd // 2), file=sys.stderr)


if __name__ == "__main__":
    main()
